"""The warehouse: one embedded DuckDB file holding the canonical tables of `entrepot.schema`."""

from entrepot.store.warehouse import Store, default_store_path

__all__ = ["Store", "default_store_path"]
