"""Flows with a group as one side (EU27 by date, a case's group), a basket and EUR amounts."""

import pytest

from entrepot.analysis.flows import flows
from entrepot.basket import parse_basket
from entrepot.groups import parse_groups
from tests.conftest import edit_flows, insert


def test_eu_by_date_a_basket_and_eur(store) -> None:
    rows = [
        {"reporter": "DEU", "partner": "KAZ", "period": "2020-01", "product": "84713000", "value_usd": 110.0},
        {"reporter": "GBR", "partner": "KAZ", "period": "2020-01", "product": "84713000", "value_usd": 55.0},  # a member in January
        {"reporter": "GBR", "partner": "KAZ", "period": "2020-02", "product": "84713000", "value_usd": 55.0},  # not in February
        {"reporter": "FRA", "partner": "KAZ", "period": "2020-02", "product": "84713000", "value_usd": 22.0},
        {"reporter": "FRA", "partner": "KAZ", "period": "2020-02", "product": "22030001", "value_usd": 999.0},  # not in the basket
        {"reporter": "FRA", "partner": "ARM", "period": "2020-02", "product": "84713000", "value_usd": 7.0},
    ]
    insert(store, rows, source="comext", flow="export")
    edit_flows(store, "UPDATE flows SET value_native = value_usd / 1.1, currency = 'EUR'")  # a EUR source
    basket = parse_basket("8471\n")
    res = flows(store, "EU27", "KAZ", freq="M", basket=basket)
    got = res.table.set_index("period").a_to_b_exporter
    assert got.to_dict() == {"2020-01": 165.0, "2020-02": 22.0}
    assert res.summary().startswith("2020-02: EU27 reports $0.0 million of exports to KAZ")
    eur = flows(store, "EU27", "KAZ", freq="M", basket=basket, currency="EUR")
    assert eur.table.set_index("period").a_to_b_exporter.to_dict() == pytest.approx({"2020-01": 150.0, "2020-02": 20.0})
    assert "value_eur" in eur.to_frame() and eur.to_dict()["currency"] == "EUR"
    cca = parse_groups({"CCA": ["ARM", "KAZ"]})
    both = flows(store, "FRA", "CCA", freq="M", basket=basket, groups=cca).table.set_index("period").a_to_b_exporter
    assert both.to_dict() == {"2020-02": 29.0}
