"""The options every analysis takes, as types, and their checks: one name and one spelling for each.

- the pair is always `exporter` (A) and `importer` (B): the direction the event stopped;
- a frequency is `freq`, ``"A"`` (annual) or ``"M"`` (monthly), ``"auto"`` where the data decide;
- the event is `event`, a date (``"2024-05-02"`` or a `datetime.date`);
- a product is `product`, an HS2, HS4 or HS6 code (dots allowed), or None for all products;
- the data an analysis reads are `freq` and `source`, ``"auto"`` by default everywhere: `data` applies the
  one rule (docs/methods.md, "Defaults") and says what it chose.

A bad value raises `InputError` naming the parameter (``exporter: 'TUX' is not a known country
code``); the CLI shows the same message with its flag (``--exporter: ...``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from entrepot import countries
from entrepot.errors import InputError

if TYPE_CHECKING:
    from entrepot.groups import Group
    from entrepot.store import Store

Freq = Literal["A", "M"]
FreqOrAuto = Literal["A", "M", "auto"]
Source = Literal["auto", "baci", "reported"]
FREQS: tuple[str, ...] = ("A", "M")
SOURCES: tuple[str, ...] = ("auto", "baci", "reported")


def country(code: str, parameter: str) -> str:
    """`code` as upper-case ISO 3166 alpha-3, or an `InputError` naming `parameter`."""
    up = str(code).strip().upper()
    if not countries.is_known(up):
        raise InputError(f"{code!r} is not a known country code (use ISO 3166 alpha-3, e.g. TUR)", parameter=parameter)
    return up


def country_list(codes: list[str] | tuple[str, ...] | None, parameter: str) -> list[str]:
    """Each code checked as by `country`; None and empty give an empty list."""
    return [country(c, parameter) for c in codes or []]


def side(code: str, parameter: str, groups: Mapping[str, Group] | None = None) -> str:
    """A country as by `country`, or a group's code (EU27, or one of `groups`)."""
    from entrepot.groups import resolve

    return str(code).strip().upper() if resolve(str(code).strip(), groups) else country(code, parameter)


def pair(exporter: str, importer: str) -> tuple[str, str]:
    """The checked pair (A, B)."""
    return country(exporter, "exporter"), country(importer, "importer")


def freq(value: str, parameter: str = "freq", allowed: tuple[str, ...] = FREQS) -> str:
    """A frequency among `allowed`."""
    if value not in allowed:
        raise InputError(f"must be {' or '.join(allowed)}, not {value!r}", parameter=parameter)
    return value


def choice(value: str, allowed: tuple[str, ...], parameter: str) -> str:
    """One of `allowed`."""
    if value not in allowed:
        raise InputError(f"must be one of {', '.join(allowed)}, not {value!r}", parameter=parameter)
    return value


def share(value: float, parameter: str) -> float:
    """A share in [0, 1)."""
    if not 0 <= value < 1:
        raise InputError(f"must be a share between 0 and 1, not {value}", parameter=parameter)
    return value


def product(code: str | None, parameter: str = "product") -> str | None:
    """An HS2, HS4 or HS6 code ("7208", "72.08" and "7208.10" as written in tariffs), or None for all products."""
    if code is None:
        return None
    digits = str(code).strip().replace(".", "").replace(" ", "")
    if not (digits.isdigit() and len(digits) in (2, 4, 6)):
        raise InputError(f"must be an HS2, HS4 or HS6 code, not {code!r}", parameter=parameter)
    return digits


def event(value: str | dt.date, parameter: str = "event") -> dt.date:
    """The event as a date."""
    from entrepot.analysis.window import parse_event

    try:
        date = parse_event(value)
    except InputError as exc:
        raise InputError(exc.reason.removeprefix("--event ").removeprefix("event "), parameter=parameter) from None
    if not 1900 <= date.year <= 2200:  # trade data: a date past that is a typo (and 9999-12-31 has no period after it)
        raise InputError(f"{date} is not a date trade data can cover (years 1900 to 2200)", parameter=parameter)
    return date


@dataclass(frozen=True)
class Data:
    """The data an analysis reads, chosen by `data`: `source` "reported" (the countries' own declarations)
    or "baci" (BACI's reconciled values), `freq` "A" or "M", and the rule's words for each (`why`, in `basis()`)."""

    source: str
    freq: str
    source_why: str
    freq_why: str

    @property
    def why(self) -> str:
        """What was chosen and why, one line."""
        return f"{self.source_why}; {self.freq_why}"


def data(store: Store, exporter: str, importer: str, freq: str = "auto", source: str = "auto", *,
         event: dt.date | None = None, product: str | None = None, products: bool = False,
         groups: Mapping[str, Group] | None = None) -> Data:
    """The one rule for the data every analysis reads (docs/methods.md, "Defaults"), for the pair A -> B.

    - source "auto": the declarations when the store has both sides' of the pair (A's exports to B and B's
      imports from A); else BACI's reconciled values when the store has BACI; else what one side declares;
    - freq "auto": annual on BACI (its only frequency); on declarations monthly when every side that declares
      the pair has months around the event (before and after its month; any months without an event), else annual.

    `product` and `products` (product-level rows only) narrow what counts as declared to what the analysis
    reads; a given `freq` or `source` is kept as it is (checked here).
    """
    from entrepot.store import query as q

    choice(source, SOURCES, "source")
    choice(freq, (*FREQS, "auto"), "freq")
    around = None if event is None else event.year * 12 + event.month - 1
    declared = [q.frequencies(store, r, flow, p, groups, source="reported", product=product, products=products, around=around)
                for r, flow, p in ((exporter, "export", importer), (importer, "import", exporter))]
    why = f"source {source} (given)"
    if source == "auto":
        if all(declared):
            source, why = "reported", f"source auto: both {exporter} and {importer} declare the pair"
        elif q.has_source(store, "baci"):
            side = f"only {exporter if declared[0] else importer}" if any(declared) else "neither side"
            source, why = "baci", f"source auto: {side} declares the pair, so BACI's reconciled values"
        else:
            source, why = "reported", "source auto: one side's declarations (no BACI in the store)"
    if freq == "auto":
        have = [d for d in declared if d]
        monthly = source == "reported" and bool(have) and all("M" in d for d in have)
        freq = "M" if monthly else "A"
        around = " around the event" if event else ""
        freq_why = ("frequency auto: monthly, every declaring side has months" + around if monthly else
                    "frequency auto: annual, BACI's frequency" if source == "baci" else
                    "frequency auto: annual, not every declaring side has months" + around)
    else:
        freq_why = f"frequency {freq} (given)"
    return Data(source, freq, why, freq_why)
