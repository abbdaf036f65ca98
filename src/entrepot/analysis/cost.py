"""The extra cost of a detour A -> C -> B against the direct route A -> B.

Distances: sea routes from searoute between capitals (snapped to the sea-lane network) where the
countries do not share a border, roads (great-circle times a circuity factor) where they do.
Freight and handling per tonne come from a parameter table (src/entrepot/data/cost_params.toml,
replaceable). The unit-value markup between the legs is observed in the data when a store is given.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from entrepot import geo
from entrepot.analysis.flows import check_country
from entrepot.errors import InputError

PARAMS = ("sea_usd_per_tkm", "road_usd_per_tkm", "road_circuity", "transshipment_usd_per_t", "insurance_pct")


def load_params(path: str | Path | None = None) -> dict[str, float]:
    source = Path(path) if path else resources.files("entrepot.data").joinpath("cost_params.toml")
    try:
        doc = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read cost parameters: {exc}", path=str(source)) from None
    missing = [k for k in PARAMS if k not in doc]
    if missing:
        raise InputError(f"cost parameters lack {', '.join(missing)}", path=str(source))
    return {k: float(doc[k]) for k in PARAMS}


def _place(code: str) -> geo.Country:
    by = {c.iso3: c for c in geo.all_countries()}
    if code not in by:
        raise InputError(f"no coordinates for {code}")
    return by[code]


def leg(a: str, b: str, params: dict[str, float]) -> tuple[float, str, float]:
    """(km, mode, freight USD per tonne) for one leg."""
    pa, pb = _place(a), _place(b)
    if b in pa.neighbours:
        km = _great_circle(pa, pb) * params["road_circuity"]
        return km, "road", km * params["road_usd_per_tkm"]
    import searoute

    km = float(searoute.searoute([pa.lon, pa.lat], [pb.lon, pb.lat])["properties"]["length"])
    return km, "sea", km * params["sea_usd_per_tkm"]


def _great_circle(a: geo.Country, b: geo.Country) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass
class CostResult:
    exporter: str
    importer: str
    table: pd.DataFrame  # one row per intermediary
    params: dict[str, float]

    @property
    def total_extra_cost_usd(self) -> float:
        return float(self.table["extra_cost_usd"].fillna(0).sum())

    def to_dict(self) -> dict[str, Any]:
        return {"exporter": self.exporter, "importer": self.importer, "params": self.params,
                "total_extra_cost_usd": self.total_extra_cost_usd,
                "intermediaries": self.table.astype(object).where(self.table.notna(), None).to_dict(orient="records")}


def detour_cost(exporter: str, importer: str, vias: list[str], params: dict[str, float] | None = None,
                volumes: dict[str, dict[str, float]] | None = None) -> CostResult:
    """Cost per tonne of each detour; with `volumes` ({via: {"value_usd", "tonnes", "markup_pct"}}) in total too."""
    a, b = check_country(exporter, "exporter"), check_country(importer, "importer")
    params = params or load_params()
    direct_km, direct_mode, direct_freight = leg(a, b, params)
    rows = []
    for via in vias:
        c = check_country(via, "intermediary")
        km1, mode1, f1 = leg(a, c, params)
        km2, mode2, f2 = leg(c, b, params)
        extra_per_t = f1 + f2 - direct_freight + params["transshipment_usd_per_t"]
        vol = (volumes or {}).get(c, {})
        value, tonnes = vol.get("value_usd"), vol.get("tonnes")
        markup = vol.get("markup_pct")
        extra = None
        if tonnes is not None and value is not None:
            extra = tonnes * extra_per_t + value * params["insurance_pct"] / 100 + value * (markup or 0) / 100
        rows.append({
            "country": c, "direct_km": direct_km, "direct_mode": direct_mode, "via_km": km1 + km2,
            "route": f"{a}-{c} {mode1}, {c}-{b} {mode2}", "extra_km": km1 + km2 - direct_km,
            "extra_freight_usd_per_t": f1 + f2 - direct_freight, "handling_usd_per_t": params["transshipment_usd_per_t"],
            "extra_usd_per_t": extra_per_t, "markup_pct": markup, "rerouted_value_usd": value, "tonnes": tonnes,
            "extra_cost_usd": extra,
        })
    return CostResult(a, b, pd.DataFrame(rows), params)


def volumes_from_reroute(result) -> dict[str, dict[str, float]]:
    """Rerouted value, tonnes (at the first leg's unit value) and markup per flagged intermediary."""
    out = {}
    for r in result.candidates[result.candidates.significant].itertuples():
        tonnes = r.rerouted_value_usd / r.usd_per_t if r.usd_per_t > 0 else None
        out[r.country] = {"value_usd": r.rerouted_value_usd, "tonnes": tonnes, "markup_pct": r.markup_pct}
    return out
