"""A synthetic world's parameters: sizes, years, the embargo, rerouting routes and relabelling."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from entrepot.errors import InputError


@dataclass(frozen=True)
class Route:
    """A share of the embargoed flow that goes A -> `country` -> B instead, `lag_months` later."""

    country: str
    share: float
    lag_months: int = 1
    markup: float = 0.05  # unit-value markup on the C -> B leg (C's FOB over A's FOB)
    transport_cost: float = 0.03  # extra freight and insurance on the C -> B leg, as a share of its value


@dataclass(frozen=True)
class Scenario:
    """Everything `generate` needs; frozen, so variations go through `dataclasses.replace`."""

    seed: int = 2024
    n_countries: int = 150
    n_products: int = 300
    first_year: int = 2015
    last_year: int = 2025
    frequency: str = "both"  # "A", "M" or "both": which Comtrade files to write
    detail_from: int = 2022  # first year written to Comtrade files (BACI covers every year)
    exporter: str = "TUR"
    importer: str = "ISR"
    both_directions: bool = True
    restriction_date: str = "2024-04-09"
    restricted_products: tuple[str, ...] = ("25", "27", "31", "39", "72", "73", "84", "85")  # HS prefixes
    embargo_date: str = "2024-05-02"
    leak_share: float = 0.02  # share of the embargoed flow still shipped directly
    routes: tuple[Route, ...] = field(default_factory=tuple)
    relabel_country: str | None = "PSE"
    relabel_share: float = 0.0
    pair_values: tuple[float, float] = (7.0e9, 2.0e9)  # A->B and B->A in the base year 2022, USD
    non_reporters: tuple[str, ...] = ("PSE",)
    suppressed_share: float = 0.01  # HS6 lines a reporter withholds as confidential
    noise_sd: float = 0.05  # log-noise of each side's declared value
    include_at_usd: float = 6e7  # sparsity: a pair-product worth v is traded with probability 1 - exp(-v / this)

    def __post_init__(self) -> None:
        if self.frequency not in ("A", "M", "both"):
            raise InputError(f"frequency must be A, M or both, not {self.frequency!r}")
        if self.first_year > self.last_year:
            raise InputError("first_year is after last_year")
        total = sum(r.share for r in self.routes) + self.relabel_share
        if any(r.share < 0 for r in self.routes) or total > 1 + 1e-9:
            raise InputError(f"route and relabel shares must be >= 0 and add up to at most 1 (got {total:g})")
        if any(r.lag_months < 0 for r in self.routes):
            raise InputError("route lag_months must be >= 0")
        if not 0 <= self.leak_share <= 1:
            raise InputError("leak_share must be between 0 and 1")

    @property
    def countries(self) -> tuple[str, ...]:
        """The scenario's own countries: the pair, the intermediaries and the relabelling country."""
        extra = [r.country for r in self.routes] + ([self.relabel_country] if self.relabel_country else [])
        return tuple(dict.fromkeys([self.exporter, self.importer, *extra]))

    @classmethod
    def default(cls) -> Scenario:
        """The Türkiye-Israel case: restrictions 9 April 2024, full embargo 2 May 2024."""
        ref = resources.files("entrepot.data") / "scenarios" / "turkey-israel.toml"
        with resources.as_file(ref) as path:
            return load_scenario(path)


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML (see docs/synth.md); unknown keys are an error."""
    path = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read scenario: {exc}", path=path) from exc
    data = data.get("scenario", data)
    known = {f.name for f in fields(Scenario)}
    if unknown := set(data) - known:
        raise InputError(f"unknown scenario keys: {', '.join(sorted(unknown))}", path=path)
    try:
        routes = tuple(Route(**r) for r in data.pop("routes", []))
    except TypeError as exc:
        raise InputError(f"bad route: {exc}", path=path) from exc
    tuples = {k: tuple(v) for k, v in data.items() if isinstance(v, list)}
    return Scenario(**(data | tuples), routes=routes)
