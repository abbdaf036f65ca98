"""Before and after an event: which periods count, stated once for every analysis.

Annual data: the year of the event is partly treated, so it is left out of both windows; "before"
is up to `pre_years` whole years before it, "after" every whole year after it. Monthly data: the
month of the event is left out unless the event falls on its first day; "before" is up to
`pre_months` months before, "after" every month after. Values are compared per period (averages),
so windows of different length compare fairly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from entrepot.errors import InputError

MIN_PRE = {"A": 2, "M": 6}


@dataclass(frozen=True)
class Window:
    freq: str  # "A" or "M"
    event: dt.date
    pre: tuple[str, ...]
    post: tuple[str, ...]
    excluded: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"freq": self.freq, "event": self.event.isoformat(), "pre": list(self.pre), "post": list(self.post),
                "excluded_as_partly_treated": list(self.excluded)}


def parse_event(text: str | dt.date) -> dt.date:
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--event must be a date YYYY-MM-DD, not {text!r}") from None


def make_window(periods: list[str], freq: str, event: dt.date, pre_years: int = 3, pre_months: int = 24) -> Window:
    """Split the data's periods around `event`; errors when the event is outside them or too early."""
    periods = sorted(set(periods))
    if not periods:
        raise InputError("no data for this pair")
    if freq == "A":
        key = str(event.year)
        excluded = (key,) if event.month != 1 or event.day != 1 else ()
        pre = [p for p in periods if p < key][-pre_years:]
        post = [p for p in periods if p > key or (p == key and not excluded)]
    else:
        key = f"{event.year:04d}-{event.month:02d}"
        excluded = (key,) if event.day != 1 else ()
        pre = [p for p in periods if p < key][-pre_months:]
        post = [p for p in periods if p > key or (p == key and not excluded)]
    if key < periods[0] or key > periods[-1]:
        raise InputError(f"the event {event} is outside the data's range {periods[0]}..{periods[-1]}")
    if len(pre) < MIN_PRE[freq]:
        raise InputError(f"too little data before the event: {len(pre)} period(s), need {MIN_PRE[freq]}")
    if not post:
        raise InputError(f"no whole period after the event {event} in the data (last: {periods[-1]})")
    return Window(freq, event, tuple(pre), tuple(post), tuple(e for e in excluded if e in periods))
