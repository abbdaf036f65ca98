"""The reroute scan (analysis/reroute) on small synthetic worlds whose truth is known, and its bad-input errors."""

from __future__ import annotations

import json
import shutil

import pytest

from entrepot.analysis.first_leg import FirstLegResult
from entrepot.analysis.reroute import RerouteResult, scan
from entrepot.basket import parse_basket
from entrepot.errors import InputError
from entrepot.groups import parse_groups
from entrepot.store import Store
from entrepot.synth import Scenario, generate, ingest_world
from tests.conftest import edit_flows

EVENT = "2024-05-02"


@pytest.fixture
def world_store(synth_world):
    """The default-case world (all five routes and the relabelling) and the same without rerouting."""
    return {"routes": synth_world("routes"), "none": synth_world("clean")}


@pytest.mark.parametrize("source", ["baci", "reported"])
def test_reroute_finds_the_true_routes_and_nothing_in_a_clean_world(world_store, source) -> None:
    """Annual BACI and monthly Comtrade reports: every route found, its value within the issue's ±20%, no innocent flagged."""
    path, truth = world_store["routes"]
    with Store(path, read_only=True) as st:
        res = scan(st, "TUR", "ISR", EVENT, source=source, both=True)
    assert res.window.freq == ("A" if source == "baci" else "M")
    for result, direction in ((res, truth["directions"][0]), (res.reverse, truth["directions"][1])):
        flagged = set(result.candidates.loc[result.candidates.significant, "country"])
        post = set(result.window.post)
        year = source == "baci"
        true = {x["country"]: sum(v for k, v in x["by_period"].items() if (k[:4] if year else k) in post)
                for x in direction["intermediaries"]}
        assert flagged == set(true)
        estimated = result.candidates.set_index("country").rerouted_value_usd
        for country, value in true.items():
            assert estimated[country] == pytest.approx(value, rel=0.2), country
        assert result.rerouted_value_usd == pytest.approx(sum(true.values()), rel=0.2)
    payload = res.to_dict()
    assert list(payload) >= ["exporter", "importer", "event", "window"]
    assert set(res.COLUMNS) == set(payload["intermediaries"][0]) - {"onset", "timing"} == set(res.to_frame().columns)
    first = payload["intermediaries"][0]
    assert first["ci_low"] <= first["rerouted_value_usd"] <= first["ci_high"] and first["top_products"]
    scores = [r["score"] for r in payload["intermediaries"] if r["significant"]]
    assert scores == sorted(scores, reverse=True)
    path0, _ = world_store["none"]
    with Store(path0, read_only=True) as st:
        clean = scan(st, "TUR", "ISR", EVENT, source=source)
    assert not clean.candidates.significant.any()


@pytest.mark.parametrize("source", ["baci", "reported"])
def test_reroute_tells_relabelling_from_rerouting(world_store, source) -> None:
    """Goods declared to PSE but landing in ISR: PSE is flagged for relabelling (not as a route), its
    value within 20% of the truth, and ISR's records beyond TUR's declarations match it; the true
    routes, whose goods their customs record, are not flagged for relabelling; a clean world has none."""
    path, truth = world_store["routes"]
    with Store(path, read_only=True) as st:
        res = scan(st, "TUR", "ISR", EVENT, source=source, both=True)
    for result, direction in ((res, truth["directions"][0]), (res.reverse, truth["directions"][1])):
        found = result.relabelling
        assert found is not None and found.window.freq == "M"  # always from the monthly declared reports
        table = result.candidates.set_index("country")
        assert list(table.index[table.relabelling]) == ["PSE"] and not table.loc["PSE", "significant"]
        true = sum(v for k, v in direction["relabelled"]["by_period"].items() if k in found.window.post)
        assert table.loc["PSE", "relabelled_value_usd"] == pytest.approx(true, rel=0.2)
        assert table.loc["PSE", "relabel_ci_low"] <= table.loc["PSE", "relabelled_value_usd"] <= table.loc["PSE", "relabel_ci_high"]
        assert found.importer_excess_usd == pytest.approx(true, rel=0.2)
        assert found.relabelled_value_usd == pytest.approx(true, rel=0.2) and found.ci[0] <= found.relabelled_value_usd <= found.ci[1]
        assert found.exporter_side_usd == pytest.approx(table.loc["PSE", "relabelled_value_usd"])
        assert f"relabelled ${found.relabelled_value_usd / 1e9:,.2f} bn via PSE ({found.basis}" in result.summary()
        payload = result.to_dict()
        assert payload["relabelling"]["countries"] == ["PSE"] and payload["relabelling"]["basis"] == found.basis
        pse = next(r for r in payload["intermediaries"] if r["country"] == "PSE")
        assert pse["relabelling"] and pse["relabel_p"] < 0.05 and pse["relabel_ci_low"] <= pse["relabelled_value_usd"] <= pse["relabel_ci_high"]
        assert any("PSE" in note and "not recorded there" in note for note in result.notes)
    path0, _ = world_store["none"]
    with Store(path0, read_only=True) as st:
        clean = scan(st, "TUR", "ISR", EVENT, source=source)
    assert not clean.candidates.relabelling.any() and clean.relabelling.relabelled_value_usd == 0


