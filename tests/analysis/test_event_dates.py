"""Events as analysts write them: a year, a month or a day, on the command line and in case files."""

from __future__ import annotations

import datetime as dt

import pytest

from entrepot.analysis.window import Timing, parse_event
from entrepot.case import parse_case
from entrepot.errors import InputError


@pytest.mark.parametrize(("text", "date"), [
    ("2024", dt.date(2024, 1, 1)), (2024, dt.date(2024, 1, 1)), ("2024-05", dt.date(2024, 5, 1)),
    ("2024-05-02", dt.date(2024, 5, 2)), (" 2024-12 ", dt.date(2024, 12, 1)), (dt.date(2024, 5, 2), dt.date(2024, 5, 2)),
    (dt.datetime(2024, 5, 2, 13, 0), dt.date(2024, 5, 2)),
])
def test_a_year_or_a_month_means_its_first_day(text, date) -> None:
    assert parse_event(text) == date


def test_the_named_period_is_the_first_after_the_event() -> None:
    """`2024` starts annual data's post period in 2024 with no transition year; `2024-05` the monthly one in May."""
    year = Timing.of(parse_event("2024"), "A")
    assert (year.first_post, year.transition, year.share_after) == (2024, None, 1.0)
    month = Timing.of(parse_event("2024-05"), "M")
    assert (month.first_post, month.transition) == (2024 * 12 + 4, None)
    # a month inside a year still makes that year a transition year in annual data, 8 of 12 months after
    annual = Timing.of(parse_event("2024-05"), "A")
    assert (annual.first_post, annual.transition) == (2025, 2024)
    assert annual.share_after == pytest.approx(245 / 366)
    day = Timing.of(parse_event("2024-05-02"), "M")
    assert (day.first_post, day.transition) == (2024 * 12 + 5, 2024 * 12 + 4)


@pytest.mark.parametrize("text", ["24", "2024-13", "2024-00", "2024-02-30", "2024/05", "May 2024", "", "2024-5"])
def test_other_spellings_are_refused(text) -> None:
    with pytest.raises(InputError, match="a year, a month or a day"):
        parse_event(text)


def _case(date) -> dict:
    return {"case": {"countries": ["TUR", "ISR"]}, "events": [{"date": date, "kind": "embargo", "from": "TUR", "to": "ISR"}]}


@pytest.mark.parametrize(("value", "date"), [
    (2024, dt.date(2024, 1, 1)), ("2024", dt.date(2024, 1, 1)), ("2024-05", dt.date(2024, 5, 1)),
    ("2024-05-02", dt.date(2024, 5, 2)), (dt.date(2024, 5, 2), dt.date(2024, 5, 2)),
])
def test_case_files_take_the_same_spellings(value, date) -> None:
    assert parse_case(_case(value)).events[0].date == date


@pytest.mark.parametrize("value", ["May 2024", "2024-13", True, 3.5])
def test_case_file_bad_date_names_the_entry(value) -> None:
    with pytest.raises(InputError, match=r"events\[0\]\.date"):
        parse_case(_case(value))
    with pytest.raises(InputError, match=r"events\[0\]\.date: missing"):
        parse_case(_case(None))
