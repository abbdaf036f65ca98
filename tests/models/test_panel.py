"""A gravity panel from the store and a production file, and the case's scenarios on it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from entrepot.case import load_case
from entrepot.models import ge, gravity, panel
from entrepot.store import Store

CASE = Path(__file__).resolve().parents[2] / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(store path, production CSV, the world's gravity frame) for a 30-country synthetic world, BACI ingested."""
    from entrepot.synth import Scenario, generate
    from entrepot.synth.writers import ingest_world

    out = tmp_path_factory.mktemp("panel")
    world = generate(Scenario.default().replace(n_countries=30, n_products=10))
    with Store(out / "s.duckdb") as st:
        ingest_world(st, world, out, comtrade=False)
    g = world.gravity
    prod = g.groupby(["exporter", "year"])["trade"].sum().reset_index().rename(columns={"exporter": "country", "trade": "gdp"})
    prod.loc[(prod["country"] == "GRC") & (prod["year"] == 2022), "gdp"] = 1.0  # production below exports, one year
    prod.to_csv(out / "production.csv", index=False)
    return out / "s.duckdb", out / "production.csv", g


def test_gravity_panel_command_and_case_scenarios(cli, built, tmp_path) -> None:
    store, production, world = built
    target = tmp_path / "gravity.csv"
    out = cli("gravity-panel", "--store", store, "--production", production, "--out", target, "--json")
    assert out.exit_code == 0, out.output
    info = json.loads(out.output)
    assert info["source"] == "baci" and info["countries"] == 29 and info["production_below_exports"] == ["GRC"]
    assert info["left_out"] == ["GRC"]
    df = pd.read_csv(target)
    assert len(df) == 29 * 29 * df["year"].nunique() and not df.isna().any().any() and "GRC" not in set(df["exporter"])
    geo = panel.geography().set_index(["exporter", "importer"])
    assert df.set_index(["exporter", "importer"]).loc[("TUR", "BGR"), "CNTG"].iloc[0] == geo.loc[("TUR", "BGR"), "CNTG"] == 1
    with Store(store, read_only=True) as st:
        baci = st.query("SELECT sum(value_usd) AS v FROM flows WHERE reporter = 'TUR' AND partner = 'ISR' AND year = 2023")["v"][0]
    assert df.query("exporter == 'TUR' and importer == 'ISR' and year == 2023")["trade"].iloc[0] == pytest.approx(baci)
    data = gravity.load_dataset(target)
    case = load_case(CASE)
    results = ge.case_scenarios(data, case)
    assert [s.id for s, _ in results] == ["rapprochement", "two-blocs", "us-managed-order"]
    for s, res in results:
        assert isinstance(res, ge.GEResult), (s.id, res)
        assert res.settings["assumption"] == s.note and res.settings["data"] == str(target)
    rapprochement = results[0][1].to_frame().set_index("country")
    assert rapprochement.loc["TUR", "partial_exports_pct"] > 0


def test_production_file_errors(cli, built, tmp_path) -> None:
    store, _, _ = built
    bad = tmp_path / "p.csv"
    bad.write_text("country,year,gdp\nTUR,2023,1e12\nXYZ,2023,5\n")
    out = cli("gravity-panel", "--store", store, "--production", bad, "--out", tmp_path / "g.csv")
    assert out.exit_code == 2 and "p.csv:3: column country: unknown country code 'XYZ'" in out.output
    bad.write_text("country,year,gdp\nTUR,2023,-4\n")
    out = cli("gravity-panel", "--store", store, "--production", bad, "--out", tmp_path / "g.csv")
    assert out.exit_code == 2 and "production must be a positive number" in out.output
    bad.write_text("country,year\nTUR,2023\n")
    out = cli("gravity-panel", "--store", store, "--production", bad, "--out", tmp_path / "g.csv")
    assert out.exit_code == 2 and "needs a production column" in out.output and not (tmp_path / "g.csv").exists()


def test_estimate_from_the_store_has_the_geography(cli, built) -> None:
    store, _, _ = built
    out = cli("estimate", "--store", store, "--formula", "trade ~ ln_DIST + CNTG + LANG | exp_year + imp_year", "--json")
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert res["coefficients"][0]["term"] == "ln_DIST" and res["coefficients"][0]["estimate"] < 0
    # The store's batches, as every result names them: BACI's files, and how to cite them.
    assert res["provenance"]["sources"] == ["baci"] and all("BACI" in b["path"] for b in res["provenance"]["batches"])
    assert "CEPII BACI" in res["provenance"]["cite"] and "PPML" in res["basis"]["model"]
