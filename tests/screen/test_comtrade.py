"""The screen on a store of Comtrade declarations only (no BACI): monthly and annual, both sides' reports; the
side read is chosen, or asked for, and named in the output."""

from __future__ import annotations

import pytest

from entrepot.errors import InputError
from entrepot.screening import screen


def planted(table, truth) -> tuple:
    """The TUR -> ISR row of the ranked table, and the planted routes."""
    rows = table[(table.exporter == "TUR") & (table.importer == "ISR")]
    assert len(rows) == 1, table[["exporter", "importer", "date"]]
    return rows.iloc[0], {r["country"] for r in truth["directions"][0]["intermediaries"]}


@pytest.fixture(scope="module")
def monthly(comtrade_world):
    return screen(comtrade_world[0], top=3)


def test_monthly_declarations_read_the_exporters_reports_and_say_so(monthly, comtrade_world) -> None:
    s, table = monthly.settings, monthly.to_frame()
    assert s["relation"] == "reported (comtrade, monthly, exporters' reports)" and s["freq"] == "M" and s["side"] == "auto"
    assert (table.data == s["relation"]).all() and "exporters' reports" in monthly.summary()
    assert monthly.provenance.sources == ("comtrade",)
    tur, routes = planted(table, comtrade_world[2])
    assert tur.status == "known embargo" and "2024-05" <= tur.date <= "2025-05" and tur.drop_pct > 0.7
    found = set(tur.intermediaries.split(", "))
    assert found and found <= routes
    assert (monthly.pairs.n_post >= 3).all()  # no break in the last two months: too short to call lasting


def test_the_importers_reports_when_asked(comtrade_world) -> None:
    res = screen(comtrade_world[0], top=2, side="importer")
    assert res.settings["relation"] == "reported (comtrade, monthly, importers' reports)"
    t = res.to_frame()
    assert {("TUR", "ISR"), ("ISR", "TUR")} <= set(zip(t.exporter[t.status == "known embargo"], t.importer[t.status == "known embargo"], strict=True))
    tur, routes = planted(t, comtrade_world[2])
    assert set(tur.intermediaries.split(", ")) <= routes


def test_annual_declarations(comtrade_world) -> None:
    res = screen(comtrade_world[1], top=1)
    assert res.settings["relation"] == "reported (comtrade, annual, exporters' reports)"
    tur, routes = planted(res.to_frame(), comtrade_world[2])
    assert tur.status == "known embargo" and tur.date in ("2024", "2025")
    assert set(tur.intermediaries.split(", ")) <= routes


def test_a_side_the_store_does_not_have(world) -> None:
    with pytest.raises(InputError, match="side: no product-level importers' declarations"):
        screen(world[0], side="importer")  # BACI only: no declarations of either side
    with pytest.raises(InputError, match="side: must be one of"):
        screen(world[0], side="mirror")
