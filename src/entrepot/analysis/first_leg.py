"""Rerouting seen from one side: when the store has A -> B and A -> C but nothing of C -> B.

An exporter's own declarations (Eurostat's Comext is the EU's) show what A stopped selling to B and
what A now sells to C, not whether it went on. So each candidate C is ranked on the first leg only:
the basket's products A stopped selling to B that A now sells to C, beyond C's own trend and the
out-of-basket control. It is `reroute`'s first leg (analysis/reroute.py) with the out-of-basket
growth of A's sales to C as the counterfactual growth (the world's growth needs data a one-sided
store does not have). Per product p of the basket (means per period, after vs before the event):

    after_cp - x_cp = tau_c * x_cp + beta_c * d_p,    x_cp = before_cp * g_c,
    d_p = max(before_Bp - after_Bp, 0)   (A's drop to B, against no growth),
    g_c = after / before of A's other exports to C (the control: total minus energy minus the basket).

beta_c is the share of A's drop to B that shows up as extra sales to C: the value fit gives it (and
its bootstrap interval over products), the test fit its z; candidates are flagged by Holm's procedure
at `alpha` and a 0.1% materiality floor, as in `reroute`. A placebo runs the same fit a year earlier
(a pre-trend check). Every output says that the second leg, C -> B, is unobserved: a flag shows
goods that could have gone on, not that they did.

Products across an HS revision inside the window (CN 2022 follows HS 2022): codes whose HS6 is the
same in both revisions (UNSD's 1:1) are kept as they are. A listed code whose heading changed stands
for the headings linked to it in both revisions: in the older periods every line of the older HS6
codes it came from, in the newer every line of the newer codes linked to those (the usual "a heading
counts whole" rule, applied on both sides so that the before and after hold the same goods); all are
compared as the older revision's HS6, the newer periods converted by `entrepot.concordance` (split
by the exporter's base-period trade). The result says how many products and how much of the basket's
value were concorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from entrepot import concordance, countries, groups, hs
from entrepot.analysis import stats
from entrepot.analysis.reroute import MIN_SHARE
from entrepot.analysis.reroute.legs import growth_leg, product_draws
from entrepot.analysis.window import Window, make_window, parse_event, time_index
from entrepot.basket import Basket
from entrepot.currency import amount
from entrepot.currency import check as check_currency
from entrepot.errors import InputError
from entrepot.results import Provenance, Result, records
from entrepot.store import Store
from entrepot.store import query as q
from entrepot.store.warehouse import dataframe

ENERGY = "27"  # HS chapter 27, mineral fuels: left out of the control (prices, and its own sanctions)
STOPPED, STARTED = 0.5, 0.5  # a product A "stopped selling" to B fell by half; "now sells" to C rose by half beyond C's trend
SECOND_LEG = {
    "unobserved": "second leg unobserved: the store has no flows from {c} to {b} (no exports declared by them, no "
                  "imports declared by {b}), so whether the extra goods went on to {b} cannot be seen; a flag shows "
                  "goods that could have gone on, not that they did",
    "not used": "second leg not used: the store has flows from some of {c} to {b}, but the first-leg ranking does not "
                "read them (reroute runs both legs where they are)",
}


COLUMNS = {
    "rank": "flagged first, then by share_of_drop", "country": "the candidate intermediary C",
    "basket_before": "A's basket exports to C per period before the event", "basket_after": "after",
    "basket_change": "after / before - 1", "control_before": "A's other exports to C (total - chapter 27 - basket)",
    "control_after": "after", "control_change": "after / before - 1: C's own trend",
    "excess_growth": "the basket's growth beyond the control's", "excess_value": "basket after - before x the control's growth",
    "share_of_drop": "the first-leg value fit: share of A's basket drop to B showing as extra sales to C",
    "ci_low": "95% bootstrap bound (products)", "ci_high": "95% bootstrap bound (products)", "z": "the test fit's z",
    "p_value": "one-sided, against the candidates' empirical null (the standard normal under 10 candidates)",
    "placebo_p": "the same test a year earlier", "flagged": "Holm at alpha, and share_of_drop >= the materiality floor",
    "products_stopped_started": "basket products A stopped selling to B (-50%) that rose to C (+50% beyond its trend)",
    "value_stopped_started": "their excess per period", "second_leg": "'unobserved' (no C -> B flows in the store) or 'not used'",
}


@dataclass(frozen=True)
class FirstLegResult(Result):
    """`reroute` on one side's declarations: the candidates ranked on the first leg, the second unobserved."""

    COLUMNS: ClassVar[dict[str, str]] = COLUMNS
    FIGURE: ClassVar[str] = "first_leg"

    exporter: str
    importer: str
    basket: str
    window: Window
    currency: str
    direct: dict[str, float]  # the basket and control to B, before and after (per period)
    candidates: pd.DataFrame  # one row per candidate, ranked (COLUMNS)
    products: pd.DataFrame  # per candidate, the basket products A stopped selling to B that A now sells to C
    concorded: dict[str, Any]
    alpha: float
    notes: tuple[str, ...]
    provenance: Provenance
    second_leg: str = "unobserved"

    def to_frame(self) -> pd.DataFrame:
        """The candidates, ranked (`COLUMNS`)."""
        return self.candidates

    def summary(self) -> str:
        """The basket's fall to B, then each candidate's evidence, and the notes (the second leg's first)."""
        d, cur = self.direct, self.currency
        lines = [f"{self.exporter} -> {self.importer}, basket {self.basket}, {self.window.span} against {self.window.pre[0]}"
                 f"..{self.window.pre[-1]} ({cur} per month):",
                 f"  basket to {self.importer}: {d['basket_pre']:,.0f} -> {d['basket_post']:,.0f} ({d['basket_change']:+.1%}); "
                 f"rest of trade {d['control_change']:+.1%}"]
        for r in self.candidates.itertuples():
            flag = "FLAGGED" if r.flagged else "not flagged"
            lines.append(f"  {r.rank}. {r.country}: basket {r.basket_change:+.1%} vs rest {r.control_change:+.1%}; "
                         f"{r.share_of_drop:.1%} of the drop [{r.ci_low:.1%}, {r.ci_high:.1%}], p={r.p_value:.3g}, "
                         f"placebo p={r.placebo_p:.2g}; {r.products_stopped_started} products stopped to "
                         f"{self.importer} and up to {r.country}: {flag}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def to_dict(self) -> dict[str, Any]:
        """The pair, window and basket, the candidates with their top products, and the notes."""
        rows = records(self.candidates)
        for row in rows:
            top = self.products[self.products.country == row["country"]].head(10)
            row["top_products"] = records(top.drop(columns="country"))
        return {"exporter": self.exporter, "importer": self.importer, "basket": self.basket, "method": "first leg only",
                "second_leg": self.second_leg, "window": self.window.to_dict(), "currency": self.currency,
                "direct": {k: float(v) for k, v in self.direct.items()}, "alpha": self.alpha, "candidates": rows,
                "concorded": self.concorded, "notes": list(self.notes), "provenance": self.provenance.to_dict()}


def has_second_leg(store: Store, importer: str, candidates: list[str] | None, exporter: str | None = None,
                   defined: dict[str, groups.Group] | None = None) -> bool:
    """Whether the store has any flow between a candidate and B (C's exports or B's imports); with no
    candidates, between B and any country but `exporter` or its group's members (None: False, nothing to rank)."""
    if not candidates and exporter is None:
        return False

    def who(col: str) -> str:
        return f"list_contains($c, {col})" if candidates else f"{col} <> $b AND NOT {groups.condition(str(exporter), col, defined)}"

    row = store.con.execute(*q.bind(
        f"SELECT count(*) FROM (SELECT 1 FROM flows WHERE ({who('reporter')} AND partner = $b AND flow = 'export') "
        f"OR (reporter = $b AND {who('partner')} AND flow = 'import') LIMIT 1)", {"c": candidates, "b": importer})).fetchall()
    return row[0][0] > 0


def first_leg(store: Store, exporter: str, importer: str, event: str | dt.date, candidates: list[str], basket: Basket, *,
              currency: str = "USD", defined: dict[str, groups.Group] | None = None, concordance_path: str | Path | None = None,
              alpha: float = 0.05, min_share: float = MIN_SHARE, seed: int = 0) -> FirstLegResult:
    """Rank candidates C of A -> C -> B on the first leg alone (module docstring)."""
    when = parse_event(event)
    b = _country(importer, "importer")
    cands = []
    for code in candidates:  # a group of candidates stands for its members, each ranked
        group = groups.resolve(code, defined)
        cands += list(group.all_countries()) if group else [_country(code, "candidate")]
    cands = [c for c in dict.fromkeys(cands) if c != b]
    if not cands:
        raise InputError("no candidate intermediaries: give --candidates (countries or a group)")
    currency = check_currency(currency)
    second = "not used" if has_second_leg(store, b, cands) else "unobserved"
    reporter = groups.condition(exporter, "reporter", defined)
    rows, totals, window, level, concorded, sources = _read(store, reporter, [b, *cands], basket, currency, exporter, when,
                                                            concordance_path)

    def phase_means(frame: pd.DataFrame, keys: list[str], pre: tuple[int, ...], post: tuple[int, ...]) -> pd.DataFrame:
        f = frame[frame.t.isin(pre + post)].assign(phase=lambda d: np.where(d.t.isin(post), "post", "pre"))
        out = f.groupby(keys + ["phase"])["v"].sum().unstack("phase").reindex(columns=["pre", "post"]).fillna(0.0)
        return out.assign(pre=out["pre"] / len(pre), post=out["post"] / len(post))

    def analyse(pre: tuple[int, ...], post: tuple[int, ...]):
        prod = phase_means(rows, ["partner", "key"], pre, post)
        control = phase_means(totals, ["partner", "what"], pre, post)
        keys = sorted(prod.index.get_level_values("key").unique())
        grid = prod.reindex(pd.MultiIndex.from_product([[b, *cands], keys], names=["partner", "key"]), fill_value=0.0)
        before = grid["pre"].unstack("key").reindex(index=[b, *cands], columns=keys)
        after = grid["post"].unstack("key").reindex(index=[b, *cands], columns=keys)
        basket_sum = grid.groupby("partner")[["pre", "post"]].sum()
        basket_energy = grid[grid.index.get_level_values("key").str.startswith(ENERGY)].groupby("partner")[["pre", "post"]].sum()
        rest = _control(control, basket_sum, basket_energy, [b, *cands])
        return before, after, basket_sum.reindex([b, *cands]).fillna(0.0), rest, keys

    before, after, basket_sum, rest, keys = analyse(window.pre_t, window.post_t)
    drop, growth, leg = _leg(before, after, rest, b, cands, seed)
    if drop.sum() <= 0:
        raise InputError(f"the basket's exports to {b} did not fall after {when}: nothing to reroute")
    p = stats.empirical_null_p(leg.z, leg.active)
    ci_low, ci_high = np.percentile(leg.boot, [2.5, 97.5], axis=1)
    share = leg.value.beta
    flagged = stats.holm(p, alpha) & leg.active & (share >= min_share)
    placebo_p = _placebo(analyse, window, b, cands, seed)

    stopped = (before.loc[b] > 0) & (after.loc[b] <= (1 - STOPPED) * before.loc[b])
    table, products = [], []
    for k, c in enumerate(cands):
        expected = before.loc[c] * growth[k]
        started = stopped & (after.loc[c] > (1 + STARTED) * expected) & (after.loc[c] > 0)
        excess = after.loc[c] - expected
        products.append(pd.DataFrame({
            "country": c, "product": [str(i) for i in excess[started].index],
            "description": [_describe(str(i)) for i in excess[started].index],
            "before_to_importer": before.loc[b][started].to_numpy(), "after_to_importer": after.loc[b][started].to_numpy(),
            "before": before.loc[c][started].to_numpy(), "after": after.loc[c][started].to_numpy(),
            "excess": excess[started].to_numpy()}).sort_values("excess", ascending=False))
        bs, rs = basket_sum.loc[c], rest.loc[c]
        table.append({
            "country": c, "basket_before": bs["pre"], "basket_after": bs["post"], "basket_change": _change(bs),
            "control_before": rs["pre"], "control_after": rs["post"], "control_change": _change(rs),
            "excess_growth": (bs["post"] / bs["pre"]) / (rs["post"] / rs["pre"]) - 1 if bs["pre"] > 0 and rs["pre"] > 0 else np.nan,
            "excess_value": bs["post"] - bs["pre"] * growth[k],
            "share_of_drop": share[k], "ci_low": ci_low[k], "ci_high": ci_high[k], "z": leg.z[k], "p_value": p[k],
            "placebo_p": placebo_p[k], "flagged": bool(flagged[k]), "products_stopped_started": int(started.sum()),
            "value_stopped_started": float(excess[started].sum()), "second_leg": second})
    cand = pd.DataFrame(table).sort_values(["flagged", "share_of_drop"], ascending=False).reset_index(drop=True)
    cand.insert(0, "rank", np.arange(1, len(cand) + 1))
    bb, rb = basket_sum.loc[b], rest.loc[b]
    direct = {"basket_pre": bb["pre"], "basket_post": bb["post"], "basket_change": _change(bb), "drop": float(drop.sum()),
              "control_pre": rb["pre"], "control_post": rb["post"], "control_change": _change(rb),
              "products_stopped": int(stopped.sum())}
    notes = [SECOND_LEG[second].format(c=", ".join(cands), b=b),
             f"control: {'total minus chapter 27 minus the basket' if 'total' in set(totals.what) else 'the products outside the basket'}; "
             f"basket read at {level} digits; window {window.pre[0]}..{window.pre[-1]} against {window.span}"]
    if concorded["products"]:
        notes.append(f"{concorded['products']} basket products span the {concorded['from']}->{concorded['to']} revision "
                     f"change and are compared as {concorded['to']} HS6 ({concorded['share']:.1%} of the basket's value)")
    return FirstLegResult(str(exporter).upper(), b, basket.name, window, currency, direct, cand,
                          pd.concat(products, ignore_index=True), concorded, alpha, tuple(notes), q.provenance(store, sources), second)


def _country(code: str, what: str) -> str:
    up = code.strip().upper()
    if not countries.is_known(up):
        raise InputError(f"unknown {what} code {code!r} (use ISO 3166 alpha-3, e.g. KAZ)")
    return up


def _change(row: pd.Series) -> float:
    return row["post"] / row["pre"] - 1 if row["pre"] > 0 else np.nan


def _describe(code: str) -> str:
    return hs.describe(code[-6:] if code.startswith("HS") else code[:6]) or ""


def _run(store: Store, sql: str, params: dict[str, Any]):
    return store.con.execute(*q.bind(sql, params))


def _read(store: Store, reporter: str, partners: list[str], basket: Basket, currency: str, exporter: str,
          when: dt.date, path: str | Path | None):
    """The basket's rows at the finest level the exporter has (keyed across a revision change), its
    TOTAL and chapter 27 rows, the window, the level and what was concorded."""
    value, join = amount(store.con, currency)
    params: dict[str, Any] = {"partners": partners}
    base = f"flow = 'export' AND {reporter} AND list_contains($partners, partner) AND ({value}) IS NOT NULL"
    found = _run(store, f"SELECT source, max(product_level), count(*) FILTER (WHERE freq = 'M') FROM flows {join} WHERE {base} "
                              f"AND product_level > 0 GROUP BY source ORDER BY {q.priority()}, source LIMIT 1", params).fetchall()
    if not found:
        raise InputError(f"no product-level exports of {exporter} to {', '.join(partners)} in the store")
    source, level, freq = found[0][0], int(found[0][1]), "M" if found[0][2] else "A"
    t = time_index(freq)
    base += f" AND freq = '{freq}' AND source = {q.quote(source)}"  # one source, by the query layer's rule: never two reports added
    in_basket = f"product_level = {level} AND {basket.condition(level)}"
    periods = [r[0] for r in _run(store, f"SELECT DISTINCT {t} FROM flows {join} WHERE {base} AND {in_basket}", params).fetchall()]
    if not periods:
        raise InputError(f"none of the basket's {len(basket)} codes is in {exporter}'s exports at {level} digits")
    window = make_window(periods, freq, when, pre_count=12 if freq == "M" else 3)
    shift = 12 if freq == "M" else 1  # and a year before it, for the placebo
    params["t"] = [p for p in periods if window.pre_t[0] - shift - 1 <= p <= window.post_t[-1]]
    revs = [r[0] for r in _run(store, f"SELECT DISTINCT hs_rev FROM flows {join} WHERE {base} AND {in_basket} AND "
                                            f"list_contains($t, {t}) AND hs_rev IS NOT NULL", params).fetchall()]
    revs = sorted(revs, key=lambda r: concordance.YEARS[r])
    if len(revs) > 2:
        raise InputError(f"the window spans {len(revs)} HS revisions ({', '.join(revs)}); shorten it")
    table = concordance.load_table(revs[1], revs[0], path) if len(revs) == 2 and level >= 6 else None
    if table is not None:  # the basket's headings that changed, in both revisions (module docstring)
        links = table.links
        same = set(links.loc[(links.new == links.old) & (links.relationship == "1:1"), "new"])
        heads = {c[:6] for c in basket.codes if len(c) >= 6} - same
        old = set(links.loc[links.new.isin(heads), "old"]) | (heads & set(links.old))
        new = set(links.loc[links.old.isin(old), "new"])
        params |= {"old": sorted(old), "new": sorted(new), "changed": sorted(old | new), "older": revs[0], "newer": revs[1]}
        in_basket = (f"product_level = {level} AND (({basket.condition(level)} AND NOT list_contains($changed, left(product, 6))) "
                     "OR (hs_rev = $older AND list_contains($old, left(product, 6))) "
                     "OR (hs_rev = $newer AND list_contains($new, left(product, 6))))")
    rows = dataframe(_run(store, f"SELECT partner, product, hs_rev, {t} AS t, sum({value}) AS v FROM flows {join} WHERE {base} "
                                    f"AND list_contains($t, {t}) AND {in_basket} GROUP BY ALL", params))
    rows, concorded = _keys(rows, table, window, params)
    totals = _run(store,
        f"SELECT partner, CASE WHEN product = 'TOTAL' THEN 'total' ELSE 'energy' END AS what, {t} AS t, sum({value}) AS v "
        f"FROM flows {join} WHERE {base} AND list_contains($t, {t}) AND (product = 'TOTAL' OR (product_level = 2 AND product = '{ENERGY}')) "
        "GROUP BY ALL", params).df()
    if "total" not in set(totals.what):  # no totals: the control is the products outside the basket
        totals = _run(store,
            f"SELECT partner, 'other' AS what, {t} AS t, sum({value}) AS v FROM flows {join} WHERE {base} AND list_contains($t, {t}) "
            f"AND product_level = {level} AND NOT ({in_basket}) AND NOT starts_with(product, '{ENERGY}') GROUP BY ALL", params).df()
        if totals.empty:
            raise InputError(f"no control: {exporter}'s total exports (TOTAL rows) or products outside the basket are needed")
    return rows, totals, window, level, concorded, [source]


def _keys(rows: pd.DataFrame, table: concordance.Concordance | None, window: Window, params: dict) -> tuple[pd.DataFrame, dict]:
    """Product keys comparable across the window: the code, or the older revision's HS6 where its heading changed."""
    rows = rows.assign(key=rows["product"])
    info: dict[str, Any] = {"products": 0, "share": 0.0, "from": None, "to": None, "table": None}
    if table is None:
        return rows, info
    hs6 = rows["product"].str[:6]
    prefix = f"HS{str(concordance.YEARS[table.older])[2:]}:"
    old_rows = (rows.hs_rev == table.older) & hs6.isin(params["old"])
    new_rows = (rows.hs_rev == table.newer) & hs6.isin(params["new"])
    rows.loc[old_rows, "key"] = prefix + hs6[old_rows]
    if new_rows.any():  # split by the exporter's base-period trade of the older codes
        weights = rows[old_rows & rows.t.isin(window.pre_t)].assign(h=hs6).groupby("h")["v"].sum()
        moved = table.to_older(rows[new_rows].assign(product=hs6[new_rows]).rename(columns={"v": "value"}), weights=weights)
        moved = moved.rename(columns={"value": "v"}).assign(key=lambda d: prefix + d["product"])
        rows = pd.concat([rows[~new_rows], moved[rows.columns]], ignore_index=True)
    total = rows["v"].sum()
    concorded = rows.key.str.startswith(prefix)
    return rows, {"products": int(rows.loc[concorded, "key"].nunique()), "from": table.newer, "to": table.older,
                  "share": float(rows.loc[concorded, "v"].sum() / total) if total else 0.0, "table": str(table.path)}


def _control(control: pd.DataFrame, basket_sum: pd.DataFrame, basket_energy: pd.DataFrame, partners: list[str]) -> pd.DataFrame:
    """Per partner, pre and post: total minus energy minus the basket (its energy part counted once)."""
    what = set(control.index.get_level_values("what"))
    if what == {"other"}:
        return control.xs("other", level="what").reindex(partners).fillna(0.0)
    total = control.xs("total", level="what").reindex(partners).fillna(0.0)
    energy = control.xs("energy", level="what").reindex(partners).fillna(0.0) if "energy" in what else 0.0 * total
    rest = total - energy - basket_sum.reindex(partners).fillna(0.0) + basket_energy.reindex(partners).fillna(0.0)
    return rest.clip(lower=0.0)


def _leg(before: pd.DataFrame, after: pd.DataFrame, rest: pd.DataFrame, b: str, cands: list[str], seed: int):
    """A -> B's drop by product, each candidate's control growth, and the first leg fitted on them."""
    drop = np.maximum(before.loc[b].to_numpy() - after.loc[b].to_numpy(), 0.0)
    growth = (rest["post"] / rest["pre"]).where(rest["pre"] > 0, 1.0).loc[cands].to_numpy()
    x = before.loc[cands].to_numpy()
    leg = growth_leg(x, after.loc[cands].to_numpy(), np.broadcast_to(growth[:, None], x.shape), drop, product_draws(x.shape[1], seed))
    return drop, growth, leg


def _placebo(analyse, window: Window, b: str, cands: list[str], seed: int) -> np.ndarray:
    """The same first-leg test a year before the event, on pre-event data only (NaN where it cannot run)."""
    shift = 12 if window.freq == "M" else 1
    gap = window.post_t[0] - window.pre_t[-1] - 1  # the partly treated period, left out here too
    post = tuple(t - shift for t in window.post_t if t - shift <= window.pre_t[-1])
    pre = tuple(range(post[0] - gap - len(window.pre_t), post[0] - gap)) if post else ()
    if not post or pre[0] < window.pre_t[0] - shift:
        return np.full(len(cands), np.nan)
    before, after, _, rest, _ = analyse(pre, post)
    drop, _, leg = _leg(before, after, rest, b, cands, seed)
    return stats.empirical_null_p(leg.z, leg.active) if drop.sum() > 0 else np.full(len(cands), np.nan)


