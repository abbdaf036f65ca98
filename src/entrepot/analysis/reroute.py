"""Where did the embargoed trade go? Rank third countries by evidence of rerouting A -> C -> B.

For each candidate C, in the products A sold to B before the event (the embargoed basket):
- leg 1: A's exports to C after the event beyond their counterfactual (pre-event level times the
  growth of A's exports of the same product to everyone else): a difference-in-differences by product;
- leg 2: C's exports to B beyond their counterfactual (pre-event level times the growth of C's
  exports of the product to everyone but B).
Each leg's excess is scaled by the flow it grew from (relative excess growth). Whole country pairs
grow faster or slower for reasons of their own, so the noise is measured across countries: the
robust spread (median absolute deviation) of every candidate's relative excess, plus each
candidate's own sampling error from a bootstrap over products. The legs are combined by
gatekeeping: leg 2 (new sales to B, the sharper signal) must pass Holm's procedure over all
candidates, which keeps the chance of flagging any country without excess sales to B below
`alpha`; leg 1 (extra purchases from A) must then confirm at `alpha`, which screens out suppliers
that B merely switched to. The reported p-value is max(p1, p2). The rerouted value through C is min(leg 1 excess, leg 2 excess / (1 + markup)) with the
markup from unit values. A placebo (the same test one year earlier) checks pre-trends.
All sums run in DuckDB; the statistics are vectorised numpy over the candidate x product matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from entrepot.analysis.flows import check_country
from entrepot.analysis.window import Window, make_window, parse_event
from entrepot.errors import InputError
from entrepot.store import Store

BOOTSTRAP = 400


@dataclass
class RerouteResult:
    exporter: str
    importer: str
    window: Window
    source: str
    direct_drop_usd: float
    pre_direct_usd: float  # per year, before the event
    rerouted_value_usd: float
    candidates: pd.DataFrame  # one row per candidate, sorted by score
    alpha: float
    reverse: RerouteResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def post_years(self) -> int:
        return len(self.window.post)

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.candidates.itertuples():
            rows.append({
                "country": r.country, "score": r.score, "significant": bool(r.significant),
                "rerouted_value_usd": r.rerouted_value_usd, "ci": [r.ci_low, r.ci_high], "p_value": r.p_value,
                "leg1_excess_usd": r.leg1_excess, "leg1_ci": [r.leg1_low, r.leg1_high], "leg1_p": r.leg1_p,
                "leg2_excess_usd": r.leg2_excess, "leg2_ci": [r.leg2_low, r.leg2_high], "leg2_p": r.leg2_p,
                "markup_pct": r.markup_pct, "unit_value_usd_per_t": r.usd_per_t, "basket_overlap": r.overlap, "placebo_p": r.placebo_p,
                "top_products": list(r.top_products),
            })
        out = {
            "exporter": self.exporter, "importer": self.importer, "event": self.window.event.isoformat(),
            "window": self.window.to_dict(), "source": self.source,
            "pre_event_direct_usd_per_year": self.pre_direct_usd,
            "direct_drop_usd": self.direct_drop_usd, "rerouted_value_usd": self.rerouted_value_usd,
            "rerouted_share_of_pre_event": self.rerouted_value_usd / (self.pre_direct_usd * self.post_years) if self.pre_direct_usd else None,
            "alpha": self.alpha, "intermediaries": rows, "notes": self.notes,
        }
        if self.reverse is not None:
            out["reverse"] = self.reverse.to_dict()
        return out


def _source(store: Store) -> str:
    """BACI (one reconciled figure for every pair) when the store has it, else exporters' reports."""
    has_baci = store.con.execute("SELECT count(*) FROM flows WHERE source = 'baci' LIMIT 1").fetchone()[0]
    return "baci" if has_baci else "reported"


def scan(store: Store, exporter: str, importer: str, event: str, candidates: list[str] | None = None,
         alpha: float = 0.05, both: bool = False, seed: int = 0) -> RerouteResult:
    a, b = check_country(exporter, "exporter"), check_country(importer, "importer")
    when = parse_event(event)
    cands = [check_country(c, "candidate") for c in candidates] if candidates else None
    result = _scan(store, a, b, when, cands, alpha, seed)
    if both:
        result.reverse = _scan(store, b, a, when, cands, alpha, seed)
    return result


