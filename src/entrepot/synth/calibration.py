"""The magnitudes of a synthetic world: GDP-like masses, gravity distances and the world's total.

No maintained package ships GDP, so a country's mass is its GeoNames population times an income
per head: the typical GDP per head of its UN M49 sub-region (country-converter's `UNregion`), about
the World Bank's 2022 figures rounded, times a seeded log-normal spread. Distances follow the
gravity literature: great-circle km between capitals, never less than either country's internal
distance 0.67·sqrt(area/π) (Head and Mayer 2002), which keeps neighbouring capitals (Jerusalem and
Ramallah, 10 km) from inflating the gravity term. The world's exports before the event are world
merchandise exports (WTO: USD 24.9 tn in 2022) times the chosen countries' share of the world's
expected GDP. docs/synth.md lists the figures and the ranges tests/synth checks them against.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from entrepot import geo

WORLD_EXPORTS_USD = 24.9e12  # world merchandise exports in 2022 (WTO, World Trade Statistical Review 2023)
DISTANCE_ELASTICITY = 1.0  # Head and Mayer (2014), Disdier and Head (2008): about -0.9 to -1
INCOME_SPREAD = 0.6  # log-normal sigma of income per head around its sub-region's level
INTERNAL_DISTANCE = 0.67  # Head and Mayer (2002): d_ii = 0.67 * sqrt(area / pi)

# GDP per head (USD, 2022, rounded) typical of each UN M49 sub-region (World Bank WDI regional figures).
INCOME_PER_HEAD = {
    "Northern America": 70_000, "Australia and New Zealand": 60_000, "Western Europe": 50_000,
    "Northern Europe": 50_000, "Southern Europe": 30_000, "Eastern Europe": 13_000, "Eastern Asia": 15_000,
    "Western Asia": 14_000, "South-eastern Asia": 5_000, "Central Asia": 5_000, "Southern Asia": 2_500,
    "Northern Africa": 4_000, "Southern Africa": 6_000, "Western Africa": 1_800, "Eastern Africa": 1_200,
    "Middle Africa": 2_000, "South America": 9_000, "Central America": 8_000, "Caribbean": 10_000,
    "Melanesia": 3_000, "Micronesia": 4_000, "Polynesia": 5_000,
}
DEFAULT_INCOME = 5_000  # a sub-region not in the table


@lru_cache(maxsize=1)
def _region_of() -> dict[str, str]:
    import country_converter as coco

    data = coco.CountryConverter().data
    return dict(zip(data["ISO3"], data["UNregion"].astype(str), strict=True))


def income_level(iso3: str) -> float:
    """The typical GDP per head (USD) of the country's sub-region, before the seeded spread."""
    return float(INCOME_PER_HEAD.get(_region_of().get(iso3, ""), DEFAULT_INCOME))


def masses(countries: list[geo.Country], rng: np.random.Generator) -> np.ndarray:
    """GDP-like masses (USD): population times the sub-region's income per head times a log-normal draw."""
    level = np.array([c.population * income_level(c.iso3) for c in countries], dtype=float)
    return level * np.exp(rng.normal(0, INCOME_SPREAD, len(countries)))


def world_share(countries: list[geo.Country]) -> float:
    """The chosen countries' share of every GeoNames country's expected GDP (no spread)."""
    every = geo.all_countries()
    total = sum(c.population * income_level(c.iso3) for c in every)
    return sum(c.population * income_level(c.iso3) for c in countries) / total


def distances(countries: list[geo.Country]) -> np.ndarray:
    """km between capitals, floored at the larger internal distance; the diagonal is the internal one."""
    dist = geo.distances(countries)
    internal = INTERNAL_DISTANCE * np.sqrt(np.array([c.area_km2 for c in countries]) / np.pi)
    dist = np.maximum(dist, np.maximum.outer(internal, internal))
    np.fill_diagonal(dist, np.maximum(internal, 10.0))
    return dist


BORDER = np.exp(-1.6)  # a border divides trade by about 5 (Anderson and van Wincoop 2003 find 5-10)


def gravity_terms(size: np.ndarray, dist: np.ndarray, rounds: int = 200) -> np.ndarray:
    """Structural gravity (Anderson and van Wincoop 2003): Y_i Y_j φ_ij / (Π_i P_j), φ = border / DIST.

    The multilateral resistances Π and P are solved by fixed point with every country's home sales
    (its internal distance, no border) in the system, so a rich country among rich neighbours does not
    trade as if each were its only market. The diagonal is home sales; the caller keeps i != j.
    """
    phi = dist ** -DISTANCE_ELASTICITY * np.where(np.eye(len(size), dtype=bool), 1.0, BORDER)
    share = size / size.sum()
    outward = np.ones(len(size))
    for _ in range(rounds):
        inward = phi.T @ (share / outward)  # P_j
        new = phi @ (share / inward)  # Π_i
        if np.allclose(new, outward, rtol=1e-10):
            break
        outward = new
    inward = phi.T @ (share / outward)
    return size[:, None] * size[None, :] * phi / (outward[:, None] * inward[None, :])
