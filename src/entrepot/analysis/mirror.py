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

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entrepot.analysis import _panel
from entrepot.analysis.flows import check_country
from entrepot.analysis.window import Timing, parse_event, period_label
from entrepot.errors import InputError
from entrepot.store import Store

BAND_K, MIN_SPREAD = 3.0, 0.05


@dataclass
class MirrorResult:
    a: str
    b: str
    freq: str
    cif_fob: float
    cif_fob_estimated: bool
    event: dt.date | None
    totals: pd.DataFrame  # direction, period, phase, exporter_usd, importer_usd, importer_fob_usd, gap_usd, gap, flag
    products: pd.DataFrame  # the same by HS2 group
    headlines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a, "b": self.b, "freq": self.freq, "cif_fob": self.cif_fob,
            "cif_fob_estimated": self.cif_fob_estimated,
            "event": None if self.event is None else self.event.isoformat(),
            "headlines": self.headlines, "totals": _panel.records(self.totals), "products": _panel.records(self.products),
        }


def mirror(
    store: Store,
    a: str,
    b: str,
    cif_fob: float | None = None,
    event: str | dt.date | None = None,
    freq: str = "A",
) -> MirrorResult:
    """Both sides' reports of A<->B trade, CIF/FOB adjusted, with the periods whose gap breaks its norm."""
    a, b = check_country(a, "--a"), check_country(b, "--b")
    if freq not in ("A", "M"):
        raise InputError(f"--freq must be A or M, not {freq!r}")
    if cif_fob is not None and not 0.5 <= cif_fob <= 2.0:
        raise InputError(f"--cif-fob must be a ratio near 1 (e.g. 1.06), not {cif_fob}")
    date = None if event is None else parse_event(event)
    parts = []
    for exporter, importer in ((a, b), (b, a)):
        x = _panel.panel(store, exporter, "export", freq, 2, [importer])
        m = _panel.panel(store, importer, "import", freq, 2, [exporter])
        if (x.grp == "TOTAL").any() or (m.grp == "TOTAL").any():
            x, m = x.assign(grp="TOTAL"), m.assign(grp="TOTAL")
        both = pd.merge(
            x.groupby(["t", "grp"]).value.sum().rename("exporter_usd"),
            m.groupby(["t", "grp"]).value.sum().rename("importer_usd"),
            left_index=True, right_index=True, how="outer",
        ).astype(float).fillna(0.0).reset_index()
        if not both.empty:
            parts.append(both.assign(direction=f"{exporter}->{importer}"))
    cells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if cells.empty or (cells.exporter_usd.sum() + cells.importer_usd.sum()) <= 0:
        raise InputError(f"no trade between {a} and {b} in the store")
    timing = Timing.of(date, freq) if date else None
    if timing is not None:
        if not cells.t.min() < timing.first_post <= cells.t.max():
            lo, hi = (period_label(int(v), freq) for v in (cells.t.min(), cells.t.max()))
            raise InputError(f"event {date} outside the data's range ({lo} to {hi})")
        cells["phase"] = timing.phase(cells.t)
    else:
        cells["phase"] = "pre"  # no event: every period is the norm
    estimated = cif_fob is None
    if estimated:
        both = cells[(cells.phase == "pre") & (cells.exporter_usd > 0) & (cells.importer_usd > 0)]
        if both.empty:
            raise InputError("cannot estimate CIF/FOB: no period and product where both sides report; pass --cif-fob")
        cif_fob = float(np.median(both.importer_usd / both.exporter_usd))
    products = _gaps(cells, cif_fob, ["direction", "grp"], freq)
    totals = _gaps(cells.assign(grp="TOTAL"), cif_fob, ["direction"], freq).drop(columns="grp")
    return MirrorResult(a, b, freq, cif_fob, estimated, date, totals, products, _headlines(totals))


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


def _headlines(totals: pd.DataFrame) -> list[str]:
    """One sentence per flagged period: who reports what, so the puzzle reads at a glance."""
    out = []
    for r in totals[totals.flag].itertuples():
        exporter, importer = r.direction.split("->")
        out.append(
            f"{r.period}: {importer} reports ${r.importer_usd / 1e6:,.1f} million of imports from {exporter}; "
            f"{exporter} reports ${r.exporter_usd / 1e6:,.1f} million of exports to {importer} (gap {r.gap:+.2f})"
        )
    return out