def _scan(store, a, b, when, candidates, alpha, seed) -> RerouteResult:
    source = _source(store)
    src = "source = 'baci'" if source == "baci" else "source <> 'baci' AND flow = 'export'"
    base = f"flow = 'export' AND product_level = 6 AND partner_is_country AND {src}"
    years = [str(y) for (y,) in store.con.execute(f"SELECT DISTINCT year FROM flows WHERE {base} AND reporter = ?", [a]).fetchall()]
    if not years:
        raise InputError(f"no product-level exports of {a} in the store")
    window = make_window(years, "A", when)
    pre, post = [int(y) for y in window.pre], [int(y) for y in window.post]
    # Per product: pre/post yearly means of A->B, A->C, A->all, C->B, C->all, for every C.
    sql = f"""
    WITH f AS (
        SELECT year, reporter AS i, partner AS j, product AS p, sum(value_usd) AS v, sum(quantity) AS q
        FROM flows WHERE {base} AND year IN ({','.join(map(str, pre + post))}) AND reporter <> partner
        GROUP BY ALL
    ),
    basket AS (SELECT DISTINCT p FROM f WHERE i = $a AND j = $b AND year IN ({','.join(map(str, pre))}) AND v > 0),
    g AS (
        SELECT i, j, p, year IN ({','.join(map(str, post))}) AS after, v, q FROM f WHERE p IN (SELECT p FROM basket)
    )
    SELECT i, j, p, after, sum(v) AS v, sum(q) AS q FROM g GROUP BY ALL
    """
    flows = store.con.execute(sql, {"a": a, "b": b}).df()
    if flows.empty or not ((flows.i == a) & (flows.j == b)).any():
        raise InputError(f"no trade from {a} to {b} before the event: nothing to reroute")
    n_pre, n_post = len(pre), len(post)
    flows["v"] = flows["v"] / np.where(flows["after"], n_post, n_pre)
    flows["q"] = flows["q"] / np.where(flows["after"], n_post, n_pre)
    products = sorted(flows["p"].unique())
    pidx = {p: k for k, p in enumerate(products)}
    countries = sorted((set(flows["i"]) | set(flows["j"])) - {a, b})
    if candidates is not None:
        missing = [c for c in candidates if c not in countries]
        if missing:
            raise InputError(f"candidates with no trade in the basket: {', '.join(missing)}")
        countries = candidates
    cidx = {c: k for k, c in enumerate(countries)}
    nC, nP = len(countries), len(products)

    def cube(frame: pd.DataFrame, by: str, value: str = "v") -> np.ndarray:
        """(after, candidate, product) array of `value` for rows keyed by candidate column `by`."""
        out = np.zeros((2, nC, nP))
        frame = frame[frame[by].isin(cidx)]
        np.add.at(out, (frame["after"].astype(int).to_numpy(), frame[by].map(cidx).to_numpy(), frame["p"].map(pidx).to_numpy()), frame[value].to_numpy())
        return out

    def vec(frame: pd.DataFrame, value: str = "v") -> np.ndarray:
        out = np.zeros((2, nP))
        np.add.at(out, (frame["after"].astype(int).to_numpy(), frame["p"].map(pidx).to_numpy()), frame[value].to_numpy())
        return out

    from_a = flows[flows.i == a]
    a_to_c, a_to_c_q = cube(from_a, "j"), cube(from_a, "j", "q")
    a_all = vec(from_a[from_a.j != b])
    a_b = vec(from_a[from_a.j == b])
    to_b = flows[flows.j == b]
    c_to_b, c_to_b_q = cube(to_b, "i"), cube(to_b, "i", "q")
    c_all = cube(flows[flows.j != b], "i")

    # Leg 1: A -> C beyond A's growth to others (excluding C itself); leg 2: C -> B beyond C's growth elsewhere.
    others_a = a_all[None, :, :] - a_to_c.transpose(1, 0, 2)  # (C, after, P)
    growth_a = _ratio(others_a[:, 1], others_a[:, 0])
    leg1 = a_to_c[1] - a_to_c[0] * growth_a
    growth_c = _ratio(c_all[1], c_all[0])  # c_all: C's exports to everyone but B
    leg2 = c_to_b[1] - c_to_b[0] * growth_c
    # Direct: A -> B beyond A's growth elsewhere.
    growth_direct = _ratio(a_all[1], a_all[0])
    expected_direct = a_b[0] * growth_direct
    direct_drop = float(expected_direct.sum() - a_b[1].sum()) * n_post

    rng = np.random.default_rng(seed)
    weights = rng.multinomial(nP, np.full(nP, 1 / nP), size=BOOTSTRAP).astype(float)  # (R, P)
    boot1, boot2 = leg1 @ weights.T, leg2 @ weights.T  # (C, R)
    e1, e2 = leg1.sum(axis=1), leg2.sum(axis=1)
    base1 = a_to_c[0].sum(1) + 0.01 * a_all[0].sum() / max(nC, 1)
    base2 = c_to_b[0].sum(1) + 0.01 * c_all[0].sum(1)
    p1 = _p_cross_section(e1, base1, a_to_c[0].sum(1) > 0)
    p2 = _p_cross_section(e2, base2, c_to_b[0].sum(1) > 0)
    uv1 = _ratio(a_to_c[1].sum(1), a_to_c_q[1].sum(1))
    uv2 = _ratio(c_to_b[1].sum(1), c_to_b_q[1].sum(1))
    markup = np.clip(np.where((uv1 > 0) & (uv2 > 0), uv2 / np.where(uv1 > 0, uv1, 1) - 1, 0.0), 0.0, 1.0)
    rerouted = np.maximum(np.minimum(e1, e2 / (1 + markup)), 0) * n_post
    boot_r = np.maximum(np.minimum(boot1, boot2 / (1 + markup)[:, None]), 0) * n_post
    p_joint = np.maximum(p1, p2)
    significant = _holm(p2, alpha) & (p1 < alpha) & (rerouted > 0)
    overlap = (c_to_b[1] > 0).sum(axis=1) / max(nP, 1)
    placebo = _placebo(store, base, a, b, window, countries, products) if len(pre) >= 2 else np.full(nC, np.nan)
    top = [[products[k] for k in np.argsort(-np.minimum(leg1[c], leg2[c]))[:5] if min(leg1[c, k], leg2[c, k]) > 0] for c in range(nC)]
    table = pd.DataFrame({
        "country": countries, "score": -np.log10(np.clip(p_joint, 1e-300, 1)),
        "significant": significant, "rerouted_value_usd": rerouted,
        "ci_low": np.percentile(boot_r, 2.5, axis=1), "ci_high": np.percentile(boot_r, 97.5, axis=1), "p_value": p_joint,
        "leg1_excess": e1 * n_post, "leg1_low": np.percentile(boot1, 2.5, axis=1) * n_post, "leg1_high": np.percentile(boot1, 97.5, axis=1) * n_post, "leg1_p": p1,
        "leg2_excess": e2 * n_post, "leg2_low": np.percentile(boot2, 2.5, axis=1) * n_post, "leg2_high": np.percentile(boot2, 97.5, axis=1) * n_post, "leg2_p": p2,
        "markup_pct": markup * 100, "usd_per_t": uv1 * (1.0 if source == "baci" else 1000.0), "overlap": overlap, "placebo_p": placebo, "top_products": top,
    }).sort_values(["significant", "score", "rerouted_value_usd"], ascending=False, ignore_index=True)
    notes = []
    if np.any(significant & (placebo < alpha)):
        flagged = table.loc[table.significant & (table.placebo_p < alpha), "country"].tolist()
        notes.append(f"pre-trend: the placebo test one year earlier is also significant for {', '.join(flagged)}")
    return RerouteResult(a, b, window, source, direct_drop, float(a_b[0].sum()), float(rerouted[significant].sum()),
                         table, alpha, notes=notes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 1.0)


