"""Case files: the pair, the events, the public claims, the suspected routes and the scenarios.

A case file is TOML (see docs/cases.md and src/entrepot/data/cases/turkey-israel.toml). `load_case`
reads and checks one; every problem is an `InputError` naming the file and the entry.
`check_claims` holds the case's public claims against the store. Groups of countries (`[groups.ID]`,
entrepot.groups) are usable wherever a country is; `[basket] file = "..."` names a list of product
codes (entrepot.basket), found beside the case file or from the working directory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from entrepot import groups, schema
from entrepot.analysis.window import parse_event
from entrepot.basket import Basket, load_basket
from entrepot.errors import InputError
from entrepot.results import Provenance, Result, records
from entrepot.store import Store

if TYPE_CHECKING:
    from entrepot.store.query import Choice

EVENT_KINDS = ("embargo", "export_restriction", "import_restriction", "sanction", "lifted", "invasion")
SCENARIO_KINDS = ("lift_embargo", "impose_embargo", "blocs", "remove_rta", "add_rta")


@dataclass(frozen=True)
class Event:
    """An event of the case: an embargo, a restriction, a sanction or its lifting, on a pair from a date."""

    date: dt.date
    kind: str
    exporter: str
    importer: str
    both_directions: bool = False
    products: tuple[str, ...] = ()  # HS codes covered; empty = all products
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """A public claim: a reporter's figure(s) for a flow with a partner in some period(s)."""

    text: str
    reporter: str
    partner: str
    flow: str
    periods: tuple[str, ...]  # "2025", "2024-09" or a range "2023-01/2023-09"
    values_usd: tuple[float, ...]
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    """A GE scenario of the case (`models.ge`): lift or impose an embargo, blocs, remove or add an agreement."""

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
        """(the scenario on the countries in `have`, the bloc members left out). A blocs scenario
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
    """A case file, read and checked (`load_case`)."""

    id: str
    title: str
    countries: tuple[str, str]
    events: tuple[Event, ...]
    claims: tuple[Claim, ...] = ()
    intermediaries: tuple[str, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    path: Path | None = field(default=None, compare=False)
    groups: dict[str, groups.Group] = field(default_factory=dict)
    basket_file: str | None = None  # as written in the case file; `basket()` finds and reads it
    basket_name: str | None = None
    currency: str = "USD"

    def basket(self, override: str | Path | None = None) -> Basket | None:
        """The case's basket (or the file given instead); None when neither names one."""
        if override is not None:
            return load_basket(override)
        if self.basket_file is None:
            return None
        beside = self.path.parent / self.basket_file if self.path is not None else None
        path = beside if beside is not None and beside.is_file() else Path(self.basket_file)
        if not path.is_file():
            raise InputError(f"the basket file {self.basket_file} is not here; give its path with --basket FILE", path=self.path)
        return load_basket(path, self.basket_name)

    def expand(self, codes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Countries for codes that may name groups (a group stands for all its members)."""
        out: list[str] = []
        for c in codes:
            g = groups.resolve(c, self.groups)
            out += list(g.all_countries()) if g else [c]
        return tuple(dict.fromkeys(out))

    @property
    def main_event(self) -> Event:
        """The full embargo if there is one, else the first event."""
        return next((e for e in self.events if e.kind == "embargo"), self.events[0])

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario with this id."""
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise InputError(f"no scenario {scenario_id!r} in the case; it has {', '.join(s.id for s in self.scenarios)}", path=self.path)


def load_case(path: str | Path) -> Case:
    """Read and check a case file (TOML); errors name the file and the entry."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path) from None
    return parse_case(doc, path)


def parse_case(doc: dict[str, Any], path: Path | None = None) -> Case:
    """Check a case document (parsed TOML); `path` is for the messages."""
    def fail(where: str, reason: str) -> InputError:
        return InputError(f"{where}: {reason}", path=path)

    defined = groups.parse_groups(doc.get("groups", {}))

    def code(value: Any, where: str) -> str:
        if not isinstance(value, str) or groups.unknown([value], defined):
            raise fail(where, f"unknown country code {value!r} (ISO 3166 alpha-3, EU27 or a group of the case)")
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
        if date is None:
            raise fail(f"{where}.date", "missing")
        try:  # a year or a month alone means its first day, as on the command line
            date = parse_event(date)
        except InputError:
            raise fail(f"{where}.date", f"not a date: {date!r} (2024, 2024-05 or 2024-05-02)") from None
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
    basket = doc.get("basket", {})
    if not isinstance(basket, dict) or ("file" in basket and not isinstance(basket["file"], str)):
        raise fail("basket", 'expected file = "codes.csv" (and optionally name = "...")')
    currency = str(head.get("currency", "USD")).upper()
    if currency not in schema.CURRENCIES:
        raise fail("case.currency", f"{currency!r} is not one of {', '.join(schema.CURRENCIES)}")
    return Case(str(head.get("id", "case")), str(head.get("title", "")), pair_codes, tuple(events),
                tuple(claims), inter, tuple(scenarios), path, defined, basket.get("file"), basket.get("name"), currency)


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


TOLERANCE = 0.10  # a claim holds when the data are within 10% of it
CLAIM_COLUMNS = {
    "claim": "the claim's text", "source": "who made it", "period": "'2025', '2024-09' or a range '2023-01/2023-09'",
    "claimed_usd": "the figure claimed", "data_usd": "the store's figure (a country's own report), NaN without data",
    "difference_pct": "data over claimed, minus 1, %", "verdict": "holds (within 10%), differs or no data",
}


@dataclass(frozen=True)
class ClaimsResult(Result):
    """Each figure of a case's claims against the store: one row per claim and period."""

    COLUMNS: ClassVar[dict[str, str]] = CLAIM_COLUMNS
    FIGURE: ClassVar[str] = ""

    case: str
    rows: pd.DataFrame
    provenance: Provenance

    def to_frame(self) -> pd.DataFrame:
        """One row per claim and period (`COLUMNS`)."""
        return self.rows.copy()

    def to_dict(self) -> dict[str, Any]:
        """The case and its rows."""
        return {"case": self.case, "claims": records(self.rows), "provenance": self.provenance.to_dict()}

    def summary(self) -> str:
        """How many figures hold."""
        counts = self.rows.verdict.str.split(" ").str[0].value_counts()
        return f"{self.case}: {len(self.rows)} claimed figure(s): " + ", ".join(f"{n} {v}" for v, n in counts.items())

    def plot(self):
        """Claims are a table: there is no figure."""
        raise NotImplementedError("claims are a table (to_frame); there is no figure")


def check_claims(store: Store | str | Path, case: Case | str | Path) -> ClaimsResult:
    """Each figure of the case's claims against the store: holds (within 10%), differs (by how much), or no data.

    The store's figure is the claim's reporter's own report (no BACI) of the flow with the partner,
    read by the query layer's rule at the coarsest product level: a year from annual rows, else
    from months summed into a complete year; a month or a range of months from monthly rows.
    """
    from entrepot.store import query as q

    case = case if isinstance(case, Case) else load_case(case)

    @q.reads_store
    def run(st: Store) -> ClaimsResult:
        rows, read = [], set()
        for claim in case.claims:
            for period, value in zip(claim.periods, claim.values_usd, strict=True):
                found, picked = _claimed_value(st, claim, period)
                if picked is not None:
                    read.add(picked)
                diff = None if found is None or not value else found / value - 1
                verdict = ("no data" if found is None else "holds" if diff is not None and abs(diff) <= TOLERANCE
                           else "differs" if diff is None else f"differs by {diff:+.0%}")
                rows.append({"claim": claim.text, "source": claim.source, "period": period, "claimed_usd": value,
                             "data_usd": found, "difference_pct": None if diff is None else 100 * diff, "verdict": verdict})
        return ClaimsResult(case.id, pd.DataFrame(rows, columns=list(CLAIM_COLUMNS)), q.provenance(st, read))

    return run(store)


def _claimed_value(store: Store, claim: Claim, period: str) -> tuple[float | None, Choice | None]:
    """The store's value for a claim's reporter, partner, flow and period, and the rows read (`query.Choice`)."""
    from entrepot.store import query as q

    start, _, end = period.partition("/")
    end = end or start
    freq = "A" if len(start) == 4 else "M"
    picked = q.choose(store, claim.reporter, claim.flow, freq, "total", partners=[claim.partner], source="reported")
    if picked is None:
        return None, None
    rows = q.series(store, picked, claim.partner, None)
    inside = rows[(rows.period >= start) & (rows.period <= end)]
    return (None, picked) if inside.empty else (float(inside.value.sum()), picked)
