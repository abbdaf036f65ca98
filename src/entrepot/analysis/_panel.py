"""Shared helpers for effect, mirror and cost: one reporter's flows by group and period (timing: `window`).

To never double count, each (reporter, flow) is read from one choice of rows: the given frequency,
one source (in `flows.SOURCE_PRIORITY` order) and one product level (the coarsest level >= HS2 that
source has, TOTAL only when it has nothing finer), and for annual figures a source's annual rows,
else its months summed into complete years, kept the same across all partners so the treated
pair and its controls are measured alike. Products are summed into `digits`-long groups in SQL.
"""

from __future__ import annotations

import pandas as pd

from entrepot.analysis.flows import SOURCE_PRIORITY
from entrepot.analysis.window import time_index
from entrepot.schema import TONNES_SQL
from entrepot.store import Store


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready rows, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def choice(store: Store, reporter: str, flow: str, freq: str) -> tuple[str, int, str] | None:
    """The (source, product_level, row frequency) read for this reporter's flows of this kind.

    Sources rank first (declared reports before BACI's reconciled values), then, for annual
    figures, a source's annual rows before its months summed into complete years.
    """
    priority = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PRIORITY))
    freqs = ["A", "M"] if freq == "A" else ["M"]
    row = store.con.execute(
        f"""SELECT source, product_level, freq FROM flows
            WHERE reporter = ? AND flow = ? AND list_contains(?, freq) AND partner_is_country AND value_usd IS NOT NULL
            GROUP BY source, product_level, freq
            ORDER BY CASE source {priority} ELSE 99 END, source, freq, (product_level = 0), product_level
            LIMIT 1""",
        [reporter, flow, freqs],
    ).fetchone()
    return (row[0], int(row[1]), row[2]) if row else None


def frequencies(store: Store, reporter: str, flow: str, partner: str) -> set[str]:
    rows = store.con.execute(
        "SELECT DISTINCT freq FROM flows WHERE reporter = ? AND flow = ? AND partner = ?", [reporter, flow, partner]
    ).fetchall()
    return {r[0] for r in rows}


def panel(
    store: Store,
    reporter: str,
    flow: str,
    freq: str,
    digits: int | None,
    partners: list[str] | None = None,
    exclude: list[str] | None = None,
) -> pd.DataFrame:
    """Long frame: partner, t, grp, value, tonnes, value_q (value of the rows that carry tonnes).

    `digits` 2 sums products into HS2 chapters, 0 into one TOTAL group, None keeps the codes as read.
    """
    picked = choice(store, reporter, flow, freq)
    if picked is None:
        return pd.DataFrame(columns=["partner", "t", "grp", "value", "tonnes", "value_q"])
    source, level, rows_freq = picked
    if digits is None or level == 0:
        grp = "product"
    elif digits == 0:
        grp = "'TOTAL'"
    else:
        grp = f"left(product, {min(digits, level)})"
    where = ["reporter = $r", "flow = $flow", "freq = $rows_freq", "source = $source", "product_level = $level",
             "partner_is_country", "value_usd IS NOT NULL"]
    params: dict = {"r": reporter, "flow": flow, "rows_freq": rows_freq, "source": source, "level": level}
    if freq != rows_freq:  # months summed into years: complete years only
        where.append("""year IN (SELECT year FROM flows WHERE reporter = $r AND flow = $flow AND source = $source
                         AND freq = 'M' GROUP BY year HAVING count(DISTINCT month) = 12)""")
    if partners is not None:
        where.append("list_contains($partners, partner)")
        params["partners"] = partners
    if exclude:
        where.append("NOT list_contains($exclude, partner)")
        params["exclude"] = exclude
    tonnes = TONNES_SQL
    return store.con.execute(
        f"""SELECT partner, {time_index(freq)} AS t, {grp} AS grp, sum(value_usd) AS value,
                   sum({tonnes}) AS tonnes, sum(CASE WHEN {tonnes} > 0 THEN value_usd END) AS value_q
            FROM flows WHERE {' AND '.join(where)} GROUP BY ALL ORDER BY partner, t, grp""",
        params,
    ).df()
