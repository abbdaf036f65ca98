"""The result of a reroute scan: the ranked candidates, the relabelling test, the event study."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from entrepot.analysis.reroute.relabelling import Relabelling
from entrepot.analysis.window import Window
from entrepot.options import Data
from entrepot.results import Provenance, Result, records

COLUMNS = {
    "country": "the candidate intermediary C", "score": "-log10 of p_value", "significant": "flagged as a route",
    "rerouted_value_usd": "what went A -> C -> B over the post-event periods", "rerouted_share": "its share of the drop",
    "ci_low": "95% bootstrap bound of rerouted_value_usd", "ci_high": "95% bootstrap bound of rerouted_value_usd",
    "p_value": "max of the two legs' p-values (intersection-union)",
    "leg1_excess_usd": "A -> C's excess in the dropped mix", "leg1_ci_low": "95% bound", "leg1_ci_high": "95% bound",
    "leg1_p": "leg 1's p-value against the empirical null",
    "leg2_excess_usd": "C -> B's excess in the dropped mix", "leg2_ci_low": "95% bound", "leg2_ci_high": "95% bound",
    "leg2_p": "leg 2's p-value against the empirical null",
    "markup_pct": "unit-value markup of C -> B over A -> C", "unit_value_usd_per_t": "of A's exports to C in the dropped mix",
    "basket_overlap": "share of C's excess beyond its own growth that lies in the basket (both legs summed; a route's is near 1)",
    "outside_share": "C's excess outside the basket beyond its own growth, share of the drop (smaller leg's; a general boom)",
    "outside_p": "test of that excess, both legs' products pooled (a general boom of C's trade)",
    "quantity_p": "the same test in tonnes (a price rise lifts values only); empty without tonnes",
    "own_demand_growth": "growth of C's imports of the basket from everyone but A, beyond the world's",
    "placebo_p": "the same test within the pre-event window",
    "reason": "why flagged or not: route, a boom outside the basket, prices, one leg only, no excess",
    "top_products": "the HS6 codes with the most excess on both legs",
    "relabelling": "flagged as relabelling (when tested)", "relabelled_value_usd": "declared to C, not recorded there (the exporter's side; the"
    " relabelling's headline value combines the flagged rows' sum with the importer's side: `Relabelling`)",
    "relabel_ci_low": "95% bound", "relabel_ci_high": "95% bound", "relabel_p": "the relabelling test's p-value",
}


HELD_BACK = ("both legs boom outside the basket too", "values rose, quantities did not (prices)")  # passed the route test only
# Every `reason` (in the order the scan tests them; the last when none holds) and its verdict in a word, for a
# table's column whose legend gives the reason in full (the CLI's).
REASONS = {"route": "route", HELD_BACK[0]: "boom", HELD_BACK[1]: "prices", "excess on both legs, under the minimum share": "small",
           "leg 1 only (own demand?)": "leg 1",
           "leg 2 only (trade diversion?)": "leg 2", "no excess on both legs": "none"}
# What each verdict means, in the legend's order; "relabel" is the relabelling test's flag (`relabelling`).
VERDICTS = {"route": "both legs carry excess in the dropped products' mix: flagged as a route",
            "relabel": "the exporter declares sales to C that C does not record buying: flagged as relabelling",
            **{code: why for why, code in REASONS.items() if code != "route"}}


@dataclass(frozen=True)
class RerouteResult(Result):
    """Third countries ranked by evidence that trade from `exporter` (A) to `importer` (B) went through them.

    `candidates` (the frame) has one row per candidate (`COLUMNS`; the relabelling columns when the
    test ran); `timing` is the event study of the flagged routes (`timing.COLUMNS`), None when
    nothing is flagged; `reverse` the scan of B -> A when asked for.
    """

    COLUMNS: ClassVar[dict[str, str]] = COLUMNS
    FIGURE: ClassVar[str] = "reroute"

    exporter: str
    importer: str
    window: Window
    source: str
    direct_drop_usd: float
    pre_direct_usd: float  # per period, before the event
    rerouted_value_usd: float
    candidates: pd.DataFrame
    alpha: float
    min_share: float
    reverse: RerouteResult | None
    relabelling: Relabelling | None
    timing: pd.DataFrame | None
    notes: tuple[str, ...]
    provenance: Provenance
    basket: str | None = None  # the basket the test ran on (its products' drop), None: every product
    product: str | None = None  # an HS code: the scan read only it and its sub-codes
    chosen: Data | None = None  # the data read, by the rule of options.data

    @property
    def flagged(self) -> pd.DataFrame:
        """The candidates flagged as routes."""
        return self.candidates[self.candidates.significant]

    def onset(self, country: str) -> str | None:
        """The first period from the event on in which both legs through `country` carry excess (95% CI above 0)."""
        if self.timing is None:
            return None
        rows = self.timing[(self.timing.country == country) & (self.timing.phase != "pre")]
        started = rows[(rows.leg1_ci_low > 0) & (rows.leg2_ci_low > 0)]
        return None if started.empty else str(started.period.iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate (`COLUMNS`)."""
        return self.candidates.copy()

    def to_dict(self) -> dict[str, Any]:
        """The window, the totals, and each candidate as a row of `to_frame` (with the onset and event
        study of a flagged route)."""
        rows = records(self.candidates)
        for row in rows:
            if row["significant"] and self.timing is not None:
                row["onset"] = self.onset(row["country"])
                row["timing"] = records(self.timing[self.timing.country == row["country"]].drop(columns="country"))
        pre_total = self.pre_direct_usd * len(self.window.post_t)
        out = {
            "exporter": self.exporter, "importer": self.importer, "event": self.window.event.isoformat(),
            "window": self.window.to_dict(), "source": self.source, "basket": self.basket, "product": self.product,
            "pre_event_direct_usd_per_period": self.pre_direct_usd,
            "direct_drop_usd": self.direct_drop_usd, "rerouted_value_usd": self.rerouted_value_usd,
            "rerouted_share_of_pre_event": self.rerouted_value_usd / pre_total if pre_total else None,
            "alpha": self.alpha, "min_share": self.min_share, "intermediaries": rows, "notes": list(self.notes),
            "relabelling": None if self.relabelling is None else self.relabelling.to_dict(),
            "provenance": self.provenance.to_dict(),
        }
        if self.reverse is not None:
            out["reverse"] = self.reverse.to_dict()
        return out

    def summary(self) -> str:
        """The direct drop, what went around it and through whom."""
        pre_total = self.pre_direct_usd * len(self.window.post_t)
        share = f" ({self.rerouted_value_usd / pre_total:.0%} of the pre-event flow)" if pre_total else ""
        via = ", ".join(self.flagged.country) or "no country flagged"
        held = self.candidates[self.candidates.reason.isin(HELD_BACK)] if "reason" in self.candidates else self.candidates.iloc[:0]
        why = "".join(f"; not {c}: {r}" for c, r in zip(held.country, held.reason, strict=True))
        found = self.relabelling
        relabelled = "" if found is None or not found.table.relabelling.any() else (
            f"; relabelled ${found.relabelled_value_usd / 1e9:,.2f} bn via {', '.join(found.table.country[found.table.relabelling])}"
            f" ({found.basis}, {found.source})")
        return (f"{self.exporter} -> {self.importer}: direct drop ${self.direct_drop_usd / 1e9:,.2f} bn over {self.window.span};"
                f" rerouted ${self.rerouted_value_usd / 1e9:,.2f} bn{share} via {via} ({self.source}){why}{relabelled}")
