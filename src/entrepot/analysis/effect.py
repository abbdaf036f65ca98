"""The direct effect of an event on A's trade with B, as each side reports it.

Counterfactual (per side, per HS2 product group g and post period t):
    cf[g, t] = control[g, t] * share[g] * exp(beta * (t - t0))
where `control` is A's exports of g to the control destinations (A's other country partners, less
`exclude`), `share[g]` the pre-event ratio of the treated flow to the control (ratio of sums), and
`beta` the pre-event trend of the log aggregate share (OLS over pre periods, centred at their
control-weighted mean t0). The effect is observed minus counterfactual over the post periods.
The 95% interval is a bootstrap that resamples product groups (a cluster bootstrap) and, in the same
draw, the residuals of the pre-event trend fit (for beta, the level, and each post period's noise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from entrepot import currency as money
from entrepot import hs, options
from entrepot.analysis import stats
from entrepot.analysis.window import Timing, period_label
from entrepot.basket import Basket
from entrepot.errors import InputError
from entrepot.groups import Group, resolve
from entrepot.options import FreqOrAuto, Source
from entrepot.results import Provenance, Result, currency_names, records
from entrepot.store import Store
from entrepot.store import query as q

MIN_PRE = {"A": 3, "M": 12}


@dataclass(frozen=True)
class SideEffect:
    """One side's measure: A's exports to B as A reports them ("exporter"), or B's imports from A ("importer").

    `series`: period, phase, observed_usd, counterfactual_usd and its 95% band after the event
    (counterfactual_ci_low_usd, counterfactual_ci_high_usd); `groups`: grp (HS2, or one level under
    the product asked for), description (its HS name, `entrepot.hs`), pre_mean_usd,
    post_mean_usd, counterfactual_mean_usd, change_usd, change_pct. The changes are over the
    post-event periods, with 95% bootstrap bounds.
    """

    side: str
    reporter: str
    series: pd.DataFrame
    groups: pd.DataFrame
    change_usd: float
    change_usd_ci_low: float
    change_usd_ci_high: float
    change_pct: float
    change_pct_ci_low: float
    change_pct_ci_high: float
    trend: float  # beta, log share per period
    draws: int  # bootstrap draws the intervals are over (those that could be fitted)

    def row(self) -> dict[str, Any]:
        """The side's estimates, as one row of `EffectResult.to_frame`."""
        return {k: getattr(self, k) for k in EffectResult.COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        """The row, with its series and groups."""
        return self.row() | {"draws": self.draws, "series": records(self.series), "groups": records(self.groups)}


@dataclass(frozen=True)
class EffectResult(Result):
    """The direct effect of `event` on A's trade with B, on each side's reports."""

    COLUMNS: ClassVar[dict[str, str]] = {
        "side": "exporter (A's exports to B as A reports them) or importer (B's imports from A as B reports them)",
        "reporter": "whose report", "change_usd": "observed minus counterfactual over the post-event periods, USD",
        "change_usd_ci_low": "95% bootstrap bound", "change_usd_ci_high": "95% bootstrap bound",
        "change_pct": "observed over counterfactual, minus 1", "change_pct_ci_low": "95% bootstrap bound",
        "change_pct_ci_high": "95% bootstrap bound", "trend": "pre-event trend of the log share, per period",
    }
    FIGURE: ClassVar[str] = "effect"

    exporter: str
    importer: str
    event: dt.date
    freq: str
    first_post: str
    transition: str | None
    transition_share_after: float
    controls: tuple[str, ...]
    sides: tuple[SideEffect, ...]
    notes: tuple[str, ...]
    provenance: Provenance
    currency: str = "USD"  # of every amount; the columns' `_usd` reads `_eur` in the frame and JSON when EUR
    basket: str | None = None
    excluded: tuple[str, ...] = ()  # destinations left out of the controls (given, and flagged by reroute)
    product: str | None = None  # an HS code: only it and its sub-codes, by groups one level finer
    chosen: options.Data | None = None  # the data read, by the rule of options.data

    @property
    def last_post(self) -> str:
        """The last post-event period."""
        post = self.sides[0].series
        return str(post.period[post.phase == "post"].iloc[-1])

    def side(self, name: str) -> SideEffect:
        """The "exporter" or "importer" side."""
        return next(s for s in self.sides if s.side == name)

    def to_frame(self) -> pd.DataFrame:
        """One row per side (`COLUMNS`)."""
        frame = pd.DataFrame([s.row() for s in self.sides], columns=list(self.COLUMNS))
        return frame.rename(columns=currency_names(frame.columns, self.currency))

    def to_dict(self) -> dict[str, Any]:
        """The event, its timing, the controls and both sides."""
        return {
            "exporter": self.exporter, "importer": self.importer, "event": self.event.isoformat(),
            "freq": self.freq, "first_post_period": self.first_post,
            "transition_period": self.transition, "transition_share_after_event": self.transition_share_after,
            "controls": list(self.controls), "excluded": list(self.excluded), "currency": self.currency, "basket": self.basket,
            "product": self.product, "source": None if self.chosen is None else self.chosen.source,
            "sides": [{currency_names([k], self.currency).get(k, k): v for k, v in s.to_dict().items()} for s in self.sides],
            "notes": list(self.notes), "provenance": self.provenance.to_dict(),
        }

    def summary(self) -> str:
        """Each side's change with its interval."""
        return "; ".join(f"{s.reporter}'s figures: {s.change_pct:+.1%} (95% CI {s.change_pct_ci_low:+.1%} to {s.change_pct_ci_high:+.1%}),"
                         f" {s.change_usd / 1e6:+,.1f} million {self.currency}" for s in self.sides) + f" after {self.event}"


@q.reads_store
def effect(
    store: Store,
    exporter: str,
    importer: str,
    event: str | dt.date,
    freq: FreqOrAuto = "auto",
    exclude: list[str] | None = None,
    exclude_flagged: bool = False,
    n_boot: int = 999,
    seed: int = 0,
    *,
    basket: Basket | None = None,
    currency: str = "USD",
    groups: Mapping[str, Group] | None = None,
    product: str | None = None,
    source: Source = "auto",
) -> EffectResult:
    """Did trade from `exporter` to `importer` stop after `event`? Both sides, by HS2 group, with a 95% CI.

    Parameters
    ----------
    store : Store or path
        The store to read.
    exporter, importer : str
        ISO 3166 alpha-3 codes of A and B.
    event : str or date
        The event's date.
    freq : {"auto", "A", "M"}
        Periods; "auto" by the one rule (`options.data`): monthly when every side that declares the
        pair has months around the event, annual on BACI or otherwise.
    exclude : list of str, optional
        Destinations left out of the control group.
    exclude_flagged : bool
        Also leave out the countries `reroute` flags (routes and relabelling): their imports from A
        grew with the rerouted goods, which would inflate the counterfactual.
    n_boot, seed : int
        Bootstrap draws and their seed.
    basket : Basket, optional
        Only these products (`entrepot.basket`), by HS2 group.
    currency : {"USD", "EUR"}
        The amounts' currency (exact where the source reported in EUR).
    groups : dict, optional
        Groups of countries a case defines; either side may be a group (EU27 is built in), its
        members by date. The controls leave out every country that was ever a member of a side's
        group: trade within the exporter's group is not a destination, and a country that left the
        importer's group would otherwise turn from treated to control.
    product : str, optional
        An HS2, HS4 or HS6 code (dots allowed): only it and its sub-codes, in groups one level finer
        (a chapter by its headings); all products by HS2 group when omitted.
    source : {"auto", "reported", "baci"}
        The countries' declarations or BACI's reconciled values; "auto" by the one rule (`options.data`).
    """
    a, b = options.side(exporter, "exporter", groups), options.side(importer, "importer", groups)
    scope = {"groups": groups, "basket": basket, "currency": money.check(currency)}
    excluded = options.country_list(exclude, "exclude")
    date = options.event(event)
    code = options.product(product)
    chosen = options.data(store, a, b, freq, source, event=date, product=code, groups=groups)
    freq, scope = chosen.freq, scope | {"product": code, "source": chosen.source}
    digits = 2 if code is None else min(len(code) + 2, 6)
    notes = []
    if exclude_flagged:
        from entrepot.analysis.reroute import scan

        rr = scan(store, a, b, date, groups=groups, product=code)
        flagged = rr.candidates.significant | rr.candidates.get("relabelling", False)
        found = [c for c in rr.candidates.country[flagged] if c not in excluded]
        excluded += found
        notes.append(f"control group leaves out the countries reroute flags: {', '.join(found) or 'none'}")
    timing = Timing.of(date, freq)
    members = [c for side in (a, b) if (g := resolve(side, groups)) for c in g.all_countries() if c not in excluded]
    if members:
        notes.append(f"controls leave out every country ever a member of {' and '.join(c for c in (a, b) if resolve(c, groups))}")
    exports = q.panel(store, a, "export", freq, digits, exclude=excluded + members, named=(b,), **scope)
    control = exports.frame[exports.frame.partner != b]
    if control.empty:
        raise InputError(f"no control group: {a} reports no exports to other destinations" + (f" under HS {code}" if code else ""))
    sides, read = [], set(exports.read)
    for side, reporter, flow, partner in (("exporter", a, "export", b), ("importer", b, "import", a)):
        if flow == "export":
            treated = exports.frame[exports.frame.partner == b]
        else:
            imports = q.panel(store, b, "import", freq, digits, [a], **scope)
            treated = imports.frame
            read |= set(imports.read)
        if treated.empty or treated.value.sum() <= 0:
            one_figure = flow == "import" and chosen.source == "baci"  # BACI stores each flow once, as the exporter's side
            notes.append(f"{reporter}'s side not measured: BACI holds one reconciled figure per flow, the exporter side's" if one_figure
                         else f"{reporter} reports no {flow}s {'to' if flow == 'export' else 'from'} {partner}")
            continue
        sides.append(_side(side, reporter, treated, control, timing, n_boot, seed))
        if sides[-1].draws < n_boot:
            notes.append(f"{reporter}'s intervals are over {sides[-1].draws} of {n_boot} bootstrap draws: the other"
                         f" {n_boot - sides[-1].draws} drew only groups with no trade in a period the trend is fitted on")
    if not sides:
        raise InputError(f"no trade between {a} and {b} in the store" + (f" under HS {code}" if code else ""))
    return EffectResult(
        a, b, date, freq, period_label(timing.first_post, freq),
        None if timing.transition is None else period_label(timing.transition, freq),
        timing.share_after, tuple(sorted(control.partner.unique())), tuple(sides), tuple(notes), q.provenance(store, read),
        scope["currency"], None if basket is None else basket.name, tuple(excluded), code, chosen,
    )


def _side(side: str, reporter: str, treated: pd.DataFrame, control: pd.DataFrame, timing: Timing,
          n_boot: int, seed: int) -> SideEffect:
    # One-level groups on both sides: if either side has only TOTAL, compare totals.
    if (treated.grp == "TOTAL").any() or (control.grp == "TOTAL").any():
        treated, control = treated.assign(grp="TOTAL"), control.assign(grp="TOTAL")
    y = treated.pivot_table(index="grp", columns="t", values="value", aggfunc="sum")
    c = control.pivot_table(index="grp", columns="t", values="value", aggfunc="sum")
    periods = sorted(set(c.columns) | set(y.columns))
    groups = y.index  # groups the treated pair trades at some point
    y = y.reindex(index=groups, columns=periods).fillna(0.0)
    c = c.reindex(index=groups, columns=periods).fillna(0.0)
    t = np.array(periods)
    label = lambda v: period_label(int(v), timing.freq)  # noqa: E731
    if timing.first_post > t.max() or timing.first_post <= t.min():
        raise InputError(f"event outside the data's range ({label(t.min())} to {label(t.max())})")
    phase = timing.phase(pd.Series(t)).to_numpy()
    pre, post = phase == "pre", phase == "post"
    if not post.any():
        raise InputError(f"no period after the event in the data (last is {label(t.max())})")
    Y, C = y.to_numpy(), c.to_numpy()
    fit = pre & (Y.sum(0) > 0) & (C.sum(0) > 0)
    need = MIN_PRE[timing.freq]
    if fit.sum() < need:
        raise InputError(f"too little data before the event: {int(fit.sum())} periods where {reporter} reports the flow, need {need}")
    # A group the controls did not buy before the event is measured against the whole control.
    C = np.where(C[:, pre].sum(1, keepdims=True) > 0, C, C.sum(0))
    share = Y[:, pre].sum(1) / C[:, pre].sum(1)
    K = C * share[:, None]  # control scaled to each group's pre-event share
    t0 = float(np.average(t[fit], weights=C[:, fit].sum(0)))

    x = t[fit] - t0

    def trend(z):
        """OLS of log aggregate shares `z` (over the fit periods) on time: intercept at t0, slope, residuals."""
        xc = x - x.mean()
        slope = (z - z.mean(-1, keepdims=True)) @ xc / (xc @ xc)
        level = z.mean(-1) - slope * x.mean()
        return level, slope, z - level[..., None] - slope[..., None] * x

    _, beta, _ = trend(np.log(Y[:, fit].sum(0) / C[:, fit].sum(0)))
    cf = K * np.exp(beta * (t - t0))
    point_value = float((Y[:, post] - cf[:, post]).sum())
    point_pct = float(Y[:, post].sum() / cf[:, post].sum() - 1)

    rng = np.random.default_rng(seed)
    G, n = Y.shape[0], int(fit.sum())
    counts = stats.draws(G, n_boot, rng) if G > 1 else np.ones((n_boot, 1))
    Yb, Cb, Kb = counts @ Y, counts @ C, counts @ K
    # A draw of groups none of which traded in a fit period (a product's few sub-groups) has no log share there:
    # it cannot be fitted and is left out, so the intervals are over the draws that can.
    fits = (Yb[:, fit] > 0).all(1) & (Cb[:, fit] > 0).all(1)
    Yb, Cb, Kb = Yb[fits], Cb[fits], Kb[fits]
    lev_b, beta_b, res_b = trend(np.log(Yb[:, fit] / Cb[:, fit]))
    scale = np.sqrt(n / max(n - 2, 1))
    draw = lambda size: np.take_along_axis(res_b, rng.integers(0, n, (len(Yb), size)), 1) * scale  # noqa: E731
    lev_s, beta_s, _ = trend(lev_b[:, None] + beta_b[:, None] * x + draw(n))
    noise = draw(int(post.sum()))
    cf_b = Kb[:, post] * np.exp(beta_s[:, None] * (t[post] - t0) + (lev_s - lev_b)[:, None] + noise)
    values = Yb[:, post].sum(1) - cf_b.sum(1)
    pcts = Yb[:, post].sum(1) / cf_b.sum(1) - 1
    ci = lambda v: tuple(float(q) for q in np.nanpercentile(v, [2.5, 97.5])) if len(v) else (np.nan, np.nan)  # noqa: E731

    # Each post period's counterfactual band: observed minus the period's effect bounds (the same draws as the total's CI).
    lo, hi = np.full(len(t), np.nan), np.full(len(t), np.nan)
    if len(Yb):
        per_period = np.nanpercentile(Yb[:, post] - cf_b, [2.5, 97.5], axis=0)
        lo[post], hi[post] = Y.sum(0)[post] - per_period[1], Y.sum(0)[post] - per_period[0]
    series = pd.DataFrame({
        "period": [label(v) for v in t], "phase": phase,
        "observed_usd": Y.sum(0), "counterfactual_usd": np.where(post, cf.sum(0), np.nan),
        "counterfactual_ci_low_usd": lo, "counterfactual_ci_high_usd": hi,
    })
    per_group = pd.DataFrame({
        "grp": list(groups),
        "pre_mean_usd": Y[:, pre].mean(1), "post_mean_usd": Y[:, post].mean(1),
        "counterfactual_mean_usd": cf[:, post].mean(1),
    })
    per_group["change_usd"] = (Y[:, post] - cf[:, post]).sum(1)
    per_group["change_pct"] = per_group.post_mean_usd / per_group.counterfactual_mean_usd.where(per_group.counterfactual_mean_usd > 0) - 1
    per_group.insert(1, "description", hs.names(per_group.grp))
    per_group = per_group.sort_values("change_usd").reset_index(drop=True)
    return SideEffect(side, reporter, series, per_group, point_value, *ci(values), point_pct, *ci(pcts), float(beta), len(Yb))