def test_reroute_event_study_dates_each_route(world_store) -> None:
    """Monthly reports: every flagged route starts (both legs in excess) between the event month and
    its true lag after it; before the restrictions (9 April 2024) the legs show no excess."""
    import pandas as pd

    path, truth = world_store["routes"]
    with Store(path, read_only=True) as st:
        res = scan(st, "TUR", "ISR", EVENT, source="reported")
    timing = res.timing.assign(month=lambda f: pd.PeriodIndex(f.period, freq="M"))
    event = pd.Period(EVENT, "M")
    for route in truth["directions"][0]["intermediaries"]:
        onset = pd.Period(res.onset(route["country"]), "M")
        assert event <= onset <= event + route["lag_months"] + 1, (route["country"], onset)
        rows = timing[timing.country == route["country"]]
        calm = rows[rows.month < pd.Period("2024-04", "M")]
        for leg in ("leg1_usd", "leg2_usd"):
            assert calm[leg].abs().mean() < 0.05 * rows.loc[rows.phase == "post", leg].mean(), (route["country"], leg)
    assert res.to_dict()["intermediaries"][0]["onset"] == res.onset(res.candidates.country[0])


def test_the_default_reads_both_sides_monthly_declarations_and_says_so(world_store) -> None:
    """The one rule (options.data): both TUR and ISR declare the pair monthly, so the scan reads them, as
    `--source reported` does, and its basis says why; the five routes and PSE's relabelling are found."""
    path, truth = world_store["routes"]
    with Store(path, read_only=True) as st:
        res = scan(st, "TUR", "ISR", EVENT)
        given = scan(st, "TUR", "ISR", EVENT, source="reported")
    assert res.window.freq == "M" and res.source == given.source == "reported (comtrade, monthly)"
    auto, reported = (r.candidates.set_index("country").rerouted_value_usd.to_dict() for r in (res, given))
    assert auto == pytest.approx(reported, rel=1e-9, abs=1.0)  # the same scan (DuckDB's parallel sums: the last digits)
    assert res.basis()["data"].startswith("source auto: both TUR and ISR declare the pair; frequency auto: monthly")
    assert set(res.flagged.country) == {x["country"] for x in truth["directions"][0]["intermediaries"]}
    assert set(res.candidates.country[res.candidates.relabelling]) == {truth["directions"][0]["relabelled"]["country"]}


def test_reroute_without_declared_reports_says_relabelling_was_not_tested(tmp_path) -> None:
    """A BACI-only store has no declarations of either side: the scan runs, and says what it could not test."""
    world = generate(Scenario.default().replace(n_countries=30, n_products=30, controls=2, seed=5))
    with Store(tmp_path / "baci.duckdb") as st:
        ingest_world(st, world, tmp_path / "world", comtrade=False)
        res = scan(st, "TUR", "ISR", EVENT)
    assert res.relabelling is None and "relabelling" not in res.candidates
    assert any(note.startswith("relabelling not tested") for note in res.notes)
    assert res.to_dict()["relabelling"] is None
    assert res.window.freq == "A" and res.basis()["data"].startswith("source auto: neither side declares the pair, so BACI's")


