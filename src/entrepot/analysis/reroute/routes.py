"""The route test: both legs of every candidate, what went through it, and the ranking.

A candidate is flagged when both legs show excess (p = max of the legs' p-values against the
empirical null, an intersection-union test), it passes Holm's procedure over all candidates, and it
carries at least `min_share` of the drop. Its rerouted value is both legs' value-fit betas,
weighted by precision (leg 2 net of the unit-value markup and of B's CIF/FOB factor on its
records, at A's FOB prices as leg 1 is), times the drop; its interval a bootstrap
over products. A placebo runs the same test between the two halves of the pre-event window.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from entrepot.analysis import stats
from entrepot.analysis.reroute.data import Data
from entrepot.analysis.reroute.legs import (
    MIN_PRODUCTS,
    NEW_CODE,
    Leg,
    drop_by_product,
    excess,
    expected_direct,
    legs,
    markup,
    product_draws,
    ratio,
    tonnes_drop,
    trend,
)
from entrepot.analysis.reroute.result import HELD_BACK, REASONS

MIN_OVERLAP = 2 / 3  # a route's excess beyond C's own growth in the basket is at least twice its outside excess, both legs summed
MATERIAL = 0.08  # C's excess outside the basket on both legs, as a share of the drop, that is a boom whatever its test says
MIN_TONNES = 0.5  # the quantity test needs tonnes for this share of the drop
BASKET_DROP = 0.25  # the basket: the products A -> B lost at least a quarter of
OWN_CODE = 0.5  # a heading-matched code rising from A at least this share of its rise to B is C's own trade in it


@dataclass(frozen=True)
class Routes:
    """The route test's outcome: one row per candidate in `table` (sorted by evidence), and the totals."""

    table: pd.DataFrame
    direct_drop_usd: float  # over the post-event periods
    pre_direct_usd: float  # per period, before the event
    rerouted_value_usd: float  # through the flagged candidates
    notes: tuple[str, ...]


