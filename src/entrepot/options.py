"""The options every analysis takes, as types, and their checks: one name and one spelling for each.

- the pair is always `exporter` (A) and `importer` (B): the direction the event stopped;
- a frequency is `freq`, ``"A"`` (annual) or ``"M"`` (monthly), ``"auto"`` where the data decide;
- the event is `event`, a date (``"2024-05-02"`` or a `datetime.date`).

A bad value raises `InputError` naming the parameter (``exporter: 'TUX' is not a known country
code``); the CLI shows the same message with its flag (``--exporter: ...``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from entrepot import countries
from entrepot.errors import InputError

if TYPE_CHECKING:
    from entrepot.groups import Group

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