def test_min_share_is_a_materiality_floor_only(world_store) -> None:
    """Raising --min-share past the smallest route's share unflags it and nothing else; the test is unchanged."""
    path, _ = world_store["routes"]
    with Store(path, read_only=True) as st:
        low = scan(st, "TUR", "ISR", EVENT, source="baci").candidates.set_index("country")
        shares = low.rerouted_share[low.significant].sort_values()
        cut = float(shares.iloc[:2].mean())
        raised = scan(st, "TUR", "ISR", EVENT, source="baci", min_share=cut)
    high = raised.candidates.set_index("country")
    assert set(high.index[high.significant]) == set(shares.index[1:]) and raised.to_dict()["min_share"] == cut
    assert high.p_value.loc[low.index].tolist() == pytest.approx(low.p_value.tolist())
    assert high.reason[shares.index[0]] == "excess on both legs, under the minimum share"  # not "no excess"


@pytest.mark.parametrize(
    "args, message",
    [
        (["reroute", "--exporter", "TUX", "--importer", "ISR", "--event", EVENT], "--exporter: 'TUX' is not a known country code"),
        (["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", "2031-01-01"], "outside the data's range"),
        (["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", "2022-06-01"], "too little data before the event"),
        (["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--source", "eurostat"], "--source: must be one of"),
        (["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--candidates", "GRC,NZL"], "--candidates: no trade"),
        (["reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--min-share", "1.5"], "--min-share: must be a share"),
    ],
)
def test_bad_input_is_one_line_exit_2(world_store, cli, args, message) -> None:
    path, _ = world_store["routes"]
    result = cli(*args, "--store", path)
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1


def test_cli_json(world_store, cli) -> None:
    path, _ = world_store["routes"]
    out = cli("reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--both", "--json", "--store", path)
    payload = json.loads(out.output)
    assert payload["reverse"]["exporter"] == "ISR" and payload["intermediaries"][0]["significant"]


def test_cli_table_says_why_each_country_was_or_was_not_flagged(world_store, cli) -> None:
    path, truth = world_store["routes"]
    out = cli("reroute", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--store", path).output
    header = next(line for line in out.splitlines() if "country" in line and "verdict" in line)
    assert header.split()[-1] == "verdict"
    routes = {x["country"] for x in truth["directions"][0]["intermediaries"]}
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip() and line.split()[0] in routes}
    assert set(rows) == routes and all(line.rstrip().endswith("route") for line in rows.values()), rows


def test_reroute_pair_with_no_trade(world_store) -> None:
    path, _ = world_store["routes"]
    with Store(path, read_only=True) as st, pytest.raises(InputError, match="no trade from ISL to NZL|no product-level exports of ISL"):
        scan(st, "ISL", "NZL", EVENT)


def test_effect_can_leave_the_flagged_routes_out_of_its_control_group(world_store, cli) -> None:
    """The routes' imports from TUR grew with the rerouted goods: --exclude-flagged drops them (and the
    relabelling country) from the control group, and says so."""
    path, truth = world_store["routes"]
    out = cli("effect", "--exporter", "TUR", "--importer", "ISR", "--event", EVENT, "--exclude-flagged", "--json", "--store", path)
    payload = json.loads(out.output)
    expected = {x["country"] for x in truth["directions"][0]["intermediaries"]} | {"PSE"}
    assert not expected & set(payload["controls"])
    assert any(n.startswith("control group leaves out the countries reroute flags") and "PSE" in n for n in payload["notes"])


