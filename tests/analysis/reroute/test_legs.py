"""The leg fit of `reroute` (reroute/legs.py) on hand-made panels: the two failure modes its weights are built against."""

from __future__ import annotations

import numpy as np
import pytest

from entrepot.analysis.reroute.legs import fit_leg, product_draws


def _panel(seed: int, products: int = 200) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng, np.exp(rng.normal(15, 1.5, products))  # the true drop by product, USD


def test_value_matches_sums_when_the_drop_is_mis_measured() -> None:
    """C carries 30% of the drop. Each product's A -> B flow is absent in each of the two pre-event years
    and the post-event year with probability 0.3 (small flows come and go): its measured drop is then
    half or all of the true one, or there was nothing to reroute. The value (share times measured drop)
    still adds up to what went through C in the products with a measured drop."""
    rng, level = _panel(1)
    present = rng.random((level.size, 3)) >= 0.3
    measured = level * present[:, :2].mean(1)
    y = 0.3 * level * present[:, 2] * np.exp(rng.normal(0, 0.1, level.size))
    leg = fit_leg(np.zeros((1, level.size)), y[None], measured, np.array([True]), product_draws(level.size, 0))
    seen = y[measured > 0].sum()
    assert leg.value.beta[0] * measured.sum() == pytest.approx(seen, rel=0.02)
    assert leg.test.beta[0] * measured.sum() > 1.2 * seen  # the panel is hard: relative weights alone overstate
    assert leg.z[0] > 10


def test_a_product_worth_a_few_dollars_cannot_set_the_pairs_growth() -> None:
    """C carries 2% of the drop. Before the event it bought a little of most of these products (0.05%
    of their drop), $6.5m of one (which grew 35% on its own) and $85 of one the pair no longer ships
    (which grew 40-fold). The $85 product must not fix tau, since tau times the small flows would
    then eat the route (seed 18 of the benchmark lost six routes that way)."""
    rng, drop = _panel(2, 40)
    x = 0.0005 * drop
    y = 0.02 * drop * np.exp(rng.normal(0, 0.3, drop.size))
    x[0], y[0], drop[0] = 85.0, 3_600.0, 0.0
    x[1], y[1] = 6.5e6, 0.35 * 6.5e6 + 0.02 * drop[1]
    leg = fit_leg(x[None], y[None], drop, np.array([True]), product_draws(drop.size, 0))
    for fit in (leg.test, leg.value):
        assert fit.beta[0] == pytest.approx(0.02, rel=0.2) and fit.tau[0] == pytest.approx(0.35, rel=0.2)
    assert leg.z[0] > 5


def test_a_candidate_with_no_product_on_the_leg_has_nothing_to_fit() -> None:
    """A candidate whose leg has no product at all (none with tonnes, in the quantity test) is not tested: beta 0,
    the floor's standard error, and no All-NaN RuntimeWarning from the robust scale (pyproject makes one an error)."""
    rng, drop = _panel(3, 40)
    none = np.zeros_like(drop)
    x, y = np.vstack([0.01 * drop, none]), np.vstack([0.2 * drop * np.exp(rng.normal(0, 0.1, drop.size)), none])
    leg = fit_leg(x, y, np.vstack([drop, none]), np.array([True, False]), product_draws(drop.size, 0))
    assert leg.test.n.tolist() == [40, 0] and leg.active.tolist() == [True, False] and leg.z[1] == 0
    assert leg.value.beta[1] == 0 and leg.test.se[1] == pytest.approx(1e-4)
    assert leg.value.beta[0] == pytest.approx(0.2, abs=0.02)


def _value_fit(x: np.ndarray, y: np.ndarray, drop: np.ndarray):
    """The value fit as the route scan runs it: tau from `trend`, no product outside the basket here."""
    return fit_leg(x[None], y[None], drop, np.array([True]), product_draws(drop.size, 0), outside=np.zeros(drop.size, bool)).value


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_pair_whose_trade_grew_in_its_own_mix_keeps_that_growth(seed) -> None:
    """C carries 2% of the drop, and all its trade with A, in its own mix (not the drop's), grew 80% (Armenia's
    with Russia after 2022); it trades nothing outside the basket, so the products outside cannot tell its growth.
    The joint fit can, since C's mix is not the drop's: the route keeps about its 2%, not the growth's 35 times it."""
    rng, drop = _panel(seed, 40)
    x = 2 * np.exp(rng.normal(15, 1.5, drop.size))
    y = 0.8 * x * np.exp(rng.normal(0, 0.05, drop.size)) + 0.02 * drop
    value = _value_fit(x, y, drop)
    assert value.beta[0] == pytest.approx(0.02, abs=0.06) and value.tau[0] == pytest.approx(0.8, abs=0.2)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_a_big_partner_whose_mix_is_the_baskets_keeps_its_route(seed) -> None:
    """C buys half of what A sold B, in the same mix, and carries 30% of the drop, which is measured with 30% noise per
    product: x and the drop are nearly collinear, and the joint fit splits the route between tau and beta by that
    noise (beta near 0). With nothing outside the basket moving, the pair keeps the world's growth: the route's value
    comes out within 20%."""
    rng, true = _panel(seed, 40)
    x = 0.5 * true * np.exp(rng.normal(0, 0.1, true.size))
    measured = true * np.exp(rng.normal(0, 0.3, true.size))
    y = 0.3 * true * np.exp(rng.normal(0, 0.1, true.size))
    joint = fit_leg(x[None], y[None], measured, np.array([True]), None).value
    value = _value_fit(x, y, measured)
    assert joint.beta[0] * measured.sum() < 0.2 * y.sum()
    assert value.beta[0] * measured.sum() == pytest.approx(y.sum(), rel=0.2)
