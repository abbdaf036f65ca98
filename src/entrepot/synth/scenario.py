"""Scenario: the parameters of a synthetic world, read from TOML or built in code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from entrepot.errors import InputError


@dataclass(frozen=True)
class Route:
    """Part of the embargoed flow that goes exporter -> via -> importer."""

    via: str
    share: float  # of the flow the embargo stopped
    lag_months: int = 1
    markup: float = 0.05  # unit-value markup on the second leg
    extra_cost_usd_per_t: float = 60.0  # extra freight and handling of the detour (truth only)


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
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Scenario:
        return load_scenario(resources.files("entrepot.data").joinpath("scenarios/turkey-israel.toml"))

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)

    @property
    def focus(self) -> list[str]:
        out = [self.exporter, self.importer] + [r.via for r in self.routes]
        return out + ([self.relabel_country] if self.relabel_country else [])


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
    if "relabel" in doc:
        values["relabel_country"] = doc["relabel"].get("country")
        values["relabel_share"] = float(doc["relabel"].get("share", 0.0))
    for key in ("restriction_date", "embargo_date"):
        if isinstance(values.get(key), str):
            values[key] = dt.date.fromisoformat(values[key])
    scenario = Scenario(**values)
    if sum(r.share for r in scenario.routes) + scenario.relabel_share + scenario.leak_share > 1:
        raise InputError("route shares, relabel share and leak share add up to more than 1", path=str(path))
    return scenario
