"""Before and after an event: which periods count, stated once for every analysis.

A period the event falls inside is partly treated, so it is left out of both "before" and
"after" (a transition period): the event's year in annual data unless the event is on 1 January,
the event's month in monthly data unless the event is on its first day. "After" starts with the
next whole period. Periods are integers: the year, or year * 12 + month - 1.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from entrepot.errors import InputError

MIN_PRE = {"A": 2, "M": 6}


def parse_event(text: str | int | dt.date) -> dt.date:
    """An event as analysts write it: `2024` is 1 January 2024, `2024-05` is 1 May, `2024-05-02` that day.

    A year or a month alone means its first day, so that period is the first one after the event
    (no transition period). Raises InputError for anything else.
    """
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    value = str(text).strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            return dt.date(int(value), 1, 1)
        if re.fullmatch(r"\d{4}-\d{2}", value):
            return dt.date(int(value[:4]), int(value[5:]), 1)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise InputError(f"--event must be a date: a year, a month or a day (2024, 2024-05, 2024-05-02), not {text!r}")


def time_index(freq: str) -> str:
    """SQL for a period's integer index: the year, or year*12 + month-1."""
    return "year" if freq == "A" else "year * 12 + month - 1"


def period_label(t: int, freq: str) -> str:
    """A period index as text: "2024" or "2024-05"."""
    return str(t) if freq == "A" else f"{t // 12:04d}-{t % 12 + 1:02d}"


@dataclass(frozen=True)
class Timing:
    """How an event splits periods: `t` < `first_post` is pre, >= is post, `transition` is left out.

    `share_after` is the part of the transition period on or after the event (1.0 without one).
    """

    freq: str
    first_post: int
    transition: int | None
    share_after: float

    @classmethod
    def of(cls, event: dt.date, freq: str) -> Timing:
        """How `event` splits periods of frequency `freq`."""
        if freq == "A":
            start, end = dt.date(event.year, 1, 1), dt.date(event.year + 1, 1, 1)
            t = event.year
        else:
            start = event.replace(day=1)
            end = dt.date(event.year + event.month // 12, event.month % 12 + 1, 1)
            t = event.year * 12 + event.month - 1
        if event == start:
            return cls(freq, t, None, 1.0)
        return cls(freq, t + 1, t, (end - event).days / (end - start).days)

    def phase(self, t: pd.Series) -> pd.Series:
        """Each period index as "pre", "transition" or "post"."""
        out = pd.Series("pre", index=t.index).where(t < self.first_post, "post")
        return out.where(t != self.transition, "transition") if self.transition is not None else out


@dataclass(frozen=True)
class Window:
    """The periods of one analysis: up to a few before the event, every whole one after."""

    timing: Timing
    event: dt.date
    pre_t: tuple[int, ...]
    post_t: tuple[int, ...]

    @property
    def freq(self) -> str:
        """"A" or "M"."""
        return self.timing.freq

    @property
    def pre(self) -> tuple[str, ...]:
        """The pre-event periods as labels."""
        return tuple(period_label(t, self.freq) for t in self.pre_t)

    @property
    def post(self) -> tuple[str, ...]:
        """The post-event periods as labels."""
        return tuple(period_label(t, self.freq) for t in self.post_t)

    @property
    def span(self) -> str:
        """The post-event periods in words: "2025" or "2024-06 to 2025-12"."""
        post = self.post
        return post[0] if len(post) == 1 else f"{post[0]} to {post[-1]}"

    def to_dict(self) -> dict:
        """The window as JSON: frequency, event, pre and post periods, the period left out."""
        excluded = [] if self.timing.transition is None else [period_label(self.timing.transition, self.freq)]
        return {"freq": self.freq, "event": self.event.isoformat(), "pre": list(self.pre), "post": list(self.post),
                "excluded_as_partly_treated": excluded}


def make_window(periods: list[int], freq: str, event: dt.date, pre_count: int | None = None) -> Window:
    """Split the data's periods around `event`; errors when the event is outside them or too early.

    "Before" is the last `pre_count` periods (default 3 years or 24 months) before the event.
    """
    periods = sorted(set(periods))
    if not periods:
        raise InputError("no data for this pair")
    timing = Timing.of(event, freq)
    key = timing.transition if timing.transition is not None else timing.first_post
    if key < periods[0] or key > periods[-1]:
        lo, hi = period_label(periods[0], freq), period_label(periods[-1], freq)
        raise InputError(f"the event {event} is outside the data's range {lo}..{hi}")
    pre = [t for t in periods if t < key][-(pre_count or {"A": 3, "M": 24}[freq]):]
    post = [t for t in periods if t >= timing.first_post]
    if len(pre) < MIN_PRE[freq]:
        raise InputError(f"too little data before the event: {len(pre)} period(s), need {MIN_PRE[freq]}")
    if not post:
        raise InputError(f"no whole period after the event {event} in the data (last: {period_label(periods[-1], freq)})")
    return Window(timing, event, tuple(pre), tuple(post))
