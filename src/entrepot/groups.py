"""Groups of countries usable wherever a country is: the EU by date, and groups a case file defines.

A group's flow is the sum of its members' flows (never a source's own aggregate row, so one
definition holds for every source). Membership can change with time; the rule for a period is:

- a month counts a country that was a member on the month's first day (the UK in January 2020,
  not February; Croatia from July 2013);
- a year counts a country that was a member on 1 July, the middle of the year (so the UK is in the
  EU for 2019 and not for 2020, Croatia from 2013).

`EU` (also `EU27`, `EU28`: the name of the day, the membership always by date) comes from the
treaties' dates in `entrepot/data/eu_membership.csv`. A case file's `[groups.ID]` tables add groups
of its own (members for all periods, or `{code, from, until}` with dates).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from entrepot import countries
from entrepot.errors import InputError

EU_CODES = ("EU", "EU27", "EU28")


@dataclass(frozen=True)
class Member:
    """A country's membership of a group: from `joined` to `left` (both days included)."""

    code: str
    joined: dt.date | None = None  # None: a member since before any data
    left: dt.date | None = None  # last day of membership; None: still a member

    def in_period(self, period: str) -> bool:
        """Member in a month ('2020-01') on its first day, in a year ('2020') on 1 July."""
        day = dt.date(int(period[:4]), int(period[5:7]), 1) if len(period) > 4 else dt.date(int(period), 7, 1)
        return (self.joined is None or self.joined <= day) and (self.left is None or day <= self.left)

    def months(self) -> tuple[str | None, str | None]:
        """First and last month ('YYYY-MM') counted; None for open ends."""
        first = None if self.joined is None else _month(self.joined if self.joined.day == 1 else _next_month(self.joined))
        return first, None if self.left is None else _month(self.left)

    def years(self) -> tuple[int | None, int | None]:
        """First and last year counted (member on 1 July)."""
        first = None if self.joined is None else self.joined.year + (self.joined > dt.date(self.joined.year, 7, 1))
        last = None if self.left is None else self.left.year - (self.left < dt.date(self.left.year, 7, 1))
        return first, last


@dataclass(frozen=True)
class Group:
    """A group of countries with their membership dates."""

    code: str
    name: str
    members: tuple[Member, ...]

    def countries_in(self, period: str) -> tuple[str, ...]:
        """The member countries in a period ('2022-03' or '2022')."""
        return tuple(m.code for m in self.members if m.in_period(period))

    def all_countries(self) -> tuple[str, ...]:
        """Every country that was ever a member, each once."""
        return tuple(dict.fromkeys(m.code for m in self.members))

    def condition(self, column: str = "reporter") -> str:
        """A SQL condition on flows: `column` is a member in the row's period (freq M or A)."""
        parts = []
        for m in self.members:
            (m0, m1), (y0, y1) = m.months(), m.years()
            month = " AND ".join([f"period >= '{m0}'"] * (m0 is not None) + [f"period <= '{m1}'"] * (m1 is not None)) or "TRUE"
            year = " AND ".join([f"year >= {y0}"] * (y0 is not None) + [f"year <= {y1}"] * (y1 is not None)) or "TRUE"
            parts.append(f"({column} = '{m.code}' AND CASE WHEN freq = 'M' THEN {month} ELSE {year} END)")
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


@cache
def eu() -> Group:
    """The EU by the treaties' dates (the package's eu_membership.csv)."""
    text = resources.files("entrepot.data").joinpath("eu_membership.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    members = tuple(Member(r["iso3"], dt.date.fromisoformat(r["joined"]), dt.date.fromisoformat(r["left"]) if r["left"] else None)
                    for r in rows)
    return Group("EU", "European Union (members by date)", members)


def parse_groups(table: Mapping[str, Any], where: str = "groups") -> dict[str, Group]:
    """Groups from a case file's `[groups]` table: `ID = {name = "...", members = [...]}`, a member
    being a code or `{code = "ARM", from = 2020-01-01, until = 2022-12-31}`."""
    out = {}
    for code, spec in table.items():
        here = f"{where}.{code}"
        up = str(code).upper()
        if countries.is_known(up) or up in EU_CODES:
            raise InputError(f"{here}: a group's id must not be a country or area code ({up})")
        if isinstance(spec, list):
            spec = {"members": spec}
        if not isinstance(spec, Mapping) or not isinstance(spec.get("members"), list) or not spec["members"]:
            raise InputError(f"{here}: expected members = [\"ISO3\", ...] (and optionally name = \"...\")")
        members = [_member(m, f"{here}.members[{k}]") for k, m in enumerate(spec["members"])]
        out[up] = Group(up, str(spec.get("name", code)), tuple(members))
    return out


def _member(value: Any, where: str) -> Member:
    spec = {"code": value} if isinstance(value, str) else value
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: expected a country code or {{code, from, until}}")
    code = str(spec.get("code", "")).upper()
    if not countries.is_country(code):
        raise InputError(f"{where}: unknown country code {spec.get('code')!r} (ISO 3166 alpha-3)")
    dates = []
    for key in ("from", "until"):
        d = spec.get(key)
        if isinstance(d, str):
            try:
                d = dt.date.fromisoformat(d)
            except ValueError:
                raise InputError(f"{where}.{key}: not a date: {d!r} (YYYY-MM-DD)") from None
        if d is not None and not isinstance(d, dt.date):
            raise InputError(f"{where}.{key}: not a date: {d!r} (YYYY-MM-DD)")
        dates.append(d)
    return Member(code, dates[0], dates[1])


def resolve(code: str, groups: Mapping[str, Group] | None = None) -> Group | None:
    """The group a code names (EU, or one of `groups`), or None for a country."""
    up = code.upper()
    if up in EU_CODES:
        return eu()
    return (groups or {}).get(up)


def expand(code: str, period: str, groups: Mapping[str, Group] | None = None) -> tuple[str, ...]:
    """The countries a code stands for in a period: a group's members, or the country itself."""
    group = resolve(code, groups)
    return group.countries_in(period) if group else (code.upper(),)


def condition(code: str, column: str, groups: Mapping[str, Group] | None = None) -> str:
    """SQL: `column` is the country, or a member of the group in the row's period."""
    group = resolve(code, groups)
    if group:
        return group.condition(column)
    if unknown([code], groups):
        raise InputError(f"unknown country or group {code!r} (ISO 3166 alpha-3, EU27, or a group of the case file)")
    return f"{column} = '{code.upper()}'"


def unknown(codes: Iterable[str], groups: Mapping[str, Group] | None = None) -> list[str]:
    """The codes that are neither a country, an area nor a group (for one error naming them all)."""
    return [c for c in codes if not countries.is_known(c.upper()) and resolve(c, groups) is None]
