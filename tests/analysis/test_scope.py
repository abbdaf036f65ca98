"""effect and mirror with a basket, a group on either side and amounts in EUR, through the query layer."""

import json

import pytest

from entrepot import currency
from entrepot.analysis.effect import effect
from entrepot.analysis.mirror import mirror
from entrepot.basket import parse_basket
from entrepot.groups import parse_groups
from entrepot.store import query as q
from tests.conftest import edit_flows, insert


def panel_rows(store) -> None:
    """DEU and FRA (EU members) export two products to RUS and to three controls, monthly 2021-2022;
    RUS reports its imports of both; the basket's product stops going to RUS in March 2022."""
    rows = []
    for year in (2021, 2022):
        for month in range(1, 13):
            after = (year, month) >= (2022, 3)
            for reporter in ("DEU", "FRA"):
                for partner in ("RUS", "KAZ", "TUR", "USA"):
                    rows.append({"reporter": reporter, "partner": partner, "period": f"{year}-{month:02d}", "flow": "export",
                                 "product": "84713000", "value_usd": 10.0 if partner == "RUS" and after else 100.0})
                    rows.append({"reporter": reporter, "partner": partner, "period": f"{year}-{month:02d}", "flow": "export",
                                 "product": "22030001", "value_usd": 100.0})
                rows.append({"reporter": "RUS", "partner": reporter, "period": f"{year}-{month:02d}", "flow": "import",
                             "product": "84713000", "value_usd": 11.0 if after else 110.0})
    insert(store, rows, source="comext")
    edit_flows(store, "UPDATE flows SET value_native = value_usd / 1.25, currency = 'EUR'")


def test_effect_of_a_group_on_a_basket_in_eur(store) -> None:
    panel_rows(store)
    basket = parse_basket("84713000\n")
    res = effect(store, "EU27", "RUS", "2022-02-24", basket=basket, n_boot=99)
    exporter = res.side("exporter")
    assert exporter.change_pct == pytest.approx(-0.9, abs=0.02)  # the basket fell by 90%; the other product not at all
    eur = effect(store, "EU27", "RUS", "2022-02-24", basket=basket, currency="EUR", n_boot=99)
    assert eur.side("exporter").change_usd == pytest.approx(exporter.change_usd / 1.25)
    assert "change_eur" in eur.to_frame() and eur.to_dict()["currency"] == "EUR" and "million EUR" in eur.summary()
    everything = effect(store, "EU27", "RUS", "2022-02-24", n_boot=99)
    assert everything.side("exporter").change_pct == pytest.approx(-0.45, abs=0.02)  # half the trade fell by 90%


def test_mirror_on_a_basket_and_the_binding_of_prefixed_parameters(store) -> None:
    panel_rows(store)
    res = mirror(store, "DEU", "RUS", freq="A", basket=parse_basket("8471\n"))
    row = res.totals[(res.totals.direction == "DEU->RUS") & (res.totals.period == "2021")].iloc[0]
    assert row.exporter_usd == 1200.0  # the basket's product only
    assert q.bind("$c_r AND $c_rows_freq", {"c_r": 1, "c_rows_freq": 2, "c_rest": 3})[1] == {"c_r": 1, "c_rows_freq": 2}


def russia_to_europe(store) -> None:
    """RUS exports (monthly 2021-2022) to DEU, FRA, GBR and four controls, and DEU's and FRA's imports from
    RUS: the flows to DEU and FRA halve from March 2022, GBR's (no longer in the EU) triple, the rest stay."""
    rows = []
    for year in (2021, 2022):
        for month in range(1, 13):
            after, period = (year, month) >= (2022, 3), f"{year}-{month:02d}"
            for partner, level in (("DEU", 100.0), ("FRA", 60.0), ("GBR", 80.0), ("KAZ", 50.0), ("TUR", 70.0), ("USA", 90.0),
                                   ("CHN", 120.0)):
                factor = (0.5 if partner in ("DEU", "FRA") else 3.0 if partner == "GBR" else 1.0) if after else 1.0
                rows.append({"reporter": "RUS", "partner": partner, "period": period, "flow": "export", "product": "27",
                             "value_usd": level * factor * (1 + 0.01 * (month % 3))})
                if partner in ("DEU", "FRA"):
                    rows.append({"reporter": partner, "partner": "RUS", "period": period, "flow": "import", "product": "27",
                                 "value_usd": 1.1 * level * factor})
    insert(store, rows)


