"""Where each collapsed flow went: the route scan of `entrepot.analysis.reroute`, one collapse at a time.

The engine's `legs_sql` hands over, per collapse, only the flows the scan reads, reduced without
loss: the exporter's exports and the importer's imports row by row, and every other country's
exports of the same products to everyone but the importer as one sum (the scan reads those only as
that sum: C's sales elsewhere, and the world's). They go into a small in-memory store, and `scan`
runs on it as it would on the whole store, with the break as the event. The same function is the
grouped pandas UDF on Spark and a loop on DuckDB.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from entrepot import schema
from entrepot.errors import InputError
from entrepot.screening.queries import Relation
from entrepot.store import Store
from entrepot.store.warehouse import write_flows

SCHEMA = ("cid long, country string, rank int, significant boolean, score double, rerouted_value_usd double,"
          " ci_low double, ci_high double, p_value double, share double, leg1_p double, leg2_p double,"
          " placebo_p double, direct_drop_usd double, note string")
COLUMNS = [c.split()[0] for c in SCHEMA.split(",")]
KEEP = 5  # candidates kept per collapse besides the flagged ones: the next in line, for the analyst


def event_date(tau: int, gap: int, freq: str) -> dt.date:
    """The event the route scan reads for a break: the first day of `tau` (no partly treated period), or
    with a gap the middle of the period before it (the scan then leaves that period out, as the screen did)."""
    t = tau - gap
    year, month = (t, 7 if gap else 1) if freq == "A" else (t // 12, t % 12 + 1)
    return dt.date(year, month, 15 if gap and freq == "M" else 1)


def fitter(meta: dict[int, tuple[str, str, str]], rel: Relation, alpha: float, seed: int):
    """The per-collapse function: reduced flows of one collapse (cid, e, m, p, t, v, q) -> its candidates (SCHEMA)."""
    def fit(rows: pd.DataFrame) -> pd.DataFrame:
        cid = int(rows["cid"].iloc[0])
        a, b, event = meta[cid]
        from entrepot.analysis.reroute import scan

        with Store(":memory:") as st:
            load(st, rows, rel)
            try:
                res = scan(st, a, b, event, alpha=alpha, seed=seed)
            except InputError as exc:
                return pd.DataFrame([{**dict.fromkeys(COLUMNS), "cid": cid, "note": f"route scan not run: {exc}"}], columns=COLUMNS)
        c = res.candidates.reset_index(drop=True)
        c = c[c.significant | (c.index < c.significant.sum() + KEEP)]
        return pd.DataFrame({
            "cid": cid, "country": c.country, "rank": c.index + 1, "significant": c.significant.astype(bool), "score": c.score,
            "rerouted_value_usd": c.rerouted_value_usd, "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
            "share": c.rerouted_share, "leg1_p": c.leg1_p, "leg2_p": c.leg2_p, "placebo_p": c.placebo_p,
            "direct_drop_usd": res.direct_drop_usd, "note": "; ".join(res.notes) or None,
        })[COLUMNS]

    return fit


def load(st: Store, rows: pd.DataFrame, rel: Relation) -> None:
    """One collapse's reduced flows into an empty store, as rows of the relation they came from."""
    if rel.freq == "A":
        period, year, month = "CAST(t AS VARCHAR)", "t", "NULL"
    else:
        period, year, month = "printf('%04d-%02d', t // 12, t % 12 + 1)", "t // 12", "t % 12 + 1"
    st.con.register("screen_rows", rows)
    columns = {"period": period, "freq": f"'{rel.freq}'", "year": year, "month": month, "reporter": "e",
               "reporter_is_country": "true", "partner": "m", "partner_is_country": "true", "flow": "'export'",
               "hs_rev": "NULL", "product": "p", "product_level": str(rel.level), "value_usd": "v", "quantity": "q",
               "unit": "CASE WHEN q IS NULL THEN NULL ELSE 't' END", "source": f"'{rel.source}'", "batch_id": "'screen'",
               "value_native": "NULL", "currency": "'USD'"}
    write_flows(st.con, f"SELECT {', '.join(columns[c] for c in schema.FLOW_COLUMNS)} FROM screen_rows")
    st.con.unregister("screen_rows")
