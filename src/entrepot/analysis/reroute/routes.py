"""The route test: both legs of every candidate, what went through it, and the ranking.

A candidate is flagged when both legs show excess (p = max of the legs' p-values against the
empirical null, an intersection-union test), it passes Holm's procedure over all candidates, and it
carries at least `min_share` of the drop. Its rerouted value is both legs' value-fit betas,
weighted by precision (leg 2 net of the unit-value markup), times the drop; its interval a bootstrap
over products. A placebo runs the same test between the two halves of the pre-event window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from entrepot.analysis import stats
from entrepot.analysis.reroute.data import Data
from entrepot.analysis.reroute.legs import drop_by_product, excess, legs, markup, product_draws, ratio


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
    draws = product_draws(len(data.products), seed)
    drop = drop_by_product(data, data.ab)
    leg1, leg2 = legs(data, [0, 1], 2, drop, draws)
    n_post = len(data.window.post_t)
    p1, p2 = stats.empirical_null_p(leg1.z, leg1.active), stats.empirical_null_p(leg2.z, leg2.active)
    p_joint = np.maximum(p1, p2)
    up = markup(data, drop)
    # Rerouted share: both legs' betas, weighted by precision (leg 2 net of the markup).
    b2, s2 = leg2.value.beta / (1 + up), leg2.value.se / (1 + up)
    w1, w2 = 1 / np.maximum(leg1.value.se, 1e-12) ** 2, 1 / np.maximum(s2, 1e-12) ** 2
    share = np.clip((w1 * leg1.value.beta + w2 * b2) / (w1 + w2), 0.0, None)
    boot_share = np.clip((w1[:, None] * leg1.boot + w2[:, None] * leg2.boot / (1 + up)[:, None]) / (w1 + w2)[:, None], 0.0, None)
    total_drop = float(drop.sum())
    rerouted = share * total_drop * n_post
    significant = stats.holm(p_joint, alpha) & (share >= min_share)
    placebo = _placebo(data, drop, draws)
    top = np.minimum(leg1.excess, leg2.excess)
    top_products = [[data.products[k] for k in np.argsort(-top[c])[:5] if top[c, k] > 0] for c in range(C)]
    overlap = ((data.cb[2] > 0) * drop).sum(1) / max(total_drop, 1e-12)
    uv = ratio((drop * (data.ac_t[2] > 0)).sum(1), (drop * ratio(data.ac_t[2], data.ac[2], 0.0)).sum(1), np.nan)
    table = pd.DataFrame({
        "country": data.countries, "score": -np.log10(np.clip(p_joint, 1e-300, 1)), "significant": significant,
        "rerouted_value_usd": rerouted, "rerouted_share": share,
        "ci_low": np.percentile(boot_share, 2.5, axis=1) * total_drop * n_post,
        "ci_high": np.percentile(boot_share, 97.5, axis=1) * total_drop * n_post, "p_value": p_joint,
        **excess("leg1", leg1, total_drop * n_post), "leg1_p": p1, **excess("leg2", leg2, total_drop * n_post), "leg2_p": p2,
        "markup_pct": up * 100, "unit_value_usd_per_t": uv, "basket_overlap": overlap, "placebo_p": placebo,
        "top_products": top_products,
    }).sort_values(["significant", "score", "rerouted_value_usd"], ascending=False, ignore_index=True)
    notes = []
    pre_trend = table.significant & (table.placebo_p < alpha)
    if pre_trend.any():
        notes.append(f"pre-trend or anticipation: the placebo test within the pre-event window is also significant for"
                     f" {', '.join(table.country[pre_trend])} (trade already moving before the event: an earlier restriction?)")
    return Routes(table, total_drop * n_post, float(data.mean(data.ab, [0, 1]).sum()), float(rerouted[significant].sum()), tuple(notes))


def _placebo(data: Data, drop: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Pre-trend check: did the dropped products already grow on either leg between the two halves of
    the pre-event window? The same test, min of the legs' p-values."""
    leg1, leg2 = legs(data, [0], 1, drop, draws)
    return np.minimum(stats.empirical_null_p(leg1.z, leg1.active), stats.empirical_null_p(leg2.z, leg2.active))