@pytest.mark.parametrize("source", ["baci", "reported"])
def test_a_basket_runs_both_legs_where_the_store_has_the_second(world_store, source) -> None:
    """Half the embargoed products as the basket: every route found, its value within 20% of the truth in the
    basket's products (the truth's per-product split of each route's post-event value), the drop the basket's."""
    path, truth = world_store["routes"]
    direction = truth["directions"][0]
    half = direction["basket"][::2]
    basket = parse_basket("\n".join(half), name="half")
    with Store(path, read_only=True) as st:
        res = scan(st, "TUR", "ISR", EVENT, source=source, basket=basket, currency="EUR")
        full = scan(st, "TUR", "ISR", EVENT, source=source)
    assert isinstance(res, RerouteResult) and res.basket == "half" and res.to_dict()["basket"] == "half"
    post, year = set(res.window.post), source == "baci"
    estimated = res.candidates.set_index("country").rerouted_value_usd
    for x in direction["intermediaries"]:
        in_post = sum(v for k, v in x["by_period"].items() if (k[:4] if year else k) in post)
        in_basket = sum(v for k, v in x["by_product"].items() if k in half) / sum(x["by_product"].values())
        assert estimated[x["country"]] == pytest.approx(in_post * in_basket, rel=0.2), x["country"]
    assert set(res.flagged.country) == {x["country"] for x in direction["intermediaries"]}
    assert 0.2 < res.direct_drop_usd / full.direct_drop_usd < 0.8  # the basket's drop, not every product's
    assert any("basket half: both legs tested on its" in n for n in res.notes)
    assert any("amounts in USD, not EUR" in n for n in res.notes)
    assert not any("second leg unobserved" in n for n in res.notes)


def test_a_basket_without_the_second_leg_ranks_on_the_first(world_store, tmp_path) -> None:
    """The same world with the second leg deleted (only TUR's declarations): the first-leg ranking, and its plain wording."""
    path, truth = world_store["routes"]
    direction = truth["directions"][0]
    routes = [x["country"] for x in direction["intermediaries"]]
    copy = tmp_path / "one-sided.duckdb"
    shutil.copy(path, copy)
    with Store(copy) as st:
        edit_flows(st, "DELETE FROM flows WHERE source <> 'comtrade' OR (flow = 'export' AND partner = 'ISR' AND reporter <> 'TUR') "
                       "OR (reporter = 'ISR' AND flow = 'import')")
        res = scan(st, "TUR", "ISR", EVENT, [*routes, "USA", "DEU"], basket=parse_basket("\n".join(direction["basket"][::2])))
    assert isinstance(res, FirstLegResult) and res.second_leg == "unobserved"
    assert set(res.candidates.country[res.candidates.flagged]) == set(routes)
    assert res.notes[0].startswith("second leg unobserved: the store has no flows from")


@pytest.mark.parametrize("source", ["baci", "reported"])
def test_a_group_as_exporter_runs_both_legs_members_by_date(world_store, source) -> None:
    """TUR with DEU as a member until 2018 (before the world's data): the same scan as TUR's own, number for
    number; DEU as a member throughout changes it (its trade with ISR and the rest joins A's)."""
    path, _ = world_store["routes"]
    dated = parse_groups({"TURX": ["TUR", {"code": "DEU", "until": "2018-12-31"}], "TURD": ["TUR", "DEU"]})
    with Store(path, read_only=True) as st:
        alone = scan(st, "TUR", "ISR", EVENT, source=source)
        group = scan(st, "TURX", "ISR", EVENT, source=source, groups=dated)
        wider = scan(st, "TURD", "ISR", EVENT, source=source, groups=dated)
    assert isinstance(group, RerouteResult) and group.exporter == "TURX"
    a, b = (r.to_frame().set_index("country").sort_index() for r in (alone, group))  # ties may rank in another order
    assert list(a.index) == list(b.index) and "DEU" in b.index
    assert list(alone.flagged.country) == list(group.flagged.country)
    for column in ("rerouted_value_usd", "p_value", "leg1_excess_usd", "leg2_excess_usd", "placebo_p"):
        assert b[column].to_numpy() == pytest.approx(a[column].to_numpy(), rel=1e-9, abs=1e-6, nan_ok=True), column
    assert "DEU" not in set(wider.candidates.country)  # a member throughout: its trade is A's, not a candidate's
    assert wider.direct_drop_usd != pytest.approx(alone.direct_drop_usd, rel=1e-6)