def _p_cross_section(excess: np.ndarray, base: np.ndarray, active: np.ndarray) -> np.ndarray:
    """One-sided p-values of relative excess growth against the spread across countries.

    z = (excess/base - median) / (1.4826 MAD): the median and MAD over all candidates stand for
    what country pairs do without rerouting (their own trends and shocks). The bootstrap over
    products measures the estimate's precision (its CI), not the null: under rerouting, resampling
    the few products that carry it inflates the spread.
    """
    rel = excess / base
    ref = rel[active] if active.sum() >= 10 else rel
    centre = float(np.median(ref))
    spread = 1.4826 * float(np.median(np.abs(ref - centre))) if active.sum() >= 10 else 0.25
    z = (rel - centre) / max(spread, 0.02)
    return stats.norm.sf(z)


def _holm(p: np.ndarray, alpha: float) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    passed = np.zeros(m, dtype=bool)
    for rank, k in enumerate(order):
        if p[k] > alpha / (m - rank):
            break
        passed[k] = True
    return passed


def _placebo(store, base, a, b, window, countries, products) -> np.ndarray:
    """Leg-1 p-values with a fake event between the last two pre-event years (pre-trend check)."""
    y0, y1 = int(window.pre[-2]), int(window.pre[-1])
    frame = store.con.execute(f"""
        SELECT partner AS j, product AS p, year = {y1} AS after, sum(value_usd) AS v FROM flows
        WHERE {base} AND reporter = ? AND year IN ({y0}, {y1}) AND product IN (SELECT unnest(?)) GROUP BY ALL
    """, [a, products]).df()
    pidx = {p: k for k, p in enumerate(products)}
    cidx = {c: k for k, c in enumerate(countries)}
    cube = np.zeros((2, len(countries), len(products)))
    allv = np.zeros((2, len(products)))
    np.add.at(allv, (frame["after"].astype(int), frame["p"].map(pidx)), frame["v"])
    sub = frame[frame.j.isin(cidx)]
    np.add.at(cube, (sub["after"].astype(int), sub["j"].map(cidx), sub["p"].map(pidx)), sub["v"])
    others = allv[None] - cube.transpose(1, 0, 2)
    excess = cube[1] - cube[0] * _ratio(others[:, 1], others[:, 0])
    base = cube[0].sum(1) + 0.01 * allv[0].sum() / max(len(countries), 1)
    return _p_cross_section(excess.sum(1), base, cube[0].sum(1) > 0)
