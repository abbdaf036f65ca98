"""Relabelling: goods A declares to C that C does not record receiving (they land in B instead).

Tested on both sides' declared reports: the same product-level fit as a route's leg, on the flow A
declares to C but C does not record (CIF/FOB adjusted), against A's declared drop to B
(docs/methods.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from entrepot.analysis import stats
from entrepot.analysis.reroute.data import Data
from entrepot.analysis.reroute.legs import MIN_PRODUCTS, drop_by_product, excess, fit_leg, product_draws, ratio
from entrepot.analysis.window import Window

MIN_UNRECORDED = 0.25  # at least this part of what A declares extra to C is missing from C's records
AGREE = 1.96  # the two sides' values are combined when they differ by at most this many combined standard errors


@dataclass(frozen=True)
class Relabelling:
    """Goods A declares to a candidate that the candidate does not record receiving, from both sides' reports.

    `table` has one row per tested candidate: relabelling (flagged), relabelled_value_usd (the exporter
    side: declared to C, not recorded there) with relabel_ci_low/high, and relabel_p.
    `exporter_side_usd` is the flagged rows' sum; `importer_excess_usd` what B records importing from A
    beyond A's declarations, each product against its pre-event ratio (the importer side: where
    relabelled goods land). `relabelled_value_usd`, the headline, combines the two by their inverse
    variances (`basis` "combined"), or is the exporter side where they differ by more than AGREE combined
    standard errors, B reports no imports or nothing is flagged (`basis` "exporter side"). The intervals
    are 95% bootstrap intervals over products.
    """

    source: str
    window: Window
    cif_fob: float  # pooled; each candidate's own where it has enough products
    declared_drop_usd: float  # A's declared exports to B: the drop over the post-event periods
    importer_excess_usd: float | None  # None when B reports no imports in the source
    table: pd.DataFrame
    exporter_side_usd: float  # through the flagged countries, over the post-event periods
    exporter_ci: tuple[float, float]
    importer_ci: tuple[float, float] | None
    relabelled_value_usd: float  # the headline: both sides combined, or the exporter side (`basis`)
    ci: tuple[float, float]
    basis: str  # "combined" or "exporter side"

    def notes(self, a: str, b: str) -> list[str]:
        """What was found, in words, for the scan's notes."""
        found = self.table[self.table.relabelling]
        named = ", ".join(f"{r.country} ${r.relabelled_value_usd / 1e6:,.0f} million" for r in found.itertuples())
        out = [f"relabelling ({self.window.span}, {self.source}): declared by {a} to {named} but not recorded there"] if named else []
        if self.importer_excess_usd is not None and self.importer_excess_usd > 0:
            out.append(f"{b} records ${self.importer_excess_usd / 1e6:,.0f} million more imports from {a} than {a} declares"
                       f" ({self.window.span}, each product against its pre-event ratio); the relabelling found accounts for"
                       f" ${self.exporter_side_usd / 1e6:,.0f} million of it")
        if named:
            low, high = (x / 1e6 for x in self.ci)
            how = ("both sides combined" if self.basis == "combined" else f"{a}'s side" if self.importer_excess_usd is None
                   else f"{a}'s side: {b}'s differs by more than {AGREE} standard errors")
            out.append(f"relabelled value ${self.relabelled_value_usd / 1e6:,.0f} million (95% CI {low:,.0f} to {high:,.0f}), {how}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The test's inputs and outcome (the rows are in the scan's intermediaries)."""
        return {
            "source": self.source, "window": self.window.to_dict(), "cif_fob": self.cif_fob,
            "declared_drop_usd": self.declared_drop_usd, "importer_excess_usd": self.importer_excess_usd,
            "importer_ci": None if self.importer_ci is None else list(self.importer_ci),
            "exporter_side_usd": self.exporter_side_usd, "exporter_ci": list(self.exporter_ci),
            "relabelled_value_usd": self.relabelled_value_usd, "ci": list(self.ci), "basis": self.basis,
            "countries": list(self.table.loc[self.table.relabelling, "country"]),
        }



def find_relabelling(data: Data, alpha: float, seed: int, family: list[str], min_share: float) -> Relabelling:
    """Relabelling: A's declarations to C rise with A -> B's declared drop, C's records of them do not.

    The same product-level fit as a leg, on the flow A declares to C but C does not record (CIF/FOB
    adjusted): its change after the event against [A's declared flow to C, A's declared drop to B].
    A candidate is tested when it reports imports in every phase; Holm's procedure runs over the
    tested candidates among `family` (the route scan's).
    """
    dec = data.declared
    assert dec is not None
    pre, n_post = [0, 1], len(data.window.post_t)
    sent, got = data.mean(data.ac, pre), data.mean(dec.recorded, pre)
    cif, cif_se, pooled = cif_fob_factors(sent, got, dec.reporting)
    world = ratio(data.world[2], data.mean(data.world, pre))
    x = sent * world
    recorded = dec.recorded[2] / cif - got / cif * world  # C's recorded rise, at FOB
    drop = drop_by_product(data, dec.to_b)
    draws, traded = product_draws(len(data.products), seed), dec.reporting & (data.ac.sum((0, 2)) > 0)
    leg = fit_leg(x, data.ac[2] - sent * world - recorded, drop, traded, draws)
    kept = fit_leg(x, recorded, drop, traded, draws)  # the share of the drop C does record
    kept_test, kept_value = (np.clip(f.beta, 0.0, None) for f in (kept.test, kept.value))
    # A wrong CIF/FOB factor turns a share of what C records into "unrecorded": add its uncertainty to
    # the test, and draw the factor in the bootstrap (a log error e moves beta by about kept * e).
    z = np.where(leg.active, leg.test.beta / np.sqrt(leg.test.se**2 + (kept_test * cif_se) ** 2), 0.0)
    noise = np.random.default_rng(seed).normal(0.0, 1.0, leg.boot.shape) * cif_se[:, None]
    leg = dataclasses.replace(leg, boot=leg.boot + kept_value[:, None] * noise)
    p = stats.empirical_null_p(z, leg.active)
    in_family = leg.active & np.isin(data.countries, family)
    passed = np.zeros(len(p), dtype=bool)
    passed[in_family] = stats.holm(p[in_family], alpha)
    share = leg.value.beta
    material = (share >= min_share) & (share >= MIN_UNRECORDED * (share + kept_value))
    total = float(drop.sum()) * n_post
    value = {k: np.clip(v, 0.0, None) for k, v in excess("relabel", leg, total).items()}
    table = pd.DataFrame({
        "country": data.countries, "relabelling": passed & material, "relabelled_value_usd": value["relabel_excess_usd"],
        "relabel_ci_low": value["relabel_ci_low"], "relabel_ci_high": value["relabel_ci_high"], "relabel_p": p,
    })[in_family]
    flagged = (passed & material)[:, None]
    exporter_boot = (np.where(flagged, leg.boot, 0.0) * total).sum(0)  # the flagged rows' sum in each bootstrap sample
    exporter = float(np.where(flagged[:, 0], value["relabel_excess_usd"], 0.0).sum())
    importer = importer_boot = None
    if dec.b_records is not None:
        landed = _landed(data, dec.to_b, dec.b_records)
        importer = float(landed.sum()) * n_post
        # As a share of the drop, as the exporter side's is: the goods land in the drop's mix, so the ratio is what varies.
        importer_boot = ratio(draws @ landed, draws @ drop, 0.0) * total
    headline, boot, basis = exporter, exporter_boot, "exporter side"
    if importer_boot is not None and flagged.any():
        se_e, se_i = max(float(exporter_boot.std()), 1.0), max(float(importer_boot.std()), 1.0)
        if abs(exporter - importer) <= AGREE * np.hypot(se_e, se_i):
            w = se_e**2 / (se_e**2 + se_i**2)  # the importer side's inverse-variance weight
            headline, boot, basis = max((1 - w) * exporter + w * importer, 0.0), (1 - w) * exporter_boot + w * importer_boot, "combined"
    return Relabelling(data.source, data.window, pooled, total, importer, table.reset_index(drop=True), exporter, _ci(exporter_boot),
                       None if importer_boot is None else _ci(importer_boot), headline, _ci(boot), basis)


def _landed(data: Data, to_b: np.ndarray, b_records: np.ndarray) -> np.ndarray:
    """What B records importing from A beyond A's declarations after the event, per period and product (P,), at A's
    prices: B's records over the product's pre-event ratio of them to A's declarations (B's own CIF/FOB factor
    with A, `cif_fob_factors`, where either side has none before), less A's declarations, against before."""
    sent, got = data.mean(to_b, [0, 1]), data.mean(b_records, [0, 1])
    both = (sent > 0) & (got > 0)
    pooled = cif_fob_factors(sent[None], got[None], np.array([True]))[0][0, 0]
    gap = b_records / np.where(both, got / np.where(both, sent, 1.0), pooled) - to_b
    return gap[2] - data.mean(gap, [0, 1])


def _ci(boot: np.ndarray) -> tuple[float, float]:
    """The 95% bootstrap interval of a value (bounded below by 0, as the values are)."""
    return float(max(np.percentile(boot, 2.5), 0.0)), float(max(np.percentile(boot, 97.5), 0.0))


def cif_fob_factors(sent: np.ndarray, got: np.ndarray, reporting: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """CIF/FOB per candidate, the median over products of recorded / declared before the event (margins
    differ by partner), with the standard error of its log; the pooled median where a candidate has
    fewer than MIN_PRODUCTS products. Returns (C, 1) factors, (C,) standard errors, the pooled factor."""
    both = (sent > 0) & (got > 0) & reporting[:, None]
    log_ratio = np.where(both, np.log(np.where(both, got, 1.0) / np.where(both, sent, 1.0)), np.nan)
    if not both.any():
        return np.ones((len(sent), 1)), np.zeros(len(sent)), 1.0
    pooled = float(np.nanmedian(log_ratio))
    n = both.sum(1)
    own, spread = np.full(len(sent), np.nan), np.full(len(sent), np.nan)  # a candidate with no pair: the pooled, below
    some = n > 0
    own[some] = np.nanmedian(log_ratio[some], axis=1)
    spread[some] = 1.4826 * np.nanmedian(np.abs(log_ratio[some] - own[some, None]), axis=1)
    enough = n >= MIN_PRODUCTS
    # The median's standard error: 1.2533 sigma / sqrt(n) for normal noise.
    se = np.where(enough, 1.2533 * np.nan_to_num(spread) / np.sqrt(np.maximum(n, 1)), 0.0)
    return np.exp(np.where(enough, own, pooled))[:, None], se, float(np.exp(pooled))
