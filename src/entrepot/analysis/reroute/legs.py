"""The legs of a route A -> C -> B: each a product-level fit of the leg's change on A -> B's drop.

For a candidate C and each product p (means per period, after vs before):

    after_cp - x_cp = tau_c * x_cp + beta_c * d_p + e_cp,    x_cp = before_cp * growth_cp

fitted twice by weighted least squares (`fit`): the test weighs products by 1 / (x + d)^2 (each
counts by its relative change), the value by 1 / ((x + d)(x + mean d)) (sums are matched), with tau
from the products outside the basket (`trend`); see the package docstring and docs/methods.md.
Every array is per candidate (rows) and product (columns).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from entrepot.analysis import stats
from entrepot.analysis.reroute.data import Data

BOOTSTRAP = 400
MIN_PRODUCTS = 3  # a leg needs this many products with trade to be tested
MIN_SE = 1e-4  # shares of the drop finer than this are noise, even when a fit is exact
FLOOR = 0.01  # a leg's products weigh as if worth at least 1% of its mean product
TREND_PRIOR = 3.0  # the pair's own trend outside the basket is shrunk towards the world's by this many products
HUBER_STEPS, HUBER_C = 2, 1.345  # robust reweighting of the product-level fit (Huber's usual tuning)
NEW_CODE = 0.5  # a flow or code whose early pre-event trade is under half its late one started inside the window


@dataclass(frozen=True)
class Fit:
    """One weighted fit of a leg, per candidate."""

    beta: np.ndarray  # (C,) share of the drop that shows on the leg
    tau: np.ndarray  # (C,) the pair's own growth in its own mix
    se: np.ndarray  # (C,) robust standard error of beta
    w: np.ndarray  # (C, P) final weights, for the bootstrap
    n: np.ndarray  # (C,) products in the fit


@dataclass(frozen=True)
class Leg:
    """A leg fitted twice: `test` weighs products by relative change (the test's power), `value` so
    that sums are matched (the value; module docstring)."""

    test: Fit
    value: Fit
    active: np.ndarray  # (C,) enough products to test
    excess: np.ndarray  # (C, P) after - the tau-adjusted counterfactual (value fit)
    boot: np.ndarray  # (C, R) the value fit's beta in bootstrap samples over products
    x: np.ndarray  # (C, P) the counterfactual, before times growth (the decoy tests read it)
    y: np.ndarray  # (C, P) after - x

    @property
    def z(self) -> np.ndarray:
        """The test fit's z-score of beta, 0 where the leg cannot be tested."""
        return np.where(self.active, self.test.beta / self.test.se, 0.0)


def fit_leg(x: np.ndarray, y: np.ndarray, drop: np.ndarray, traded: np.ndarray, draws: np.ndarray | None,
         trim_value: bool = False, outside: np.ndarray | None = None) -> Leg:
    """Per candidate (rows): y on [x, drop] over products, for the test and for the value; `traded`
    (C,): the leg has any trade. `trim_value` gives the value fit the test's Huber steps too: in a
    single period the noise of C's big flows outweighs the bias trimming brings. `draws` None: no
    bootstrap (`boot` is empty), for the tests that need only z. `outside` (P,): the value's tau
    comes from these products alone (`trend`); `excess` stays the joint fit's."""
    d = np.broadcast_to(drop, x.shape)
    test, value = fit(x, y, d, value=False, trim=True), fit(x, y, d, value=True, trim=trim_value)
    active = (test.n >= MIN_PRODUCTS) & traded
    excess = y - value.tau[:, None] * x
    if outside is None:
        boot = np.empty((x.shape[0], 0)) if draws is None else solve(value.w, x, d, y, draws)[0]
    else:
        value = trend(value, x, d, y, np.broadcast_to(outside, x.shape))
        boot = np.empty((x.shape[0], 0)) if draws is None else trend(value, x, d, y, np.broadcast_to(outside, x.shape), draws).beta
    return Leg(test, value, active, excess, boot, x, y)


def trend(value: Fit, x: np.ndarray, d: np.ndarray, y: np.ndarray, outside: np.ndarray, draws: np.ndarray | None = None) -> Fit:
    """The value fit with the pair's own growth tau from the products outside the basket (a triple
    difference) where the joint fit cannot separate it from the drop, beta then from the rest given it.

    Where the pair's mix is the basket's (C a big buyer of A's goods), x and the drop are nearly
    collinear and the joint fit splits a route's excess between tau and beta by the drop's measurement
    noise, so beta runs low. Outside the basket the drop is ~0 and tau is the pair's own trend, shrunk
    towards 0 (the world's growth) by TREND_PRIOR products' worth, so a pair with little trade outside
    the basket keeps the world's growth. Where C's mix differs from the drop's, the joint fit does tell
    them apart: a pair whose whole trade with A grew, its lines in the basket too (Armenia's with
    Russia), shows that growth there, which the outside alone (a line or two) would read as rerouting.
    tau is the two weighted by how far x is from the drop: 1 - rho^2 the joint fit's, rho the (value
    weighted, uncentred) correlation of x and d over the products, so the bias of a collinear fit gets
    no weight. With `draws`, beta per bootstrap sample in `beta` (C, R). The standard error is the
    sandwich of both steps, the weight held fixed."""
    w = value.w
    wo = np.where(outside, w, 0.0)
    wxx = w * x * x
    prior = TREND_PRIOR * ratio(wxx.sum(1), (wxx > 0).sum(1), 0.0)  # a mean product's weight, the same in every draw
    sxx_o, sxy_o, sdd, sdy, sdx, sxx, sxy = totals(draws, wo * x * x, wo * x * y, w * d * d, w * d * y, w * d * x, wxx, w * x * y)
    sxx_o = sxx_o + (prior if draws is None else prior[:, None])
    outside_tau = ratio(sxy_o, sxx_o, 0.0)
    det = sxx * sdd - sdx**2
    ok = det > 1e-9 * np.maximum(sxx * sdd, 1e-300)
    joint_tau = np.where(ok, (sdd * sxy - sdx * sdy) / np.where(ok, det, 1.0), 0.0)
    joint = np.where(ok, 1 - ratio(sdx**2, sxx * sdd, 1.0), 0.0)  # 1 - rho^2
    tau = joint * joint_tau + (1 - joint) * outside_tau
    beta = ratio(sdy - tau * sdx, sdd, 0.0)
    if draws is not None:
        return dataclasses.replace(value, beta=beta)
    # Sandwich: each product's score for beta, through tau's scores (the joint fit's over every product, the
    # outside one's over the products outside the basket).
    joint_resid = y - joint_tau[:, None] * x - ratio(sdy - joint_tau * sdx, sdd, 0.0)[:, None] * d
    tau_score = (joint[:, None] * ratio(sdd[:, None] * w * x - sdx[:, None] * w * d, np.where(ok, det, 1.0)[:, None], 0.0) * joint_resid
                 + ((1 - joint) / np.maximum(sxx_o, 1e-300))[:, None] * wo * x * (y - outside_tau[:, None] * x))
    resid = y - tau[:, None] * x - beta[:, None] * d
    psi = (w * d * resid - sdx[:, None] * tau_score) / np.maximum(sdd, 1e-300)[:, None]
    n = value.n
    se = np.maximum(np.sqrt((psi**2).sum(1) * n / np.maximum(n - 2, 1)), MIN_SE)
    return Fit(beta, tau, se, w, n)


def fit(x: np.ndarray, y: np.ndarray, d: np.ndarray, value: bool, trim: bool) -> Fit:
    """WLS of y on [x, d] with a sandwich standard error; `trim`: two Huber steps.

    Weights 1 / (x + d)^2 for the test; 1 / ((x + d)(x + mean d)) for the value, which is not
    trimmed over the whole window, since trimming products breaks its matching of sums (module docstring).
    Products weigh as if worth at least FLOOR of the leg's mean product: with pure relative weights
    one product worth a few dollars can set tau alone."""
    used = x + d > 0
    size = np.where(used, x + d, 0.0)
    n = used.sum(1, keepdims=True)
    floor = FLOOR * size.sum(1, keepdims=True) / np.maximum(n, 1)
    other = x + np.where(used, d, 0.0).sum(1, keepdims=True) / np.maximum(n, 1) if value else size
    w = np.where(used, 1.0 / np.where(used, (size + floor) * (other + floor), 1.0), 0.0)
    beta, tau, rx, rd = solve(w, x, d, y)
    for _ in range(HUBER_STEPS if trim else 0):  # products that jump on their own (a new or vanished flow) count less
        std = np.sqrt(w) * (y - tau[:, None] * x - beta[:, None] * d)
        scale = np.nan_to_num(1.4826 * stats.row_median(np.where(used, np.abs(std), np.nan))[:, None])
        w = w * np.where(scale > 0, np.minimum(1.0, HUBER_C * scale / np.maximum(np.abs(std), 1e-300)), 1.0)
        beta, tau, rx, rd = solve(w, x, d, y)
    resid = y - tau[:, None] * x - beta[:, None] * d
    # Robust (sandwich) variance of beta: its row of (X'WX)^-1 applied to each product's score.
    psi = (rx[:, None] * x + rd[:, None] * d) * w * resid
    n = n[:, 0]
    se = np.maximum(np.sqrt((psi**2).sum(1) * n / np.maximum(n - 2, 1)), MIN_SE)
    return Fit(beta, tau, se, w, n)


def growth_leg(before: np.ndarray, after: np.ndarray, growth: np.ndarray, drop: np.ndarray, draws: np.ndarray | None,
                trim_value: bool = False, outside: np.ndarray | None = None) -> Leg:
    """A leg of the route: after - x on [x, drop], x = before * growth."""
    x = before * growth
    return fit_leg(x, after - x, drop, after.sum(1) + before.sum(1) > 0, draws, trim_value, outside)


def solve(w: np.ndarray, x: np.ndarray, d: np.ndarray, y: np.ndarray, draws: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Weighted least squares of y on [x, d] over products (axis 1): beta, tau and beta's row of
    (X'WX)^-1. With `draws` (R x P product counts), beta in each bootstrap sample instead: (C, R)."""
    sxx, sxd, sdd, sxy, sdy = totals(draws, w * x * x, w * x * d, w * d * d, w * x * y, w * d * y)
    det = sxx * sdd - sxd**2
    ok = det > 1e-9 * np.maximum(sxx * sdd, 1e-300)
    safe = np.where(ok, det, 1.0)
    only_d = 1 / np.maximum(sdd, 1e-300)  # no usable x (a new partner): y on d alone
    beta = np.where(ok, (sxx * sdy - sxd * sxy) / safe, sdy * only_d)
    tau = np.where(ok, (sdd * sxy - sxd * sdy) / safe, 0.0)
    return beta, tau, np.where(ok, -sxd / safe, 0.0), np.where(ok, sxx / safe, only_d)


def totals(draws: np.ndarray | None, *arrays: np.ndarray) -> list[np.ndarray]:
    """Each (C, P) array summed over products, or with `draws` (R x P) in each bootstrap sample, (C, R): one matrix
    product for all of them (OpenBLAS's threads spin between calls, so many small products cost more CPU than one)."""
    if draws is None:
        return [v.sum(1) for v in arrays]
    stacked = np.stack(arrays)
    return list((stacked.reshape(-1, stacked.shape[-1]) @ draws.T).reshape(len(arrays), stacked.shape[1], -1))


def ratio(num: np.ndarray, den: np.ndarray, fallback: np.ndarray | float = 1.0) -> np.ndarray:
    """The ratio num / den where den > 0, else `fallback` (a growth factor with no base)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), fallback)


def expected_direct(data: Data, direct: np.ndarray) -> np.ndarray:
    """What A -> B (`direct`, (3, P)) would have shipped per period after the event: its level before, times the
    product's world growth since.

    The level is the mean of the two pre-event phases, except where one phase's trade is under NEW_CODE of the
    other's (small flows come and go): a flow absent early started inside the window, or was absent a year, and is
    at its late level; a flow absent late that trades again after the event was absent a year, and is at its early
    level (one absent late and after is left at the mean: stopped before the event or by it, neither phase tells).
    At the mean such a flow counts at half its level: with the embargo partly lifted its product can fall out of the
    basket while the routes still carry its goods, which then read as a boom outside the basket.
    """
    grown = lambda phase: direct[phase] * ratio(data.world[2], data.world[phase])  # noqa: E731
    started = direct[0] < NEW_CODE * direct[1]
    back = (direct[1] < NEW_CODE * direct[0]) & (direct[2] > 0)
    level = data.mean(direct, [0, 1]) * ratio(data.world[2], data.mean(data.world, [0, 1]))
    return np.where(started, grown(1), np.where(back, grown(0), level))


def drop_by_product(data: Data, direct: np.ndarray) -> np.ndarray:
    """A -> B's drop by product, per period: what it would have shipped (`expected_direct`) minus what still went.

    The world's growth (everyone but A, to everyone but B), not A's own: when B was a big market of
    A's, the rerouted and relabelled goods inflate A's sales elsewhere, and the drop with them.
    `direct` is the (3, P) flow A -> B: the scan's, or A's declarations for the relabelling test.
    With a basket (`data.in_basket`) only its products' drop counts: the fits then ask whether the
    basket's lost sales went around, against the rest of trade's own growth (which sets tau).
    """
    drop = np.maximum(expected_direct(data, direct) - direct[2], 0.0)
    return drop if data.in_basket is None else np.where(data.in_basket, drop, 0.0)


@functools.lru_cache(maxsize=4)
def product_draws(n_products: int, seed: int) -> np.ndarray:
    """Bootstrap resamples of the products: (R, P) counts, read-only (one scan's tests share them)."""
    out = stats.draws(n_products, BOOTSTRAP, np.random.default_rng(seed)).astype(float)
    out.setflags(write=False)
    return out


def legs(data: Data, pre: list[int], post: int, drop: np.ndarray, draws: np.ndarray | None,
         tonnes: bool = False, outside: np.ndarray | None = None) -> tuple[Leg, Leg]:
    """Both legs' fits between phases `pre` (averaged) and `post`, with the drop as intensity.

    Leg 1 grows A -> C by the product's world growth, for the reason given in `drop_by_product`; leg 2 grows
    C -> B by C's own sales of the product elsewhere (the world's where C had none). `tonnes`: the legs in tonnes (grown by the
    same value growth), over the products whose every value on the leg has its tonnes; `drop` is then in
    tonnes too (`tonnes_drop`).
    """
    mean = lambda arr: data.mean(arr, pre)  # noqa: E731
    world = ratio(data.world[post], mean(data.world))
    growth1 = np.broadcast_to(world, data.ac[post].shape)
    growth2 = ratio(data.c_rest[post], mean(data.c_rest), world)
    out = []
    for values, qty, growth in ((data.ac, data.ac_t, growth1), (data.cb, data.cb_t, growth2)):
        use = np.ones(values.shape[1:], dtype=bool)
        flows = values
        if tonnes:
            use = use & ((values[pre] > 0) <= (qty[pre] > 0)).all(0) & ((values[post] > 0) <= (qty[post] > 0))
            flows = qty
        before, after = np.where(use, mean(flows), 0.0), np.where(use, flows[post], 0.0)
        out.append(growth_leg(before, after, growth, np.where(use, drop, 0.0), draws, outside=outside))
    return out[0], out[1]


def tonnes_drop(data: Data, drop: np.ndarray) -> np.ndarray:
    """The drop in tonnes: each product's value drop at A -> B's pre-event unit value (0 without tonnes)."""
    uv = ratio(data.mean(data.ab, [0, 1]), data.mean(data.ab_t, [0, 1]), 0.0)
    return ratio(drop, uv, 0.0)


def excess(name: str, leg: Leg, total_drop: float) -> dict[str, np.ndarray]:
    """A leg's excess value over the post-event periods (its share of the drop times the drop), with a 95% CI.

    Not the sum of the products' residual excess, which the noise of the pair's biggest flows dominates."""
    return {f"{name}_excess_usd": leg.value.beta * total_drop, f"{name}_ci_low": np.percentile(leg.boot, 2.5, axis=1) * total_drop,
            f"{name}_ci_high": np.percentile(leg.boot, 97.5, axis=1) * total_drop}


def markup(data: Data, drop: np.ndarray) -> np.ndarray:
    """Unit-value markup of C -> B over A -> C after the event, weighted by the drop (`unit_value_markup`);
    C -> B at FOB, as A -> C is (B's CIF imports over their CIF/FOB factor, `Data.cb_cif`)."""
    cb = data.cb[2] if data.cb_cif is None else data.cb[2] / data.cb_cif[:, None]
    return unit_value_markup(data.ac[2], data.ac_t[2], cb, data.cb_t[2], drop)


def unit_value_markup(v1: np.ndarray, t1: np.ndarray, v2: np.ndarray, t2: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The one observed markup (reroute's and cost's): the unit value of C -> B (`v2`/`t2`) over that of
    A -> C (`v1`/`t1`) in each product (the last axis), a geometric mean weighted by `weight` (the goods
    the detour carries) over the products both legs carry with quantities, bounded to 0..100%; 0 with no
    such product."""
    uv1, uv2 = ratio(v1, t1, np.nan), ratio(v2, t2, np.nan)
    both = np.isfinite(uv1) & np.isfinite(uv2) & (uv1 > 0) & (uv2 > 0)
    log_ratio = np.where(both, np.log(np.where(both, uv2, 1) / np.where(both, uv1, 1)), 0.0)
    w = both * weight
    mean = ratio((w * log_ratio).sum(-1), w.sum(-1), 0.0)
    return np.clip(np.expm1(mean), 0.0, 1.0)
