"""Bilateral series as each side reports them: A's exports to B beside B's imports from A, and back.

Each of the four series is read from one choice of rows (`entrepot.store.query`, level
``"total"``: the coarsest product level at or below the product asked for), the same for every
period, so a series never splices one source's years onto another's. Re-exports and re-imports
are left out: they are reported beside, not inside, exports and imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from entrepot import options
from entrepot.options import Freq
from entrepot.results import Provenance, Result, records
from entrepot.store import Store
from entrepot.store import query as q

# Series key -> (reporter is A?, flow, label template).
SERIES = {
    "a_to_b_exporter": (True, "export", "{a} exports to {b}, as {a} reports"),
    "a_to_b_importer": (False, "import", "{b} imports from {a}, as {b} reports"),
    "b_to_a_exporter": (False, "export", "{b} exports to {a}, as {b} reports"),
    "b_to_a_importer": (True, "import", "{a} imports from {b}, as {a} reports"),
}


@dataclass(frozen=True)
class FlowsResult(Result):
    """Both sides' reports of the flows between `exporter` (A) and `importer` (B), by period."""

    COLUMNS: ClassVar[dict[str, str]] = {
        "period": "'2024' or '2024-05'",
        "series": "a_to_b_exporter, a_to_b_importer, b_to_a_exporter or b_to_a_importer",
        "exporter": "the country shipping", "importer": "the country receiving",
        "reporter": "the country whose report it is", "flow": "export (FOB) or import (CIF)",
        "value_usd": "US dollars", "source": "the source read",
    }
    FIGURE: ClassVar[str] = "flows"

    exporter: str
    importer: str
    product: str | None
    freq: str
    frame: pd.DataFrame
    provenance: Provenance

    @property
    def table(self) -> pd.DataFrame:
        """One row per period, one column per series (NaN where that side reports nothing)."""
        wide = self.frame.pivot(index="period", columns="series", values="value_usd").reindex(columns=list(SERIES))
        return wide.reset_index().rename_axis(columns=None)

    def labels(self) -> dict[str, str]:
        """Each series' label in words: "TUR exports to ISR, as TUR reports"; a series read from BACI's
        reconciled values says so instead ("TUR exports to ISR, BACI reconciled"): no side declared it."""
        read = dict(zip(self.frame.series, self.frame.source, strict=False))
        out = {}
        for k, (_, _, label) in SERIES.items():
            text = label.format(a=self.exporter, b=self.importer)
            out[k] = text.split(",")[0] + ", BACI reconciled" if read.get(k) == "baci" else text
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per series and period (`COLUMNS`)."""
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """The pair, the series' labels and the rows of `to_frame`."""
        return {"exporter": self.exporter, "importer": self.importer, "product": self.product, "freq": self.freq,
                "labels": self.labels(), "provenance": self.provenance.to_dict(), "rows": records(self.frame)}

    def summary(self) -> str:
        """The last period's figures of both sides."""
        if self.frame.empty:
            return f"no flows between {self.exporter} and {self.importer}"
        last = self.table.iloc[-1]
        got = {k: last[k] for k in SERIES}
        a, b = self.exporter, self.importer
        return (f"{last.period}: {a} reports {_usd(got['a_to_b_exporter'])} of exports to {b}, {b} reports"
                f" {_usd(got['a_to_b_importer'])} of imports from {a}")


def _usd(x: float) -> str:
    return "nothing" if pd.isna(x) else f"${x / 1e6:,.1f} million"


@q.reads_store
def flows(store: Store, exporter: str, importer: str, product: str | None = None, freq: Freq = "A") -> FlowsResult:
    """Both sides' reports of the trade between `exporter` (A) and `importer` (B), by period.

    Parameters
    ----------
    store : Store or path
        The store to read.
    exporter, importer : str
        ISO 3166 alpha-3 codes of A and B (both directions are read).
    product : str, optional
        An HS2, HS4 or HS6 code; all products when omitted.
    freq : {"A", "M"}
        Annual or monthly periods.
    """
    a, b = options.pair(exporter, importer)
    options.freq(freq)
    product = options.product(product)
    parts, sources = [], set()
    for key, (from_a, flow, _) in SERIES.items():
        reporter, partner = (a, b) if from_a else (b, a)
        picked = q.choose(store, reporter, flow, freq, "total", partners=[partner], product=product)
        if picked is None:
            continue
        rows = q.series(store, picked, partner, product)
        shipper, receiver = (reporter, partner) if flow == "export" else (partner, reporter)
        parts.append(rows.rename(columns={"value": "value_usd"}).assign(
            series=key, exporter=shipper, importer=receiver, reporter=reporter, flow=flow, source=picked.source))
        sources.add(picked.source)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(FlowsResult.COLUMNS))
    frame = frame[list(FlowsResult.COLUMNS)].sort_values(["period", "series"], ignore_index=True)
    return FlowsResult(a, b, product, freq, frame, q.provenance(store, sources))
