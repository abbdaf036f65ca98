"""The synthetic world: its truth adds up, mirrors hold up to the declared margins, seeds repeat, files ingest."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from entrepot.errors import InputError
from entrepot.synth import Route, Scenario, generate, ingest_world, load_scenario

SMALL = dataclasses.replace(Scenario.default(), n_countries=30, n_products=60, first_year=2021, last_year=2025)


@pytest.fixture(scope="module")
def world():
    return generate(SMALL)


@pytest.fixture(scope="module")
def written(world, tmp_path_factory):
    return world.write(tmp_path_factory.mktemp("world"))


def test_default_scenario_matches_the_case():
    scn = Scenario.default()
    assert (scn.exporter, scn.importer, scn.both_directions) == ("TUR", "ISR", True)
    assert (scn.restriction_date, scn.embargo_date) == ("2024-04-09", "2024-05-02")
    assert {r.country for r in scn.routes} == {"GRC", "BGR", "GEO", "AZE", "ALB"}
    assert scn.relabel_country == "PSE"


def test_truth_adds_up(world):
    for name, d in world.truth["directions"].items():
        cf = np.array(list(d["counterfactual_by_month"].values()))
        direct = np.array(list(d["direct_by_month"].values()))
        assert d["direct_effect"] == pytest.approx((direct - cf).sum(), rel=1e-9)
        assert sum(d["direct_by_year"].values()) == pytest.approx(direct.sum(), rel=1e-9)
        assert d["direct_effect"] == pytest.approx(-d["lost_total"], rel=1e-12)
        parts = d["rerouted_total"] + d["relabelled_total"] + d["vanished_total"]
        assert parts == pytest.approx(d["lost_total"], rel=1e-9)
        routes = {r.country: r.share for r in SMALL.routes}
        for c, v in d["intermediaries"].items():
            assert sum(v["rerouted_by_month"].values()) == pytest.approx(v["rerouted_total"], rel=1e-9)
            assert sum(v["rerouted_by_product"].values()) == pytest.approx(v["rerouted_total"], rel=1e-9)
            assert v["rerouted_total"] == pytest.approx(routes[c] * d["lost_total"], rel=1e-9)
        assert sum(d["relabelled_by_month"].values()) == pytest.approx(SMALL.relabel_share * d["lost_total"], rel=1e-9)
        pre = d["pre_event_annual_average"]
        assert 0.5 * SMALL.pair_values[name.startswith("ISR")] < pre < 2 * SMALL.pair_values[name.startswith("ISR")]


def test_embargo_and_reroute_show_in_the_true_flows(world):
    iso = list(world.countries["iso3"])
    a, b, c = iso.index("TUR"), iso.index("ISR"), iso.index("GRC")
    m = world.monthly
    ab = m[(m.i == a) & (m.j == b)].groupby(["year", "month"])["declared"].sum()
    truth = world.truth["directions"]["TUR->ISR"]
    for (y, mo), v in ab.items():
        assert v == pytest.approx(truth["direct_by_month"][f"{y}-{mo:02d}"], rel=1e-9)
    # Relabelled goods: the importer's by-origin figure exceeds the exporter's declaration by exactly that.
    gap = m[(m.i == a) & (m.j == b)].eval("origin - declared").groupby(m.year).sum()
    relabelled = pd.Series(truth["relabelled_by_month"]).groupby(lambda s: int(s[:4])).sum()
    assert np.allclose(gap.reindex(relabelled.index, fill_value=0), relabelled, rtol=1e-9, atol=1)
    ac_after = m[(m.i == a) & (m.j == c) & (m.year == 2025)]["declared"].sum()
    ac_before = m[(m.i == a) & (m.j == c) & (m.year == 2023)]["declared"].sum()
    assert ac_after > ac_before + 0.5 * sum(v for k, v in truth["intermediaries"]["GRC"]["rerouted_by_month"].items() if k.startswith("2025"))


def test_mirror_flows_differ_by_the_declared_margin(written, world):
    ct = pd.read_csv(written["comtrade_monthly"], dtype={"cmdCode": str})
    x = ct[ct.flowCode == "X"].rename(columns={"reporterCode": "e", "partnerCode": "m"})
    mm = ct[ct.flowCode == "M"].rename(columns={"reporterCode": "m", "partnerCode": "e"})
    both = x.merge(mm, on=["period", "e", "m", "cmdCode"], suffixes=("_x", "_m"))
    both = both[both.period < 202401]  # before any event
    assert len(both) > 100
    m49 = dict(zip(world.countries["m49"], range(len(world.countries))))
    margin = world.cif[both.e.map(m49), both.m.map(m49)]
    residual = np.log(both.primaryValue_m / both.primaryValue_x) - np.log1p(margin)
    assert abs(residual.median()) < 0.02
    assert residual.std() == pytest.approx(np.sqrt(2) * SMALL.noise_sd, rel=0.3)


def test_a_seed_gives_the_same_world(tmp_path):
    def digest(seed, d):
        paths = generate(dataclasses.replace(SMALL, seed=seed)).write(tmp_path / d)
        return {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}

    assert digest(7, "a") == digest(7, "b")
    assert digest(7, "a") != digest(8, "c")


def test_every_format_round_trips_through_ingest(store, world, tmp_path):
    paths = ingest_world(store, world, tmp_path)
    sources = store.query("SELECT source, freq, count(*) n, sum(value_usd) v FROM flows GROUP BY ALL").set_index(["source", "freq"])
    baci = sum(pd.read_csv(p)["v"].sum() for k, p in paths.items() if k.startswith("baci")) * 1e3
    assert sources.at[("baci", "A"), "v"] == pytest.approx(baci, rel=1e-6)
    for name, freq in (("comtrade_annual", "A"), ("comtrade_monthly", "M")):
        frame = pd.read_csv(paths[name])
        assert sources.at[("comtrade", freq), "n"] == len(frame)
        assert sources.at[("comtrade", freq), "v"] == pytest.approx(frame["primaryValue"].sum(), rel=1e-9)
    truth = json.loads(paths["truth"].read_text())
    assert set(truth["directions"]) == {"TUR->ISR", "ISR->TUR"}
    gravity = pd.read_csv(paths["gravity"])
    assert (gravity.query("exporter == importer")["trade"] > 0).all()
    assert gravity.DIST.gt(0).all() and np.allclose(gravity.ln_DIST, np.log(gravity.DIST))


def test_no_rerouting_world():
    scn = dataclasses.replace(SMALL, routes=(), relabel_share=0.0, both_directions=False)
    d = generate(scn).truth["directions"]
    assert list(d) == ["TUR->ISR"]
    assert d["TUR->ISR"]["rerouted_total"] == 0 and d["TUR->ISR"]["vanished_total"] == pytest.approx(d["TUR->ISR"]["lost_total"])


def test_bad_scenarios_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        dataclasses.replace(SMALL, routes=(Route("GRC", 0.8),), relabel_share=0.5)
    with pytest.raises(InputError, match="XXX"):
        generate(dataclasses.replace(SMALL, routes=(Route("XXX", 0.1),)))
    bad = tmp_path / "s.toml"
    bad.write_text("[scenario]\nseeed = 3\n")
    with pytest.raises(InputError, match="seeed"):
        load_scenario(bad)


def test_cli_synth_writes_and_rejects(cli, tmp_path):
    scn = tmp_path / "small.toml"
    scn.write_text('[scenario]\nn_countries = 20\nn_products = 30\nfirst_year = 2023\nlast_year = 2025\nfrequency = "A"\n'
                   '[[scenario.routes]]\ncountry = "GRC"\nshare = 0.3\n')
    res = cli("synth", "--scenario", scn, "--seed", "5", "--out", tmp_path / "w", "--json")
    assert res.exit_code == 0, res.output
    assert {"truth", "gravity", "comtrade_annual"} <= set(json.loads(res.output))
    scn.write_text("[scenario]\nleak_share = 3\n")
    res = cli("synth", "--scenario", scn, "--out", tmp_path / "x")
    assert res.exit_code == 2 and res.output.startswith("error:")


@pytest.mark.slow
def test_demo_tells_the_story(cli, tmp_path):
    res = cli("demo", "--out", tmp_path / "demo", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["total_s"] < 60
