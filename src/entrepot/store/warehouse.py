"""Open, create and query the DuckDB store; supersede and remove batches; export and import it as Parquet (every table).

`flows` holds exactly one row per observation (`schema.IDENTITY`): a batch that brings an
observation the store already has replaces the older row (`supersede`), so every reader of `flows`
sees each flow once without a view or a filter. The replaced rows are deleted, or with `keep_both`
moved to `flows_superseded` (which no analysis reads; `flow_versions` shows both releases side by
side), and `supersessions` records who replaced whom, so `remove_batch` can put the older rows back.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from entrepot import schema
from entrepot.errors import InputError, Interrupted, StoreBusy, StoreError

if TYPE_CHECKING:  # pandas is loaded by DuckDB's .df() when a query asks for a frame, not by every ingest
    import pandas as pd

STORE_ENV = "ENTREPOT_STORE"
LOCK_WAIT = 5.0  # seconds to wait for another process's lock before giving up
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def dataframe(result: duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A query's rows as a DataFrame, the flow table's ENUM columns (`schema.ENUMS`) as plain strings
    and None, as text columns read: DuckDB hands ENUMs to pandas as categoricals, whose groupby keeps
    every category and whose missing values are NaN."""
    frame = result.df()
    for col in frame.columns[frame.dtypes == "category"]:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame


def default_store_path() -> Path:
    """`$ENTREPOT_STORE`, else `entrepot.duckdb` in the user data directory."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir("entrepot")) / "entrepot.duckdb"


@dataclass(frozen=True)
class Removal:
    """What `remove_batch` did: rows deleted, and rows of older batches put back into `flows`."""

    batch_id: str
    path: str
    rows_removed: int
    restored: dict[str, int]  # older batch -> rows restored


class Store:
    """A DuckDB file with the flow and batch tables. Use as a context manager or call `close()`.

    Opening waits up to `lock_wait` seconds for another process that holds the file (an ingest
    running), calling `on_wait(message)` once if it has to wait, then raises `StoreBusy`. Any other
    reason the file cannot be used is a one-line `StoreError`.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        lock_wait: float = LOCK_WAIT,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise InputError("no store here; ingest data first", path=self.path)
        self.con = _connect(self.path, read_only, lock_wait, on_wait)
        # DuckDB draws its own progress bar on stdout after 2 s, which would corrupt --json output.
        self.con.execute("SET enable_progress_bar = false")
        version = self._version()
        if read_only and version != schema.SCHEMA_VERSION:
            self.con.close()  # upgrade (or refuse) with a writable connection, then read
            Store(self.path, lock_wait=lock_wait, on_wait=on_wait).close()
            self.con = _connect(self.path, True, lock_wait, on_wait)
            self.con.execute("SET enable_progress_bar = false")
        elif not read_only:
            self._prepare(version)

    def _version(self) -> int | None:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta' AND table_schema = 'main'"
        ).fetchone()[0]
        if not has_meta:
            return None
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else None

    def _prepare(self, version: int | None) -> None:
        """Create the tables of a new store, or migrate an older one, in one transaction."""
        if version is not None and version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"written by a newer entrepot (schema version {version}; this one reads {schema.SCHEMA_VERSION}); "
                "upgrade entrepot",
                path=self.path,
            )
        if version is None and self.con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0]:
            raise StoreError("a DuckDB file but not an entrepot store (it has tables but no schema version)", path=self.path)
        with self.transaction() as con:
            for old in range(version or schema.SCHEMA_VERSION, schema.SCHEMA_VERSION):
                for sql in schema.MIGRATIONS[old]:
                    try:
                        con.execute(sql)
                    except duckdb.ConversionException as exc:  # a value outside a closed list (`schema.ENUMS`)
                        raise StoreError(f"cannot upgrade this store to schema version {old + 1}: "
                                         f"{str(exc).splitlines()[0].removeprefix('Conversion Error: ')}", path=self.path) from None
            for ddl in schema.DDL:
                con.execute(ddl)
            if version != schema.SCHEMA_VERSION:
                if version is not None:
                    self._resolve_duplicates()
                con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(schema.SCHEMA_VERSION)])

    def _resolve_duplicates(self) -> None:
        """Migration from version 1, which added every file's rows: let each batch supersede older ones.

        The replaced rows are kept (in `flows_superseded`), so nothing an older store held is lost.
        """
        self.con.execute(
            "UPDATE batches SET release = regexp_extract(path, '_(V\\d{6}[A-Za-z]?)', 1), keep_both = true"
        )
        self.con.execute("UPDATE batches SET release = NULL WHERE release = ''")
        for (batch_id,) in self.con.execute("SELECT batch_id FROM batches ORDER BY ingested_at").fetchall():
            replaced = self.supersede(batch_id, keep=True)
            self.record_supersessions(batch_id, replaced, kept=True)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit when the block ends, roll back if it raises (or the process dies).

        Ctrl-C becomes `Interrupted` after the rollback. While the block runs, a handler of its own cancels
        DuckDB's running query and remembers the signal, so a Ctrl-C that DuckDB's query loop swallows still
        stops the block before its commit. A Ctrl-C during the commit lets the commit finish (the store is
        never half-written) and then raises `Interrupted` with `committed` set.
        """
        with _sigint(self.con) as sigint:
            self.con.begin()
            try:
                yield self.con
                if sigint.hit:  # seen, but swallowed where the block ran
                    raise KeyboardInterrupt
            except BaseException as exc:
                self.con.rollback()
                if isinstance(exc, KeyboardInterrupt) or _interrupted(exc) or sigint.hit:
                    raise Interrupted("interrupted; nothing was written (the store is as it was)") from None
                raise
            sigint.committing = True
            try:
                self.con.commit()
            except duckdb.Error as exc:
                raise _store_error(exc, self.path) from None
        if sigint.hit:
            raise Interrupted("interrupted during the commit, which finished: the work is in the store", committed=True)

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """DuckDB's `memory_limit` for the block (its joins and sorts spill to disk beyond it), then its default."""
        self.con.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            self.con.execute("RESET memory_limit")

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        return dataframe(self.con.execute(sql, params or []))

    def batch_for_sha(self, sha256: str) -> dict | None:
        """The batch holding a file with this content hash: its id, file and the options it was read with."""
        row = self.con.execute("SELECT batch_id, options, path FROM batches WHERE sha256 = ?", [sha256]).fetchone()
        return {"batch_id": row[0], "options": row[1], "path": row[2]} if row else None

    def batches(self) -> pd.DataFrame:
        """Every batch: its file, format, release, rows given, rows still active, rows it replaced, and when."""
        return self.query("""
            SELECT b.batch_id, b.path, b.format, b.release, b.rows,
                   coalesce(a.active, 0) AS active,
                   b.rows - coalesce(a.active, 0) AS superseded,
                   CAST(coalesce(s.replaced, 0) AS BIGINT) AS replaced,
                   coalesce(b.keep_both, false) AS keep_both, b.ingested_at, b.options
            FROM batches b
            LEFT JOIN (SELECT batch_id, count(*) AS active FROM flows GROUP BY ALL) a USING (batch_id)
            LEFT JOIN (SELECT batch_id, sum(rows) AS replaced FROM supersessions GROUP BY ALL) s USING (batch_id)
            ORDER BY b.ingested_at, b.batch_id
        """)

    def row_count(self) -> int:
        return self.con.execute("SELECT count(*) FROM flows").fetchone()[0]

    def supersede(self, batch_id: str, keep: bool, constants: dict[str, str | None] | None = None) -> dict[str, int]:
        """Replace the rows of older batches that are the same observations as `batch_id`'s rows.

        They are deleted from `flows`, or with `keep` moved to `flows_superseded`. Returns the rows
        replaced per older batch. Call inside a transaction, before `batch_id` is in `batches` (a new
        ingest: every other batch is older) or after (then only batches ingested before it count).
        Identity columns that hold one value in the whole batch (a BACI year: source, frequency, period,
        flow, revision) become constant filters: DuckDB skips other years' and sources' row groups by
        their min/max, and the hash join keys on the varying columns only (reporter, partner, product),
        which keeps its table small. A first ingest costs one scan of the batch and a look at the
        matching row groups; the join runs only where batches overlap.
        """
        con = self.con
        if constants is None:
            first = first_identity(con, batch_id)
            constants = batch_constants(first, con.execute(
                f"SELECT {constant_columns_sql(first)} FROM flows WHERE batch_id = ?", [batch_id]).fetchone())
        filters = [f"f.{c} IS NULL" if v is None else f"f.{c} = {_literals([v])}" for c, v in constants.items()]
        keys = [c for c in schema.IDENTITY if c not in constants]
        older = " AND ".join([*filters, """f.batch_id <> $b AND (NOT EXISTS (SELECT 1 FROM batches WHERE batch_id = $b)
            OR f.batch_id IN (SELECT batch_id FROM batches WHERE ingested_at < (SELECT ingested_at FROM batches WHERE batch_id = $b)))"""])
        if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM flows f WHERE {older} LIMIT 1)", {"b": batch_id}).fetchone()[0]:
            return {}
        nullable = {c.name for c in schema.FLOWS if c.nullable}
        match = " AND ".join(f"f.{c} {'IS NOT DISTINCT FROM' if c in nullable else '='} n.{c}" for c in keys) or "true"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _replaced AS
                SELECT f.row_id AS rid, f.batch_id FROM {schema.FLOWS_WITH_ROWID} f
                SEMI JOIN (SELECT {", ".join(keys) or "1"} FROM flows WHERE batch_id = $b) n ON {match}
                WHERE {older}""",
            {"b": batch_id},
        )
        counts = dict(con.execute("SELECT batch_id, count(*) FROM _replaced GROUP BY ALL").fetchall())
        if counts and keep:
            cols = schema.select_list()
            con.execute(
                f"INSERT INTO flows_superseded BY NAME SELECT {cols}, $b AS superseded_by FROM {schema.FLOWS_WITH_ROWID} "
                "WHERE row_id IN (SELECT rid FROM _replaced)",  # by name: a migrated store has the currency columns last
                {"b": batch_id},
            )
        if counts:
            con.execute("DELETE FROM flow_rows WHERE rowid IN (SELECT rid FROM _replaced)")
        con.execute("DROP TABLE _replaced")
        return counts

    def record_supersessions(self, batch_id: str, replaced: dict[str, int], kept: bool) -> None:
        for old, rows in replaced.items():
            self.con.execute("INSERT INTO supersessions VALUES (?, ?, ?, ?)", [batch_id, old, rows, kept])

    def resolve_batch(self, batch_id: str) -> tuple[str, str]:
        """(batch_id, path) of the batch named by `batch_id` or a unique prefix of it."""
        rows = self.con.execute(
            "SELECT batch_id, path FROM batches WHERE starts_with(batch_id, ?)", [batch_id.strip()]
        ).fetchall()
        if len(rows) != 1:
            reason = "no batch" if not rows else f"{len(rows)} batches start with"
            raise InputError(f"{reason} {batch_id!r}; `entrepot batches` lists them")
        return rows[0]

    def remove_batch(self, batch_id: str) -> Removal:
        """Remove a batch whole, putting back the rows of older batches it had superseded.

        Refused when it replaced rows that were not kept (ingested without keep_both): removing it would
        leave those observations missing rather than restore them. The message says what to do instead.
        """
        batch_id, path = self.resolve_batch(batch_id)
        con = self.con
        lost = con.execute(
            """SELECT s.superseded_batch, s.rows, b.path FROM supersessions s JOIN batches b ON b.batch_id = s.superseded_batch
               WHERE s.batch_id = ? AND NOT s.kept ORDER BY s.rows DESC""",
            [batch_id],
        ).fetchall()
        if lost:
            old, rows, old_path = lost[0]
            raise InputError(
                f"batch {batch_id} replaced {rows:,} rows of batch {old} ({old_path}) without keeping them (it was ingested "
                f"without --keep-both), so removing it cannot restore them: remove {old} first, then {batch_id}, "
                f"then ingest {old_path} again"
            )
        with self.transaction():
            removed = con.execute("DELETE FROM flow_rows WHERE segment IN (SELECT segment FROM segments WHERE batch_id = ?)",
                                  [batch_id]).fetchone()[0]
            con.execute("DELETE FROM segments WHERE batch_id = ?", [batch_id])
            con.execute("DELETE FROM flows_superseded WHERE batch_id = ?", [batch_id])
            # Rows it superseded go back, except where a still newer batch now holds the observation:
            # those stay superseded, by that batch.
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _back AS
                    SELECT h.rowid AS rid, h.batch_id, f.batch_id AS holder FROM flows_superseded h
                    LEFT JOIN flows f ON {schema.identity_match("h", "f")} WHERE h.superseded_by = ?""",
                [batch_id],
            )
            con.execute(
                "UPDATE flows_superseded SET superseded_by = _back.holder FROM _back "
                "WHERE flows_superseded.rowid = _back.rid AND _back.holder IS NOT NULL"
            )
            con.execute(
                "INSERT INTO supersessions SELECT holder, batch_id, count(*), true FROM _back WHERE holder IS NOT NULL GROUP BY ALL"
            )
            restored = dict(con.execute(
                "SELECT batch_id, count(*) FROM _back WHERE holder IS NULL GROUP BY ALL"
            ).fetchall())
            back = "rowid IN (SELECT rid FROM _back WHERE holder IS NULL)"
            write_flows(con, f"SELECT {schema.select_list()} FROM flows_superseded WHERE {back}")
            con.execute(f"DELETE FROM flows_superseded WHERE {back}")
            con.execute("DROP TABLE _back")
            con.execute("DELETE FROM supersessions WHERE batch_id = $b OR superseded_batch = $b", {"b": batch_id})
            con.execute("DELETE FROM batches WHERE batch_id = ?", [batch_id])
        return Removal(batch_id, path, removed, restored)

    def export_parquet(self, directory: str | Path) -> list[Path]:
        """Write the store as Parquet files into `directory`, one per table of `EXPORTED`: the active
        rows and their batches, and what `import_parquet` needs to rebuild the rest (the superseded
        rows and who replaced whom, the product descriptions)."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table in EXPORTED:
            target = out / f"{table}.parquet"
            self.con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(target)}' (FORMAT parquet)")
            written.append(target)
        return written

    def import_parquet(self, directory: str | Path) -> int:
        """Add the batches of an exported store that this one does not have yet; returns rows added.

        Their rows come with their own history (rows one of them replaced in the exported store, kept
        in its `flows_superseded`), and the product descriptions with them. Then every batch from the
        oldest one added on supersedes, in the order they were ingested, what older batches hold of
        the same observations (replaced rows kept), so `flows` holds each observation once, from its
        newest batch, whichever store it came from. An export written before the history and product
        files existed imports without them.
        """
        src = Path(directory)
        paths = {t: src / f"{t}.parquet" for t in EXPORTED}
        for table in ("flows", "batches"):
            if not paths[table].is_file():
                raise InputError("missing from the export directory", path=paths[table])

        def read(table: str) -> str:
            if paths[table].is_file():
                return f"read_parquet('{_sql_path(paths[table])}', union_by_name = true)"
            return f"(SELECT * FROM {table} LIMIT 0)"  # an older export: none of those rows

        before = self.row_count()
        with self.transaction() as con:
            con.execute(f"CREATE TEMP TABLE new_batches AS SELECT * FROM {read('batches')} "
                        "WHERE sha256 NOT IN (SELECT sha256 FROM batches)")
            present = {r[0] for r in con.execute("DESCRIBE new_batches").fetchall()}
            cols = [c.name for c in schema.BATCHES]
            con.execute(f"INSERT INTO batches ({', '.join(cols)}) SELECT "
                        + ", ".join(c if c in present else f"NULL AS {c}" for c in cols) + " FROM new_batches")
            new = "batch_id IN (SELECT batch_id FROM new_batches)"
            write_flows(con, f"SELECT {schema.select_list()} FROM {read('flows')} WHERE {new}")
            # Their history: rows of an added batch that a batch of the export replaced, kept.
            con.execute(f"INSERT INTO flows_superseded BY NAME SELECT {schema.select_list()}, superseded_by "
                        f"FROM {read('flows_superseded')} WHERE {new}")
            con.execute(f"INSERT INTO supersessions BY NAME SELECT batch_id, superseded_batch, rows, kept "
                        f"FROM {read('supersessions')} WHERE superseded_batch IN (SELECT batch_id FROM new_batches)")
            product_cols = ", ".join(c.name for c in schema.PRODUCTS)
            con.execute(f"INSERT OR REPLACE INTO products ({product_cols}) SELECT {product_cols} FROM {read('products')}")
            for (batch_id,) in con.execute(
                "SELECT batch_id FROM batches WHERE ingested_at >= (SELECT min(ingested_at) FROM new_batches) "
                "ORDER BY ingested_at, batch_id"
            ).fetchall():
                self.record_supersessions(batch_id, self.supersede(batch_id, keep=True), kept=True)
            con.execute("DROP TABLE new_batches")
        return self.row_count() - before


# The tables `export_parquet` writes, one Parquet file each (`flows` as its readers see it).
EXPORTED = ("flows", "batches", "flows_superseded", "supersessions", "products")


def next_segment(con: duckdb.DuckDBPyConnection) -> int:
    """The largest segment key in the store: new segments take keys above it."""
    return con.execute("SELECT coalesce(max(segment), 0) FROM segments").fetchone()[0]


def write_flows(con: duckdb.DuckDBPyConnection, relation: str, params: list | dict | None = None) -> int:
    """Write the rows of `relation` (SQL giving `schema.FLOWS`'s columns in order) into `flows`, in their
    order; returns how many. Their combinations of `schema.SEGMENT` columns the store does not hold yet
    become new segments; each row goes into `flow_rows` keyed to its own. `relation` is read twice."""
    rel = f"(SELECT * FROM ({relation}) AS _r({', '.join(schema.FLOW_COLUMNS)}))"
    seg = ", ".join(schema.SEGMENT)
    base = next_segment(con)
    con.execute(f"""INSERT INTO segments SELECT {base} + row_number() OVER (ORDER BY {seg}), * FROM (
                      SELECT DISTINCT {seg} FROM {rel} EXCEPT SELECT {seg} FROM segments)""", params or [])
    on = " AND ".join(f"r.{c} IS NOT DISTINCT FROM s.{c}" for c in schema.SEGMENT)
    rows = ", ".join(f"r.{c.name}" for c in schema.FLOW_ROWS[1:])
    return con.execute(f"""INSERT INTO flow_rows SELECT s.segment, {rows}
                           FROM (SELECT *, row_number() OVER () AS _pos FROM {rel}) r JOIN segments s ON {on}
                           ORDER BY r._pos""", params or []).fetchone()[0]


def constant_columns_sql(first: tuple) -> str:
    """One aggregate per identity column: does every row of the batch hold `first`'s value (a row of
    the batch, from `first_identity`)? A comparison per row costs a tenth of min() and max() on text."""
    return ", ".join(f"bool_and({c} IS NOT DISTINCT FROM {'NULL' if v is None else _literals([v])})"
                     for c, v in zip(schema.IDENTITY, first, strict=True))


def first_identity(con: duckdb.DuckDBPyConnection, batch_id: str) -> tuple:
    """The identity columns of one row of the batch (any row: `batch_constants` asks whether all match it)."""
    row = con.execute(f"SELECT {', '.join(schema.IDENTITY)} FROM flows WHERE batch_id = ? LIMIT 1", [batch_id]).fetchone()
    return row or (None,) * len(schema.IDENTITY)


def batch_constants(first: tuple, same: tuple) -> dict[str, str | None]:
    """Identity column -> its one value in the batch (None: all NULL), from `constant_columns_sql(first)`'s result."""
    return {c: v for c, v, all_same in zip(schema.IDENTITY, first, same, strict=True) if all_same}


