"""The decoy zoo and several embargoes: each class does what docs/synth.md says, and truth.json says so."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from entrepot.synth import Decoys, Embargo, Route, Scenario, generate, ingest_world, random_embargoes
from tests.conftest import SHARED

SMALL = dict(n_countries=36, n_products=30, controls=2)
EXTRA = Embargo("BRA", "ARG", dt.date(2023, 9, 1), (4e9, 2e9), routes=(Route("URY", 0.3),))


@pytest.fixture(scope="module")
def plain():
    return generate(Scenario.default().replace(**SMALL))


@pytest.fixture(scope="module")
def zoo():
    concordance = SHARED / "concordance"
    scn = Scenario.default().replace(**SMALL, decoys=Decoys.every(), embargoes=(EXTRA,),
                                     concordance=str(concordance) if concordance.exists() else None)
    return generate(scn)


def _code(world):
    return {c.iso3: k for k, c in enumerate(world.countries)}


def _flow(world, a, b, years, col="value"):
    pos = _code(world)
    f = world.baci[(world.baci.i == pos[a]) & (world.baci.j == pos[b]) & world.baci.year.isin(years)]
    return f[col].sum()


def test_decoys_off_is_the_same_world(plain) -> None:
    again = generate(Scenario.default().replace(**SMALL, decoys=Decoys()))
    assert again.baci["value"].equals(plain.baci["value"])
    assert plain.truth["decoys"]["classes"] == []


def test_every_class_is_recorded_and_decoys_are_not_the_case(zoo) -> None:
    d = zoo.truth["decoys"]
    assert set(d["classes"]) == {"outside_boom", "demand_boom", "diversion", "deflection", "hubs", "price_shock", "gaps",
                                 "hs_change", "onset_months", "second_event", "hs_relabel", "route_boom"}
    assert d["strengths"]["boom_size"] == 0.15 and d["strengths"]["demand_growth"] == [0.3, 0.8]
    case = set(zoo.scenario.focus) - set(zoo.scenario.hubs())
    decoys = [x["country"] for k in ("outside_boom", "demand_boom", "diversion", "deflection", "price_shock", "hubs") for x in d[k]]
    assert len(decoys) == 12 and len(set(decoys)) == 12 and not set(decoys) & case
    assert [h["country"] for h in d["hubs"]] == ["ARE", "SGP"]


def test_outside_boom_both_legs_mostly_outside_the_basket(zoo, plain) -> None:
    pos = _code(zoo)
    basket = set(zoo.truth["directions"][0]["basket"])
    for x in zoo.truth["decoys"]["outside_boom"]:
        assert set(x["in_basket"]) == set(x["products"]) & basket and len(x["in_basket"]) <= len(x["products"]) / 3
        codes = zoo.products.code.to_numpy()
        renamed = [c for ch in zoo.truth["decoys"]["hs_change"]["changes"] if set(ch["hs17"]) & set(x["products"]) for c in ch["hs22"]]
        for a, b in (("TUR", x["country"]), (x["country"], "ISR")):
            f = zoo.baci[(zoo.baci.i == pos[a]) & (zoo.baci.j == pos[b]) & np.isin(codes[zoo.baci.p], x["products"] + renamed)]
            by_year = f.groupby("year").value.sum()
            per_year = x["added_value_usd_each_leg"] * 12 / zoo.truth["directions"][0]["direct_effect"]["post_months"]
            assert by_year.get(2025, 0) - by_year.get(2023, 0) > 0.7 * per_year


def test_demand_boom_diversion_and_price_shock_move_the_legs_they_should(zoo) -> None:
    d = zoo.truth["decoys"]
    pos = _code(zoo)
    b = zoo.baci
    for x in d["demand_boom"]:  # imports from every origin rise; its sales to the importer do not
        c = pos[x["country"]]
        imports = b[(b.j == c) & (b.i != pos["TUR"])].groupby("year").value.sum()
        assert imports[2025] / imports[2023] > 1 + 0.5 * x["growth"]
    for x in d["diversion"] + d["deflection"]:  # leg 2 rises; leg 1 only with deflection, by as much
        added = 0.3 * x["added_value_usd_each_leg"] / 1.67
        assert added > 0
        assert _flow(zoo, x["country"], "ISR", [2025]) > _flow(zoo, x["country"], "ISR", [2023]) + added
        leg1 = _flow(zoo, "TUR", x["country"], [2025]) - _flow(zoo, "TUR", x["country"], [2023])
        assert leg1 > added if x in d["deflection"] else leg1 < 0.5 * _flow(zoo, "TUR", x["country"], [2023])
    basket = zoo.products.code.isin(zoo.truth["directions"][0]["basket"]).to_numpy()
    for x in d["price_shock"]:  # the basket's values up, tonnes flat
        for a, c in (("TUR", x["country"]), (x["country"], "ISR")):
            f = b[(b.i == pos[a]) & (b.j == pos[c]) & basket[b.p]].groupby("year")[["value", "tonnes"]].sum()
            unit = f.value / f.tonnes
            assert unit[2025] / unit[2023] == pytest.approx(1 + x["price_rise"], rel=0.15)
    for h in d["hubs"]:
        assert h["added_value_usd"] > 0


def test_route_boom_grows_a_route_s_trade_with_both_sides_outside_the_basket_too(zoo) -> None:
    """The first two routes' trade with the exporter and the importer grows in every product: outside the basket,
    where no rerouted good goes, by about the growth truth.json records."""
    d, pos, b = zoo.truth["decoys"], _code(zoo), zoo.baci
    routes = [r.via for r in zoo.scenario.routes]
    assert [x["country"] for x in d["route_boom"]] == routes[:2]
    outside = ~zoo.products.code.isin(zoo.truth["directions"][0]["basket"]).to_numpy()
    checked = 0
    for x in d["route_boom"]:
        assert 0.2 <= x["growth"] <= 0.5 and x["added_value_usd"] > 0
        for a, c in (("TUR", x["country"]), (x["country"], "ISR")):
            f = b[(b.i == pos[a]) & (b.j == pos[c]) & outside[b.p]].groupby("year").value.sum()
            if f.get(2023, 0) > 0:  # a leg with trade outside the basket (the pair trades most products)
                assert f[2025] / f[2023] > 1 + 0.5 * x["growth"]
                checked += 1
    assert checked


def test_strong_decoys_are_stronger_where_the_drop_is(plain) -> None:
    """`Decoys.strong()`: booms in the pair's mix, demand and prices on the basket's largest products, hubs' basket trade."""
    strong = Decoys.strong()
    assert strong.active == Decoys.every().active and strong.boom_size > Decoys().boom_size
    world = generate(Scenario.default().replace(**SMALL, decoys=strong))
    d = world.truth["decoys"]
    assert d["strengths"]["basket_focus"] == 0.5 and d["strengths"]["price_rise"] == [0.8, 1.2]
    basket, focus = set(world.truth["directions"][0]["basket"]), set(d["basket_focus"]["products"])
    assert focus < basket
    for x in d["outside_boom"]:
        assert x["basket_value_share"] == 0.3 and set(x["in_basket"]) <= basket
    assert all(1.0 <= x["growth"] <= 1.5 for x in d["demand_boom"]) and all(h["basket_growth"] == 0.3 for h in d["hubs"])
    b, pos = world.baci, _code(world)
    codes = world.products.code.to_numpy()
    for x in d["demand_boom"]:  # the basket's largest products only
        c = pos[x["country"]]
        rows = b[(b.j == c) & b.year.isin([2023, 2025])]
        grew = rows.assign(hot=np.isin(codes[rows.p], list(focus))).groupby(["hot", "year"]).value.sum()
        assert grew[True][2025] / grew[True][2023] > 1 + 0.5 * x["growth"] > grew[False][2025] / grew[False][2023]


