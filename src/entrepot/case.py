"""Case files: the pair, the events, the public claims, the suspected routes and the scenarios.

A case file is TOML (see docs/cases.md and examples/turkey-israel.toml). `load_case` reads and checks
one; every problem is an `InputError` naming the file and the entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entrepot import countries, schema
from entrepot.errors import InputError

EVENT_KINDS = ("embargo", "export_restriction", "import_restriction", "sanction", "lifted")
SCENARIO_KINDS = ("lift_embargo", "impose_embargo", "blocs", "remove_rta", "add_rta")


@dataclass(frozen=True)
class Event:
    date: dt.date
    kind: str
    exporter: str
    importer: str
    both_directions: bool = False
    products: tuple[str, ...] = ()  # HS codes covered; empty = all products
    note: str = ""


@dataclass(frozen=True)
class Claim:
    text: str
    reporter: str
    partner: str
    flow: str
    periods: tuple[str, ...]  # "2025", "2024-09" or a range "2023-01/2023-09"
    values_usd: tuple[float, ...]
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    id: str
    kind: str
    pair: tuple[str, ...] = ()
    blocs: tuple[tuple[str, ...], ...] = ()
    countries: tuple[str, ...] = ()
    tariff: float | None = None
    note: str = ""

    def spec(self) -> tuple[str, list[str], list[list[str]]]:
        """(kind, countries, blocs) as `models.ge.counterfactual` takes them."""
        return self.kind, list(self.pair or self.countries), [list(b) for b in self.blocs]

    def within(self, have: set[str]) -> tuple[Scenario, tuple[str, ...]]:
        """(this scenario on the countries in `have`, the bloc members left out). A blocs scenario
        keeps its members that are in `have`, as long as each bloc keeps one (a single bloc, two);
        other kinds come back whole, to fail on a missing country."""
        if self.kind != "blocs":
            return self, ()
        left_out = tuple(c for bloc in self.blocs for c in bloc if c not in have)
        blocs = tuple(tuple(c for c in bloc if c in have) for bloc in self.blocs)
        if min(len(b) for b in blocs) < (2 if len(blocs) == 1 else 1):
            raise InputError(f"too few bloc members are in the data (missing: {', '.join(left_out)})")
        return dataclasses.replace(self, blocs=blocs), left_out


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    countries: tuple[str, str]
    events: tuple[Event, ...]
    claims: tuple[Claim, ...] = ()
    intermediaries: tuple[str, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def main_event(self) -> Event:
        """The full embargo if there is one, else the first event."""
        return next((e for e in self.events if e.kind == "embargo"), self.events[0])

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise InputError(f"no scenario {scenario_id!r} in the case; it has {', '.join(s.id for s in self.scenarios)}", path=self.path)


def load_case(path: str | Path) -> Case:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path) from None
    return parse_case(doc, path)


def parse_case(doc: dict[str, Any], path: Path | None = None) -> Case:
    def fail(where: str, reason: str) -> InputError:
        return InputError(f"{where}: {reason}", path=path)

    def code(value: Any, where: str) -> str:
        if not isinstance(value, str) or not countries.is_known(value.upper()):
            raise fail(where, f"unknown country code {value!r} (ISO 3166 alpha-3)")
        return value.upper()

    head = doc.get("case")
    if not isinstance(head, dict):
        raise fail("[case]", "missing")
    pair = head.get("countries")
    if not isinstance(pair, list) or len(pair) != 2:
        raise fail("case.countries", "expected two country codes, e.g. [\"TUR\", \"ISR\"]")
    pair_codes = (code(pair[0], "case.countries"), code(pair[1], "case.countries"))

    events = []
    for k, e in enumerate(doc.get("events", [])):
        where = f"events[{k}]"
        date = e.get("date")
        if isinstance(date, str):
            try:
                date = dt.date.fromisoformat(date)
            except ValueError:
                raise fail(f"{where}.date", f"not a date: {date!r} (YYYY-MM-DD)") from None
        if not isinstance(date, dt.date):
            raise fail(f"{where}.date", "missing")
        if e.get("kind") not in EVENT_KINDS:
            raise fail(f"{where}.kind", f"{e.get('kind')!r} is not one of {', '.join(EVENT_KINDS)}")
        products = tuple(str(p) for p in e.get("products", []))
        bad = [p for p in products if not (p.isdigit() and len(p) in (2, 4, 6))]
        if bad:
            raise fail(f"{where}.products", f"not HS2/4/6 codes: {', '.join(bad)}")
        events.append(Event(date, e["kind"], code(e.get("from"), f"{where}.from"), code(e.get("to"), f"{where}.to"),
                            bool(e.get("both_directions", False)), products, e.get("note", "")))
    if not events:
        raise fail("events", "a case needs at least one event")

    claims = []
    for k, c in enumerate(doc.get("claims", [])):
        where = f"claims[{k}]"
        periods = c.get("period")
        values = c.get("value_usd")
        periods = tuple(periods) if isinstance(periods, list) else (periods,)
        values = tuple(values) if isinstance(values, list) else (values,)
        if len(periods) != len(values) or not all(isinstance(v, (int, float)) for v in values):
            raise fail(where, "period and value_usd must pair up (one value per period)")
        for p in periods:
            if not _valid_period(str(p)):
                raise fail(f"{where}.period", f"{p!r} is not YYYY, YYYY-MM or a range YYYY-MM/YYYY-MM")
        if c.get("flow") not in schema.FLOW_KINDS:
            raise fail(f"{where}.flow", f"{c.get('flow')!r} is not one of {', '.join(schema.FLOW_KINDS)}")
        claims.append(Claim(c.get("text", ""), code(c.get("reporter"), f"{where}.reporter"), code(c.get("partner"), f"{where}.partner"),
                            c["flow"], tuple(str(p) for p in periods), tuple(float(v) for v in values), c.get("source", "")))

    suspects = doc.get("suspects", {}).get("intermediaries", [])
    inter = tuple(code(c, "suspects.intermediaries") for c in suspects)

    scenarios = []
    for k, s in enumerate(doc.get("scenarios", [])):
        where = f"scenarios[{k}]"
        if s.get("kind") not in SCENARIO_KINDS:
            raise fail(f"{where}.kind", f"{s.get('kind')!r} is not one of {', '.join(SCENARIO_KINDS)}")
        scenarios.append(Scenario(
            id=str(s.get("id", f"scenario-{k + 1}")),
            kind=s["kind"],
            pair=tuple(code(c, f"{where}.pair") for c in s.get("pair", [])),
            blocs=tuple(tuple(code(c, f"{where}.blocs") for c in bloc) for bloc in s.get("blocs", [])),
            countries=tuple(code(c, f"{where}.countries") for c in s.get("countries", [])),
            tariff=s.get("tariff"),
            note=s.get("note", ""),
        ))
    return Case(str(head.get("id", "case")), str(head.get("title", "")), pair_codes, tuple(events),
                tuple(claims), inter, tuple(scenarios), path)


def _valid_period(p: str) -> bool:
    parts = p.split("/")
    return len(parts) <= 2 and all(_one_period(x) for x in parts)


def _one_period(p: str) -> bool:
    try:
        if len(p) == 4:
            return p.isdigit()
        return len(p) == 7 and p[4] == "-" and 1 <= int(p[5:]) <= 12 and p[:4].isdigit()
    except ValueError:
        return False
