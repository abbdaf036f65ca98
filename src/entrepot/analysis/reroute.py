"""Where did the embargoed trade go? Rank third countries by evidence of rerouting A -> C -> B.

Rerouted goods carry the embargoed basket's product mix: what C buys extra from A, and sells extra
to B, is the product mix of A's lost sales to B. Ordinary growth of a country pair carries the
pair's own mix instead. So each leg is a product-level difference-in-differences with the drop as
treatment intensity. For a candidate C and each product p (means per period, after vs before):

    after_cp - x_cp = tau_c * x_cp + beta_c * d_p + e_cp,    x_cp = before_cp * growth_cp

- leg 1 is A -> C, with growth_cp the world's growth in product p (everyone but A, to everyone
  but B: A's own sales elsewhere carry the rerouted goods when B was a big market of A's);
- leg 2 is C -> B, with growth_cp the growth of C's exports of p to everyone but B;
- d_p is A -> B's drop in product p: its counterfactual (before times the world's growth) minus
  what was still shipped;
- tau_c absorbs the pair's own growth in its own mix; beta_c is the share of the drop that shows up
  on the leg.

Each leg is fitted twice by weighted least squares. The test weighs products by 1 / (x + d)^2:
trade noise is multiplicative, so each product counts by its relative change, as in a log-linear
model, and a product C never bought from A counts fully. The value weighs them by
1 / ((x + d)(x + mean d)): for products C never bought (x = 0) that is 1 / d, the Poisson (PPML)
weight, so the share is a ratio of sums rather than a mean of ratios, which products whose drop is
under-measured (a flow absent in one pre-event year) inflate; for C's big existing flows it is
1 / x^2 again, since their noise grows with them. In both, products weigh as if worth at least 1%
of the leg's mean product (a few dollars cannot set tau). The test's fit then takes two Huber
reweighting steps, which discount products whose flow jumps on its own (small flows come and go
from year to year); the value's does not, since trimming products breaks the matching of sums.
Standard errors are heteroskedasticity-robust (sandwich, over products), so the weights need not
be right for the test to hold.

Each leg's z = beta / se of the test fit is judged against the cross-section of candidates (their
median and robust spread, at least the standard normal), since most countries reroute nothing. A
country is flagged when both legs show excess (p = max of the two legs' p-values, an
intersection-union test) and it passes Holm's procedure over all candidates, which keeps the chance
of flagging any innocent country below `alpha`, and carries at least `min_share` of the drop (0.1%
by default: a materiality floor, not an error control). The rerouted value through C is the value
fit's beta times the drop, from both legs weighted by their precision (leg 2 net of the unit-value
markup between the legs); its confidence interval comes from a bootstrap over products.
A placebo runs the same test between the two halves of the pre-event window (a pre-trend check).

Relabelling (goods A declares to C that land in B) is tested on both sides' declared reports: the
same fit on the flow A declares to C but C does not record, against A's declared drop to B
(`_relabelling`; docs/methods.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from entrepot.analysis._panel import records as _records
from entrepot.analysis.flows import SOURCE_PRIORITY, check_country
from entrepot.analysis.window import (
    Window,
    make_window,
    parse_event,
    period_label,
    time_index,
)
from entrepot.errors import InputError
from entrepot.schema import TONNES_SQL
from entrepot.store import Store

BOOTSTRAP = 400
SOURCES = ("auto", "baci", "reported")
MIN_PRODUCTS = 3  # a leg needs this many products with trade to be tested
MIN_SE = 1e-4  # shares of the drop finer than this are noise, even when a fit is exact
MIN_SHARE = 0.001  # by default an intermediary must carry at least 0.1% of the drop to be flagged
MIN_UNRECORDED = 0.25  # relabelling: at least this part of what A declares extra to C is missing from C's records
FLOOR = 0.01  # a leg's products weigh as if worth at least 1% of its mean product
HUBER_STEPS, HUBER_C = 2, 1.345  # robust reweighting of the product-level fit (Huber's usual tuning)


@dataclass
class Relabelling:
    """Goods A declares to a candidate that the candidate does not record receiving, from both sides' reports.

    `table` has one row per tested candidate: relabelling (flagged), relabelled_value_usd with
    relabel_ci_low/high, and relabel_p. `importer_excess_usd` is what B records importing from A
    beyond A's declarations, after the event against before: where relabelled goods land.
    """

    source: str
    window: Window
    cif_fob: float  # pooled; each candidate's own where it has enough products
    declared_drop_usd: float  # A's declared exports to B: the drop over the post-event periods
    importer_excess_usd: float | None  # None when B reports no imports in the source
    table: pd.DataFrame

    @property
    def relabelled_value_usd(self) -> float:
        return float(self.table.loc[self.table.relabelling, "relabelled_value_usd"].sum())

    def notes(self, a: str, b: str) -> list[str]:
        found = self.table[self.table.relabelling]
        named = ", ".join(f"{r.country} ${r.relabelled_value_usd / 1e6:,.0f} million" for r in found.itertuples())
        out = [f"relabelling ({self.window.span}, {self.source}): declared by {a} to {named} but not recorded there"] if named else []
        if self.importer_excess_usd is not None and self.importer_excess_usd > 0:
            out.append(f"{b} records ${self.importer_excess_usd / 1e6:,.0f} million more imports from {a} than {a} declares"
                       f" ({self.window.span}, against before the event); the relabelling found accounts for"
                       f" ${self.relabelled_value_usd / 1e6:,.0f} million of it")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "window": self.window.to_dict(), "cif_fob": self.cif_fob,
            "declared_drop_usd": self.declared_drop_usd, "importer_excess_usd": self.importer_excess_usd,
            "relabelled_value_usd": self.relabelled_value_usd,
            "countries": list(self.table.loc[self.table.relabelling, "country"]),
        }


@dataclass
class RerouteResult:
    exporter: str
    importer: str
    window: Window
    source: str
    direct_drop_usd: float
    pre_direct_usd: float  # per period, before the event
    rerouted_value_usd: float
    candidates: pd.DataFrame  # one row per candidate, sorted by score
    alpha: float
    min_share: float
    reverse: RerouteResult | None = None
    relabelling: Relabelling | None = None
    timing: pd.DataFrame | None = None  # event study of the flagged routes: country, period, phase, leg1/leg2 USD and CIs
    notes: list[str] = field(default_factory=list)

    def onset(self, country: str) -> str | None:
        """The first period from the event on in which both legs through `country` carry excess (95% CI above 0)."""
        if self.timing is None:
            return None
        rows = self.timing[(self.timing.country == country) & (self.timing.phase != "pre")]
        started = rows[(rows.leg1_ci_low > 0) & (rows.leg2_ci_low > 0)]
        return None if started.empty else str(started.period.iloc[0])

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for r in self.candidates.itertuples():
            rows.append({
                "country": r.country, "score": r.score, "significant": bool(r.significant),
                "rerouted_value_usd": r.rerouted_value_usd, "ci": [r.ci_low, r.ci_high], "p_value": r.p_value,
                "rerouted_share": r.share,
                "leg1_excess_usd": r.leg1_excess, "leg1_ci": [r.leg1_ci_low, r.leg1_ci_high], "leg1_p": r.leg1_p,
                "leg2_excess_usd": r.leg2_excess, "leg2_ci": [r.leg2_ci_low, r.leg2_ci_high], "leg2_p": r.leg2_p,
                "markup_pct": r.markup_pct, "unit_value_usd_per_t": r.usd_per_t, "basket_overlap": r.overlap,
                "placebo_p": r.placebo_p, "top_products": list(r.top_products),
            })
            if r.significant and self.timing is not None:
                rows[-1]["onset"] = self.onset(r.country)
                rows[-1]["timing"] = _records(self.timing[self.timing.country == r.country].drop(columns="country"))
            if self.relabelling is not None:
                tested = bool(pd.notna(r.relabel_p))  # NaN: the candidate reports no imports, or none of A's goods went to it
                rows[-1] |= {
                    "relabelling": bool(r.relabelling), "relabelled_value_usd": r.relabelled_value_usd if tested else None,
                    "relabel_ci": [r.relabel_ci_low, r.relabel_ci_high] if tested else None,
                    "relabel_p": r.relabel_p if tested else None,
                }
        pre_total = self.pre_direct_usd * len(self.window.post_t)
        out = {
            "exporter": self.exporter, "importer": self.importer, "event": self.window.event.isoformat(),
            "window": self.window.to_dict(), "source": self.source,
            "pre_event_direct_usd_per_period": self.pre_direct_usd,
            "direct_drop_usd": self.direct_drop_usd, "rerouted_value_usd": self.rerouted_value_usd,
            "rerouted_share_of_pre_event": self.rerouted_value_usd / pre_total if pre_total else None,
            "alpha": self.alpha, "min_share": self.min_share, "intermediaries": rows, "notes": self.notes,
            "relabelling": None if self.relabelling is None else self.relabelling.to_dict(),
        }
        if self.reverse is not None:
            out["reverse"] = self.reverse.to_dict()
        return out


def scan(store: Store, exporter: str, importer: str, event: str | dt.date, candidates: list[str] | None = None,
         alpha: float = 0.05, both: bool = False, seed: int = 0, source: str = "auto",
         min_share: float | None = None) -> RerouteResult:
    """Rank every candidate intermediary of A -> B trade after `event` (`both`: and of B -> A).

    `min_share`: the smallest share of the stopped flow a flagged route or relabelling must carry
    (default MIN_SHARE)."""
    a, b = check_country(exporter, "exporter"), check_country(importer, "importer")
    when = parse_event(event)
    cands = [check_country(c, "candidate") for c in candidates] if candidates else None
    if source not in SOURCES:
        raise InputError(f"--source must be one of {', '.join(SOURCES)}, not {source!r}")
    min_share = MIN_SHARE if min_share is None else min_share
    if not 0 <= min_share < 1:
        raise InputError(f"--min-share must be a share between 0 and 1, not {min_share}")
    result = _scan(store, a, b, when, cands, source, alpha, seed, min_share)
    if both:
        result.reverse = _scan(store, b, a, when, cands, source, alpha, seed, min_share)
    return result


def _scan(store: Store, a: str, b: str, when: dt.date, candidates: list[str] | None, source: str,
          alpha: float, seed: int, min_share: float) -> RerouteResult:
    """The route scan, then the relabelling test on the declared reports (the scan's own when it read them)."""
    data = _read(store, a, b, when, candidates, source)
    result = _routes(data, alpha, seed, min_share)
    result.timing = _timing(store, data, list(result.candidates.country[result.candidates.significant]), seed)
    declared = data
    if data.declared is None:
        try:
            declared = _read(store, a, b, when, None, "reported")
        except InputError as exc:
            result.notes.append(f"relabelling not tested: it needs both sides' declared reports ({exc})")
            return result
    result.relabelling = _relabelling(declared, alpha, seed, data.countries, min_share)
    result.candidates = result.candidates.merge(result.relabelling.table, on="country", how="left")
    result.candidates["relabelling"] = result.candidates.relabelling.astype("boolean").fillna(False).astype(bool)
    result.notes += result.relabelling.notes(a, b)
    return result


@dataclass
class _Declared:
    """Both sides' declarations of A's exports, by phase and product, for the relabelling test.

    In a reported scan, `_Data.ac` is A's declared exports to each candidate (exporters' reports)."""

    to_b: np.ndarray  # (3, P) A's declared exports to B (FOB)
    b_records: np.ndarray | None  # (3, P) B's declared imports from A (CIF); None when B reports no imports
    recorded: np.ndarray  # (3, C, P) each candidate's declared imports from A (CIF)
    reporting: np.ndarray  # (C,) the candidate reports imports in every phase


@dataclass
class _Data:
    """One scan's flows: means per period in phases (0: early pre, 1: late pre, 2: post)."""

    a: str
    b: str
    window: Window
    source: str
    products: list[str]
    countries: list[str]
    ab: np.ndarray  # (3, P) A -> B
    ac: np.ndarray  # (3, C, P) A -> C
    ac_t: np.ndarray  # tonnes of the same
    cb: np.ndarray  # (3, C, P) C -> B
    cb_t: np.ndarray
    c_rest: np.ndarray  # (3, C, P) C -> everyone but B
    world: np.ndarray  # (3, P) everyone but A -> everyone but B
    n: np.ndarray  # (3,) periods in each phase
    relation: tuple[str, dict]  # the trade relation's SQL and parameters, for the event study
    declared: _Declared | None = None  # both sides' declarations of A's exports (reported sources only)

    def mean(self, arr: np.ndarray, phases: list[int]) -> np.ndarray:
        """Mean per period over `phases` (axis 0 of `arr`)."""
        n = self.n[phases].reshape((-1,) + (1,) * (arr.ndim - 1))
        return (arr[phases] * n).sum(0) / n.sum()


def _read(store: Store, a: str, b: str, when: dt.date, candidates: list[str] | None, source: str) -> _Data:
    """Aggregate the flows one scan needs in DuckDB: A's exports, exports to B, everyone's to the rest."""
    trade, params, label, freq, mirror = _trade(store, a, b, source)
    relation = (trade, dict(params))
    periods = [r[0] for r in store.con.execute(*_bind(f"SELECT DISTINCT t FROM ({trade}) WHERE e = $a", params)).fetchall()]
    if not periods:
        raise InputError(f"no product-level exports of {a} in the store")
    window = make_window(periods, freq, when)
    half = len(window.pre_t) // 2
    early, post = list(window.pre_t[:half]), list(window.post_t)
    phase = "CASE WHEN list_contains($post, t) THEN 2 WHEN list_contains($early, t) THEN 0 ELSE 1 END"
    sql = f"""
    WITH w AS NOT MATERIALIZED (
        SELECT e, m, p, {phase} AS phase, v, q FROM ({trade}) WHERE list_contains($periods, t) AND e <> m
    ),
    prods AS (SELECT DISTINCT p FROM w WHERE e = $a OR m = $b),
    x AS NOT MATERIALIZED (SELECT * FROM w WHERE p IN (SELECT p FROM prods))
    SELECT 'a' AS k, m AS c, p, phase, sum(v) AS v, sum(q) AS q FROM x WHERE e = $a GROUP BY ALL
    UNION ALL SELECT 'b', e, p, phase, sum(v), sum(q) FROM x WHERE m = $b GROUP BY ALL
    UNION ALL SELECT 'r', e, p, phase, sum(v), NULL FROM x WHERE m <> $b AND e <> $a GROUP BY ALL
    """
    if mirror:
        sql += f"""UNION ALL SELECT k || 'm', c, p, {phase}, sum(v), NULL FROM ({mirror})
                   WHERE list_contains($periods, t) AND (p IS NULL OR p IN (SELECT p FROM prods)) GROUP BY ALL"""
    params |= {"post": post, "early": early, "periods": list(window.pre_t) + post}
    rows = store.con.execute(*_bind(sql, params)).df()
    if not ((rows.k == "a") & (rows.c == b) & (rows.phase < 2)).any():
        raise InputError(f"no trade from {a} to {b} before the event: nothing to reroute")
    n = np.array([half, len(window.pre_t) - half, len(post)], dtype=float)
    rows["v"] = rows["v"].astype(float) / np.maximum(n[rows["phase"]], 1)
    rows["q"] = rows["q"].astype(float) / np.maximum(n[rows["phase"]], 1)
    reporting = set(rows.loc[rows.k == "rm"].groupby("c").phase.nunique().loc[lambda k: k == 3].index)
    rows = rows[rows.k != "rm"]
    products = sorted(rows["p"].unique())
    countries = sorted((set(rows.loc[rows.k == "a", "c"]) | set(rows.loc[rows.k == "b", "c"])) - {a, b})
    if candidates is not None:
        missing = [c for c in candidates if c not in countries]
        if missing:
            raise InputError(f"candidates with no trade with {a} or {b} in the window: {', '.join(missing)}")
        countries = candidates
    pidx, cidx = {p: k for k, p in enumerate(products)}, {c: k for k, c in enumerate(countries)}

    C, P = len(countries), len(products)
    rows["pi"] = rows["p"].map(pidx)

    def cube(kind: str, value: str = "v") -> np.ndarray:
        sub = rows[(rows.k == kind) & rows.c.isin(cidx)]
        flat = (sub["phase"].to_numpy() * C + sub["c"].map(cidx).to_numpy()) * P + sub["pi"].to_numpy()
        return np.bincount(flat, sub[value].fillna(0.0).to_numpy(), 3 * C * P).reshape(3, C, P)

    def vec(mask: pd.Series) -> np.ndarray:
        sub = rows[mask]
        return np.bincount(sub["phase"].to_numpy() * P + sub["pi"].to_numpy(), sub["v"].to_numpy(), 3 * P).reshape(3, P)

    from_a = rows.k == "a"
    declared = None
    if mirror:
        declared = _Declared(
            to_b=vec(rows.k == "xm"), b_records=vec((rows.k == "im") & (rows.c == b)) if b in reporting else None,
            recorded=cube("im"), reporting=np.array([c in reporting for c in countries]),
        )
    return _Data(
        a, b, window, label, products, countries,
        ab=vec(from_a & (rows.c == b)),
        ac=cube("a"), ac_t=cube("a", "q"), cb=cube("b"), cb_t=cube("b", "q"), c_rest=cube("r"),
        world=vec(rows.k == "r"), n=n, relation=relation, declared=declared,
    )


def _trade(store: Store, a: str, b: str, source: str) -> tuple[str, dict, str, str, str | None]:
    """SQL for one consistent trade relation (e exporter, m importer, p, t, v USD, q tonnes).

    BACI: its reconciled annual flows. Reported: one declaring source (the first in priority that
    has A's product-level exports), monthly if A reports monthly; flows into B as B reports its
    imports (CIF) when it does, since B reports on every origin; everything else as exporters report.
    Reported also gives the mirror relation (k, c, p, t, v) the relabelling test needs: A's declared
    exports to B (k = 'x'), every importer c's declared imports from A (k = 'i') and the periods in
    which c reports imports at all (k = 'r', no product); BACI gives None.
    """
    tonnes = TONNES_SQL
    has_baci = store.con.execute("SELECT count(*) > 0 FROM (SELECT 1 FROM flows WHERE source = 'baci' LIMIT 1)").fetchone()[0]
    if source == "baci" or (source == "auto" and has_baci):
        if not has_baci:
            raise InputError("no BACI data in the store (--source reported reads the declared reports)")
        sql = f"""SELECT reporter AS e, partner AS m, product AS p, year AS t, value_usd AS v, {tonnes} AS q FROM flows
                  WHERE source = 'baci' AND flow = 'export' AND product_level = 6 AND partner_is_country AND value_usd IS NOT NULL"""
        return sql, {"a": a, "b": b}, "baci", "A", None
    priority = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PRIORITY))
    pick = store.con.execute(f"""
        SELECT source, max(freq) AS freq FROM flows
        WHERE reporter = ? AND flow = 'export' AND source <> 'baci' AND product_level > 0
        GROUP BY source ORDER BY CASE source {priority} ELSE 99 END LIMIT 1""", [a]).fetchone()
    if pick is None:
        raise InputError(f"no product-level exports of {a} in the store")
    src, freq = pick  # 'M' sorts after 'A': monthly when the source has any months of A
    level = store.con.execute("""SELECT max(product_level) FROM flows WHERE reporter = ? AND flow = 'export'
                                 AND source = ? AND freq = ?""", [a, src, freq]).fetchone()[0]
    params = {"a": a, "b": b, "src": src, "freq": freq, "level": level}
    common = "source = $src AND freq = $freq AND product_level = $level AND partner_is_country AND value_usd IS NOT NULL"
    b_imports = store.con.execute(*_bind(
        f"SELECT count(*) > 0 FROM (SELECT 1 FROM flows WHERE reporter = $b AND flow = 'import' AND {common} LIMIT 1)", params)).fetchone()[0]
    cols = f"product AS p, {time_index(freq)} AS t, value_usd AS v, {tonnes} AS q"
    sql = f"SELECT reporter AS e, partner AS m, {cols} FROM flows WHERE flow = 'export' AND {common}"
    if b_imports:
        sql += (f" AND partner <> $b UNION ALL SELECT partner AS e, reporter AS m, {cols} FROM flows"
                f" WHERE flow = 'import' AND reporter = $b AND {common}")
    mirror = f"""SELECT 'x' AS k, partner AS c, {cols} FROM flows WHERE flow = 'export' AND reporter = $a AND partner = $b AND {common}
                  UNION ALL SELECT 'i', reporter, {cols} FROM flows WHERE flow = 'import' AND partner = $a AND {common}
                  UNION ALL SELECT DISTINCT 'r', reporter, NULL, {time_index(freq)}, 0, NULL FROM flows WHERE flow = 'import' AND {common}"""
    return sql, params, f"reported ({src}, {'monthly' if freq == 'M' else 'annual'})", freq, mirror


