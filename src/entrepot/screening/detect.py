"""From each pair's best break (`queries.breaks_sql`) to decisions: p-values, false-discovery control,
materiality, and the known embargoes of the case files.

The statistic z of a pair is its drop against the counterfactual, centred and scaled by the pairs of
its size at the same break (an empirical null: most pairs do not collapse). Its one-sided normal
p-value is multiplied by the number of breaks tried for the pair (Bonferroni: the best of several
dates is not one test), and the Benjamini-Hochberg procedure over every pair tested keeps the
expected share of false alarms among the collapses reported below `alpha`. A screen hands leads to
an analyst, so it controls the share of wrong leads (FDR), not the chance of any (which with
~40,000 pairs would hide every mid-sized embargo). A collapse must also be material and lasting:
the trade after the break, and in the last period of the window, at least `min_drop` below the
counterfactual.

An embargo stops goods, so the test is on the pair's volume (z_v: tonnes at the pair's own unit
values, each product deflated by its world quantity trend; rows without quantities count at their
value, so without quantities the volume test is the value test), at the break where its value fell
most, and a collapse must be material in value and in volume. A pair whose value passes the value
test (z, q_value) but whose volume fell by less than `min_drop` after the break or in the last
period is a price change (`prices`): its values moved, its goods did not. It is shown, not a lead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from entrepot.analysis.window import period_label
from entrepot.case import Case, load_case

CASE_KINDS = ("embargo", "export_restriction", "import_restriction", "sanction")
KEY = ["exporter", "importer", "section"]


def decide(breaks: pd.DataFrame, freq: str, alpha: float, min_drop: float) -> pd.DataFrame:
    """Every pair tested, with drop, p- and q-values in value and volume, `collapse` and `prices`; sorted by pair
    (engines return rows in any order)."""
    out = breaks.sort_values(KEY, ignore_index=True)
    out["tau"] = out["tau"].astype(int)
    out["date"] = [period_label(t, freq) for t in out["tau"]]
    out["drop_usd"] = out["cf_post"] - out["v_post"]
    out["drop_pct"] = 1 - out["v_post"] / out["cf_post"]
    out["last_drop_pct"] = 1 - out["v_last"] / out["cf_last"].where(out["cf_last"] > 0)
    out["p_value"] = np.minimum(stats.norm.cdf(out["z"]) * out["n_breaks"], 1.0)
    out["q_value"] = bh(out["p_value"].to_numpy())
    out["volume_drop_pct"] = 1 - out["vv_post"] / out["cfv_post"].where(out["cfv_post"] > 0)
    out["volume_last_drop_pct"] = 1 - out["vv_last"] / out["cfv_last"].where(out["cfv_last"] > 0)
    out["p_volume"] = np.minimum(stats.norm.cdf(out["z_v"]) * out["n_breaks"], 1.0)
    out["q_volume"] = bh(out["p_volume"].to_numpy())
    value = (out["drop_pct"] >= min_drop) & (out["last_drop_pct"] >= min_drop)
    volume = (out["volume_drop_pct"] >= min_drop) & (out["volume_last_drop_pct"] >= min_drop)
    out["collapse"] = (out["q_volume"] <= alpha) & value & volume
    out["prices"] = (out["q_value"] <= alpha) & value & ~volume
    return out


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values)."""
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def case_files() -> list[Path]:
    """The case files shipped with entrepot (src/entrepot/data/cases)."""
    from importlib import resources

    return sorted(Path(str(resources.files("entrepot.data").joinpath("cases"))).glob("*.toml"))


def known_events(paths: list[Path]) -> list[tuple[Case, str, str, dt.date]]:
    """(case, exporter, importer, date) of every restricting event in the case files, both ways where it says so."""
    out = []
    for path in paths:
        case = load_case(path)
        for e in case.events:
            if e.kind in CASE_KINDS:
                out.append((case, e.exporter, e.importer, e.date))
                if e.both_directions:
                    out.append((case, e.importer, e.exporter, e.date))
    return out


def mark_known(collapses: pd.DataFrame, freq: str, events: list[tuple[Case, str, str, dt.date]]) -> pd.Series:
    """The case id of the known embargo a collapse is, or "": same pair, break within a year after the event
    (annual data: the event's year or the next, since a mid-year event shows fully in the next)."""
    def match(r) -> str:
        for case, a, b, date in events:
            if (a, b) != (r.exporter, r.importer):
                continue
            event_t = date.year if freq == "A" else date.year * 12 + date.month - 1
            if 0 <= r.tau - event_t <= (1 if freq == "A" else 12):
                return case.id
        return ""

    return pd.Series([match(r) for r in collapses.itertuples()], index=collapses.index, dtype=object)
