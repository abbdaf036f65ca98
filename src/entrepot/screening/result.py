"""The screen's result: the ranked collapses with their routes, in the project's result protocol."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from entrepot.errors import InputError
from entrepot.results import Provenance, Result, records

FORMATS = (".csv", ".parquet", ".json")
COLUMNS = {
    "rank": "1 = the largest drop in USD",
    "exporter": "ISO3 of the exporter (A)",
    "importer": "ISO3 of the importer (B)",
    "section": "HS section (Roman numeral), ALL when the screen is not by section",
    "date": "the first period after the break (a year, or YYYY-MM)",
    "drop_usd": "counterfactual minus actual trade over the periods after the break (USD)",
    "drop_pct": "the drop as a share of the counterfactual",
    "pre_usd_per_period": "the pair's mean trade per period before the break (USD)",
    "counterfactual_usd": "what the pair would have traded after the break (USD)",
    "actual_usd": "what it traded (USD)",
    "post_periods": "periods after the break in the comparison",
    "z": "the drop against pairs of the same size at the same break (robust z)",
    "p_value": "one-sided, times the breaks tried for the pair",
    "q_value": "Benjamini-Hochberg over every pair tested",
    "quantity_cover": "the share of the pair's value before the break in rows with quantities (the rest counts at its value in the volume)",
    "volume_drop_pct": "the drop in volume (tonnes at the pair's unit values) against its counterfactual, after the break",
    "z_volume": "the volume's drop against pairs of the same size at the same break (robust z)",
    "q_volume": "the volume's q-value (one-sided p times the breaks tried, Benjamini-Hochberg): the collapse test",
    "status": "known embargo (a case file describes it), lead, or prices (the value fell, the volume did not)",
    "case": "the case file's id, for a known embargo",
    "intermediaries": "the countries the route scan flags, strongest first",
    "rerouted_value_usd": "the value through them over the periods after the break (USD); empty when not scanned",
    "evidence": "each intermediary's value [95% CI], joint p-value and both legs' p-values; or why none",
    "data": "the trade read: baci, or reported (source, frequency, the exporters' or the importers' reports)",
}


@dataclass(frozen=True)
class ScreenResult(Result):
    """Collapses of trade between ordered pairs of countries, and the third countries they went through.

    `pairs` has every pair tested (its best break, drop, p and q in value and volume, `collapse`, `prices`);
    `collapses` the collapses and the price changes (`prices`), largest drop first (`cid` links them to `routes`); `routes` the candidate
    intermediaries of the scanned collapses in the route scan's order (`rank`), the flagged ones
    `significant`; `settings` how the screen ran (engine, input, relation, thresholds, counts).
    """

    COLUMNS: ClassVar[dict[str, str]] = COLUMNS
    FIGURE: ClassVar[str] = "screen"

    pairs: pd.DataFrame
    collapses: pd.DataFrame
    routes: pd.DataFrame
    settings: dict[str, Any]
    provenance: Provenance

    def flagged(self, cid: int) -> pd.DataFrame:
        """The flagged intermediaries of collapse `cid`."""
        r = self.routes
        return r[(r.cid == cid) & r.significant.fillna(False).astype(bool)]

    def to_frame(self) -> pd.DataFrame:
        """The ranked table: one row per collapse (`COLUMNS`)."""
        rows = []
        for c in self.collapses.itertuples():
            found = self.flagged(c.cid)
            mine = self.routes[self.routes.cid == c.cid]
            failed = mine.note.dropna().str.startswith("route scan not run")
            if c.prices:
                evidence = (f"prices: value -{c.drop_pct:.0%} against its counterfactual, volume {-c.volume_drop_pct:+.0%}"
                            f" (last period {-c.volume_last_drop_pct:+.0%}; {c.cover:.0%} of its value with quantities); not scanned")
            elif mine.empty:
                evidence = "not scanned (below --top)"
            elif failed.any():
                evidence = mine.note[failed.index[failed]].iloc[0]
            elif found.empty:
                evidence = "no intermediary passes the test"
            else:
                evidence = "; ".join(f"{r.country}: ${r.rerouted_value_usd / 1e6:,.1f}m [{r.ci_low / 1e6:,.1f}, {r.ci_high / 1e6:,.1f}],"
                                     f" p {r.p_value:.1e} (legs {r.leg1_p:.1e} / {r.leg2_p:.1e})" for r in found.itertuples())
            rows.append({
                "rank": c.cid + 1, "exporter": c.exporter, "importer": c.importer, "section": c.section, "date": c.date,
                "drop_usd": c.drop_usd, "drop_pct": c.drop_pct, "pre_usd_per_period": c.pre_usd,
                "counterfactual_usd": c.cf_post, "actual_usd": c.v_post, "post_periods": int(c.n_post),
                "z": c.z, "p_value": c.p_value, "q_value": c.q_value, "quantity_cover": c.cover,
                "volume_drop_pct": c.volume_drop_pct, "z_volume": c.z_v, "q_volume": c.q_volume,
                "status": "prices" if c.prices else "known embargo" if c.case else "lead", "case": c.case or None,
                "intermediaries": ", ".join(found.country),
                "rerouted_value_usd": None if mine.empty else float(found.rerouted_value_usd.sum()), "evidence": evidence,
                "data": self.settings["relation"],
            })
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The settings, the provenance, and each collapse as a row of `to_frame` with its scanned candidates."""
        out = []
        for row, c in zip(records(self.to_frame()), self.collapses.itertuples(), strict=True):
            cand = self.routes[(self.routes.cid == c.cid) & self.routes.country.notna()]
            row["candidates"] = records(cand.drop(columns=["cid", "direct_drop_usd", "note"]))
            out.append(row)
        return {"settings": self.settings, "collapses": out, "provenance": self.provenance.to_dict()}

    def summary(self) -> str:
        """How many pairs were tested, how many collapsed, how many a case file knows, how many were price changes."""
        s, t = self.settings, self.to_frame()
        known, leads = int((t.status == "known embargo").sum()), int((t.status == "lead").sum())
        return (f"{s['pairs_tested']:,} pairs tested ({s['relation']}, {s['engine']}): {s['collapses']} collapses at FDR {s['alpha']:g}"
                f" with a drop of at least {s['min_drop']:.0%} in value and volume; {known} known from case files, {leads} leads;"
                f" {s['prices']} price changes (value fell, volume did not); {s['scanned']} scanned for routes")

    def write(self, path: str | Path) -> Path:
        """The ranked table as CSV or Parquet, or the whole result as JSON, by the file's suffix (written beside, then renamed)."""
        path = Path(path)
        if path.suffix not in FORMATS:
            raise InputError(f"the output's suffix must be one of {', '.join(FORMATS)}", path=path)
        tmp = path.with_name(path.name + ".part")
        if path.suffix == ".json":
            tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str, ensure_ascii=False), encoding="utf-8")
        elif path.suffix == ".csv":
            self.to_frame().to_csv(tmp, index=False)
        else:
            self.to_frame().to_parquet(tmp, index=False)
        tmp.replace(path)
        return path