def test_effect_with_a_group_as_importer(store) -> None:
    russia_to_europe(store)
    res = effect(store, "RUS", "EU27", "2022-02-24", n_boot=99)
    assert {s.side for s in res.sides} == {"exporter", "importer"}  # RUS's exports to the EU and the members' imports from RUS
    assert res.side("exporter").change_pct == pytest.approx(-0.5, abs=0.02)
    assert res.side("importer").change_pct == pytest.approx(-0.5, abs=0.02)
    assert res.side("importer").reporter == "EU27"
    # GBR left the EU in January 2020: its tripled flow is neither treated nor a control (else the counterfactual would rise)
    assert set(res.controls) == {"KAZ", "TUR", "USA", "CHN"}
    assert any("ever a member of EU27" in n for n in res.notes)
    west = effect(store, "RUS", "WEST", "2022-02-24", n_boot=99, groups=parse_groups({"WEST": ["DEU", "FRA"]}))
    assert "GBR" in west.controls and west.side("exporter").change_pct < -0.6  # a case's group: GBR a control, its boom lifts the counterfactual


def test_a_group_partner_counts_its_members_by_date(store) -> None:
    insert(store, [{"reporter": "RUS", "partner": p, "period": m, "flow": "export", "value_usd": v}
                   for m in ("2020-01", "2020-02") for p, v in (("DEU", 10.0), ("GBR", 1.0), ("KAZ", 100.0))])
    panel = q.panel(store, "RUS", "export", "M", 0, ["EU27"]).frame
    assert list(panel.value) == [11.0, 10.0]  # the UK in January 2020, not in February
    every = q.panel(store, "RUS", "export", "M", 0, named=("EU",)).frame.groupby("partner").value.sum().to_dict()
    assert every == {"EU": 21.0, "GBR": 1.0, "KAZ": 200.0}


def test_mirror_with_a_group_on_either_side_in_eur(store) -> None:
    panel_rows(store)
    res = mirror(store, "EU27", "RUS", freq="A", basket=parse_basket("8471\n"), currency="EUR")
    row = res.to_frame().set_index(["direction", "period"]).loc[("EU27->RUS", "2021")]
    assert row.exporter_eur == 2 * 1200 / 1.25 and row.importer_eur == 2 * 1320 / 1.25  # the members' sum, exact in EUR
    assert res.currency == "EUR" and "exporter_usd" not in res.to_dict()["totals"][0]
    back = mirror(store, "RUS", "EU27", freq="A", basket=parse_basket("8471\n"))  # the group as importer
    row = back.totals.set_index(["direction", "period"]).loc[("EU27->RUS", "2021")]
    assert row.exporter_usd == 2400.0 and row.importer_usd == 2640.0
    edit_flows(store, "UPDATE flows SET value_native = NULL, currency = 'USD'")  # a USD source: converted month by month
    converted = mirror(store, "EU27", "RUS", freq="A", currency="EUR").to_frame().set_index(["direction", "period"])
    rates = currency.rates_by_period().set_index("rate_period").usd_per_eur
    months = [f"2021-{m:02d}" for m in range(1, 13)]
    assert converted.loc[("EU27->RUS", "2021"), "exporter_eur"] == pytest.approx(sum(400.0 / rates[m] for m in months))


def test_the_commands_with_a_group_as_importer_and_mirror_in_eur(store, cli, tmp_path) -> None:
    russia_to_europe(store)
    panel_rows(store)
    case = tmp_path / "case.toml"
    case.write_text('[case]\nid = "x"\ntitle = "x"\ncountries = ["RUS", "WEST"]\n[[events]]\ndate = "2022-02-24"\nkind = "embargo"\n'
                    'from = "RUS"\nto = "WEST"\n[groups.WEST]\nmembers = ["DEU", "FRA"]\n', encoding="utf-8")
    store.close()
    out = cli("effect", "--exporter", "RUS", "--importer", "WEST", "--event", "2022-02-24", "--case", case, "--json")
    assert out.exit_code == 0, out.output
    assert [s["reporter"] for s in json.loads(out.stdout)["sides"]] == ["RUS", "WEST"]
    shown = cli("mirror", "--a", "EU27", "--b", "RUS", "--currency", "EUR", "--freq", "A")
    assert shown.exit_code == 0, shown.output
    assert "EUR m" in shown.output and "USD m" not in shown.output and "EU27->RUS" in shown.output  # the table's headings in EUR
    bad = cli("mirror", "--a", "EU27", "--b", "RUS", "--currency", "GBP")
    assert bad.exit_code == 2 and "--currency must be USD or EUR, not 'GBP'" in bad.output and "Traceback" not in bad.output