def test_gaps_drop_reports_but_baci_keeps_the_partner_s(zoo) -> None:
    pos = _code(zoo)
    months = zoo.months
    for g in zoo.truth["decoys"]["gaps"]:
        ts = [months.get_loc(pd.Period(m, "M")) for m in g["months"]]
        for view in (zoo.exporter_reports, zoo.importer_reports):
            assert not ((view.reporter == pos[g["country"]]) & view.t.isin(ts)).any()
        if g["year"] is not None:  # BACI still has the country's trade that year, from its partners' reports
            assert (zoo.baci[(zoo.baci.year == g["year"])].i == pos[g["country"]]).any()


def test_hs_change_splits_and_merges_real_codes(zoo, tmp_path) -> None:
    change = zoo.truth["decoys"]["hs_change"]
    assert change["changes"] and change["baci_from"] == 2023
    codes = zoo.products.code.to_numpy()
    seen = {y: set(codes[zoo.baci[zoo.baci.year == y].p]) for y in (2022, 2024)}
    for c in change["changes"]:
        old_only = set(c["hs17"]) - set(c["hs22"])
        assert old_only <= seen[2022] | set(codes[zoo.baci.p])  # the HS2017 code traded before the change
        assert not old_only & seen[2024]  # after the change, the HS2017 code is gone
        assert set(c["hs22"]) & seen[2024]
    names = sorted(p.name for p in zoo.write(tmp_path).values())
    assert "BACI_HS17_Y2022_V202401.csv" in names and "BACI_HS22_Y2024_V202401.csv" in names
    assert "comtrade_M_H5_202201-202212.csv" in names and "comtrade_M_H6_202301-202512.csv" in names


