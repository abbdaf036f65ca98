"""The direct effect of an embargo on the A -> B flow, as each side reports it, by product group.

Counterfactual: the pre-event level of each product times the growth, over the same windows, of
A's exports of the same HS chapter to every other destination (the control group): a difference in
differences. Chapter rather than product growth, because one product's exports elsewhere are often
too small to give a stable growth rate. Rerouted trade, if any, sits in the control group too and
makes the counterfactual (and so the drop) somewhat larger. Product groups are HS chapters. The confidence interval comes from a
bootstrap over products. Windows follow `entrepot.analysis.window` (partly treated periods out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from entrepot.analysis.flows import check_country
from entrepot.analysis.window import Window, make_window, parse_event
from entrepot.errors import InputError
from entrepot.store import Store

BOOTSTRAP = 400
SIDES = {"exporter": "{a} exports to {b}, as {a} reports", "importer": "{b} imports from {a}, as {b} reports"}


@dataclass
class EffectResult:
    exporter: str
    importer: str
    window: Window
    table: pd.DataFrame  # side, group, pre/post/counterfactual per period, change pct/usd, CI
    totals: pd.DataFrame  # the same for all products, one row per side

    def to_dict(self) -> dict[str, Any]:
        clean = lambda f: f.astype(object).where(f.notna(), None).to_dict(orient="records")  # noqa: E731
        return {"exporter": self.exporter, "importer": self.importer, "window": self.window.to_dict(),
                "totals": clean(self.totals), "by_group": clean(self.table)}


def direct_effect(store: Store, exporter: str, importer: str, event: str, seed: int = 0) -> EffectResult:
    a, b = check_country(exporter, "exporter"), check_country(importer, "importer")
    when = parse_event(event)
    monthly = store.con.execute(
        "SELECT count(*) > 0 FROM flows WHERE reporter = ? AND flow = 'export' AND freq = 'M' AND source <> 'baci'", [a]
    ).fetchone()[0]
    freq = "M" if monthly else "A"
    period = "period" if monthly else "CAST(year AS VARCHAR)"
    src = "freq = 'M' AND source <> 'baci'" if monthly else "freq = 'A'"
    rows = store.con.execute(f"""
        SELECT CASE WHEN reporter = $a AND partner = $b THEN 'exporter'
                    WHEN reporter = $b THEN 'importer' ELSE 'control' END AS side,
               {period} AS period, product AS p, sum(value_usd) AS v
        FROM flows
        WHERE {src} AND product_level = 6 AND value_usd IS NOT NULL AND partner_is_country AND (
              (reporter = $a AND flow = 'export' AND partner <> $b) OR
              (reporter = $a AND flow = 'export' AND partner = $b) OR
              (reporter = $b AND partner = $a AND flow = 'import'))
          AND (source <> 'baci' OR reporter = $a)
        GROUP BY ALL
    """, {"a": a, "b": b}).df()
    pair = rows[rows.side != "control"]
    if pair.empty:
        raise InputError(f"no product-level trade between {a} and {b} in the store")
    window = make_window(list(rows["period"].unique()), freq, when)
    rows = rows[rows["period"].isin(window.pre + window.post)]
    rows["after"] = rows["period"].isin(window.post)
    n = {False: len(window.pre), True: len(window.post)}
    panel = rows.groupby(["side", "p", "after"])["v"].sum().unstack("after", fill_value=0.0)
    panel = panel.reindex(columns=[False, True], fill_value=0.0)
    panel[False] /= n[False]
    panel[True] /= n[True]
    control = panel.loc["control"] if "control" in panel.index.get_level_values(0) else None
    if control is None:
        raise InputError(f"no control flows: {a} reports no exports to other destinations")
    rng = np.random.default_rng(seed)
    tables, totals = [], []
    for side in ("exporter", "importer"):
        if side not in panel.index.get_level_values(0):
            continue
        t = panel.loc[side]
        products = t.index
        chapters = control.groupby(control.index.str[:2]).sum()
        ctrl = chapters.reindex(products.str[:2], fill_value=0.0)
        growth = np.where(ctrl[False] > 0, ctrl[True] / ctrl[False].where(ctrl[False] > 0, 1), 1.0)
        frame = pd.DataFrame({"pre": t[False], "post": t[True], "cf": t[False].to_numpy() * growth}, index=products)
        frame["group"] = [p[:2] for p in products]
        weights = rng.multinomial(len(frame), np.full(len(frame), 1 / len(frame)), size=BOOTSTRAP).astype(float)
        label = SIDES[side].format(a=a, b=b)
        for name, part in [("all", frame)] + list(frame.groupby("group")):
            idx = frame.index.get_indexer(part.index)
            w = weights[:, idx]
            post_b, cf_b = w @ part["post"].to_numpy(), w @ part["cf"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                pct_b = 100 * (post_b / cf_b - 1)
            cf, post = part["cf"].sum(), part["post"].sum()
            row = {"side": side, "series": label, "group": f"HS {name}" if name != "all" else "all products",
                   "pre_usd_per_period": part["pre"].sum(), "post_usd_per_period": post, "counterfactual_usd_per_period": cf,
                   "change_pct": 100 * (post / cf - 1) if cf > 0 else None,
                   "ci_low_pct": float(np.nanpercentile(pct_b, 2.5)) if cf > 0 else None,
                   "ci_high_pct": float(np.nanpercentile(pct_b, 97.5)) if cf > 0 else None,
                   "change_usd": (post - cf) * n[True],
                   "change_usd_ci": [float(np.percentile((post_b - cf_b) * n[True], q)) for q in (2.5, 97.5)]}
            (totals if name == "all" else tables).append(row)
    table = pd.DataFrame(tables).sort_values(["side", "pre_usd_per_period"], ascending=[True, False], ignore_index=True)
    return EffectResult(a, b, window, table, pd.DataFrame(totals))
