"""effect and mirror with a basket, a group as exporter and amounts in EUR, through the query layer."""

import pytest

from entrepot.analysis.effect import effect
from entrepot.analysis.mirror import mirror
from entrepot.basket import parse_basket
from entrepot.store import query as q
from tests.conftest import insert


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
    store.con.execute("UPDATE flows SET value_native = value_usd / 1.25, currency = 'EUR'")


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
