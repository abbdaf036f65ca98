"""Amounts in EUR or USD: a EUR source stays exact in EUR, a USD one is converted by the period's rate."""

import pytest

from entrepot import currency
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA, edit_flows


def test_eur_source_exact_and_usd_source_converted(store) -> None:
    ingest_file(store, DATA / "comext" / "comext_GR_BG_2024.csv")  # EUR, read into USD by the shipped rates
    eur, join = currency.amount(store.con, "EUR")
    rows = store.query(f"SELECT period, value_native, value_usd, {eur} AS eur FROM flows {join} WHERE value_usd IS NOT NULL")
    assert (rows.eur == rows.value_native).all()  # exact, not converted back and forth
    edit_flows(store, "UPDATE flows SET currency = 'USD', value_native = NULL")  # as if a USD source had them
    again = store.query(f"SELECT period, value_usd, {eur} AS eur FROM flows {join} WHERE value_usd IS NOT NULL").set_index("period")
    rates = currency.rates_by_period().set_index("rate_period").usd_per_eur
    assert again.eur.to_numpy() == pytest.approx((again.value_usd / rates[again.index]).to_numpy())
    assert currency.amount(store.con, "usd") == ("flows.value_usd", "")
