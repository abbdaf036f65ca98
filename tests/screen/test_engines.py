"""Two engines, one answer: the screen on Spark (local mode) equals the screen on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

from entrepot.screening import queries, screen
from entrepot.store import Store


def assert_same(spark, duck) -> None:
    pd.testing.assert_frame_equal(spark.pairs, duck.pairs, rtol=1e-9, check_dtype=False)
    pd.testing.assert_frame_equal(spark.routes, duck.routes, rtol=1e-9, check_dtype=False)
    pd.testing.assert_frame_equal(spark.to_frame(), duck.to_frame(), rtol=1e-9, check_dtype=False)


@pytest.mark.spark
def test_spark_and_duckdb_give_the_same_screen_of_a_small_store(tiny_store, spark_master) -> None:
    """The default suite's engine test: every query stage, the volume test and one grouped UDF (a route scan) on a tiny store."""
    duck = screen(tiny_store, top=1)
    spark = screen(tiny_store, engine="spark", master=spark_master, top=1)
    assert_same(spark, duck)
    t = duck.to_frame()
    assert (t.exporter.iloc[0], t.importer.iloc[0], t.date.iloc[0], t.intermediaries.iloc[0]) == ("TUR", "ISR", "2024", "GRC")
    assert t.set_index(["exporter", "importer"]).status[("DEU", "FRA")] == "prices"  # the volume test ran on both engines


@pytest.mark.spark
def test_spark_runs_each_group_of_a_grouped_query_in_a_task_of_its_own(tiny_store, spark_master) -> None:
    """The route scans are few rows and much Python: adaptive execution would coalesce them into one task."""
    from pyspark import TaskContext

    from entrepot.screening.engines import SparkEngine

    def where(rows: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"k": [int(rows.k.iloc[0])], "rows": [len(rows)], "task": [TaskContext.get().partitionId()]})

    with Store(tiny_store, read_only=True) as st:
        eng = SparkEngine(st, spark_master)
        try:
            query = queries.Query((("r", "SELECT id % 4 AS k, id AS v FROM range(400)"),), "SELECT k, v FROM r")
            out = eng.grouped(query, "k", where, "k long, rows long, task int", groups=4)
        finally:
            eng.close()
    assert out.k.tolist() == [0, 1, 2, 3] and out.rows.tolist() == [100] * 4
    assert out.task.nunique() == 4


@pytest.mark.spark
@pytest.mark.slow
def test_spark_and_duckdb_give_the_same_screen(world, spark_master, tmp_path) -> None:
    with Store(world[0], read_only=True) as st:
        duck = screen(st, top=2)
        st.export_parquet(tmp_path)  # what `entrepot export DIR` writes, as a cluster would read it
    spark = screen(tmp_path, engine="spark", master=spark_master, top=2)
    assert spark.settings["engine"] == "spark" and spark.settings["master"] == spark_master
    pd.testing.assert_frame_equal(spark.provenance.batches, duck.provenance.batches.assign(
        path=spark.provenance.batches.path, ingested_at=spark.provenance.batches.ingested_at), check_dtype=False)
    assert_same(spark, duck)
    assert len(duck.routes) and duck.routes.significant.any()  # the grouped UDF ran the route scans, and found routes


def test_one_sql_text_per_query_in_the_common_dialect() -> None:
    """No DuckDB-only syntax in the text both engines run."""
    rel = queries.Relation("baci", "A", 6)
    for query in (queries.breaks_sql(rel, True, 1e6), queries.legs_sql(rel, False)):
        text = query.text()
        for dialect_only in ("GROUP BY ALL", "list_contains", "$", "::", "QUALIFY", "//"):
            assert dialect_only not in text
    assert {"lr", "cell", "scored"} <= queries.breaks_sql(rel, False, 1e6).reused()
