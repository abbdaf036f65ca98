"""Open, create and query the DuckDB store; export and import it as Parquet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from entrepot import schema
from entrepot.errors import InputError

STORE_ENV = "ENTREPOT_STORE"


def default_store_path() -> Path:
    """`$ENTREPOT_STORE`, else `entrepot.duckdb` in the user data directory."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("entrepot")) / "entrepot.duckdb"


class Store:
    """A DuckDB file with the flow and batch tables. Use as a context manager or call `close()`."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.read_only = read_only
        if read_only:
            if not self.path.exists():
                raise InputError("no store here; ingest data first", path=self.path)
            self.con = duckdb.connect(str(self.path), read_only=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = duckdb.connect(str(self.path))
        # DuckDB draws its own progress bar on stdout after 2 s, which would corrupt --json output.
        self.con.execute("SET enable_progress_bar = false")
        if not read_only:
            for ddl in schema.DDL:
                self.con.execute(ddl)
            self.con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)]
            )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit when the block ends, roll back if it raises (or the process dies)."""
        self.con.begin()
        try:
            yield self.con
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def batch_for_sha(self, sha256: str) -> str | None:
        row = self.con.execute("SELECT batch_id FROM batches WHERE sha256 = ?", [sha256]).fetchone()
        return row[0] if row else None

    def batches(self) -> pd.DataFrame:
        return self.query("SELECT * FROM batches ORDER BY ingested_at")

    def row_count(self) -> int:
        return self.con.execute("SELECT count(*) FROM flows").fetchone()[0]

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Write `flows.parquet` and `batches.parquet` into `directory`."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table in ("flows", "batches"):
            target = out / f"{table}.parquet"
            self.con.execute(f"COPY {table} TO '{_sql_path(target)}' (FORMAT parquet)")
            written.append(target)
        return written

    def import_parquet(self, directory: str | Path) -> int:
        """Add the batches of an exported store that this one does not have yet; returns rows added."""
        src = Path(directory)
        flows, batches = src / "flows.parquet", src / "batches.parquet"
        for f in (flows, batches):
            if not f.is_file():
                raise InputError("missing from the export directory", path=f)
        before = self.row_count()
        with self.transaction() as con:
            con.execute(
                f"CREATE TEMP TABLE new_batches AS SELECT * FROM read_parquet('{_sql_path(batches)}') "
                "WHERE sha256 NOT IN (SELECT sha256 FROM batches)"
            )
            con.execute(f"INSERT INTO batches SELECT {', '.join(c.name for c in schema.BATCHES)} FROM new_batches")
            con.execute(
                f"INSERT INTO flows SELECT {schema.select_list()} FROM read_parquet('{_sql_path(flows)}') "
                "WHERE batch_id IN (SELECT batch_id FROM new_batches)"
            )
            con.execute("DROP TABLE new_batches")
        return self.row_count() - before


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
