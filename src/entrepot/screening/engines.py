"""Where the screen's SQL runs: DuckDB on this machine (default) or Apache Spark (a cluster, or local).

An engine reads a view `flows` (the canonical table) and does three things: run a query into a
pandas frame, register a small frame as a view, and run a query whose rows are split by a key and
handed, group by group, to a Python function (Spark: a grouped pandas UDF, `applyInPandas`;
DuckDB: the same function over the same groups, one after another). The SQL text is the same for
both (`queries`), so are the functions: only the executor differs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from entrepot.errors import InputError
from entrepot.screening.queries import Query
from entrepot.store import Store
from entrepot.store.warehouse import dataframe

ENGINES = ("duckdb", "spark")
GroupFn = Callable[[pd.DataFrame], pd.DataFrame]


BATCH_COLUMNS = ["batch_id", "source", "path", "rows", "ingested_at"]


def parquet_flows(path: str | Path) -> Path:
    """The flows of a Parquet input: `entrepot export DIR`'s flows.parquet, or a Parquet file or dataset directory."""
    path = Path(path)
    if (path / "flows.parquet").exists():
        return path / "flows.parquet"
    if path.is_file() and path.suffix == ".parquet":
        return path
    if path.is_dir() and any(path.rglob("*.parquet")):
        return path
    raise InputError("no Parquet flows here (expected `entrepot export DIR` output, a .parquet file or a Parquet dataset)", path=path)