def test_a_scan_on_few_declaring_countries_says_so(world_store, tmp_path) -> None:
    """With only the pair's own declarations (the usual download beside BACI), the candidates' own trade is what
    the pair records: the scan says so and points to BACI; on the world's twelve reporters it says nothing."""
    path, _ = world_store["routes"]
    with Store(path, read_only=True) as st:
        assert not any("countries declare" in n for n in scan(st, "TUR", "ISR", EVENT, source="reported").notes)
    few = tmp_path / "few.duckdb"
    shutil.copy(path, few)
    with Store(few) as st:
        edit_flows(st, "DELETE FROM flows WHERE source = 'comtrade' AND reporter NOT IN ('TUR', 'ISR')")
        notes = scan(st, "TUR", "ISR", EVENT, source="reported").notes
    assert any(n.startswith("only 2 countries declare to comtrade") and "--source baci" in n for n in notes)


def test_cif_fob_of_a_candidate_with_no_pair_is_the_pooled_one() -> None:
    """A candidate whose declarations and records never meet in a product gets the pooled CIF/FOB factor,
    and no All-NaN RuntimeWarning from its own median (pyproject makes one an error)."""
    import numpy as np

    from entrepot.analysis.reroute.relabelling import cif_fob_factors

    sent = np.array([[100.0, 200.0, 300.0, 400.0], [50.0, 0.0, 0.0, 0.0]])
    got = np.array([[105.0, 210.0, 315.0, 420.0], [0.0, 10.0, 0.0, 0.0]])
    factors, se, pooled = cif_fob_factors(sent, got, np.array([True, True]))
    assert factors[:, 0].tolist() == pytest.approx([1.05, 1.05]) and pooled == pytest.approx(1.05) and se[1] == 0


