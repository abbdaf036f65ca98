import json

import numpy as np
import pytest

from entrepot.analysis.cost import cost, load_params
from entrepot.errors import InputError
from entrepot.store import Store
from tests.conftest import insert


@pytest.fixture
def via_greece(store):
    """TUR sold steel to ISR at 500 USD/t until 2023; in 2025 it ships it to GRC at 500 USD/t, and GRC
    sells it on to ISR at 600 USD/t (20% markup). TUR's olive oil to GRC sets neither tonnage nor markup."""
    insert(store, [
        {"year": 2023, "reporter": "TUR", "partner": "ISR", "product": "720810", "value_usd": 2e6, "quantity": 4000.0},
        {"year": 2025, "reporter": "TUR", "partner": "GRC", "product": "150910", "value_usd": 9e6, "quantity": 2000.0},
        {"year": 2025, "reporter": "TUR", "partner": "GRC", "product": "720810", "value_usd": 1e6, "quantity": 2000.0},
        {"year": 2025, "reporter": "GRC", "partner": "ISR", "product": "720810", "value_usd": 1.2e6, "quantity": 2000.0},
    ], flow="export", unit="t")
    return store


def test_costs_per_tonne_and_total_follow_the_parameter_table(via_greece) -> None:
    params = load_params()
    res = cost(via_greece, "TUR", "ISR", {"GRC": 1e8})
    row = res.routes.iloc[0]
    assert row.route == "TUR -sea-> GRC -sea-> ISR"
    assert 300 < row.direct_km < 700 and row.detour_km > 2 * row.direct_km  # Mersin-Haifa vs via Piraeus
    assert row.extra_freight_usd_per_t == pytest.approx(row.extra_km * params.sea_usd_per_tkm)
    assert row.unit_value_usd_per_t == 500 and row.observed_markup_pct == pytest.approx(20)
    assert row.rerouted_t == pytest.approx(2e5)
    expected = 2e5 * (row.extra_freight_usd_per_t + params.handling_usd_per_t) + 1e8 * params.insurance_share
    assert res.total_extra_cost_usd == pytest.approx(expected)


def test_overland_leg_where_a_country_has_no_seaport(via_greece) -> None:
    res = cost(via_greece, "TUR", "ISR", ["ARM"])
    row = res.routes.iloc[0]
    assert row.route == "TUR -road-> ARM -road-> ISR" and row.extra_cost_usd is None
    assert res.total_extra_cost_usd is None


def test_user_parameter_table_replaces_the_shipped_one(cli, via_greece, tmp_path) -> None:
    via_greece.close()
    shipped = load_params()
    text = tmp_path / "freight.toml"
    text.write_text(
        "[freight]\nsea_usd_per_tkm = 0.06\nroad_usd_per_tkm = 0.09\nroad_circuity = 1.3\n"
        "handling_usd_per_t = 0\ninsurance_share = 0\n"
    )
    base = json.loads(cli("cost", "--exporter", "TUR", "--importer", "ISR", "--via", "GRC", "--value", "1e8", "--json").stdout)
    out = cli("cost", "--exporter", "TUR", "--importer", "ISR", "--via", "GRC", "--value", "1e8", "--params", text, "--json")
    assert out.exit_code == 0, out.output
    mine, theirs = json.loads(out.stdout)["intermediaries"][0], base["intermediaries"][0]
    assert mine["extra_freight_usd_per_t"] == pytest.approx(theirs["extra_freight_usd_per_t"] * 0.06 / shipped.sea_usd_per_tkm)
    assert mine["extra_cost_usd"] == pytest.approx(mine["rerouted_t"] * mine["extra_freight_usd_per_t"])


def test_synth_world_reroute_result_markups_and_tonnage(synth_world) -> None:
    """Fed the truth's intermediaries list (the shape of a reroute result), the observed markup and
    tonnage come back near the world's own."""
    path, truth = synth_world("routes")
    inter = truth["directions"][0]["intermediaries"]
    with Store(path, read_only=True) as st:
        res = cost(st, "TUR", "ISR", inter)
    got = res.routes.set_index("country")
    for item in inter:
        row = got.loc[item["country"]]
        assert abs(row.observed_markup_pct - 100 * item["markup"]) < 5  # C's own sales to B blur it
        assert 1 / 1.5 < row.rerouted_t / item["rerouted_tonnes"] < 1.5
    assert res.total_rerouted_usd == pytest.approx(sum(i["rerouted_value_usd"] for i in inter))


def test_reroute_json_file(cli, via_greece, tmp_path) -> None:
    via_greece.close()
    result = tmp_path / "reroute.json"
    result.write_text(json.dumps({"intermediaries": [{"country": "GRC", "rerouted_value_usd": 5e7, "share": 0.3}]}))
    out = cli("cost", "--exporter", "TUR", "--importer", "ISR", "--reroute", result, "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["total_rerouted_usd"] == 5e7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--via", "XXX"], "--via: 'XXX' is not a known country code"),
        (["--via", "ISR"], "is the exporter or the importer"),
        ([], "no intermediary given"),
        (["--via", "GRC,BGR", "--value", "1e6"], "--value: goes with exactly one --via"),
        (["--via", "GRC", "--params", "missing.toml"], "no such parameter file"),
    ],
)
def test_bad_input(cli, via_greece, args: list[str], message: str) -> None:
    via_greece.close()
    out = cli("cost", "--exporter", "TUR", "--importer", "ISR", *args)
    assert out.exit_code == 2 and message in out.stderr and out.stderr.count("\n") == 1


def test_bad_parameter_names_file_and_field(tmp_path) -> None:
    bad = tmp_path / "freight.toml"
    bad.write_text("[freight]\nsea_usd_per_tkm = -1\n")
    with pytest.raises(InputError, match=r"freight.toml: column freight.sea_usd_per_tkm: missing or negative"):
        load_params(bad)


def test_cost_takes_the_reroute_result_itself(synth_world) -> None:
    from entrepot.analysis.reroute import scan

    path, _ = synth_world("routes")
    rr = scan(path, "TUR", "ISR", "2024-05-02")
    detour = cost(path, "TUR", "ISR", rr)
    assert list(detour.routes.country) == list(rr.flagged.country)
    assert detour.total_rerouted_usd == pytest.approx(rr.rerouted_value_usd)
    # One markup: cost shows the scan's (they differed: 1.1% against 4.1% on the same route), from the
    # result itself or from reroute's JSON as `cost --reroute` reads it.
    assert list(detour.routes.observed_markup_pct) == pytest.approx(list(rr.flagged.markup_pct))
    rows = json.loads(json.dumps(rr.to_dict(), default=str))["intermediaries"]
    again = cost(path, "TUR", "ISR", [r for r in rows if r["significant"]])
    assert list(again.routes.observed_markup_pct) == pytest.approx(list(rr.flagged.markup_pct))


def test_markup_without_a_reroute_result_is_the_same_function(via_greece) -> None:
    """Country codes alone: the markup of the latest year both legs carry, weighted by A's direct exports to
    B, through reroute's own function; a product only one leg carries (olive oil) does not enter it."""
    from entrepot.analysis.reroute.legs import unit_value_markup

    row = cost(via_greece, "TUR", "ISR", ["GRC"]).routes.iloc[0]
    expected = unit_value_markup(*(np.array([x]) for x in (1e6, 2000.0, 1.2e6, 2000.0, 2e6)))
    assert row.observed_markup_pct == pytest.approx(100 * float(expected)) == pytest.approx(20)
