"""The synthetic world: its truth adds up, a seed gives the same world, and its files ingest."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from entrepot.analysis.flows import flows
from entrepot.errors import InputError
from entrepot.synth import Scenario, generate, ingest_world, load_scenario

SMALL = dict(n_countries=30, n_products=25, start="2023-01", end="2025-06", controls=2)


@pytest.fixture(scope="module")
def world():
    return generate(Scenario.default().replace(**SMALL))


def test_truth_adds_up(world) -> None:
    scn = world.scenario
    for d in world.truth["directions"]:
        inter = d["intermediaries"]
        assert d["rerouted_value_usd"] == pytest.approx(sum(x["rerouted_value_usd"] for x in inter))
        for x in inter:
            assert sum(x["by_period"].values()) == pytest.approx(x["rerouted_value_usd"])
            assert sum(x["by_product"].values()) == pytest.approx(x["rerouted_value_usd"])
        shares = sum(r.share for r in scn.routes) + scn.relabel_share
        effect = d["direct_effect"]
        # the routes and the relabelling take their shares of what the embargo took off the direct flow
        assert d["rerouted_value_usd"] + d["relabelled"]["value_usd"] == pytest.approx(effect["drop_usd"] * shares)
        assert effect["counterfactual_usd"] - effect["actual_usd"] == pytest.approx(effect["drop_usd"])


def test_mirror_relations_hold_up_to_declared_margins(world) -> None:
    """Away from the embargoed pair, an importer's CIF report over the exporter's FOB is 1 + margin (<= 15%) + noise."""
    pair = {world.scenario.exporter, world.scenario.importer}
    exp = world.exporter_reports.groupby(["reporter", "partner"])["value"].sum()
    imp = world.importer_reports.groupby(["partner", "reporter"])["value"].sum()
    both = pd.concat([exp, imp], axis=1, keys=["fob", "cif"]).dropna()
    codes = [c.iso3 for c in world.countries]
    both = both[[codes[a] not in pair and codes[b] not in pair for a, b in both.index]]
    ratio = both["cif"] / both["fob"]
    assert len(ratio) > 5
    assert ratio.between(0.95, 1.3).mean() > 0.95
    assert 1.01 < ratio.median() < 1.15


def test_same_seed_same_world_other_seed_other_world(world) -> None:
    again = generate(Scenario.default().replace(**SMALL))
    pd.testing.assert_frame_equal(world.baci, again.baci)
    assert json.dumps(world.truth, sort_keys=True) == json.dumps(again.truth, sort_keys=True)
    other = generate(Scenario.default().replace(**SMALL, seed=8))
    assert not world.baci["value"].equals(other.baci["value"])


def test_files_round_trip_through_ingest(world, store, tmp_path) -> None:
    paths = ingest_world(store, world, tmp_path)
    assert json.loads(paths["truth"].read_text())["event"] == "2024-05-02"
    counts = store.query("SELECT source, count(*) n, sum(value_usd) v FROM flows GROUP BY 1").set_index("source")
    assert counts.loc["baci", "n"] == len(world.baci)
    assert counts.loc["comtrade", "n"] == len(world.exporter_reports) + len(world.importer_reports)
    assert counts.loc["baci", "v"] == pytest.approx(world.baci["value"].sum(), rel=1e-6)
    # the motivating puzzle: after the embargo the importer reports far more than the exporter
    late = flows(store, "TUR", "ISR", freq="M").table.iloc[-1]  # the last month (2025 is not a whole year here)
    assert late.a_to_b_importer > 3 * late.a_to_b_exporter


def test_scenario_toml_and_bad_scenarios(tmp_path) -> None:
    scn = Scenario.default()
    assert [r.via for r in scn.routes] == ["GRC", "BGR", "GEO", "AZE", "ALB"] and scn.relabel_country == "PSE"
    bad = tmp_path / "bad.toml"
    bad.write_text('[world]\nseed = 1\ncolour = "red"\n')
    with pytest.raises(InputError, match="colour: unknown parameter"):
        load_scenario(bad)
    with pytest.raises(InputError, match="must fall inside"):
        generate(scn.replace(**{**SMALL, "end": "2024-01"}))
    none = generate(scn.replace(**SMALL, routes=(), relabel_country=None, relabel_share=0.0))
    assert none.truth["directions"][0]["rerouted_value_usd"] == 0


def test_churn_makes_small_flows_come_and_go(world) -> None:
    """With churn, some exporter-importer-product cells trade in one year and not in another."""
    churned = generate(Scenario.default().replace(**SMALL, churn=0.5))

    def intermittent(w) -> int:
        years = w.baci.groupby(["i", "j", "p"])["year"].nunique()
        return int((years < w.baci["year"].nunique()).sum())

    assert intermittent(churned) > intermittent(world) + 50
