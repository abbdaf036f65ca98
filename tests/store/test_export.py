"""`entrepot export` / `import`: a store written as Parquet and read back is the same store, history
and product descriptions included, and importing into a store that has other batches counts nothing twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from entrepot.store import Store
from entrepot.store.ingest import ingest_file, ingest_paths
from tests.conftest import shared_file
from tests.store.test_identity import NEW, OLD, baci

TABLES = {
    "flows": "SELECT * EXCLUDE (value_native, currency) FROM flows ORDER BY ALL",
    "flows_superseded": "SELECT * EXCLUDE (value_native, currency) FROM flows_superseded ORDER BY ALL",
    "supersessions": "SELECT * FROM supersessions ORDER BY ALL",
    "batches": "SELECT * FROM batches ORDER BY ALL",
    "products": "SELECT * FROM products ORDER BY ALL",
}


def release_folder(tmp_path: Path) -> Path:
    """A BACI release as downloaded: the real trade excerpt and the real product table."""
    folder = tmp_path / "BACI_HS22_V202401b"
    folder.mkdir()
    shutil.copy(shared_file("real/baci/dersblog_excerpt/BACI_HS22_Y2022_V202401b.csv"), folder)
    shutil.copy(shared_file("real/baci/oyoobin_product_codes_HS22_V202501.csv"), folder / "product_codes_HS22_V202401b.csv")
    return folder


def test_export_and_import_keep_history_and_product_descriptions(store: Store, tmp_path: Path) -> None:
    ingest_paths(store, [release_folder(tmp_path)])
    old = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    new = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW), keep_both=True)
    assert new.superseded == {old.batch_id: 2} and store.query("SELECT count(*) AS n FROM products").n[0] > 5000
    written = store.export_parquet(tmp_path / "out")
    assert {p.name for p in written} == {"flows.parquet", "batches.parquet", "flows_superseded.parquet",
                                         "supersessions.parquet", "products.parquet"}
    with Store(tmp_path / "copy.duckdb") as copy:
        assert copy.import_parquet(tmp_path / "out") == store.row_count()
        for table, sql in TABLES.items():
            assert copy.query(sql).equals(store.query(sql)), table
        assert copy.batches().drop(columns="ingested_at").equals(store.batches().drop(columns="ingested_at"))
        assert copy.import_parquet(tmp_path / "out") == 0  # its batches are already there
        assert copy.query(TABLES["supersessions"]).equals(store.query(TABLES["supersessions"]))
        # the history still works: removing the newer release puts the older rows back
        assert copy.remove_batch(new.batch_id).restored == {old.batch_id: 2}
        assert sorted(copy.query("SELECT value_usd FROM flows WHERE product LIKE '0101%'").value_usd) == [10_000.0, 20_000.0]


def test_an_older_release_imported_after_a_newer_one_is_superseded_not_added(store: Store, tmp_path: Path) -> None:
    old = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    store.export_parquet(tmp_path / "old")
    with Store(tmp_path / "other.duckdb") as other:
        new = ingest_file(other, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW))
        other.con.execute("UPDATE batches SET ingested_at = ingested_at + INTERVAL 1 DAY")  # ingested after `old`
        assert other.import_parquet(tmp_path / "old") == 1  # only the flow the newer release does not have
        rows = other.query("SELECT product, value_usd, batch_id FROM flows ORDER BY ALL")
        assert len(rows) == 4 and set(rows[rows["product"].str.startswith("0101")].batch_id) == {new.batch_id}
        listing = other.batches().set_index("batch_id")
        assert listing.loc[old.batch_id, ["rows", "active", "superseded"]].tolist() == [3, 1, 2]
        assert listing.loc[new.batch_id, "replaced"] == 2
        assert other.remove_batch(new.batch_id).restored == {old.batch_id: 2}  # kept, so it can come back


def test_an_export_without_history_files_still_imports(store: Store, tmp_path: Path) -> None:
    ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    for path in store.export_parquet(tmp_path / "out"):
        if path.stem not in ("flows", "batches"):  # as `entrepot export` wrote it before they were added
            path.unlink()
    with Store(tmp_path / "copy.duckdb") as copy:
        assert copy.import_parquet(tmp_path / "out") == 3
