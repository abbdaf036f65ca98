"""The statistics effect and reroute share (analysis/stats.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from entrepot.analysis import stats


def test_draws_resample_units_with_replacement() -> None:
    counts = stats.draws(7, 500, np.random.default_rng(0))
    assert counts.shape == (500, 7) and (counts.sum(1) == 7).all()
    assert counts.mean() == pytest.approx(1.0, rel=0.05)  # each unit once on average


def test_holm_steps_down_and_stops_at_the_first_failure() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert stats.holm(p, 0.05).tolist() == [True, False, False, True]  # 0.03 > 0.05/2 stops the steps
    assert stats.holm(np.array([0.2, 0.3]), 0.05).tolist() == [False, False]


def test_empirical_null_is_never_narrower_than_the_standard_normal() -> None:
    rng = np.random.default_rng(1)
    z = np.concatenate([rng.normal(2.0, 3.0, 200), [40.0]])  # a shifted, wide cross-section and one outlier
    active = np.ones(z.size, dtype=bool)
    p = stats.empirical_null_p(z, active)
    assert p[-1] < 1e-6 and 0.3 < np.median(p) < 0.7  # centred on the cross-section, not on 0
    narrow = stats.empirical_null_p(np.full(20, 1.0), np.ones(20, dtype=bool))
    assert narrow == pytest.approx(0.5)  # no spread: the standard normal around the median
    few = stats.empirical_null_p(np.array([3.0, 0.0]), np.array([True, False]))
    assert few[0] == pytest.approx(0.00135, abs=1e-4) and few[1] == 1.0  # too few: N(0, 1); inactive: 1


def test_row_median_is_nanmedian_number_for_number() -> None:
    """Huber's scale in the reroute fits: each row's median of its non-NaN values, as np.nanmedian gives it (NaN for none)."""
    rng = np.random.default_rng(0)
    for width in (1, 2, 3, 10, 501):
        values = rng.lognormal(size=(200, width))
        values[rng.random(values.shape) < 0.6] = np.nan
        values[0] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN row
            expected = np.nanmedian(values, axis=1)
        np.testing.assert_array_equal(stats.row_median(values), expected)
