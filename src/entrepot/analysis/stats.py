"""The statistics `effect` and `reroute` share: bootstrap draws, the empirical null, Holm's procedure.

- `draws`: a bootstrap over units (products, product groups) as multinomial counts, so a resampled
  sum is one matrix product (`counts @ values`);
- `empirical_null_p`: one-sided p-values of z-scores against their own cross-section (Efron 2004),
  since most candidates reroute nothing;
- `holm`: Holm's step-down procedure, which keeps the chance of any false rejection below alpha.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

MIN_NULL = 10  # the empirical null needs this many tested z-scores; fewer: the standard normal


def draws(n_units: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples of `n_units` units: (size, n_units) counts, each row summing to n_units."""
    return rng.multinomial(n_units, np.full(n_units, 1 / n_units), size=size)


def row_median(values: np.ndarray) -> np.ndarray:
    """The median of each row's non-NaN values (NaN for a row with none): `np.nanmedian(values, axis=1)`, number
    for number, in one sort rather than a Python loop over the rows."""
    ordered = np.sort(values, axis=1)  # NaNs last
    n = (~np.isnan(values)).sum(1)
    rows = np.arange(len(values))
    low, high = ordered[rows, np.maximum(n - 1, 0) // 2], ordered[rows, np.maximum(n, 1) // 2]
    return np.where(n > 0, np.where(n % 2 == 1, low, (low + high) / 2), np.nan)


def empirical_null_p(z: np.ndarray, active: np.ndarray) -> np.ndarray:
    """One-sided p-values of `z` against the cross-section of the `active` ones (1 where inactive).

    The null is centred at their median z and scaled by their robust spread (1.4826 MAD), never
    narrower than the standard normal; with fewer than MIN_NULL active, the standard normal.
    """
    ref = z[active]
    centre, spread = 0.0, 1.0
    if len(ref) >= MIN_NULL:
        centre = float(np.median(ref))
        spread = max(1.0, 1.4826 * float(np.median(np.abs(ref - centre))))
    return np.where(active, stats.norm.sf((z - centre) / spread), 1.0)


def holm(p: np.ndarray, alpha: float) -> np.ndarray:
    """Which hypotheses Holm's procedure rejects at family-wise error rate `alpha`."""
    order = np.argsort(p)
    m = len(p)
    passed = np.zeros(m, dtype=bool)
    for rank, k in enumerate(order):
        if p[k] > alpha / (m - rank):
            break
        passed[k] = True
    return passed
