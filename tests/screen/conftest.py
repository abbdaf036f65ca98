"""Fixtures of the screen tests: one small synthetic world's store (BACI, the default embargo and its
routes), built once per session, and one local Spark session for the engine test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from entrepot.store import Store
from tests.conftest import IN_CI

SCENARIO = {"n_countries": 40, "n_products": 30, "controls": 2}


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> tuple[Path, dict]:
    """(store path, truth) of a small synthetic world ingested as BACI."""
    from entrepot.synth import Scenario, generate, ingest_world

    out = tmp_path_factory.mktemp("screen-world")
    w = generate(Scenario.default().replace(**SCENARIO))
    with Store(out / "s.duckdb") as st:
        ingest_world(st, w, out / "files", comtrade=False)
    return out / "s.duckdb", w.truth


@pytest.fixture(scope="session")
def spark_master() -> str:
    """local[2], with its SparkSession started once; skips without pyspark or Java (fails under CI)."""
    missing = [what for what, ok in (("pyspark", _has_pyspark()), ("a Java runtime", shutil.which("java") is not None)) if not ok]
    if missing:
        message = f"Spark tests need {' and '.join(missing)}: `make test` installs them (make java; pip install -e '.[spark]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from entrepot.screening.engines import spark_session

    spark_session("local[2]")
    return "local[2]"


def _has_pyspark() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return True
