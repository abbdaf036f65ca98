"""Generate a synthetic trade world with known truth (vectorised numpy; no loops over rows).

The physical world: monthly shipments (exporter, importer, HS6 product) from a gravity model with
sparse product baskets, heavy-tailed values, pair trends, seasonality and noise. Events act on it:
the embargo cuts the pair's direct flow (restricted products first, then everything, with a leak);
a share of what it stops goes exporter -> intermediary -> importer (with a lag and a unit-value
markup on the second leg); a share is declared to the relabelling country but lands in the
importer. The reporting layer then writes what customs would: exporters' FOB exports by declared
destination, importers' CIF imports by origin, with noise, CIF/FOB margins, non-reporters and
confidential values; BACI reconciles them as BACI does (importer's report first).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entrepot import geo, hs
from entrepot.errors import InputError
from entrepot.synth import calibration, decoys
from entrepot.synth.scenario import Scenario


@dataclass
class World:
    scenario: Scenario
    countries: list[geo.Country]
    products: pd.DataFrame  # code, chapter, weight, usd_per_kg
    months: pd.PeriodIndex
    exporter_reports: pd.DataFrame  # month, reporter, partner, product, value_usd (FOB), kg
    importer_reports: pd.DataFrame  # month, reporter, partner, product, value_usd (CIF), kg
    baci: pd.DataFrame  # year, exporter, importer, product, value_usd, tonnes
    gravity: pd.DataFrame  # exporter, importer, year, trade (incl. intra-national), covariates
    reporters: list[str]  # Comtrade reporters (monthly)
    truth: dict[str, Any] = field(default_factory=dict)

    def write(self, out_dir):
        from entrepot.synth.writers import write_world

        return write_world(self, out_dir)


def month_fraction_after(date: dt.date, months: pd.PeriodIndex) -> np.ndarray:
    """Share of each month on or after `date` (0 before its month, 1 after, the day share within)."""
    start = pd.Period(date, "M")
    frac = (months >= start).astype(float)
    inside = months == start
    days = start.days_in_month
    frac[inside] = (days - date.day + 1) / days
    return frac


def generate(scn: Scenario) -> World:
    rng = np.random.default_rng(scn.seed)
    cases = list(dict.fromkeys(scn.focus))
    countries = geo.pick(max(scn.n_countries, len(cases) + scn.controls), cases)
    codes = [c.iso3 for c in countries]
    n, P = len(countries), scn.n_products
    pos = {c: k for k, c in enumerate(codes)}
    A, B = pos[scn.exporter], pos[scn.importer]
    months = pd.period_range(scn.start, scn.end, freq="M")
    T = len(months)
    events = [_main_event(scn)] + [_extra_event(e) for e in scn.embargoes]
    for ev in events:
        if not (months[0] < pd.Period(ev["date"], "M") <= months[-1]):
            raise InputError(f"the embargo date {ev['date']} must fall inside {scn.start}..{scn.end}")

    # Sizes, distance, products, comparative advantage.
    size = calibration.masses(countries, rng)
    dist = calibration.distances(countries)
    nomenclature = hs.subheadings()
    product_codes = [nomenclature[k] for k in sorted(rng.choice(len(nomenclature), min(P, len(nomenclature)), replace=False))]
    P = len(product_codes)
    weight = np.exp(rng.normal(0, 1.3, P))
    usd_per_kg = np.exp(rng.normal(1.2, 1.1, P))
    season_amp, season_phase = rng.uniform(0, 0.3, P), rng.uniform(0, 12, P)
    advantage = np.exp(rng.normal(0, 1.0, (n, P)))
    advantage /= (advantage * weight).sum(axis=1, keepdims=True) / weight.sum()  # shifts output across products, adds none

    # Which cells trade, and at what level (annual USD before trends).
    expected = calibration.gravity_terms(size, dist)[:, :, None] * weight * advantage[:, None, :]
    expected[np.arange(n), np.arange(n), :] = 0.0
    threshold = np.quantile(expected, 1 - scn.density)
    prob = 1 - np.exp(-((expected / threshold) ** 0.7))
    exists = rng.random(expected.shape) < prob
    basket_draw = rng.random(P)
    exists[A, B, :] |= basket_draw < PAIR_BASKET  # the case's pair trades most products both ways
    exists[B, A, :] |= rng.random(P) < 0.6
    zoo = decoys.Zoo(scn, codes, product_codes, months)  # its own random stream: the world above is the same
    for ev in events[1:]:
        exists[pos[ev["exporter"]], pos[ev["importer"]], :] |= basket_draw < PAIR_BASKET
        exists[pos[ev["importer"]], pos[ev["exporter"]], :] |= basket_draw > 1 - PAIR_BASKET
    zoo.hub_cells(exists, expected, threshold)
    i, j, p = np.nonzero(exists)
    level = expected[i, j, p] * np.exp(rng.normal(0, 0.7, len(i)))

    # Monthly physical flows: pair trend, yearly shocks, seasonality, monthly noise.
    years = months.year.to_numpy()
    year_index = years - years[0]
    trend = rng.normal(0.03, 0.04, (n, n))[i, j]
    yearly = rng.normal(0, 0.08, (len(i), year_index.max() + 1))
    season = 1 + season_amp[p][None, :] * np.sin(2 * np.pi * (months.month.to_numpy()[:, None] - season_phase[p][None, :]) / 12)
    flows = (level / 12)[None, :] * np.exp(trend[None, :] * year_index[:, None] + yearly[:, year_index].T) * season
    flows *= np.exp(rng.normal(0, 0.15, flows.shape))
    if scn.churn > 0:  # the extensive margin: small flows come and go from year to year
        gone = (rng.random((len(i), year_index.max() + 1)) < scn.churn) & (level < np.median(level))[:, None]
        flows *= ~gone[:, year_index].T

    # Scale the world's exports in the year before the event to the chosen countries' share of world
    # exports (calibration.py), then calibrate each embargoed pair's direct flows to its yearly values.
    first = pd.Period(scn.restriction_date or scn.embargo_date, "M")
    before = (months < first) & (months >= first - 12)
    flows *= calibration.WORLD_EXPORTS_USD * calibration.world_share(countries) / flows[before].sum()
    for ev in events:
        a, b = pos[ev["exporter"]], pos[ev["importer"]]
        first_ev = pd.Period(ev["restriction_date"] or ev["date"], "M")
        before_ev = (months < first_ev) & (months >= first_ev - 12)
        for (x, y), target in zip(((a, b), (b, a)), ev["pair_exports_usd"], strict=True):
            sel = (i == x) & (j == y)
            flows[:, sel] *= target / flows[before_ev][:, sel].sum()

    # Decoys that move existing flows (booms, hubs growing, prices), before the embargo takes its cut.
    markup = np.zeros_like(flows)
    zoo.move_flows(flows, markup, i, j, p, A, B)

    # Events on the direct flow(s).
    extra_rows: list[pd.DataFrame] = [zoo.new_flows(flows, i, j, p, A, B, usd_per_kg)]
    truth_events = []
    for ev in events:
        a0, b0 = pos[ev["exporter"]], pos[ev["importer"]]
        directions = [(a0, b0)] + ([(b0, a0)] if ev["both_directions"] else [])
        embargo_frac = month_fraction_after(ev["date"], months)
        restrict_frac = month_fraction_after(ev["restriction_date"], months) if ev["restriction_date"] else np.zeros(T)
        lifted = zoo.lifted(months) if ev["main"] else np.zeros(T)
        truth_dirs = []
        for a, b in directions:
            sel = np.nonzero((i == a) & (j == b))[0]
            restricted = rng.random(len(sel)) < ev["restricted_share"]
            cut = np.maximum(embargo_frac[:, None], restrict_frac[:, None] * restricted[None, :]) * (1 - lifted)[:, None]
            base = flows[:, sel].copy()
            stopped = base * cut * (1 - ev["leak_share"])
            flows[:, sel] = base - stopped
            rows, truth = _divert(ev, stopped, months, p[sel], codes, a, b, usd_per_kg, product_codes, base, flows[:, sel], zoo)
            extra_rows.append(rows)
            truth_dirs.append(truth)
            if ev["main"] and (a, b) == (A, B):
                extra_rows.append(zoo.diversion_rows(stopped, p[sel], A, B))
        truth_events.append({"exporter": ev["exporter"], "importer": ev["importer"], "date": ev["date"].isoformat(),
                             "directions": truth_dirs})

    physical = pd.DataFrame({
        "t": np.repeat(np.arange(T), len(i)), "i": np.tile(i, T), "j_decl": np.tile(j, T), "j": np.tile(j, T),
        "p": np.tile(p, T), "value": flows.ravel(), "markup": markup.ravel(),
    })
    shipments = pd.concat([physical] + [r for r in extra_rows if r is not None and len(r)], ignore_index=True)
    shipments = shipments[shipments["value"] > 0]
    product_codes, usd_per_kg, weight = zoo.siblings_table(product_codes, usd_per_kg, weight)

    from entrepot.synth.report import build_reports

    reports = build_reports(scn, rng, shipments, codes, dist, usd_per_kg, product_codes, months, zoo)
    world = World(scn, countries, pd.DataFrame({"code": product_codes, "usd_per_kg": usd_per_kg, "weight": weight}),
                  months, *reports)
    world.truth = {
        "scenario": _jsonable(scn),
        "countries": codes,
        "event": scn.embargo_date.isoformat(),
        "restriction": scn.restriction_date.isoformat() if scn.restriction_date else None,
        "gdp_usd": {c: float(v) for c, v in zip(codes, size, strict=True)},
        "directions": truth_events[0]["directions"],
        "embargoes": truth_events,
        "decoys": zoo.truth,
    }
    return world


PAIR_BASKET = 0.8  # chance that an embargoed pair trades a product its gravity draw left out


def _main_event(scn: Scenario) -> dict[str, Any]:
    return {"exporter": scn.exporter, "importer": scn.importer, "date": scn.embargo_date,
            "restriction_date": scn.restriction_date, "restricted_share": scn.restricted_share,
            "both_directions": scn.both_directions, "leak_share": scn.leak_share, "routes": scn.routes,
            "relabel_country": scn.relabel_country, "relabel_share": scn.relabel_share,
            "pair_exports_usd": scn.pair_exports_usd, "main": True}


def _extra_event(e) -> dict[str, Any]:
    return {"exporter": e.exporter, "importer": e.importer, "date": e.date, "restriction_date": None,
            "restricted_share": 0.0, "both_directions": e.both_directions, "leak_share": e.leak_share,
            "routes": e.routes, "relabel_country": None, "relabel_share": 0.0,
            "pair_exports_usd": e.pair_exports_usd, "main": False}


def _divert(ev, stopped, months, prods, codes, a, b, usd_per_kg, product_codes, base, actual, zoo):
    """Shipments of what the embargo stopped: via intermediaries (two legs) and relabelled; and truth."""
    T, K = stopped.shape
    t_idx = np.repeat(np.arange(T), K)
    p_idx = np.tile(prods, T)
    pieces, inter = [], []
    pos = {c: k for k, c in enumerate(codes)}
    ramp = zoo.onset(months, ev["date"])[:, None]
    for route in ev["routes"]:
        c = pos[route.via]
        carried = stopped * route.share * ramp
        v = carried.ravel()
        leg1 = pd.DataFrame({"t": t_idx, "i": a, "j_decl": c, "j": c, "p": p_idx, "value": v, "markup": 0.0})
        leg2 = pd.DataFrame({"t": t_idx + route.lag_months, "i": c, "j_decl": b, "j": b, "p": p_idx,
                             "value": v * (1 + route.markup), "markup": route.markup})
        leg2 = zoo.relabel_hs(leg2[leg2["t"] < T], route.via)
        pieces += [leg1, leg2]
        per_month = carried.sum(axis=1)
        per_product = pd.Series(carried.sum(axis=0), index=[product_codes[q] for q in prods]).groupby(level=0).sum()
        tonnes = float((carried / usd_per_kg[prods][None, :]).sum() / 1000)
        inter.append({
            "country": route.via, "share": route.share, "lag_months": route.lag_months, "markup": route.markup,
            "extra_cost_usd_per_t": route.extra_cost_usd_per_t,
            "rerouted_value_usd": float(per_month.sum()), "rerouted_tonnes": tonnes,
            "extra_cost_usd": tonnes * route.extra_cost_usd_per_t,
            "by_period": {str(m): float(v) for m, v in zip(months, per_month, strict=True) if v > 0},
            "by_product": {k: float(v) for k, v in per_product.items() if v > 0},
        })
    relabelled = {}
    if ev["relabel_country"] and ev["relabel_share"] > 0:
        c = pos[ev["relabel_country"]]
        carried = stopped * ev["relabel_share"] * ramp
        pieces.append(pd.DataFrame({"t": t_idx, "i": a, "j_decl": c, "j": b, "p": p_idx, "value": carried.ravel(), "markup": 0.0}))
        per_month = carried.sum(axis=1)
        relabelled = {"country": ev["relabel_country"], "share": ev["relabel_share"], "value_usd": float(per_month.sum()),
                      "by_period": {str(m): float(v) for m, v in zip(months, per_month, strict=True) if v > 0}}
    event_month = pd.Period(ev["restriction_date"] or ev["date"], "M")
    pre = (months < event_month) & (months >= event_month - 12)
    post = months >= event_month
    post_years = post.sum() / 12
    pre_annual = float(base[pre].sum())
    rerouted = sum(x["rerouted_value_usd"] for x in inter)
    empty = pd.DataFrame({k: np.array([], dtype=int) for k in ("t", "i", "j_decl", "j", "p")} | {"value": [], "markup": []})
    return pd.concat(pieces or [empty], ignore_index=True), {
        "exporter": codes[a], "importer": codes[b],
        "pre_event_direct_usd_per_year": pre_annual,
        "direct_effect": {
            "counterfactual_usd": float(base[post].sum()), "actual_usd": float(actual[post].sum()),
            "drop_usd": float((base - actual)[post].sum()), "post_months": int(post.sum()),
            "drop_pct": float(-100 * (base - actual)[post].sum() / base[post].sum()),
        },
        "direct_by_period": {str(m): float(v) for m, v in zip(months, actual.sum(axis=1), strict=True)},
        "stopped_by_period": {str(m): float(v) for m, v in zip(months, stopped.sum(axis=1), strict=True) if v > 0},
        "basket": sorted({product_codes[q] for q in prods}),
        "intermediaries": inter,
        "rerouted_value_usd": rerouted,
        "rerouted_share_of_pre_event": rerouted / (pre_annual * post_years) if pre_annual else 0.0,
        "relabelled": relabelled,
        "leak_share": ev["leak_share"],
    }


def _jsonable(scn: Scenario) -> dict[str, Any]:
    import dataclasses
    import json

    return json.loads(json.dumps(dataclasses.asdict(scn), default=lambda o: o.isoformat()))
