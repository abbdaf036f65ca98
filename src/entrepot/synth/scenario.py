"""Scenario: the parameters of a synthetic world, read from TOML or built in code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from entrepot.errors import InputError


@dataclass(frozen=True)
class Route:
    """Part of the embargoed flow that goes exporter -> via -> importer."""

    via: str
    share: float  # of the flow the embargo stopped
    lag_months: int = 1
    markup: float = 0.05  # unit-value markup on the second leg
    extra_cost_usd_per_t: float = 60.0  # extra freight and handling of the detour (truth only)


ENTREPOTS = ("ARE", "SGP", "HKG", "NLD", "BEL", "PAN", "MYS")  # hubs, in this order (`Decoys.hubs`)


@dataclass(frozen=True)
class Decoys:
    """Confounders: trade that moves without rerouting (docs/synth.md). Counts are countries; each class's
    strength has its own field (`every()` is mild, `strong()` strong enough to pass the two-leg route test)."""

    outside_boom: int = 0  # both legs boom after the event, mostly in products outside the pair's basket
    demand_boom: int = 0  # the candidate's imports of the basket's products rise from every origin
    diversion: int = 0  # the importer buys from suppliers that make the goods: leg 2 rises, leg 1 does not
    deflection: int = 0  # A sells C what B stopped buying and C's own producers sell B the same: both legs, no transit
    hubs: int = 0  # entrepôts trading everything with everyone before the event, growing after it
    price_shock: int = 0  # both legs' unit values rise after the event, quantities flat
    gaps: int = 0  # missing reporter-years (BACI falls back on the partner) or runs of months (Comtrade)
    hs_change: str | None = None  # YYYY-MM: reporters switch from HS2017 to HS2022 codes (real splits, merges)
    onset_months: int = 0  # routes build up linearly over this many months after the event
    second_event: dt.date | None = None  # part of the embargo lifted on this date
    second_event_share: float = 0.5  # of the stopped flow that goes direct again from the second event
    hs_relabel: float = 0.0  # share of each route's second leg declared under another HS6 of the same HS4
    route_boom: int = 0  # the first N routes' countries also boom: all their trade with A and with B grows (Armenia after 2022)
    # Strengths, per class:
    boom_size: float = 0.15  # an outside boom's new flows on each leg, as a share of the pair's yearly direct flow
    boom_in_basket: float | None = None  # the share of them in the basket's products, in the pair's mix (None: 2 of 8 products)
    demand_growth: tuple[float, float] = (0.3, 0.8)  # a demand boom's growth of the basket's imports, U(low, high)
    diversion_size: float = 0.15  # a diversion's sales to the importer, as a share of the stopped flow
    hub_growth: tuple[float, float] = (0.1, 0.3)  # growth of a hub's trade from the event, U(low, high)
    hub_basket_growth: float = 0.0  # a hub's extra growth in the basket's products, both ways (its entrepôt trade in them)
    price_rise: tuple[float, float] = (0.3, 0.6)  # rise of the basket's unit values on both legs, U(low, high)
    basket_focus: float = 1.0  # demand booms, hubs' basket growth, price shocks: the basket's largest products, this share of it
    route_boom_growth: tuple[float, float] = (0.2, 0.5)  # growth of a route_boom country's trade with A and B, U(low, high)

    STRENGTHS: ClassVar[tuple[str, ...]] = ("boom_size", "boom_in_basket", "demand_growth", "diversion_size", "hub_growth",
                                            "hub_basket_growth", "price_rise", "basket_focus", "second_event_share",
                                            "route_boom_growth")

    @classmethod
    def every(cls, second_event: dt.date | None = dt.date(2025, 4, 1)) -> Decoys:
        """Every class at once, at the mild default strengths."""
        return cls(2, 2, 2, 2, 2, 2, 3, "2023-01", 6, second_event, 0.5, 0.3, route_boom=2)

    @classmethod
    def strong(cls, second_event: dt.date | None = dt.date(2025, 4, 1)) -> Decoys:
        """Every class at once, each strong enough that its decoys pass the plain two-leg route test
        (without the decoy tests) in most worlds: what a naive analyst would take for rerouting."""
        return dataclasses.replace(cls.every(second_event), boom_size=0.6, boom_in_basket=0.3, demand_growth=(1.0, 1.5),
                                   diversion_size=0.3, hub_growth=(0.2, 0.4), hub_basket_growth=0.3, price_rise=(0.8, 1.2),
                                   basket_focus=0.5, route_boom_growth=(0.6, 1.0))

    @property
    def active(self) -> list[str]:
        """The classes switched on."""
        off = Decoys()
        return [f.name for f in dataclasses.fields(self) if f.name not in self.STRENGTHS
                and getattr(self, f.name) != getattr(off, f.name)]

    @property
    def strengths(self) -> dict[str, Any]:
        """Each class's strength, for truth.json."""
        return {name: list(v) if isinstance(v := getattr(self, name), tuple) else v for name in self.STRENGTHS}


