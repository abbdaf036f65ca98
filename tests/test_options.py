"""options.py: one spelling per option, and the one rule for the data every analysis reads (`options.data`)."""

from __future__ import annotations

import datetime as dt

import pytest

from entrepot import options
from entrepot.errors import InputError
from tests.conftest import edit_flows, insert

EVENT = dt.date(2024, 5, 2)


@pytest.mark.parametrize(("code", "digits"), [("72", "72"), ("7208", "7208"), ("72.08", "7208"), ("7208.10", "720810"),
                                              ("720810", "720810"), (" 7208 10 ", "720810"), (None, None)])
def test_product_codes_are_hs2_4_6_with_or_without_dots(code, digits) -> None:
    assert options.product(code) == digits


@pytest.mark.parametrize("code", ["7", "720", "72.0", "72a8", "72081000", ""])
def test_a_bad_product_code_names_the_parameter(code) -> None:
    with pytest.raises(InputError, match=r"^product: must be an HS2, HS4 or HS6 code"):
        options.product(code)


def months(reporter: str, partner: str, flow: str, first: str = "2023-01", last: str = "2025-12", **extra) -> list[dict]:
    """One row a month from `first` to `last`."""
    (y0, m0), (y1, m1) = (map(int, p.split("-")) for p in (first, last))
    return [{"period": f"{t // 12}-{t % 12 + 1:02d}", "reporter": reporter, "partner": partner, "flow": flow, "value_usd": 1.0} | extra
            for t in range(y0 * 12 + m0 - 1, y1 * 12 + m1)]


def test_both_sides_declaring_months_around_the_event_is_monthly_declarations(store) -> None:
    insert(store, months("TUR", "ISR", "export") + months("ISR", "TUR", "import"))
    insert(store, [{"year": 2024, "reporter": "TUR", "partner": "ISR", "flow": "export", "product": "720810", "value_usd": 9.0,
                    "source": "baci"}])
    chosen = options.data(store, "TUR", "ISR", event=EVENT)
    assert (chosen.source, chosen.freq) == ("reported", "M")
    assert chosen.why == ("source auto: both TUR and ISR declare the pair; frequency auto: monthly, every declaring side has"
                          " months around the event")
    given = options.data(store, "TUR", "ISR", "A", "baci", event=EVENT)
    assert (given.source, given.freq, given.why) == ("baci", "A", "source baci (given); frequency A (given)")


def test_one_side_declaring_is_bacis_years_when_the_store_has_baci(store) -> None:
    insert(store, months("TUR", "ISR", "export"))
    assert options.data(store, "TUR", "ISR", event=EVENT).source == "reported"  # no BACI: what one side declares, its months
    assert options.data(store, "TUR", "ISR", event=EVENT).freq == "M"
    insert(store, [{"year": 2024, "reporter": "TUR", "partner": "ISR", "flow": "export", "value_usd": 9.0, "source": "baci"}])
    chosen = options.data(store, "TUR", "ISR", event=EVENT)
    assert (chosen.source, chosen.freq) == ("baci", "A")
    assert chosen.why == "source auto: only TUR declares the pair, so BACI's reconciled values; frequency auto: annual, BACI's frequency"


def test_months_count_only_where_every_declaring_side_has_them_around_the_event(store) -> None:
    insert(store, months("TUR", "ISR", "export"))
    insert(store, [{"year": y, "reporter": "ISR", "partner": "TUR", "flow": "import", "value_usd": 12.0} for y in (2023, 2024, 2025)])
    assert options.data(store, "TUR", "ISR", event=EVENT).freq == "A"  # ISR declares years only
    edit_flows(store, "DELETE FROM flows WHERE reporter = 'ISR'")
    insert(store, months("ISR", "TUR", "import", last="2024-03"))  # months that stop before the event
    chosen = options.data(store, "TUR", "ISR", event=EVENT)
    assert (chosen.freq, chosen.freq_why) == ("A", "frequency auto: annual, not every declaring side has months around the event")
    assert options.data(store, "TUR", "ISR").freq == "M"  # without an event any months do


def test_the_rule_reads_what_the_analysis_reads(store) -> None:
    """Only the product asked for, and product-level rows for an analysis that needs them (reroute)."""
    insert(store, months("TUR", "ISR", "export") + months("ISR", "TUR", "import"))  # TOTAL rows only
    insert(store, [{"year": 2024, "reporter": "TUR", "partner": "ISR", "flow": "export", "product": "720810", "value_usd": 9.0,
                    "source": "baci"}])
    assert options.data(store, "TUR", "ISR", event=EVENT).source == "reported"
    assert options.data(store, "TUR", "ISR", event=EVENT, products=True).source == "baci"
    insert(store, months("TUR", "ISR", "export", product="720810") + months("ISR", "TUR", "import", product="720810"))
    assert options.data(store, "TUR", "ISR", event=EVENT, products=True).source == "reported"
    assert options.data(store, "TUR", "ISR", event=EVENT, product="84", products=True).source == "baci"


@pytest.mark.parametrize(("freq", "source", "message"), [("Q", "auto", "^freq: must be one of A, M, auto"),
                                                         ("auto", "eurostat", "^source: must be one of auto, baci, reported")])
def test_a_bad_frequency_or_source_names_its_parameter(store, freq, source, message) -> None:
    with pytest.raises(InputError, match=message):
        options.data(store, "TUR", "ISR", freq, source)


def test_wits_counts_as_declarations_in_the_defaults(store) -> None:
    """Both sides' WITS rows (Comtrade's declarations, redistributed) are declarations: not BACI's values."""
    insert(store, [{"year": y, "reporter": r, "partner": p, "flow": f, "value_usd": 1.0, "source": "wits"}
                   for y in (2023, 2024, 2025) for r, p, f in (("TUR", "ISR", "export"), ("ISR", "TUR", "import"))])
    insert(store, [{"year": 2024, "reporter": "TUR", "partner": "ISR", "flow": "export", "value_usd": 9.0, "source": "baci"}])
    chosen = options.data(store, "TUR", "ISR", event=EVENT)
    assert (chosen.source, chosen.freq) == ("reported", "A")
    assert chosen.why.startswith("source auto: both TUR and ISR declare the pair")
    edit_flows(store, "DELETE FROM flows WHERE reporter = 'ISR'")
    assert options.data(store, "TUR", "ISR", event=EVENT).source == "baci"  # one side's WITS rows: BACI, as for any declarations