def _connect(
    path: Path, read_only: bool, lock_wait: float, on_wait: Callable[[str], None] | None
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect with the store's failures as one line each, waiting a bounded time for a lock."""
    if path.is_dir():
        raise StoreError("is a directory; give the store's file, e.g. DIR/entrepot.duckdb", path=path)
    if not read_only:
        _check_writable(path)
    deadline = time.monotonic() + lock_wait
    waited = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            error = _store_error(exc, path, lock_wait)
            if not isinstance(error, StoreBusy) or time.monotonic() >= deadline:
                raise error from None
            if on_wait is not None and not waited:
                on_wait(f"{path}: in use by another process{_holder(exc)}; waiting up to {lock_wait:g} s")
            waited = True
            time.sleep(0.2)


def _check_writable(path: Path) -> None:
    """Fail before DuckDB does (its message varies) when the file or its directory cannot be written.

    DuckDB writes a `.wal` file beside the store, so the directory must be writable too.
    """
    parent = path.parent if str(path.parent) else Path(".")
    if not path.exists():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's directory: {exc.strerror}", path=path) from None
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError("no permission to write the store (a read-only file)", path=path)
    if not os.access(parent, os.W_OK):
        raise StoreError(f"no permission to write in {parent} (DuckDB keeps a .wal file beside the store)", path=path)


def _holder(exc: Exception) -> str:
    m = _HOLDER.search(str(exc))
    return f" (PID {m.group(2)}, {m.group(1)})" if m else ""


def _store_error(exc: Exception, path: Path, waited: float | None = None) -> StoreError:
    """DuckDB's error on opening or committing, as one line naming the store and what to do."""
    text = str(exc)
    if "Could not set lock" in text or "Conflicting lock" in text:
        after = f"; waited {waited:g} s" if waited else ""
        return StoreBusy(f"in use by another process{_holder(exc)}{after}; try again when it finishes", path=path)
    if "not a valid DuckDB database" in text:
        return StoreError("not a DuckDB store (the file exists but is not a DuckDB database)", path=path)
    if "Is a directory" in text:
        return StoreError("is a directory; give the store's file, e.g. DIR/entrepot.duckdb", path=path)
    if "Permission denied" in text or "Read-only file system" in text:
        return StoreError("no permission to write the store", path=path)
    if "newer version" in text.lower() or "storage version" in text.lower():
        return StoreError(f"written by another DuckDB version: {text.splitlines()[0]}", path=path)
    return StoreError(f"cannot open the store: {text.splitlines()[0]}", path=path)


@dataclass
class _Sigint:
    hit: bool = False  # Ctrl-C was pressed
    committing: bool = False  # the commit runs: let it finish


@contextmanager
def _sigint(con: duckdb.DuckDBPyConnection) -> Iterator[_Sigint]:
    """Ctrl-C during a transaction: cancel DuckDB's query and raise KeyboardInterrupt, or, during the
    commit, only remember it. Signals reach only the main thread; elsewhere (the dashboard) nothing changes."""
    state = _Sigint()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: object) -> None:
        state.hit = True
        if not state.committing:
            con.interrupt()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield state
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(exc: BaseException) -> bool:
    """DuckDB's own Ctrl-C handling: a running query is cancelled with this error."""
    return isinstance(exc, duckdb.InterruptException) or (isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower())


def _literals(values: list[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