def _bind(sql: str, params: dict) -> tuple[str, dict]:
    """DuckDB refuses named parameters a statement does not use."""
    return sql, {k: v for k, v in params.items() if f"${k}" in sql}


@dataclass
class _Fit:
    """One weighted fit of a leg, per candidate."""

    beta: np.ndarray  # (C,) share of the drop that shows on the leg
    tau: np.ndarray  # (C,) the pair's own growth in its own mix
    se: np.ndarray  # (C,) robust standard error of beta
    w: np.ndarray  # (C, P) final weights, for the bootstrap
    n: np.ndarray  # (C,) products in the fit


@dataclass
class _Leg:
    """A leg fitted twice: `test` weighs products by relative change (the test's power), `value` so
    that sums are matched (the value; module docstring)."""

    test: _Fit
    value: _Fit
    active: np.ndarray  # (C,) enough products to test
    excess: np.ndarray  # (C, P) after - the tau-adjusted counterfactual (value fit)
    boot: np.ndarray  # (C, R) the value fit's beta in bootstrap samples over products

    @property
    def z(self) -> np.ndarray:
        return np.where(self.active, self.test.beta / self.test.se, 0.0)


def _leg(x: np.ndarray, y: np.ndarray, drop: np.ndarray, traded: np.ndarray, draws: np.ndarray,
         trim_value: bool = False) -> _Leg:
    """Per candidate (rows): y on [x, drop] over products, for the test and for the value; `traded`
    (C,): the leg has any trade. `trim_value` gives the value fit the test's Huber steps too: in a
    single period the noise of C's big flows outweighs the bias trimming brings."""
    d = np.broadcast_to(drop, x.shape)
    test, value = _fit(x, y, d, value=False, trim=True), _fit(x, y, d, value=True, trim=trim_value)
    active = (test.n >= MIN_PRODUCTS) & traded
    boot = _solve(value.w, x, d, y, draws)[0]
    return _Leg(test, value, active, y - value.tau[:, None] * x, boot)


