"""Mirror statistics: what A says it exported to B beside what B says it imported from A, and back.

Importers value at CIF, exporters at FOB, so the importer's figure is divided by a CIF/FOB factor
before comparing: given by the user, or estimated as the median importer/exporter ratio over the
product-period cells (HS2, pre-event when an event is given) where both sides report, pooled over
both directions (the spirit of CEPII's BACI, which estimates CIF/FOB margins before reconciling).
The gap is the symmetric relative difference (M/cif_fob - X) / (M/cif_fob + X), in [-1, 1]: +1 is
the importer reporting trade the exporter does not report at all. A period is flagged when its gap
leaves the pre-event norm: |gap - median| > 3 * max(1.4826 * MAD, 0.05), per direction and product.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from entrepot import currency as money
from entrepot import hs, options
from entrepot.analysis.window import Timing, period_label
from entrepot.basket import Basket
from entrepot.errors import InputError
from entrepot.groups import Group
from entrepot.options import FreqOrAuto
from entrepot.results import Provenance, Result, currency_names, records
from entrepot.store import Store
from entrepot.store import query as q

BAND_K, MIN_SPREAD = 3.0, 0.05
COLUMNS = {
    "direction": "exporter->importer", "period": "'2024' or '2024-05'", "phase": "pre, transition or post",
    "exporter_usd": "the exporter's report (FOB)", "importer_usd": "the importer's report (CIF)",
    "importer_fob_usd": "the importer's report over the CIF/FOB factor", "gap_usd": "importer (FOB) minus exporter",
    "gap": "symmetric relative gap, -1 to 1", "norm": "the pre-event median gap", "flag": "the gap leaves its pre-event norm",
}


@dataclass(frozen=True)
class MirrorResult(Result):
    """Both sides' reports of the trade between `exporter` (A) and `importer` (B), both directions.

    `totals` (the frame) has one row per direction and period; `products` the same by HS2 group, or
    one level under the product asked for (column grp, with its HS description). Amounts are in
    `currency`: the columns' `_usd` reads `_eur` in the frame and JSON when it is EUR.
    """

    COLUMNS: ClassVar[dict[str, str]] = COLUMNS
    FIGURE: ClassVar[str] = "mirror"

    exporter: str
    importer: str
    freq: str
    cif_fob: float
    cif_fob_estimated: bool
    event: dt.date | None
    totals: pd.DataFrame
    products: pd.DataFrame
    headlines: tuple[str, ...]
    provenance: Provenance
    notes: tuple[str, ...] = ()  # directions left out: one side reports nothing
    currency: str = "USD"
    product: str | None = None  # an HS code: only it and its sub-codes, by groups one level finer
    chosen: options.Data | None = None  # the data read, by the rule of options.data

    def to_frame(self) -> pd.DataFrame:
        """One row per direction and period (`COLUMNS`, `_eur` for `_usd` in EUR)."""
        return self.totals.rename(columns=currency_names(self.totals.columns, self.currency))

    def to_dict(self) -> dict[str, Any]:
        """The CIF/FOB factor, the flagged periods in words, the totals and the product rows."""
        return {
            "exporter": self.exporter, "importer": self.importer, "freq": self.freq, "product": self.product, "cif_fob": self.cif_fob,
            "cif_fob_estimated": self.cif_fob_estimated,
            "event": None if self.event is None else self.event.isoformat(), "currency": self.currency,
            "headlines": list(self.headlines), "notes": list(self.notes), "totals": records(self.to_frame()),
            "products": records(self.products.rename(columns=currency_names(self.products.columns, self.currency))),
            "provenance": self.provenance.to_dict(),
        }

    def summary(self) -> str:
        """The CIF/FOB factor and how many periods break the norm."""
        how = "estimated" if self.cif_fob_estimated else "given"
        return (f"mirror {self.exporter} <-> {self.importer}: CIF/FOB {self.cif_fob:.3f} ({how});"
                f" {len(self.headlines)} period(s) whose gap leaves its pre-event norm")


@q.reads_store
def mirror(
    store: Store,
    exporter: str,
    importer: str,
    event: str | dt.date | None = None,
    freq: FreqOrAuto = "auto",
    cif_fob: float | None = None,
    *,
    basket: Basket | None = None,
    currency: str = "USD",
    groups: Mapping[str, Group] | None = None,
    product: str | None = None,
) -> MirrorResult:
    """Both sides' reports of A<->B trade, CIF/FOB adjusted, with the periods whose gap breaks its norm.

    Parameters
    ----------
    store : Store or path
        The store to read.
    exporter, importer : str
        ISO 3166 alpha-3 codes of A and B (both directions are compared), or groups: EU27, or one
        of `groups` (its members' sum, membership by date).
    event : str or date, optional
        The gap's norm is taken before it; every period is the norm without one.
    freq : {"auto", "A", "M"}
        Annual or monthly periods; "auto" by the one rule (`options.data`): monthly when both sides
        declare the pair in months around the event, else annual.
    cif_fob : float, optional
        The importer/exporter valuation ratio; estimated from the data when omitted.
    basket : Basket, optional
        Only these products (`entrepot.basket`), on both sides.
    currency : {"USD", "EUR"}
        The amounts' currency, converted once with the shipped monthly rates (exact where the
        source reported in EUR, `entrepot.currency`).
    groups : dict, optional
        Groups of countries a case defines (EU27 is built in).
    product : str, optional
        An HS2, HS4 or HS6 code (dots allowed): only it and its sub-codes, in groups one level finer.
    """
    a, b = options.side(exporter, "exporter", groups), options.side(importer, "importer", groups)
    code = options.product(product)
    scope = {"basket": basket, "groups": groups, "currency": money.check(currency), "product": code}
    if cif_fob is not None and not 0.5 <= cif_fob <= 2.0:
        raise InputError(f"must be a ratio near 1 (e.g. 1.06), not {cif_fob}", parameter="cif_fob")
    date = None if event is None else options.event(event)
    chosen = dataclasses.replace(options.data(store, a, b, freq, "reported", event=date, product=code, groups=groups),
                                 source_why="source: both sides' declarations (a mirror compares them; never BACI)")
    freq, digits = chosen.freq, 2 if code is None else min(len(code) + 2, 6)
    parts, read, missing = [], set(), []
    for x_side, m_side in ((a, b), (b, a)):
        xp = q.panel(store, x_side, "export", freq, digits, [m_side], **scope)
        mp = q.panel(store, m_side, "import", freq, digits, [x_side], **scope)
        x, m = xp.frame, mp.frame
        # A gap needs both sides' reports: one side missing is not a gap of -1 or +1.
        lacking = [f"{c} reports no {flow}s {prep} {p}" for c, flow, prep, p, f in
                   ((x_side, "export", "to", m_side, x), (m_side, "import", "from", x_side, m)) if f.empty]
        if lacking and len(lacking) < 2:
            missing.append(f"{x_side}->{m_side} left out: {lacking[0]}")
            continue
        read |= set(xp.read) | set(mp.read)
        if (x.grp == "TOTAL").any() or (m.grp == "TOTAL").any():
            x, m = x.assign(grp="TOTAL"), m.assign(grp="TOTAL")
        both = pd.merge(
            x.groupby(["t", "grp"]).value.sum().rename("exporter_usd"),
            m.groupby(["t", "grp"]).value.sum().rename("importer_usd"),
            left_index=True, right_index=True, how="outer",
        ).astype(float).fillna(0.0).reset_index()
        if not both.empty:
            parts.append(both.assign(direction=f"{x_side}->{m_side}"))
    if not parts and missing:
        raise InputError("mirror compares both sides' own reports, and this store has one side only: " + "; ".join(missing)
                         + " (BACI holds one reconciled figure per flow; ingest both countries' declarations, e.g. Comtrade)")
    cells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if cells.empty or (cells.exporter_usd.sum() + cells.importer_usd.sum()) <= 0:
        raise InputError(f"no trade between {a} and {b} in the store" + (f" under HS {code}" if code else ""))
    timing = Timing.of(date, freq) if date else None
    if timing is not None:
        if not cells.t.min() < timing.first_post <= cells.t.max():
            lo, hi = (period_label(int(v), freq) for v in (cells.t.min(), cells.t.max()))
            raise InputError(f"{date} is outside the data's range ({lo} to {hi})", parameter="event")
        cells["phase"] = timing.phase(cells.t)
    else:
        cells["phase"] = "pre"  # no event: every period is the norm
    estimated = cif_fob is None
    if estimated:
        both = cells[(cells.phase == "pre") & (cells.exporter_usd > 0) & (cells.importer_usd > 0)]
        if both.empty:
            raise InputError("cannot estimate CIF/FOB: no period and product where both sides report; give it", parameter="cif_fob")
        cif_fob = float(np.median(both.importer_usd / both.exporter_usd))
    products = _gaps(cells, cif_fob, ["direction", "grp"], freq)
    products.insert(products.columns.get_loc("grp") + 1, "description", hs.names(products.grp))
    totals = _gaps(cells.assign(grp="TOTAL"), cif_fob, ["direction"], freq).drop(columns="grp")
    return MirrorResult(a, b, freq, cif_fob, estimated, date, totals, products, tuple(_headlines(totals, scope["currency"])),
                        q.provenance(store, read), tuple(missing), scope["currency"], code, chosen)


def _gaps(cells: pd.DataFrame, cif_fob: float, keys: list[str], freq: str) -> pd.DataFrame:
    df = cells.groupby(["direction", "grp", "t", "phase"], as_index=False)[["exporter_usd", "importer_usd"]].sum()
    df["importer_fob_usd"] = df.importer_usd / cif_fob
    df["gap_usd"] = df.importer_fob_usd - df.exporter_usd
    total = df.importer_fob_usd + df.exporter_usd
    df["gap"] = (df.gap_usd / total.where(total > 0)).fillna(0.0)
    pre = df[df.phase == "pre"].groupby(keys).gap
    norm = pd.DataFrame({"norm": pre.median()})
    norm["spread"] = pre.apply(lambda g: np.median(np.abs(g - g.median()))) * 1.4826
    df = df.join(norm, on=keys)
    df["flag"] = (df.gap - df.norm).abs() > BAND_K * np.maximum(df.spread.fillna(0.0), MIN_SPREAD)
    df.insert(2, "period", [period_label(int(t), freq) for t in df.t])
    return df.drop(columns=["t", "spread"]).sort_values(["direction", "grp", "period"]).reset_index(drop=True)


def _headlines(totals: pd.DataFrame, currency: str) -> list[str]:
    """One sentence per flagged period: who reports what, so the puzzle reads at a glance."""
    out = []
    sign = "$" if currency == "USD" else "EUR "
    for r in totals[totals.flag].itertuples():
        exporter, importer = r.direction.split("->")
        out.append(
            f"{r.period}: {importer} reports {sign}{r.importer_usd / 1e6:,.1f} million of imports from {exporter}; "
            f"{exporter} reports {sign}{r.exporter_usd / 1e6:,.1f} million of exports to {importer} (gap {r.gap:+.1%})"
        )
    return out