def test_hs_relabel_onset_and_second_event(zoo) -> None:
    d = zoo.truth["decoys"]
    pos = _code(zoo)
    codes = zoo.products.code.to_numpy()
    siblings = d["hs_relabel"]["codes"]
    assert all(a[:4] == b[:4] and a != b for a, b in siblings.items())
    route = zoo.truth["directions"][0]["intermediaries"][0]
    leg2 = zoo.baci[(zoo.baci.i == pos[route["country"]]) & (zoo.baci.j == pos["ISR"]) & (zoo.baci.year == 2025)]
    assert np.isin(codes[leg2.p], list(siblings.values())).any()
    by = route["by_period"]  # a six-month ramp: the first post-event month carries a sixth of a full one
    assert by["2024-06"] < 0.5 * by["2024-11"]
    direct = zoo.truth["directions"][0]["direct_by_period"]  # half the embargo lifted from April 2025
    assert np.mean([direct[f"2025-{m:02d}"] for m in (5, 6, 7)]) > 5 * np.mean([direct[f"2025-{m:02d}"] for m in (1, 2, 3)])


def test_several_embargoes_each_with_routes(zoo, store, tmp_path) -> None:
    events = zoo.truth["embargoes"]
    assert [(e["exporter"], e["importer"], e["date"]) for e in events] == [("TUR", "ISR", "2024-05-02"), ("BRA", "ARG", "2023-09-01")]
    bra = events[1]["directions"][0]
    assert bra["direct_effect"]["drop_pct"] < -80 and bra["intermediaries"][0]["country"] == "URY"
    # 30% of the stopped flow, less what the six-month onset holds back
    assert 0.2 * bra["direct_effect"]["drop_usd"] < bra["intermediaries"][0]["rerouted_value_usd"] < 0.3 * bra["direct_effect"]["drop_usd"]
    assert zoo.gravity.query("exporter == 'BRA' and importer == 'ARG' and year == 2024").EMBARGO.iloc[0] == 1
    ingest_world(store, zoo, tmp_path)
    assert json.loads((tmp_path / "truth.json").read_text())["embargoes"][1]["importer"] == "ARG"
    more = random_embargoes(Scenario.default().replace(n_countries=80), 3, seed=5)
    assert len({(e.exporter, e.importer) for e in more}) == 3 and len({e.date for e in more}) > 1
    assert len({e.pair_exports_usd[0] for e in more}) == 3 and all(e.routes for e in more)


