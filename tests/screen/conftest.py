"""Fixtures of the screen tests: one small synthetic world (the default embargo and its routes), its stores
(BACI; Comtrade only, monthly and annual), built once per session, and one local Spark session for the engine test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from entrepot.store import Store
from entrepot.store.warehouse import write_flows
from tests.conftest import IN_CI

SCENARIO = {"n_countries": 40, "n_products": 30, "controls": 2}


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> tuple[Path, dict[str, Path], dict]:
    """(directory, files, truth) of a small synthetic world written in the real formats: BACI and monthly Comtrade."""
    from entrepot.synth import Scenario, generate
    from entrepot.synth.writers import write_world

    out = tmp_path_factory.mktemp("screen-world")
    w = generate(Scenario.default().replace(**SCENARIO))
    return out, write_world(w, out / "files", comtrade=True), w.truth


@pytest.fixture(scope="session")
def world(generated) -> tuple[Path, dict]:
    """(store path, truth) of the world's BACI files ingested."""
    return _ingest(generated[0] / "s.duckdb", [p for k, p in generated[1].items() if k.startswith("baci")]), generated[2]


@pytest.fixture(scope="session")
def comtrade_world(generated) -> tuple[Path, Path, dict]:
    """(monthly store, annual store, truth): only the world's Comtrade declarations, both sides' (exports and imports), as
    the monthly download, and the same summed into calendar years as the annual download (freqCode A) would give them."""
    import pandas as pd

    out, files, truth = generated
    monthly = [p for k, p in files.items() if k.startswith("comtrade")]
    rows = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in monthly])
    sums = ["qty", "netWgt", "cifvalue", "fobvalue", "primaryValue"]
    keys = [c for c in rows.columns if c not in (*sums, "refPeriodId", "refMonth", "period", "freqCode")]
    rows[sums] = rows[sums].apply(pd.to_numeric, errors="coerce")
    annual = rows.groupby(keys, as_index=False, dropna=False)[sums].sum(min_count=1)
    annual = annual.assign(freqCode="A", refPeriodId=annual.refYear + "0101", refMonth="52", period=annual.refYear)[rows.columns]
    annual.to_csv(out / "comtrade_A.csv", index=False)
    return _ingest(out / "cm.duckdb", monthly), _ingest(out / "ca.duckdb", [out / "comtrade_A.csv"]), truth


def _ingest(path: Path, files: list[Path]) -> Path:
    from entrepot.store.ingest import ingest_file

    with Store(path) as st:
        for f in files:
            ingest_file(st, f)
    return path


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


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory) -> Path:
    """A hand-made BACI store small enough for Spark in the default suite (`tiny_flows`, DEU -> FRA re-priced)."""
    return write_baci(tmp_path_factory.mktemp("screen-tiny") / "tiny.duckdb", tiny_flows(repriced=("DEU", "FRA")))


CODES = ["TUR", "ISR", "GRC", "DEU", "FRA", "ITA", "ESP", "USA", "CHN", "JPN", "IND", "BRA", "EGY", "GEO", "BGR", "ROU"]
PRODUCTS = [f"{100000 + 1111 * k:06d}" for k in range(10)]


def tiny_flows(heavy: tuple[str, str, int] | None = None, repriced: tuple[str, str] | None = None):
    """16 countries, 10 products, 2020-2024, lognormal flows, each cell steady around its level; TUR -> ISR stops in
    2024 and GRC carries 40% of it on both legs. `heavy` (exporter, importer, product): that pair trades
    more of that product (50 times). `repriced` (exporter, importer): that pair's values fall by 60% in 2024, its
    tonnes do not (a price change). Columns: year, reporter, partner, product, value, tonnes."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    e, m, p, y = np.meshgrid(range(len(CODES)), range(len(CODES)), range(len(PRODUCTS)), range(2020, 2025), indexing="ij")
    f = pd.DataFrame({"e": e.ravel(), "m": m.ravel(), "p": p.ravel(), "year": y.ravel()}).query("e != m")
    f["v"] = np.exp(rng.normal(14, 1.0, len(f))) * (1 + 20 * ((f.e == 0) & (f.m == 1)))
    if heavy is not None:
        f.loc[(f.e == CODES.index(heavy[0])) & (f.m == CODES.index(heavy[1])) & (f.p == heavy[2]), "v"] *= 50
    level = f.groupby(["e", "m", "p"]).v.transform("mean")
    f["v"] = level * np.exp(rng.normal(0, 0.05, len(f)))
    cut = (f.e == 0) & (f.m == 1) & (f.year == 2024)
    stopped = f.loc[cut, ["p", "v"]].assign(v=lambda x: x.v * 0.95)
    f.loc[cut, "v"] *= 0.05
    for leg in ((0, 2), (2, 1)):
        sel = (f.e == leg[0]) & (f.m == leg[1]) & (f.year == 2024)
        f.loc[sel, "v"] += f.loc[sel, "p"].map(stopped.set_index("p").v * 0.4).to_numpy()
    f["t"] = f.v / 2000
    if repriced is not None:
        f.loc[(f.e == CODES.index(repriced[0])) & (f.m == CODES.index(repriced[1])) & (f.year == 2024), "v"] *= 0.4
    return pd.DataFrame({"year": f.year, "reporter": [CODES[k] for k in f.e], "partner": [CODES[k] for k in f.m],
                         "product": [PRODUCTS[k] for k in f.p], "value": f.v, "tonnes": f.t})


def write_baci(path: Path, rows) -> Path:
    """`rows` (tiny_flows' columns) as a store of BACI rows."""
    with Store(path) as st:
        st.con.register("new_rows", rows)
        write_flows(st.con, """SELECT CAST(year AS VARCHAR), 'A', year, NULL, reporter, true, partner, true, 'export', 'HS17',
                                      product, 6, value, tonnes, 't', 'baci', 'tiny', NULL, 'USD' FROM new_rows""")
    return path
