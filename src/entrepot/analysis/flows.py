"""Bilateral series as each side reports them: A's exports to B beside B's imports from A, and back.

Each of the four series is read from one choice of rows (`entrepot.store.query`, level
``"total"``: the coarsest product level at or below the product asked for), the same for every
period, so a series never splices one source's years onto another's. Re-exports and re-imports
are left out: they are reported beside, not inside, exports and imports.

A side may be a group of countries (`EU27`, or a case's `groups`): its series is the sum of its
members' (membership by period, `entrepot.groups`), read from one source, level and frequency for
all of them. A `basket` restricts the series to its products (the finest level the rows have), and
`currency="EUR"` gives the amounts in EUR (exact where the source reported in EUR, `entrepot.currency`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from entrepot import currency as money
from entrepot import groups as country_groups
from entrepot import options
from entrepot.basket import Basket
from entrepot.errors import InputError
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
        "value_usd": "US dollars (value_eur, in EUR, when the result's currency is EUR)", "source": "the source read",
    }
    FIGURE: ClassVar[str] = "flows"

    exporter: str
    importer: str
    product: str | None
    freq: str
    frame: pd.DataFrame
    provenance: Provenance
    currency: str = "USD"
    basket: str | None = None

    @property
    def value_column(self) -> str:
        """The frame's amount column: value_usd, or value_eur for a result in EUR."""
        return f"value_{self.currency.lower()}"

    @property
    def table(self) -> pd.DataFrame:
        """One row per period, one column per series (NaN where that side reports nothing)."""
        wide = self.frame.pivot(index="period", columns="series", values=self.value_column).reindex(columns=list(SERIES))
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
                "currency": self.currency, "basket": self.basket, "labels": self.labels(), "provenance": self.provenance.to_dict(),
                "rows": records(self.frame)}

    def summary(self) -> str:
        """The last period's figures of both sides."""
        if self.frame.empty:
            return f"no flows between {self.exporter} and {self.importer}"
        last = self.table.iloc[-1]
        got = {k: last[k] for k in SERIES}
        a, b = self.exporter, self.importer
        return (f"{last.period}: {a} reports {_money(got['a_to_b_exporter'], self.currency)} of exports to {b}, {b} reports"
                f" {_money(got['a_to_b_importer'], self.currency)} of imports from {a}")


def _money(x: float, currency: str = "USD") -> str:
    return "nothing" if pd.isna(x) else f"{'$' if currency == 'USD' else 'EUR '}{x / 1e6:,.1f} million"


@q.reads_store
def flows(store: Store, exporter: str, importer: str, product: str | None = None, freq: Freq = "A", *,
          basket: Basket | None = None, currency: str = "USD", groups: dict[str, country_groups.Group] | None = None) -> FlowsResult:
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
    basket : Basket, optional
        Only these products (`entrepot.basket`), read at the finest level the rows have.
    currency : {"USD", "EUR"}
        The amounts' currency (module docstring).
    groups : dict, optional
        Groups of countries a case defines, usable as either side (EU27 is built in).
    """
    currency = money.check(currency)
    if basket is not None or currency != "USD" or any(country_groups.resolve(c, groups) for c in (exporter, importer)):
        options.freq(freq)
        options.product(product)
        return _summed(store, exporter.upper(), importer.upper(), product, freq, basket, currency, groups or {})
    a, b = options.pair(exporter, importer)
    options.freq(freq)
    product = options.product(product)
    parts, read = [], []
    for key, (from_a, flow, _) in SERIES.items():
        reporter, partner = (a, b) if from_a else (b, a)
        picked = q.choose(store, reporter, flow, freq, "total", partners=[partner], product=product)
        if picked is None:
            continue
        rows = q.series(store, picked, partner, product)
        shipper, receiver = (reporter, partner) if flow == "export" else (partner, reporter)
        parts.append(rows.rename(columns={"value": "value_usd"}).assign(
            series=key, exporter=shipper, importer=receiver, reporter=reporter, flow=flow, source=picked.source))
        read.append(picked)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(FlowsResult.COLUMNS))
    frame = frame[list(FlowsResult.COLUMNS)].sort_values(["period", "series"], ignore_index=True)
    return FlowsResult(a, b, product, freq, frame, q.provenance(store, read))


def _summed(store: Store, a: str, b: str, product: str | None, freq: str, basket: Basket | None, currency: str,
            groups: dict[str, country_groups.Group]) -> FlowsResult:
    """The four series when a side is a group, or with a basket or in EUR: sums over members and products,
    each series from one source, level and row frequency (the highest-priority source; the coarsest level,
    the finest with a basket)."""
    unknown = country_groups.unknown([a, b], groups)
    if unknown:
        raise InputError(f"{unknown[0]!r} is not a known country or group", parameter="exporter" if unknown[0] == a else "importer")
    amount, join = money.amount(store.con, currency)
    column = f"value_{currency.lower()}"
    parts, sources = [], set()
    for key, (from_a, flow, _) in SERIES.items():
        reporter, partner = (a, b) if from_a else (b, a)
        where = [country_groups.condition(reporter, "reporter", groups), country_groups.condition(partner, "partner", groups),
                 "flow = $flow", "list_contains($freqs, freq)", f"({amount}) IS NOT NULL"]
        params: dict[str, Any] = {"flow": flow, "freqs": ["M"] if freq == "M" else ["A", "M"]}
        if product is not None:
            where.append("starts_with(product, $product) AND product_level >= $plevel")
            params |= {"product": product, "plevel": len(product)}
        if basket is not None:  # rows fine enough for the basket: a CN8 list is read at HS6 or finer, never by chapter
            where.append(f"product_level >= {min(6, min(len(c) for c in basket.codes))}")
        order = "product_level DESC" if basket is not None else "product_level"
        picked = store.con.execute(*q.bind(
            f"SELECT source, product_level, freq FROM flows {join} WHERE {' AND '.join(where)} GROUP BY source, product_level, freq "
            f"ORDER BY {q.priority()}, source, freq, {order} LIMIT 1", params)).fetchall()
        if not picked:
            continue
        source, level, rows_freq = picked[0]
        where += ["source = $source", "product_level = $level", "freq = $rows_freq"]
        if basket is not None:
            where.append(basket.condition(level))
        params |= {"source": source, "level": level, "rows_freq": rows_freq}
        label = "CAST(year AS VARCHAR)" if freq == "A" else "period"
        complete = " HAVING count(DISTINCT month) = 12" if freq == "A" and rows_freq == "M" else ""  # whole years only
        rows = store.con.execute(*q.bind(
            f"SELECT {label} AS period, sum({amount}) AS {column} FROM flows {join} WHERE {' AND '.join(where)} "
            f"GROUP BY 1{complete} ORDER BY 1", params)).df()
        shipper, receiver = (reporter, partner) if flow == "export" else (partner, reporter)
        parts.append(rows.assign(series=key, exporter=shipper, importer=receiver, reporter=reporter, flow=flow, source=source))
        sources.add(source)
    columns = [column if c == "value_usd" else c for c in FlowsResult.COLUMNS]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    frame = frame[columns].sort_values(["period", "series"], ignore_index=True)
    return FlowsResult(a, b, product, freq, frame, q.provenance(store, sources), currency, None if basket is None else basket.name)