def test_cli_flags(tmp_path, cli, monkeypatch) -> None:
    out, small = tmp_path / "w", tmp_path / "small.toml"
    small.write_text("[world]\nn_countries = 36\nn_products = 20\n[embargo]\nexporter = \"TUR\"\nimporter = \"ISR\"\n")
    ok = cli("synth", "--out", out, "--scenario", small, "--seed", "3", "--outside-boom", "1", "--hubs", "1", "--embargoes", "1")
    assert ok.exit_code == 0, ok.output
    truth = json.loads((out / "truth.json").read_text())
    assert truth["decoys"]["classes"] == ["outside_boom", "hubs"] and len(truth["embargoes"]) == 2
    for name in ("ENTREPOT_CONCORDANCE", "ENTREPOT_SHARED"):
        monkeypatch.delenv(name, raising=False)
    ok = cli("synth", "--out", tmp_path / "s", "--scenario", small, "--strong-decoys", "--hs-change", "2024-01", "--gaps", "0")
    assert ok.exit_code == 0, ok.output
    assert "note: --hs-change drew its revisions from a built-in sample" in ok.output  # no UNSD table given: said, not silent
    decoys = json.loads((tmp_path / "s" / "truth.json").read_text())["decoys"]
    assert decoys["strengths"]["boom_size"] == 0.6 and "deflection" in decoys["classes"] and "gaps" not in decoys["classes"]
    bad = cli("synth", "--out", tmp_path / "x", "--second-event", "April")
    assert bad.exit_code == 2 and "--second-event: not a date" in bad.output and not (tmp_path / "x").exists()


def test_scenario_files_take_decoys_and_embargoes(tmp_path) -> None:
    from entrepot.errors import InputError
    from entrepot.synth import load_scenario

    path = tmp_path / "zoo.toml"
    path.write_text('[world]\nseed = 3\n[decoys]\nhubs = 1\nhs_change = "2023-01"\nsecond_event = "2025-04"\n'
                    '[[embargoes]]\nexporter = "BRA"\nimporter = "ARG"\ndate = 2023\n'
                    '[[embargoes.routes]]\nvia = "URY"\nshare = 0.2\n')
    scn = load_scenario(path)
    assert scn.decoys.hubs == 1 and scn.decoys.second_event == dt.date(2025, 4, 1)
    assert scn.embargoes[0].date == dt.date(2023, 1, 1) and scn.embargoes[0].routes[0].via == "URY"
    path.write_text("[decoys]\nhubz = 1\n")
    with pytest.raises(InputError, match=r"\[decoys\] hubz: unknown parameter"):
        load_scenario(path)
    path.write_text('[[embargoes]]\nexporter = "BRA"\n')
    with pytest.raises(InputError, match=r"\[\[embargoes\]\] 1"):
        load_scenario(path)


def test_relabelling_siblings_and_revised_codes_never_coincide() -> None:
    """With hs_relabel and hs_change both on, no HS6 code is two products (BACI would hold an observation twice)."""
    from entrepot import geo, hs
    from entrepot.synth.decoys import Zoo

    months = pd.period_range("2022-01", "2025-12", freq="M")
    codes = [c.iso3 for c in geo.all_countries()[:30]]
    splits = [code for code in hs.subheadings() if code[:2] in ("29", "62", "84", "85", "87")]
    concordance = SHARED / "concordance"
    for seed in range(40):
        rng = np.random.default_rng(seed)
        products = sorted(rng.choice(splits, 40, replace=False).tolist())
        scn = Scenario.default().replace(seed=seed, n_countries=30, decoys=Decoys(hs_relabel=0.3, hs_change="2023-01"),
                                         concordance=str(concordance) if concordance.exists() else None)
        zoo = Zoo(scn, codes, products, months)
        n = len(products)
        siblings = [zoo.extra_codes[v - n] for v in zoo.sibling.values()]
        before = zoo.product_codes + siblings  # an HS2022 code may repeat its HS2017 parent: they never meet in a period
        after = [c for k, c in enumerate(zoo.product_codes) if k not in zoo.split] + zoo.extra_codes
        assert len(set(before)) == len(before) and len(set(after)) == len(after), seed