def find_routes(data: Data, alpha: float, seed: int, min_share: float) -> Routes:
    """Test both legs of every candidate, estimate what went through it, and rank them."""
    C = len(data.countries)
    quantity_p = _quantity(data, drop_by_product(data, data.ab))
    data = headings(data)
    draws = product_draws(len(data.products), seed)
    drop = drop_by_product(data, data.ab)
    leg1, leg2 = legs(data, [0, 1], 2, drop, draws, outside=~basket(data))
    n_post = len(data.window.post_t)
    p1, p2 = stats.empirical_null_p(leg1.z, leg1.active), stats.empirical_null_p(leg2.z, leg2.active)
    p_joint = np.maximum(p1, p2)
    up = markup(data, drop)
    # Rerouted share: both legs' betas, weighted by precision, leg 2 at A's FOB prices as leg 1 is: net of the markup
    # and, where leg 2 is B's CIF records, of B's CIF/FOB factor with C (`Data.cb_cif`).
    back = (1 + up) * (1.0 if data.cb_cif is None else data.cb_cif)
    b2, s2 = leg2.value.beta / back, leg2.value.se / back
    w1, w2 = 1 / np.maximum(leg1.value.se, 1e-12) ** 2, 1 / np.maximum(s2, 1e-12) ** 2
    share = np.clip((w1 * leg1.value.beta + w2 * b2) / (w1 + w2), 0.0, None)
    boot_share = np.clip((w1[:, None] * leg1.boot + w2[:, None] * leg2.boot / back[:, None]) / (w1 + w2)[:, None], 0.0, None)
    total_drop = float(drop.sum())
    rerouted = share * total_drop * n_post
    passed = stats.holm(p_joint, alpha)
    route_test = passed & (share >= min_share)
    placebo = _placebo(data, drop)
    top = np.minimum(leg1.excess, leg2.excess)
    top_products = [[data.products[k] for k in np.argsort(-top[c])[:5] if top[c, k] > 0] for c in range(C)]
    outside_p, overlap, outside_share = _outside(data, drop, leg1, leg2)
    demand = _own_demand(data, drop)
    boom = ((outside_p < alpha) | (outside_share >= MATERIAL)) & (overlap < MIN_OVERLAP)
    price = np.isfinite(quantity_p) & (quantity_p >= alpha)
    significant = route_test & ~boom & ~price
    reason = np.select(
        [significant, route_test & boom, route_test & price, passed & ~route_test, (p1 < alpha) & (p2 >= alpha),
         (p2 < alpha) & (p1 >= alpha)],
        list(REASONS)[:-1], list(REASONS)[-1])
    uv = ratio((drop * (data.ac_t[2] > 0)).sum(1), (drop * ratio(data.ac_t[2], data.ac[2], 0.0)).sum(1), np.nan)
    table = pd.DataFrame({
        "country": data.countries, "score": -np.log10(np.clip(p_joint, 1e-300, 1)), "significant": significant,
        "rerouted_value_usd": rerouted, "rerouted_share": share,
        "ci_low": np.percentile(boot_share, 2.5, axis=1) * total_drop * n_post,
        "ci_high": np.percentile(boot_share, 97.5, axis=1) * total_drop * n_post, "p_value": p_joint,
        **excess("leg1", leg1, total_drop * n_post), "leg1_p": p1, **excess("leg2", leg2, total_drop * n_post), "leg2_p": p2,
        "markup_pct": up * 100, "unit_value_usd_per_t": uv, "basket_overlap": overlap, "outside_share": outside_share, "outside_p": outside_p,
        "quantity_p": quantity_p, "own_demand_growth": demand, "placebo_p": placebo, "reason": reason,
        "top_products": top_products,
    }).sort_values(["significant", "score", "rerouted_value_usd"], ascending=False, ignore_index=True)
    notes = []
    pre_trend = table.significant & (table.placebo_p < alpha)
    if pre_trend.any():
        notes.append(f"pre-trend or anticipation: the placebo test within the pre-event window is also significant for"
                     f" {', '.join(table.country[pre_trend])} (trade already moving before the event: an earlier restriction?)")
    for why in HELD_BACK:
        held = table.country[table.reason == why]
        if len(held):
            notes.append(f"not flagged although both legs carry excess in the basket's mix: {', '.join(held)} ({why})")
    pre_direct = data.mean(data.ab, [0, 1]) * (1 if data.in_basket is None else data.in_basket)  # the basket's, with one
    return Routes(table, total_drop * n_post, float(pre_direct.sum()), float(rerouted[significant].sum()), tuple(notes))


def _placebo(data: Data, drop: np.ndarray) -> np.ndarray:
    """Pre-trend check: did the dropped products already grow on either leg between the two halves of
    the pre-event window? The same test, min of the legs' p-values."""
    leg1, leg2 = legs(data, [0], 1, drop, None)
    return np.minimum(stats.empirical_null_p(leg1.z, leg1.active), stats.empirical_null_p(leg2.z, leg2.active))


