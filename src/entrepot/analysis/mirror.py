"""Mirror statistics: A's reported exports to B against B's reported imports from A, and back.

Imports are valued CIF, exports FOB, so B's figure is divided by a CIF/FOB factor: the user's, or
estimated as the median ratio of importer to exporter reports over every pair in the store with
both (before the event when one is given), as CEPII does for BACI (Gaulier and Zignago 2010).
The gap is then (B's imports / CIF-FOB) - A's exports. A period is flagged when its log ratio
leaves the pre-event norm by more than 3.5 robust standard deviations (median and MAD).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from entrepot.analysis.flows import bilateral
from entrepot.analysis.window import parse_event
from entrepot.errors import InputError
from entrepot.store import Store

THRESHOLD = 3.5


@dataclass
class MirrorResult:
    a: str
    b: str
    cif_fob: float
    cif_fob_source: str
    event: dt.date | None
    table: pd.DataFrame  # direction, period, exporter_reported, importer_reported, adjusted, gap, log_ratio, flagged

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "cif_fob": self.cif_fob, "cif_fob_source": self.cif_fob_source,
                "event": self.event.isoformat() if self.event else None,
                "rows": self.table.astype(object).where(self.table.notna(), None).to_dict(orient="records")}


def estimate_cif_fob(store: Store, before_year: int | None = None) -> float:
    where = f"AND year < {int(before_year)}" if before_year else ""
    row = store.con.execute(f"""
        WITH x AS (SELECT reporter, partner, year, sum(value_usd) v FROM flows
                   WHERE flow = 'export' AND source <> 'baci' AND partner_is_country {where} GROUP BY ALL),
             m AS (SELECT partner AS reporter, reporter AS partner, year, sum(value_usd) v FROM flows
                   WHERE flow = 'import' AND source <> 'baci' AND partner_is_country {where} GROUP BY ALL)
        SELECT median(m.v / x.v), count(*) FROM x JOIN m USING (reporter, partner, year) WHERE x.v > 0 AND m.v > 0
    """).fetchone()
    if not row[1]:
        raise InputError("cannot estimate CIF/FOB: no pair has both exporter and importer reports; pass --cif-fob")
    return float(np.clip(row[0], 1.0, 1.3))


def mirror(store: Store, a: str, b: str, event: str | None = None, cif_fob: float | None = None, by: str = "year") -> MirrorResult:
    when = parse_event(event) if event else None
    factor, origin = (cif_fob, "given") if cif_fob else (estimate_cif_fob(store, when.year if when else None), "estimated")
    if factor < 1 or factor > 2:
        raise InputError(f"--cif-fob must be between 1 and 2, not {factor}")
    series = bilateral(store, a, b, by=by)  # type: ignore[arg-type]
    t = series.table
    parts = []
    for direction, exp_col, imp_col in (
        (f"{series.reporter}->{series.partner}", "a_to_b_exporter", "a_to_b_importer"),
        (f"{series.partner}->{series.reporter}", "b_to_a_exporter", "b_to_a_importer"),
    ):
        frame = pd.DataFrame({"direction": direction, "period": t["period"], "exporter_reported": t[exp_col],
                              "importer_reported": t[imp_col]})
        frame["importer_reported_fob"] = frame["importer_reported"] / factor
        frame["gap_usd"] = frame["importer_reported_fob"] - frame["exporter_reported"]
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["log_ratio"] = np.log(frame["importer_reported_fob"] / frame["exporter_reported"])
        key = (str(when.year) if by == "year" else f"{when.year:04d}-{when.month:02d}") if when else None
        norm = frame[frame["period"] < key] if key else frame
        ok = norm["log_ratio"].replace([np.inf, -np.inf], np.nan).dropna()
        if len(ok) >= 2:
            centre = ok.median()
            spread = max(1.4826 * (ok - centre).abs().median(), 0.02)
            frame["z"] = (frame["log_ratio"] - centre) / spread
            frame["flagged"] = frame["z"].abs() > THRESHOLD
        else:
            frame["z"], frame["flagged"] = np.nan, False
        parts.append(frame)
    return MirrorResult(series.reporter, series.partner, factor, origin, when, pd.concat(parts, ignore_index=True))