def _relabelling_panel(landed: float, seed: int = 0, b_reports: bool = True):
    """Hand-made declarations, two years before a 2024 event and one after: A declares 20% of its lost sales to B
    to candidate C00, whose customs do not record them; B records `landed` times that as imports from A (1: all of
    it lands there). C's records carry a 1.08 CIF/FOB factor, B's 1.05, each product its own margin around it."""
    import datetime as dt

    import numpy as np

    from entrepot.analysis.reroute.data import Data, Declared, Relation
    from entrepot.analysis.window import make_window

    rng = np.random.default_rng(seed)
    P, C = 40, 8
    noise = lambda *shape: np.exp(rng.normal(0, 0.03, shape))  # noqa: E731
    size = np.exp(rng.normal(14, 1.0, P))
    to_b = size * 5 * noise(3, P)
    to_b[2] *= 0.1
    drop = to_b[:2].mean(0) - to_b[2]
    ac = np.exp(rng.normal(0, 1.0, (C, P))) * size * noise(3, C, P)
    recorded = ac * 1.08 * noise(1, C, P)
    ac[2, 0] += 0.2 * drop
    margin = 1.05 * noise(P)  # B's records over A's declarations, product by product
    b_records = to_b * margin
    b_records[2] += landed * 0.2 * drop * margin
    zeros = np.zeros((3, C, P))
    window = make_window([2022, 2023, 2025], "A", dt.date(2024, 5, 2))
    declared = Declared(to_b, b_records if b_reports else None, recorded, np.ones(C, dtype=bool))
    return Data("AAA", "BBB", window, "hand-made", [f"{k:06d}" for k in range(P)], [f"C{k:02d}" for k in range(C)],
                ab=to_b, ab_t=to_b * 0, ac=ac, ac_t=zeros, cb=zeros, cb_t=zeros, c_rest=zeros, c_imports=zeros,
                world=size * 40 * noise(3, P), n=np.ones(3), relation=Relation("", {}, "hand-made", "A", "reported", None),
                declared=declared), 0.2 * float(drop.sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_relabelled_value_combines_both_sides_when_they_agree(seed) -> None:
    """Both sides see the same goods: the headline is their inverse-variance mean, between them, its interval no wider
    than the exporter side's; the importer side reads each product against its own pre-event ratio, so the products'
    margins drop out; the rows keep the exporter side."""
    from entrepot.analysis.reroute.relabelling import find_relabelling

    data, true = _relabelling_panel(landed=1.0, seed=seed)
    found = find_relabelling(data, 0.05, 0, data.countries, 0.001)
    assert list(found.table.country[found.table.relabelling]) == ["C00"] and found.basis == "combined"
    assert found.exporter_side_usd == pytest.approx(found.table.relabelled_value_usd[found.table.relabelling].sum())
    assert found.importer_excess_usd == pytest.approx(true, rel=1e-6)
    low, high = sorted([found.exporter_side_usd, found.importer_excess_usd])
    assert low <= found.relabelled_value_usd <= high and found.relabelled_value_usd == pytest.approx(true, rel=0.05)
    assert found.ci[0] <= found.relabelled_value_usd <= found.ci[1]
    assert found.ci[1] - found.ci[0] <= found.exporter_ci[1] - found.exporter_ci[0]
    assert found.importer_ci[0] <= found.importer_excess_usd <= found.importer_ci[1]
    payload = found.to_dict()
    assert payload["basis"] == "combined" and payload["relabelled_value_usd"] == found.relabelled_value_usd
    assert payload["ci"] == list(found.ci) and payload["exporter_side_usd"] == found.exporter_side_usd


def test_the_relabelled_value_is_the_exporter_side_when_the_sides_disagree_or_b_reports_nothing() -> None:
    """B records three times what A declares to C00 and C00 does not record (goods landing from elsewhere too): the
    sides differ by far more than their errors, and the headline is the exporter side; so it is without B's records."""
    from entrepot.analysis.reroute.relabelling import find_relabelling

    for landed, b_reports in ((3.0, True), (1.0, False)):
        data, true = _relabelling_panel(landed=landed, b_reports=b_reports)
        found = find_relabelling(data, 0.05, 0, data.countries, 0.001)
        assert found.basis == "exporter side" and found.relabelled_value_usd == found.exporter_side_usd
        assert found.ci == found.exporter_ci and found.exporter_side_usd == pytest.approx(true, rel=0.1)
        assert (found.importer_ci is None) == (not b_reports)
        assert found.importer_excess_usd is None if not b_reports else found.importer_excess_usd == pytest.approx(3 * true, rel=1e-6)


def test_the_cif_fob_factor_of_a_candidate_that_did_not_report_a_year_is_its_own(world_store, tmp_path) -> None:
    """B's records of its imports from C are read against C's declarations only in the months C declared: a candidate
    missing a pre-event year of declarations (the zoo's `gaps`) keeps the factor it has, not about twice it (B's
    records of two years over C's of one; on a zoo world 4.0 for 1.05, the route through it valued at a fifth)."""
    import datetime as dt

    from entrepot.analysis.reroute.data import read

    path, _ = world_store["routes"]
    gap = tmp_path / "gap.duckdb"
    shutil.copy(path, gap)
    when = dt.date(2024, 5, 2)
    with Store(gap) as st:
        whole = read(st, "TUR", "ISR", when, None, "reported")
        c = next(c for k, c in enumerate(whole.countries) if whole.cb_cif[k] > 1.01)
        edit_flows(st, "DELETE FROM flows WHERE source = 'comtrade' AND reporter = ? AND partner = 'ISR' AND flow = 'export'"
                       " AND year = 2023", [c])
        gapped = read(st, "TUR", "ISR", when, None, "reported")
    k = whole.countries.index(c)
    assert gapped.cb_cif[k] == pytest.approx(whole.cb_cif[k], rel=0.05)
