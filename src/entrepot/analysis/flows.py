"""Bilateral series as each side reports them: A's exports to B beside B's imports from A, and back.

A store can hold the same flow several times: as TOTAL and by product, annually and monthly, from
several sources. To never double count, each side's figure for a period comes from one choice:
a country's own report before reconciled data (BACI is one figure per flow, not a side's report,
and is used only where no side reported), annual rows before months summed into a year (for
`by="year"`), the coarsest product level at or below the product asked for (TOTAL, then HS2, HS4,
HS6), then sources in `SOURCE_PRIORITY` order.
Re-exports and re-imports are left out: they are reported beside, not inside, exports and imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from entrepot import countries
from entrepot.errors import InputError
from entrepot.store import Store

SOURCE_PRIORITY = ("comtrade", "comext", "csv", "stata", "baci")
SERIES = {
    "a_to_b_exporter": "exports to {b}, as {a} reports",
    "a_to_b_importer": "imports from {a}, as {b} reports",
    "b_to_a_exporter": "exports to {a}, as {b} reports",
    "b_to_a_importer": "imports from {b}, as {a} reports",
}


@dataclass
class FlowsResult:
    reporter: str
    partner: str
    product: str | None
    by: str
    table: pd.DataFrame  # period + the four SERIES columns (USD; NaN where that side reports nothing)
    sources: list[str] = field(default_factory=list)

    def labels(self) -> dict[str, str]:
        a, b = self.reporter, self.partner
        return {k: (a if k.startswith("a_to_b_exporter") or k == "b_to_a_importer" else b) + " " + v.format(a=a, b=b) for k, v in SERIES.items()}

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.astype(object).where(self.table.notna(), None).to_dict(orient="records")
        return {
            "reporter": self.reporter,
            "partner": self.partner,
            "product": self.product,
            "by": self.by,
            "columns": self.labels(),
            "sources": self.sources,
            "series": rows,
        }


def check_country(code: str, what: str = "country") -> str:
    up = code.strip().upper()
    if not countries.is_known(up):
        raise InputError(f"unknown {what} code {code!r} (use ISO 3166 alpha-3, e.g. TUR)")
    return up


def bilateral(
    store: Store,
    reporter: str,
    partner: str,
    product: str | None = None,
    by: Literal["year", "month"] = "year",
) -> FlowsResult:
    """Both sides' reports of the flows between `reporter` (A) and `partner` (B), by period."""
    a, b = check_country(reporter, "reporter"), check_country(partner, "partner")
    if by not in ("year", "month"):
        raise InputError(f"--by must be year or month, not {by!r}")
    if product is not None and not (product.isdigit() and len(product) in (2, 4, 6)):
        raise InputError(f"--product must be an HS2, HS4 or HS6 code, not {product!r}")
    level = len(product) if product else 0
    product_filter = "TRUE" if product is None else f"product_level >= {level} AND starts_with(product, $product)"
    period_key = "CAST(year AS VARCHAR)" if by == "year" else "period"
    freq_filter = "" if by == "year" else "AND freq = 'M'"
    priority = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PRIORITY))
    sql = f"""
    WITH base AS (
        SELECT CASE
                 WHEN reporter = $a AND flow = 'export' THEN 'a_to_b_exporter'
                 WHEN reporter = $b AND flow = 'import' THEN 'a_to_b_importer'
                 WHEN reporter = $b AND flow = 'export' THEN 'b_to_a_exporter'
                 WHEN reporter = $a AND flow = 'import' THEN 'b_to_a_importer'
               END AS side,
               {period_key} AS period, freq, product_level, source, value_usd
        FROM flows
        WHERE ((reporter = $a AND partner = $b) OR (reporter = $b AND partner = $a))
          AND flow IN ('export', 'import') AND value_usd IS NOT NULL
          AND ({product_filter}) {freq_filter}
    ),
    choices AS (
        SELECT side, period, freq, product_level, source, sum(value_usd) AS value
        FROM base GROUP BY ALL
    ),
    ranked AS (
        SELECT *, row_number() OVER (
            PARTITION BY side, period
            ORDER BY (source = 'baci'), (freq = 'A') DESC, product_level, CASE source {priority} ELSE 99 END, source
        ) AS rank
        FROM choices
    )
    SELECT side, period, value, source FROM ranked WHERE rank = 1 ORDER BY period
    """
    params: dict[str, Any] = {"a": a, "b": b}
    if product is not None:
        params["product"] = product
    long = store.con.execute(sql, params).df()
    table = long.pivot(index="period", columns="side", values="value").reindex(columns=list(SERIES))
    table = table.reset_index().rename_axis(columns=None)
    return FlowsResult(a, b, product, by, table, sorted(long["source"].unique()))