def _fit(x: np.ndarray, y: np.ndarray, d: np.ndarray, value: bool, trim: bool) -> _Fit:
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
    beta, tau, rx, rd = _solve(w, x, d, y)
    for _ in range(HUBER_STEPS if trim else 0):  # products that jump on their own (a new or vanished flow) count less
        std = np.sqrt(w) * (y - tau[:, None] * x - beta[:, None] * d)
        scale = np.nan_to_num(1.4826 * np.nanmedian(np.where(used, np.abs(std), np.nan), axis=1, keepdims=True))
        w = w * np.where(scale > 0, np.minimum(1.0, HUBER_C * scale / np.maximum(np.abs(std), 1e-300)), 1.0)
        beta, tau, rx, rd = _solve(w, x, d, y)
    resid = y - tau[:, None] * x - beta[:, None] * d
    # Robust (sandwich) variance of beta: its row of (X'WX)^-1 applied to each product's score.
    psi = (rx[:, None] * x + rd[:, None] * d) * w * resid
    n = n[:, 0]
    se = np.maximum(np.sqrt((psi**2).sum(1) * n / np.maximum(n - 2, 1)), MIN_SE)
    return _Fit(beta, tau, se, w, n)


def _growth_leg(before: np.ndarray, after: np.ndarray, growth: np.ndarray, drop: np.ndarray, draws: np.ndarray,
                trim_value: bool = False) -> _Leg:
    """A leg of the route: after - x on [x, drop], x = before * growth."""
    x = before * growth
    return _leg(x, after - x, drop, after.sum(1) + before.sum(1) > 0, draws, trim_value)