@dataclass(frozen=True)
class Embargo:
    """A further embargo in the same world (issue 17: a whole-world screen must find several)."""

    exporter: str
    importer: str
    date: dt.date
    pair_exports_usd: tuple[float, float] = (2.0e9, 1.0e9)  # yearly direct flows before it (A->B, B->A)
    both_directions: bool = True
    leak_share: float = 0.02
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Scenario:
    seed: int = 7
    n_countries: int = 100
    n_products: int = 120
    start: str = "2019-01"
    end: str = "2025-12"
    exporter: str = "TUR"
    importer: str = "ISR"
    both_directions: bool = True
    restriction_date: dt.date | None = dt.date(2024, 4, 9)
    restricted_share: float = 0.35  # share of the pair's products covered by the first restriction
    embargo_date: dt.date = dt.date(2024, 5, 2)
    leak_share: float = 0.02  # of the stopped flow that still goes directly
    routes: tuple[Route, ...] = (
        Route("GRC", 0.14, 1, 0.06, 55.0),
        Route("BGR", 0.10, 1, 0.05, 70.0),
        Route("GEO", 0.08, 2, 0.08, 95.0),
        Route("AZE", 0.06, 2, 0.07, 110.0),
        Route("ALB", 0.05, 1, 0.06, 65.0),
    )
    relabel_country: str | None = "PSE"
    relabel_share: float = 0.20
    controls: int = 6  # other countries reporting monthly to Comtrade, besides the case's
    density: float = 0.05  # share of exporter-importer-product cells with trade
    churn: float = 0.0  # chance that a smaller-than-median cell has no trade in a given year
    reporting_noise: float = 0.04
    nonreporting_share: float = 0.10  # countries not reporting to Comtrade (never the case's)
    pair_exports_usd: tuple[float, float] = (7.0e9, 2.0e9)  # yearly direct flows before the event (A->B, B->A)
    decoys: Decoys = Decoys()
    embargoes: tuple[Embargo, ...] = ()  # more embargoes beside the main one, each with its routes
    concordance: str | None = None  # directory of UNSD's HS correspondence workbooks (`hs_change`)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Scenario:
        return load_scenario(resources.files("entrepot.data").joinpath("scenarios/turkey-israel.toml"))

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)

    @property
    def focus(self) -> list[str]:
        out = [self.exporter, self.importer] + [r.via for r in self.routes]
        out += [self.relabel_country] if self.relabel_country else []
        for e in self.embargoes:
            out += [e.exporter, e.importer] + [r.via for r in e.routes]
        return out + self.hubs(out)

    def hubs(self, taken: list[str] | None = None) -> list[str]:
        """The hub decoys: the first `decoys.hubs` entrepôts that play no other part in the case."""
        if taken is None:
            taken = self.focus[: len(self.focus) - self.decoys.hubs] if self.decoys.hubs else self.focus
        return [h for h in ENTREPOTS if h not in taken][: self.decoys.hubs]