class DuckDBEngine:
    """DuckDB on this machine, over a store or Parquet."""

    name = "duckdb"

    def __init__(self, source: Store | str | Path) -> None:
        import duckdb

        self._own = not isinstance(source, Store)
        self._flows: Path | None = None
        if isinstance(source, Store):
            self.con, self.input = source.con, str(source.path)
        else:
            flows = self._flows = parquet_flows(source)
            self.con, self.input = duckdb.connect(), str(flows)
            self.con.execute("SET enable_progress_bar = false")
            glob = str(flows / "**" / "*.parquet") if flows.is_dir() else str(flows)
            self.con.execute(f"CREATE VIEW flows AS SELECT * FROM read_parquet('{_quote(glob)}', hive_partitioning = true)")
        self.master = None

    def frame(self, query: str | Query) -> pd.DataFrame:
        """The query's rows."""
        return dataframe(self.con.execute(query if isinstance(query, str) else query.text()))

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """`frame` as a view the queries can read."""
        self.con.register(name, frame)

    def batches(self, sql: str) -> pd.DataFrame:
        """The ingest batches the relation read (`batches_sql`), with their files from the store or the export."""
        read = self.frame(sql)
        known = self.con.execute("SELECT batch_id, path, ingested_at FROM batches").df() if not self._own else _exported_batches(self._flows)
        return _with_files(read, known)

    def grouped(self, query: Query, key: str, fn: GroupFn, schema: str, groups: int) -> pd.DataFrame:
        """`fn` on each group of the query's rows by `key`, in key order (the query is materialised once; `groups` is Spark's)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE screen_groups AS {query.text()}")
        try:
            keys = [k for (k,) in self.con.execute(f"SELECT DISTINCT {key} FROM screen_groups ORDER BY 1").fetchall()]
            parts = [fn(dataframe(self.con.execute(f"SELECT * FROM screen_groups WHERE {key} = ?", [k]))) for k in keys]
        finally:
            self.con.execute("DROP TABLE IF EXISTS screen_groups")
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def close(self) -> None:
        """Close what the engine opened (a store's connection belongs to the caller)."""
        if self._own:
            self.con.close()


class SparkEngine:
    """Spark SQL over Parquet. `master`: a cluster URL (spark://, yarn, k8s://...) or local[N] (default local[*])."""

    name = "spark"

    def __init__(self, source: Store | str | Path, master: str | None = None) -> None:
        self.master = master or "local[*]"
        self.spark = spark_session(self.master)
        self._tmp: tempfile.TemporaryDirectory | None = None
        if isinstance(source, Store):  # Spark reads Parquet: export the store first (what `entrepot export` writes)
            self._tmp = tempfile.TemporaryDirectory(prefix="entrepot-spark-")
            source.export_parquet(self._tmp.name)
            flows, self.input = Path(self._tmp.name) / "flows.parquet", f"{source.path} (exported to Parquet)"
        else:
            flows = parquet_flows(source)
            self.input = str(flows)
        self._flows = flows
        self.spark.read.parquet(str(flows)).createOrReplaceTempView("flows")

    def frame(self, query: str | Query) -> pd.DataFrame:
        """The query's rows, collected to the driver."""
        if isinstance(query, str):
            return self.spark.sql(query).toPandas()
        with self._stages(query) as final:
            return final.toPandas()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """`frame` (small) as a temporary view."""
        self.spark.createDataFrame(frame).createOrReplaceTempView(name)

    def batches(self, sql: str) -> pd.DataFrame:
        """The ingest batches the relation read, with their files from the export's batches.parquet when there is one."""
        return _with_files(self.frame(sql), _exported_batches(self._flows))

    def grouped(self, query: Query, key: str, fn: GroupFn, schema: str, groups: int) -> pd.DataFrame:
        """`fn` as a grouped pandas UDF (applyInPandas) over the query's rows grouped by `key`, about `groups` of them.

        The rows are few and `fn` is heavy (a route scan): left to adaptive execution, the shuffle's
        partitions are coalesced by bytes into one task that runs every group in turn. Range-partitioned
        into `groups` partitions instead (a number adaptive execution keeps), each group has a task of
        its own, nearly always, and the tasks run side by side on the executors' cores."""
        with self._stages(query) as final:
            out = final.repartitionByRange(max(groups, 1), key).groupBy(key).applyInPandas(fn, schema=schema).toPandas()
        return out.sort_values(key, kind="stable", ignore_index=True) if len(out) else out

    @contextmanager
    def _stages(self, query: Query):
        """The stages as temporary views, those read more than once materialised; yields the final DataFrame."""
        cached = []
        try:
            for name, sql in query.stages:
                df = self.spark.sql(sql)
                if name in query.reused():
                    df = df.localCheckpoint()  # eager; cuts the lineage, whose plan text would grow with every stage
                    cached.append(df)
                df.createOrReplaceTempView(name)
            yield self.spark.sql(query.final)
        finally:
            for df in cached:
                df.unpersist()

    def close(self) -> None:
        """Remove the store's temporary Parquet export (the session stays for the next screen)."""
        if self._tmp is not None:
            self._tmp.cleanup()


_SESSIONS: dict[str, object] = {}
JIT_LOCAL = "-XX:TieredStopAtLevel=1"  # local mode's JVM: the quick compiler only (spark_session)


def spark_session(master: str):
    """One SparkSession per master for the process (starting one takes seconds).

    On a cluster the cluster's settings stand (adaptive execution coalesces Spark's 200 shuffle
    partitions). In local mode the JVM is driver and executor at once and lives for a screen or a test
    run: its workers run this Python, a shuffle has as many partitions as the master has cores
    (`defaultParallelism`, not 200), and the JVM compiles with C1 only (`JIT_LOCAL`): profiled on a
    1M-row store, its optimising compiler (C2) took about half the screen's CPU seconds, more than the
    tasks themselves (docs/performance.md).
    """
    if master in _SESSIONS:
        return _SESSIONS[master]
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine spark needs pyspark: pip install 'entrepot[spark]' (and a Java runtime)") from None
    local = master.startswith("local")
    builder = (SparkSession.builder.master(master).appName("entrepot-screen")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.ui.showConsoleProgress", "false"))
    if local:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.ui.enabled", "false").config("spark.driver.extraJavaOptions", JIT_LOCAL)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, or the master is unreachable: the user's setup, not a bug
        raise InputError(f"cannot start Spark on {master}: {str(exc).splitlines()[0]}") from None
    session.sparkContext.setLogLevel("ERROR")
    if local:
        session.conf.set("spark.sql.shuffle.partitions", str(session.sparkContext.defaultParallelism))
    _SESSIONS[master] = session
    return session


Engine = DuckDBEngine | SparkEngine


def open_engine(name: str, source: Store | str | Path, master: str | None = None) -> Engine:
    """The engine `name` over `source` (a store, or Parquet)."""
    if name not in ENGINES:
        raise InputError(f"must be one of {', '.join(ENGINES)}, not {name!r}", parameter="engine")
    if name == "duckdb":
        if master is not None:
            raise InputError("is for the spark engine", parameter="master")
        return DuckDBEngine(source)
    return SparkEngine(source, master)


def _quote(text: str) -> str:
    return text.replace("'", "''")


def _exported_batches(flows: Path | None) -> pd.DataFrame | None:
    """The batches.parquet `entrepot export` writes beside flows.parquet, if it is there."""
    path = None if flows is None else flows.parent / "batches.parquet"
    return pd.read_parquet(path, columns=["batch_id", "path", "ingested_at"]) if path is not None and path.is_file() else None


def _with_files(read: pd.DataFrame, known: pd.DataFrame | None) -> pd.DataFrame:
    """`read` (batch_id, source, rows) with each batch's file and ingest time where known."""
    out = read.merge(known, on="batch_id", how="left") if known is not None else read.assign(path=None, ingested_at=None)
    return out.sort_values("batch_id", ignore_index=True)[BATCH_COLUMNS]