def _outside(data: Data, drop: np.ndarray, leg1: Leg, leg2: Leg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """C's general boom: its excess outside the basket beyond its own growth there, tested, and the basket's part.

    A triple difference within each candidate. On each leg C's own growth outside the basket is the median
    growth of its existing trade there (over products, weighted by their value; `_own_growth`), so growth of
    C's existing trade with A or B, at whatever rate, is C's own and not excess; what it leaves outside the
    basket, in USD (new product lines, goods growing beyond C's rate), is C's outside excess. A median, since
    a few new lines must not set the rate that then explains them away (a weighted mean would); and over at
    least MIN_PRODUCTS lines, since the median of one line is its own change. Below that, C's own growth is the
    leg's value fit's tau where that is a rise, else the counterfactual's: a pair whose trade is nearly all in
    the basket (a big buyer of A's goods, one or two lines outside) and grew as a whole (Armenia's with Russia)
    shows that growth in its many basket lines, and its outside lines share it. A fall is not netted: lines that
    merely held up while C's basket trade fell would read as a boom.

    `outside_p` tests that excess on both legs' products pooled: their summed residual over its own spread (a
    t-statistic of the total, self-normalised, so judged against the normal; the boom's own products count in
    the spread, which makes it conservative), where each leg has MIN_PRODUCTS products outside the basket.
    `basket_overlap` is the basket's excess (the value fit's beta times the drop, refitted without what new
    lines bring beyond their product's drop) over that plus the outside excess, both legs' summed in USD: the
    share of C's excess with A and B that lies in the basket; 1 where neither leg has any. Summed, not the
    larger leg's: a boom whose basket part is large on one leg (leg 1's own outside lines noisy, as a big
    partner's are) and small on the other is still mostly outside the basket, and a route is mostly inside on both.
    `outside_share` is the outside excess as a share of the drop, the smaller leg's: a boom in a few new
    product lines gives the test little power (their own residuals set its spread), and one worth MATERIAL
    of the drop on both legs is material whatever the test says, however few the lines (a sum in USD, not a
    test: a pair trading nearly every product leaves a boom two or three lines).

    The outside excess is at least C's new lines outside the basket net of the lines that vanished there (the
    extensive margin, which churn nets to about 0): on a big partner the noise or fall of its existing lines, billions a
    year, would otherwise offset a boom's new lines in the sum (`outside_share` near or below 0). The test (`outside_p`)
    keeps the plain sum.

    A route carries at most what the embargo stopped of a good: in a basket product C did not trade on the leg before
    (a new line, no own growth to net), what it brings beyond the product's drop (listed in a basket given or not) is not
    the basket's goods rerouted and counts with the outside excess, in `outside_share` and `basket_overlap` (not in
    `outside_p`): an outside good that an HS revision merges into a basket code (HS 2022's 381600 took 251830) booms in
    the basket's code, at many times what the embargo stopped of it.
    """
    keep = ~basket(data)
    ones = np.ones(len(data.countries))
    if not keep.any() or keep.all():
        return ones, ones, ones * 0.0
    total, variance, counts, inside, excess_all, outs = 0.0, 0.0, [], 0.0, 0.0, []
    stopped = drop if data.in_basket is None else drop_by_product(dataclasses.replace(data, in_basket=None), data.ab)
    for leg in (leg1, leg2):
        resid = np.where(keep, leg.y - _own_growth(leg.x, leg.y, keep, np.clip(leg.value.tau, 0.0, None))[:, None] * leg.x, 0.0)
        n = (keep & ((leg.x > 0) | (leg.y != 0))).sum(1)
        lines = np.where(keep & (leg.x == 0), leg.y, 0.0) - np.where(keep & (leg.x > 0) & (leg.y + leg.x <= 0), leg.x, 0.0)
        out = np.maximum(resid.sum(1), lines.sum(1))  # at least its new lines net of vanished ones
        over = np.where(~keep & (leg.x == 0), np.clip(leg.y - stopped, 0, None), 0.0)
        beyond = over.sum(1)
        outs.append(ratio(out + beyond, drop.sum(), 0.0))
        total, variance = total + resid.sum(1), variance + (resid**2).sum(1) * ratio(n, n - 1, 1.0)
        counts.append(n)
        capped = trend(leg.value, leg.x, np.broadcast_to(drop, leg.x.shape), leg.y - over, np.broadcast_to(keep, leg.x.shape)).beta
        basket_part = np.clip(capped * drop.sum(), 0, None)
        inside, excess_all = inside + basket_part, excess_all + basket_part + np.clip(out, 0, None) + beyond
    active = (counts[0] >= MIN_PRODUCTS) & (counts[1] >= MIN_PRODUCTS)
    p = np.where(active, norm.sf(ratio(total, np.sqrt(variance), 0.0)), 1.0)
    return p, ratio(inside, excess_all, 1.0), np.minimum(*outs)


def _own_growth(x: np.ndarray, y: np.ndarray, keep: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each candidate's (rows) median growth y / x over the `keep` products it traded before (x > 0), weighted by
    x; with fewer than MIN_PRODUCTS of them, whose median is their own change (a boom in the one line C already
    traded would set the rate that explains it away), `fallback` (C,) instead."""
    out = np.array(fallback, dtype=float)
    for c in range(len(x)):
        has = keep & (x[c] > 0)
        if has.sum() >= MIN_PRODUCTS:
            g, w = y[c, has] / x[c, has], x[c, has]
            order = np.argsort(g)
            out[c] = g[order][np.searchsorted(np.cumsum(w[order]), w.sum() / 2)]
    return out


def headings(data: Data) -> Data:
    """Codes of the basket's headings that A -> B did not trade, matched to the basket's code of their HS4.

    Goods relabelled on a leg to a neighbouring HS6 code of the same heading leave the basket's mix; a
    customs analyst matches them within the heading. Each code A -> B did not trade before the event (no
    drop of its own) in a heading that holds basket codes joins the heading's basket code with the largest
    drop. The basket's codes stay apart (the test's power is in their number), and so do the codes A -> B
    still trades outside the basket, whose growth stays outside it (the out-of-basket placebo).

    Per candidate: relabelling changes a good's code between the legs (it comes in from A under the
    basket's code, leaves for B under the neighbour), so a neighbouring code whose rise from A is at least
    OWN_CODE of its rise to B (the same code in from A and out to B) is C's own trade in that code and stays
    apart for C (`_apart`); only a code that rises on the leg to B alone is read as relabelled basket goods.
    """
    data = revisions(data)
    drop = drop_by_product(data, data.ab)
    inside, traded = basket(data), data.mean(data.ab, [0, 1]) > 0
    head: dict[str, str] = {}
    for k in np.argsort(-drop, kind="stable"):
        if inside[k]:
            head.setdefault(data.products[k][:4], data.products[k])
    key = [p if inside[k] or traded[k] else head.get(p[:4], p) for k, p in enumerate(data.products)]
    matched = np.array([k != p for k, p in zip(key, data.products, strict=True)])
    rise_from_a, rise_to_b = (arr[2] - data.mean(arr, [0, 1]) for arr in (data.ac, data.cb))
    own = matched & (rise_to_b > 0) & (rise_from_a >= OWN_CODE * rise_to_b)  # (C, P)
    if not own.any():
        return data.merge(key)
    apart = own.any(0)
    return _apart(data, key, own, apart).merge([p if apart[k] else c for k, (p, c) in enumerate(zip(data.products, key, strict=True))])


def _apart(data: Data, key: list[str], own: np.ndarray, apart: np.ndarray) -> Data:
    """The flows with each `apart` code moved into its `key`'s code for the candidates it is not `own` to (C, P):
    what the heading match does for them; A -> B's moves whole, and the world's is copied (the matched code's
    world trade sets its growth, the code's own sets the growth of the candidates keeping it)."""
    target = {k: data.products.index(key[k]) for k in np.flatnonzero(apart)}

    def by_candidate(arr: np.ndarray) -> np.ndarray:
        arr = arr.copy()
        for k, t in target.items():
            moves = ~own[:, k]
            arr[:, moves, t] += arr[:, moves, k]
            arr[:, moves, k] = 0.0
        return arr

    def whole(arr: np.ndarray | None, keep: bool = False) -> np.ndarray | None:
        if arr is None:
            return None
        arr = arr.copy()
        for k, t in target.items():
            arr[:, t] += arr[:, k]
            arr[:, k] = arr[:, k] if keep else 0.0
        return arr

    dec = data.declared
    if dec is not None:
        dec = dataclasses.replace(dec, to_b=whole(dec.to_b), b_records=whole(dec.b_records), recorded=by_candidate(dec.recorded))
    return dataclasses.replace(data, ab=whole(data.ab), ab_t=whole(data.ab_t), world=whole(data.world, keep=True), declared=dec,
                               **{f: by_candidate(getattr(data, f)) for f in ("ac", "ac_t", "cb", "cb_t", "c_rest", "c_imports")})


def revisions(data: Data) -> Data:
    """Codes an HS revision inside the window replaced, matched within their HS4 heading.

    A code nobody trades after the event and a code with little trade early in the window (less than
    NEW_CODE of its late pre-event trade: it started inside the window), in the same heading, are the
    two ends of a recoding (a split or a merge of the revision): left apart, the old
    code's world growth is zero, so its drop vanishes, and the new code's growth is inflated. In each
    heading holding both kinds, they become one product, named by the old code with the most trade.
    A heading where only one kind shows (a product that stops, or a new one) is left alone.

    A revision moves each code's trade to the codes that replace it, so A -> B's codes (traded in some
    phase) continue in A -> B's codes: where both sides of a heading (the codes A -> B trades and those
    it does not) hold both kinds, each side is matched on its own, so a recoding of goods A never sold B
    does not join the basket; otherwise the heading is matched whole (A -> B's old code may have no new
    one when the embargo stopped it before the revision).
    """
    trade = data.world + data.ab + data.ac.sum(1) + data.cb.sum(1)
    gone, new = (trade[0] + trade[1] > 0) & (trade[2] == 0), (trade[0] < NEW_CODE * trade[1]) & (trade[2] > 0)
    side = data.ab.sum(0) > 0
    ends = {(p[:4], bool(s), kind) for p, s, g, n in zip(data.products, side, gone, new, strict=True)
            for kind, has in (("gone", g), ("new", n)) if has}
    split = {h for h, s, _ in ends if all({(h, t, "gone"), (h, t, "new")} <= ends for t in (True, False))}
    group = [(p[:4], bool(s)) if p[:4] in split else (p[:4], None) for p, s in zip(data.products, side, strict=True)]
    size = trade.sum(0)
    old: dict[tuple, str] = {}
    for k in np.argsort(-size, kind="stable"):
        if gone[k]:
            old.setdefault(group[k], data.products[k])
    has_new = {g for g, n in zip(group, new, strict=True) if n}
    key = [old[h] if (g or n) and h in old and h in has_new else p
           for p, h, g, n in zip(data.products, group, gone, new, strict=True)]
    return data.merge(key)


def basket(data: Data) -> np.ndarray:
    """The embargoed basket: the products whose drop is at least BASKET_DROP of their expected A -> B
    flow, and those of a basket given (`data.in_basket`): what lies outside neither fell nor is listed,
    so rerouting of goods the list left out does not pass for a boom outside it."""
    expected = expected_direct(data, data.ab)
    lost = np.maximum(expected - data.ab[2], 0.0)
    found = (lost > 0) & (lost >= BASKET_DROP * expected)
    return found if data.in_basket is None else found | data.in_basket


def _quantity(data: Data, drop: np.ndarray) -> np.ndarray:
    """The route test in tonnes (max of the legs' p-values), NaN where it cannot run: no tonnes for
    MIN_TONNES of the drop, or too few products with tonnes on a leg. A price rise lifts values, not tonnes."""
    nan = np.full(len(data.countries), np.nan)
    dt = tonnes_drop(data, drop)
    if (drop * (dt > 0)).sum() < MIN_TONNES * drop.sum() or not drop.sum():
        return nan
    q1, q2 = legs(data, [0, 1], 2, dt, None, tonnes=True)
    p = np.maximum(stats.empirical_null_p(q1.z, q1.active), stats.empirical_null_p(q2.z, q2.active))
    return np.where(q1.active & q2.active, p, np.nan)


def _own_demand(data: Data, drop: np.ndarray) -> np.ndarray:
    """Growth of C's imports of the basket's products from everyone but A, beyond the world's growth
    (weighted by value): a demand boom lifts leg 1 from every origin, rerouting from A alone."""
    world = ratio(data.world[2], data.mean(data.world, [0, 1]))
    mask = basket(data)
    before = (data.mean(data.c_imports, [0, 1]) * world * mask).sum(1)
    return ratio((data.c_imports[2] * mask).sum(1), before, np.nan) - 1