def load_scenario(path: str | Path | Any) -> Scenario:
    """A scenario from TOML: `[world]`, `[embargo]`, `[[routes]]`, `[relabel]` tables (docs/synth.md)."""
    try:
        text = path.read_text(encoding="utf-8") if hasattr(path, "read_text") else Path(path).read_text(encoding="utf-8")
        doc = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the scenario: {exc}", path=str(path)) from None
    known = {f.name for f in dataclasses.fields(Scenario)}
    values: dict[str, Any] = {}
    for table in ("world", "embargo", "reporting"):
        for key, value in doc.get(table, {}).items():
            if key not in known:
                raise InputError(f"[{table}] {key}: unknown parameter", path=str(path))
            values[key] = tuple(value) if isinstance(value, list) else value
    if "routes" in doc:
        values["routes"] = tuple(Route(**r) for r in doc["routes"])
    if "decoys" in doc:
        known_decoys = {f.name for f in dataclasses.fields(Decoys)}
        bad = sorted(set(doc["decoys"]) - known_decoys)
        if bad:
            raise InputError(f"[decoys] {bad[0]}: unknown parameter", path=str(path))
        decoys = {k: tuple(v) if isinstance(v, list) else v for k, v in doc["decoys"].items()}
        if isinstance(decoys.get("second_event"), str):
            decoys["second_event"] = _date(decoys["second_event"], "[decoys] second_event", path)
        values["decoys"] = Decoys(**decoys)
    for k, e in enumerate(doc.get("embargoes", [])):
        where = f"[[embargoes]] {k + 1}"
        try:
            values.setdefault("embargoes", ())
            values["embargoes"] += (Embargo(
                e["exporter"], e["importer"], _date(e["date"], f"{where} date", path),
                tuple(e.get("pair_exports_usd", (2.0e9, 1.0e9))), bool(e.get("both_directions", True)),
                float(e.get("leak_share", 0.02)), tuple(Route(**r) for r in e.get("routes", []))),)
        except (KeyError, TypeError) as exc:
            raise InputError(f"{where}: {exc}", path=str(path)) from None
    if "relabel" in doc:
        values["relabel_country"] = doc["relabel"].get("country")
        values["relabel_share"] = float(doc["relabel"].get("share", 0.0))
    for key in ("restriction_date", "embargo_date"):
        if isinstance(values.get(key), str):
            values[key] = _date(values[key], key, path)
    scenario = Scenario(**values)
    if sum(r.share for r in scenario.routes) + scenario.relabel_share + scenario.leak_share > 1:
        raise InputError("route shares, relabel share and leak share add up to more than 1", path=str(path))
    return scenario


def _date(value: Any, where: str, path: Any) -> dt.date:
    from entrepot.analysis.window import parse_event

    try:
        return parse_event(value)
    except InputError:
        raise InputError(f"{where}: not a date: {value!r}", path=str(path)) from None


def random_embargoes(scn: Scenario, count: int, seed: int | None = None) -> tuple[Embargo, ...]:
    """`count` further embargoes of different sizes and dates, each with 1-3 routes (issue 17's screen).

    Pairs and routes are drawn among the world's most populous countries that play no part in the
    case; dates fall on a month's first day, at least two years into the window and a year before its end.
    """
    import numpy as np
    import pandas as pd

    from entrepot import geo

    rng = np.random.default_rng([scn.seed if seed is None else seed, 17])
    taken = set(scn.focus)
    pool = [c.iso3 for c in geo.all_countries()[: scn.n_countries] if c.iso3 not in taken]
    months = pd.period_range(scn.start, scn.end, freq="M")[24:-12]
    if count * 5 > len(pool) or len(months) == 0:
        raise InputError(f"no room for {count} more embargoes in a world of {scn.n_countries} countries, {scn.start}..{scn.end}")
    picked = [str(c) for c in rng.permutation(pool)]
    out = []
    for _ in range(count):
        a, b = picked.pop(), picked.pop()
        vias = [picked.pop() for _ in range(int(rng.integers(1, 4)))]
        shares = rng.dirichlet(np.ones(len(vias))) * rng.uniform(0.2, 0.5)
        size = float(np.exp(rng.uniform(np.log(0.5e9), np.log(10e9))))
        when = months[int(rng.integers(len(months)))].to_timestamp().date()
        out.append(Embargo(a, b, when, (size, size * float(rng.uniform(0.2, 1.0))),
                           routes=tuple(Route(v, float(s), int(rng.integers(0, 3)), float(rng.uniform(0, 0.1)))
                                        for v, s in zip(vias, shares, strict=True))))
    return tuple(out)