def _solve(w: np.ndarray, x: np.ndarray, d: np.ndarray, y: np.ndarray, draws: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Weighted least squares of y on [x, d] over products (axis 1): beta, tau and beta's row of
    (X'WX)^-1. With `draws` (R x P product counts), beta in each bootstrap sample instead: (C, R)."""
    total = (lambda v: v.sum(1)) if draws is None else (lambda v: v @ draws.T)
    sxx, sxd, sdd = total(w * x * x), total(w * x * d), total(w * d * d)
    sxy, sdy = total(w * x * y), total(w * d * y)
    det = sxx * sdd - sxd**2
    ok = det > 1e-9 * np.maximum(sxx * sdd, 1e-300)
    safe = np.where(ok, det, 1.0)
    only_d = 1 / np.maximum(sdd, 1e-300)  # no usable x (a new partner): y on d alone
    beta = np.where(ok, (sxx * sdy - sxd * sxy) / safe, sdy * only_d)
    tau = np.where(ok, (sdd * sxy - sxd * sdy) / safe, 0.0)
    return beta, tau, np.where(ok, -sxd / safe, 0.0), np.where(ok, sxx / safe, only_d)


def _p_values(z: np.ndarray, active: np.ndarray) -> np.ndarray:
    """One-sided p-values of z against the cross-section: most candidates reroute nothing.

    The empirical null (Efron 2004): centre at the median z of the tested candidates and scale by
    their robust spread, never narrower than the standard normal.
    """
    ref = z[active]
    centre, spread = 0.0, 1.0
    if len(ref) >= 10:
        centre = float(np.median(ref))
        spread = max(1.0, 1.4826 * float(np.median(np.abs(ref - centre))))
    return np.where(active, stats.norm.sf((z - centre) / spread), 1.0)


def _ratio(num: np.ndarray, den: np.ndarray, fallback: np.ndarray | float = 1.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), fallback)


def _holm(p: np.ndarray, alpha: float) -> np.ndarray:
    order = np.argsort(p)
    m = len(p)
    passed = np.zeros(m, dtype=bool)
    for rank, k in enumerate(order):
        if p[k] > alpha / (m - rank):
            break
        passed[k] = True
    return passed


def _drop(data: _Data, direct: np.ndarray) -> np.ndarray:
    """A -> B's drop by product, per period: before times the product's world growth, minus what still went.

    The world's growth (everyone but A, to everyone but B), not A's own: when B was a big market of
    A's, the rerouted and relabelled goods inflate A's sales elsewhere, and the drop with them.
    `direct` is the (3, P) flow A -> B: the scan's, or A's declarations for the relabelling test.
    """
    world = _ratio(data.world[2], data.mean(data.world, [0, 1]))
    return np.maximum(data.mean(direct, [0, 1]) * world - direct[2], 0.0)


def _draws(n_products: int, seed: int) -> np.ndarray:
    """Bootstrap resamples of the products: (R, P) counts."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_products, np.full(n_products, 1 / n_products), size=BOOTSTRAP).astype(float)


def _legs(data: _Data, pre: list[int], post: int, drop: np.ndarray, draws: np.ndarray) -> tuple[_Leg, _Leg]:
    """Both legs' fits between phases `pre` (averaged) and `post`, with the drop as intensity.

    Leg 1 grows A -> C by the product's world growth, for the reason given in `_drop`; leg 2 grows
    C -> B by C's own sales of the product elsewhere (the world's where C had none).
    """
    mean = lambda arr: data.mean(arr, pre)  # noqa: E731
    world = _ratio(data.world[post], mean(data.world))
    leg1 = _growth_leg(mean(data.ac), data.ac[post], np.broadcast_to(world, data.ac[post].shape), drop, draws)
    leg2 = _growth_leg(mean(data.cb), data.cb[post], _ratio(data.c_rest[post], mean(data.c_rest), world), drop, draws)
    return leg1, leg2


def _routes(data: _Data, alpha: float, seed: int, min_share: float) -> RerouteResult:
    """Test both legs of every candidate, estimate what went through it, and rank them."""
    C = len(data.countries)
    draws = _draws(len(data.products), seed)
    drop = _drop(data, data.ab)
    leg1, leg2 = _legs(data, [0, 1], 2, drop, draws)
    n_post = len(data.window.post_t)
    p1, p2 = _p_values(leg1.z, leg1.active), _p_values(leg2.z, leg2.active)
    p_joint = np.maximum(p1, p2)
    markup = _markup(data, drop)
    # Rerouted share: both legs' betas, weighted by precision (leg 2 net of the markup).
    b2, s2 = leg2.value.beta / (1 + markup), leg2.value.se / (1 + markup)
    w1, w2 = 1 / np.maximum(leg1.value.se, 1e-12) ** 2, 1 / np.maximum(s2, 1e-12) ** 2
    share = np.clip((w1 * leg1.value.beta + w2 * b2) / (w1 + w2), 0.0, None)
    boot_share = np.clip((w1[:, None] * leg1.boot + w2[:, None] * leg2.boot / (1 + markup)[:, None]) / (w1 + w2)[:, None], 0.0, None)
    total_drop = float(drop.sum())
    rerouted = share * total_drop * n_post
    significant = _holm(p_joint, alpha) & (share >= min_share)
    placebo = _placebo(data, drop, draws)
    top = np.minimum(leg1.excess, leg2.excess)
    top_products = [[data.products[k] for k in np.argsort(-top[c])[:5] if top[c, k] > 0] for c in range(C)]
    overlap = ((data.cb[2] > 0) * drop).sum(1) / max(total_drop, 1e-12)
    uv = _ratio((drop * (data.ac_t[2] > 0)).sum(1), (drop * _ratio(data.ac_t[2], data.ac[2], 0.0)).sum(1), np.nan)
    table = pd.DataFrame({
        "country": data.countries, "score": -np.log10(np.clip(p_joint, 1e-300, 1)), "significant": significant,
        "rerouted_value_usd": rerouted, "share": share,
        "ci_low": np.percentile(boot_share, 2.5, axis=1) * total_drop * n_post,
        "ci_high": np.percentile(boot_share, 97.5, axis=1) * total_drop * n_post, "p_value": p_joint,
        **_excess("leg1", leg1, total_drop * n_post), "leg1_p": p1, **_excess("leg2", leg2, total_drop * n_post), "leg2_p": p2,
        "markup_pct": markup * 100, "usd_per_t": uv, "overlap": overlap, "placebo_p": placebo, "top_products": top_products,
    }).sort_values(["significant", "score", "rerouted_value_usd"], ascending=False, ignore_index=True)
    notes = []
    pre_trend = table.significant & (table.placebo_p < alpha)
    if pre_trend.any():
        notes.append(f"pre-trend or anticipation: the placebo test within the pre-event window is also significant for"
                     f" {', '.join(table.country[pre_trend])} (trade already moving before the event: an earlier restriction?)")
    return RerouteResult(data.a, data.b, data.window, data.source, total_drop * n_post, float(data.mean(data.ab, [0, 1]).sum()),
                         float(rerouted[significant].sum()), table, alpha, min_share, notes=notes)


def _relabelling(data: _Data, alpha: float, seed: int, family: list[str], min_share: float) -> Relabelling:
    """Relabelling: A's declarations to C rise with A -> B's declared drop, C's records of them do not.

    The same product-level fit as a leg, on the flow A declares to C but C does not record (CIF/FOB
    adjusted): its change after the event against [A's declared flow to C, A's declared drop to B].
    A candidate is tested when it reports imports in every phase; Holm's procedure runs over the
    tested candidates among `family` (the route scan's).
    """
    dec = data.declared
    assert dec is not None
    pre, n_post = [0, 1], len(data.window.post_t)
    sent, got = data.mean(data.ac, pre), data.mean(dec.recorded, pre)
    cif, cif_se, cif_fob = _cif_fob(sent, got, dec.reporting)
    world = _ratio(data.world[2], data.mean(data.world, pre))
    x = sent * world
    recorded = dec.recorded[2] / cif - got / cif * world  # C's recorded rise, at FOB
    drop = _drop(data, dec.to_b)
    draws, traded = _draws(len(data.products), seed), dec.reporting & (data.ac.sum((0, 2)) > 0)
    leg = _leg(x, data.ac[2] - sent * world - recorded, drop, traded, draws)
    kept = _leg(x, recorded, drop, traded, draws)  # the share of the drop C does record
    kept_test, kept_value = (np.clip(f.beta, 0.0, None) for f in (kept.test, kept.value))
    # A wrong CIF/FOB factor turns a share of what C records into "unrecorded": add its uncertainty to
    # the test, and draw the factor in the bootstrap (a log error e moves beta by about kept * e).
    z = np.where(leg.active, leg.test.beta / np.sqrt(leg.test.se**2 + (kept_test * cif_se) ** 2), 0.0)
    noise = np.random.default_rng(seed).normal(0.0, 1.0, leg.boot.shape) * cif_se[:, None]
    leg = dataclasses.replace(leg, boot=leg.boot + kept_value[:, None] * noise)
    p = _p_values(z, leg.active)
    in_family = leg.active & np.isin(data.countries, family)
    passed = np.zeros(len(p), dtype=bool)
    passed[in_family] = _holm(p[in_family], alpha)
    share = leg.value.beta
    material = (share >= min_share) & (share >= MIN_UNRECORDED * (share + kept_value))
    total = float(drop.sum()) * n_post
    value = {k: np.clip(v, 0.0, None) for k, v in _excess("relabel", leg, total).items()}
    table = pd.DataFrame({
        "country": data.countries, "relabelling": passed & material, "relabelled_value_usd": value["relabel_excess"],
        "relabel_ci_low": value["relabel_ci_low"], "relabel_ci_high": value["relabel_ci_high"], "relabel_p": p,
    })[in_family]
    importer_excess = None
    if dec.b_records is not None:  # B's records at FOB by B's own CIF/FOB factor with A, less A's declarations
        b_cif = _cif_fob(data.mean(dec.to_b, pre)[None], data.mean(dec.b_records, pre)[None], np.array([True]))[0]
        gap = dec.b_records / b_cif[0, 0] - dec.to_b
        importer_excess = float((gap[2] - data.mean(gap, pre)).sum()) * n_post
    return Relabelling(data.source, data.window, cif_fob, total, importer_excess, table.reset_index(drop=True))


def _cif_fob(sent: np.ndarray, got: np.ndarray, reporting: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """CIF/FOB per candidate, the median over products of recorded / declared before the event (margins
    differ by partner), with the standard error of its log; the pooled median where a candidate has
    fewer than MIN_PRODUCTS products. Returns (C, 1) factors, (C,) standard errors, the pooled factor."""
    both = (sent > 0) & (got > 0) & reporting[:, None]
    log_ratio = np.where(both, np.log(np.where(both, got, 1.0) / np.where(both, sent, 1.0)), np.nan)
    if not both.any():
        return np.ones((len(sent), 1)), np.zeros(len(sent)), 1.0
    pooled = float(np.nanmedian(log_ratio))
    n = both.sum(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: candidates with no pairs, replaced below
        own = np.nanmedian(log_ratio, axis=1)
        spread = 1.4826 * np.nanmedian(np.abs(log_ratio - own[:, None]), axis=1)
    enough = n >= MIN_PRODUCTS
    # The median's standard error: 1.2533 sigma / sqrt(n) for normal noise.
    se = np.where(enough, 1.2533 * np.nan_to_num(spread) / np.sqrt(np.maximum(n, 1)), 0.0)
    return np.exp(np.where(enough, own, pooled))[:, None], se, float(np.exp(pooled))


def _timing(store: Store, data: _Data, flagged: list[str], seed: int) -> pd.DataFrame | None:
    """Event study of the flagged routes: each period's excess on both legs, in the product mix of the
    post-event drop (a fixed intensity, so the periods before the event are placebos), against the
    pre-event means; in USD per period with a bootstrap 95% CI, the value fit trimmed (`_leg`). The
    transition period is included."""
    if not flagged:
        return None
    window, (trade, params) = data.window, data.relation
    periods = list(window.pre_t) + ([window.timing.transition] if window.timing.transition is not None else []) + list(window.post_t)
    sql = f"""
    WITH w AS NOT MATERIALIZED (SELECT e, m, p, t, v FROM ({trade}) WHERE list_contains($periods, t) AND e <> m
                                AND list_contains($products, p))
    SELECT 'a' AS k, m AS c, p, t, sum(v) AS v FROM w WHERE e = $a AND list_contains($flagged, m) GROUP BY ALL
    UNION ALL SELECT 'b', e, p, t, sum(v) FROM w WHERE m = $b AND list_contains($flagged, e) GROUP BY ALL
    UNION ALL SELECT 'r', e, p, t, sum(v) FROM w WHERE m <> $b AND list_contains($flagged, e) GROUP BY ALL
    UNION ALL SELECT 'w', NULL, p, t, sum(v) FROM w WHERE m <> $b AND e <> $a GROUP BY ALL
    """
    rows = store.con.execute(*_bind(sql, params | {"periods": periods, "products": data.products, "flagged": flagged})).df()
    P, C, T = len(data.products), len(flagged), len(periods)
    pidx, cidx, tidx = ({x: k for k, x in enumerate(v)} for v in (data.products, flagged, periods))
    cubes = {}
    for kind in "abrw":
        sub = rows[rows.k == kind]
        c = sub.c.map(cidx).fillna(0).astype(int).to_numpy()
        flat = (sub.t.map(tidx).to_numpy() * C + c) * P + sub.p.map(pidx).to_numpy()
        cubes[kind] = np.bincount(flat, sub.v.astype(float).to_numpy(), T * C * P).reshape(T, C, P)
    rows_c = [data.countries.index(c) for c in flagged]
    mean = lambda arr: data.mean(arr, [0, 1])  # noqa: E731
    world_pre, rest_pre = mean(data.world), mean(data.c_rest)[rows_c]
    drop = _drop(data, data.ab)
    draws = _draws(P, seed)
    out = []
    for k, t in enumerate(periods):
        world = _ratio(cubes["w"][k, 0], world_pre)
        leg1 = _growth_leg(mean(data.ac)[rows_c], cubes["a"][k], np.broadcast_to(world, (C, P)), drop, draws, trim_value=True)
        leg2 = _growth_leg(mean(data.cb)[rows_c], cubes["b"][k], _ratio(cubes["r"][k], rest_pre, world), drop, draws, trim_value=True)
        phase = "transition" if t == window.timing.transition else "pre" if t < window.timing.first_post else "post"
        out.append(pd.DataFrame({"country": flagged, "period": period_label(t, window.freq), "phase": phase,
                                 **_excess("leg1", leg1, float(drop.sum())), **_excess("leg2", leg2, float(drop.sum()))}))
    return pd.concat(out, ignore_index=True).rename(columns={"leg1_excess": "leg1_usd", "leg2_excess": "leg2_usd"})


def _excess(name: str, leg: _Leg, total_drop: float) -> dict[str, np.ndarray]:
    """A leg's excess value over the post-event periods (its share of the drop times the drop), with a 95% CI.

    Not the sum of the products' residual excess, which the noise of the pair's biggest flows dominates."""
    return {f"{name}_excess": leg.value.beta * total_drop, f"{name}_ci_low": np.percentile(leg.boot, 2.5, axis=1) * total_drop,
            f"{name}_ci_high": np.percentile(leg.boot, 97.5, axis=1) * total_drop}


def _markup(data: _Data, drop: np.ndarray) -> np.ndarray:
    """Unit-value markup of C -> B over A -> C after the event, per product, weighted by the drop (0 to 100%)."""
    uv1, uv2 = _ratio(data.ac[2], data.ac_t[2], np.nan), _ratio(data.cb[2], data.cb_t[2], np.nan)
    both = np.isfinite(uv1) & np.isfinite(uv2) & (uv1 > 0) & (uv2 > 0)
    log_ratio = np.where(both, np.log(np.where(both, uv2, 1) / np.where(both, uv1, 1)), 0.0)
    weight = both * drop
    mean = _ratio((weight * log_ratio).sum(1), weight.sum(1), 0.0)
    return np.clip(np.expm1(mean), 0.0, 1.0)


def _placebo(data: _Data, drop: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Pre-trend check: did the dropped products already grow on either leg between the two halves of
    the pre-event window? The same test, min of the legs' p-values."""
    leg1, leg2 = _legs(data, [0], 1, drop, draws)
    return np.minimum(_p_values(leg1.z, leg1.active), _p_values(leg2.z, leg2.active))
