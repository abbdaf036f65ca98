"""The screen's result: the ranked collapses with their routes, in the project's result protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from entrepot.analysis._panel import records
from entrepot.errors import InputError

FORMATS = (".csv", ".parquet", ".json")


@dataclass
class ScreenResult:
    """`pairs`: every pair tested (its best break, drop, p and q); `collapses`: the collapses, largest
    drop first (`cid` links them to `routes`); `routes`: the scanned collapses' candidate
    intermediaries, the scan's order (`rank`), flagged ones `significant`."""

    pairs: pd.DataFrame
    collapses: pd.DataFrame
    routes: pd.DataFrame
    provenance: dict[str, Any] = field(default_factory=dict)

    def flagged(self, cid: int) -> pd.DataFrame:
        r = self.routes
        return r[(r.cid == cid) & r.significant.fillna(False).astype(bool)]

    def to_frame(self) -> pd.DataFrame:
        """The ranked table: one row per collapse, its date and size, whether a case file knows it, and
        its intermediaries (flagged by the route scan) with the rerouted value and the evidence."""
        rows = []
        for c in self.collapses.itertuples():
            found = self.flagged(c.cid)
            scanned = (self.routes.cid == c.cid).any()
            notes = self.routes.loc[self.routes.cid == c.cid, "note"].dropna()
            if not scanned:
                evidence = "not scanned (below --top)"
            elif found.empty:
                evidence = notes.iloc[0] if len(notes) and notes.iloc[0].startswith("route scan not run") else "no intermediary passes the test"
            else:
                evidence = "; ".join(f"{r.country}: ${r.rerouted_value_usd / 1e6:,.1f}m [{r.ci_low / 1e6:,.1f}, {r.ci_high / 1e6:,.1f}],"
                                     f" p {r.p_value:.1e} (legs {r.leg1_p:.1e} / {r.leg2_p:.1e})" for r in found.itertuples())
            rows.append({
                "rank": c.cid + 1, "exporter": c.exporter, "importer": c.importer, "section": c.section, "date": c.date,
                "drop_usd": c.drop_usd, "drop_pct": c.drop_pct, "pre_usd_per_period": c.pre_usd,
                "counterfactual_usd": c.cf_post, "actual_usd": c.v_post, "post_periods": int(c.n_post),
                "z": c.z, "p_value": c.p_value, "q_value": c.q_value,
                "status": "known embargo" if c.case else "lead", "case": c.case or None,
                "intermediaries": ", ".join(found.country), "rerouted_value_usd": float(found.rerouted_value_usd.sum()) if scanned else None,
                "evidence": evidence,
            })
        columns = ["rank", "exporter", "importer", "section", "date", "drop_usd", "drop_pct", "pre_usd_per_period", "counterfactual_usd",
                   "actual_usd", "post_periods", "z", "p_value", "q_value", "status", "case", "intermediaries", "rerouted_value_usd", "evidence"]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        out = []
        for row, c in zip(records(self.to_frame()), self.collapses.itertuples(), strict=True):
            cand = self.routes[(self.routes.cid == c.cid) & self.routes.country.notna()]
            row["candidates"] = records(cand.drop(columns=["cid", "direct_drop_usd", "note"]))
            out.append(row)
        return {"provenance": self.provenance, "collapses": out}

    def summary(self) -> list[str]:
        p, t = self.provenance, self.to_frame()
        known = t[t.status == "known embargo"]
        lines = [f"{p['pairs_tested']:,} pairs tested ({p['relation']}, {p['engine']}): {len(t)} collapses at FDR {p['alpha']:g}"
                 f" with a drop of at least {p['min_drop']:.0%}; {len(known)} known from case files, {len(t) - len(known)} leads;"
                 f" {p['scanned']} scanned for routes"]
        for r in t.head(10).itertuples():
            via = f" via {r.intermediaries}" if r.intermediaries else ""
            sec = "" if r.section == "ALL" else f" (section {r.section})"
            lines.append(f"{r.rank}. {r.exporter}->{r.importer}{sec} from {r.date}: -{r.drop_pct:.0%} (${r.drop_usd / 1e6:,.0f}m)"
                         f", {r.status}{via}")
        return lines

    def plot(self):
        """The world map of the detected detours (plotly figure; the report page draws it offline)."""
        from entrepot.screen.report import detour_map

        return detour_map(self)

    def write(self, path: str | Path) -> Path:
        """The ranked table as CSV or Parquet, or the whole result as JSON, by the file's suffix."""
        path = Path(path)
        if path.suffix not in FORMATS:
            raise InputError(f"the output's suffix must be one of {', '.join(FORMATS)}", path=path)
        tmp = path.with_name(path.name + ".part")  # nothing half-written: write beside, then rename
        if path.suffix == ".json":
            tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        elif path.suffix == ".csv":
            self.to_frame().to_csv(tmp, index=False)
        else:
            self.to_frame().to_parquet(tmp, index=False)
        tmp.replace(path)
        return path
