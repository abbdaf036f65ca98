"""The reporting layer: what customs write down about the physical shipments, and BACI's reconciliation."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED_SHARE = 0.003  # report rows marked confidential (value left blank)


def build_reports(scn, rng, shipments: pd.DataFrame, codes: list[str], dist: np.ndarray, usd_per_kg: np.ndarray,
                  product_codes: list[str], months: pd.PeriodIndex, zoo):
    n = len(codes)
    case = {codes.index(c) for c in scn.focus}
    others = [k for k in range(n) if k not in case]
    silent = set(rng.choice(others, int(len(others) * scn.nonreporting_share), replace=False).tolist())
    silent -= {codes.index(c) for c in zoo.countries}  # decoys report, as the routes do
    controls = [k for k in rng.permutation(others) if k not in silent][: scn.controls]
    reporters = sorted(case | set(controls) | {codes.index(c) for c in zoo.countries})
    pair = {codes.index(scn.exporter), codes.index(scn.importer)}
    gaps = zoo.pick_gaps(reporters, pair) if zoo.d.gaps else []
    missing_years = {(g["reporter"], g["year"]) for g in gaps if g["year"] is not None}
    margin = np.clip(0.02 + 0.03 * dist / 5000, 0.02, 0.15) * np.exp(rng.normal(0, 0.2, (n, n)))

    kg = shipments["value"] / (usd_per_kg[shipments["p"]] * (1 + shipments["markup"]))
    shipments = shipments.assign(kg=kg)
    exp_view = shipments.groupby(["t", "i", "j_decl", "p"], as_index=False)[["value", "kg"]].sum()
    exp_view.columns = ["t", "reporter", "partner", "p", "value", "kg"]
    imp_view = shipments.groupby(["t", "j", "i", "p"], as_index=False)[["value", "kg"]].sum()
    imp_view.columns = ["t", "reporter", "partner", "p", "value", "kg"]
    imp_view["value"] *= 1 + margin[imp_view["partner"], imp_view["reporter"]]
    for view in (exp_view, imp_view):
        view["value"] *= np.exp(rng.normal(0, scn.reporting_noise, len(view)))
        view["kg"] *= np.exp(rng.normal(0, scn.reporting_noise, len(view)))

    # BACI: the importer's report net of its CIF margin when the importer reports, else the exporter's.
    year = months.year.to_numpy()
    def annual(view: pd.DataFrame, key: list[str]) -> pd.DataFrame:
        return view.assign(year=year[view["t"]]).groupby(["year"] + key, as_index=False)[["value", "kg"]].sum()
    imp_y = annual(imp_view.rename(columns={"reporter": "j", "partner": "i"}), ["i", "j", "p"])
    exp_y = annual(exp_view.rename(columns={"reporter": "i", "partner": "j"}), ["i", "j", "p"])
    merged = exp_y.merge(imp_y, on=["year", "i", "j", "p"], how="outer", suffixes=("_x", "_m"))
    if missing_years:  # a reporter-year missing: BACI has only the partner's report of those flows
        gone_x = pd.Series(list(zip(merged["i"], merged["year"], strict=True))).isin(missing_years).to_numpy()
        gone_m = pd.Series(list(zip(merged["j"], merged["year"], strict=True))).isin(missing_years).to_numpy()
        merged.loc[gone_x, ["value_x", "kg_x"]] = np.nan
        merged.loc[gone_m, ["value_m", "kg_m"]] = np.nan
    use_m = merged["value_m"].notna() & ~merged["j"].isin(silent)
    net = merged["value_m"] / (1 + np.clip(0.02 + 0.03 * dist[merged["i"], merged["j"]] / 5000, 0.02, 0.15))
    baci = pd.DataFrame({
        "year": merged["year"], "i": merged["i"], "j": merged["j"], "p": merged["p"],
        "value": np.where(use_m, net, merged["value_x"]),
        "tonnes": np.where(use_m, merged["kg_m"], merged["kg_x"]) / 1000,
    }).dropna(subset=["value"])
    if zoo.change_t is not None:  # BACI files are one revision each: HS2022 from the change's first whole year
        baci = zoo.recode(baci, (baci["year"] >= zoo.truth["hs_change"]["baci_from"]).to_numpy())

    # Comtrade: monthly reports of the reporting countries, a few values confidential.
    keep = set(reporters)
    exp_rep = exp_view[exp_view["reporter"].isin(keep)].copy()
    imp_rep = imp_view[imp_view["reporter"].isin(keep)].copy()
    for view in (exp_rep, imp_rep):
        view.loc[rng.random(len(view)) < SUPPRESSED_SHARE, "value"] = np.nan
    for g in gaps:
        for view in (exp_rep, imp_rep):
            view.drop(view.index[(view["reporter"] == g["reporter"]) & view["t"].isin(g["months"])], inplace=True)
    if zoo.change_t is not None:  # reporters declare HS2022 codes from the change's month
        exp_rep = zoo.recode(exp_rep, (exp_rep["t"] >= zoo.change_t).to_numpy())
        imp_rep = zoo.recode(imp_rep, (imp_rep["t"] >= zoo.change_t).to_numpy())

    gravity = _gravity(scn, rng, shipments, codes, dist, year)
    return exp_rep, imp_rep, baci, gravity, [codes[k] for k in reporters]


def _gravity(scn, rng, shipments, codes, dist, year) -> pd.DataFrame:
    """Aggregate yearly trade with intra-national sales (output minus exports) and gravity covariates."""
    from entrepot import geo

    n = len(codes)
    yearly = shipments.assign(year=year[shipments["t"]]).groupby(["year", "i", "j"])["value"].sum()
    years = np.unique(year)
    full = pd.MultiIndex.from_product([years, range(n), range(n)], names=["year", "i", "j"])
    trade = yearly.reindex(full, fill_value=0.0).to_numpy().reshape(len(years), n, n)
    openness = rng.uniform(0.2, 0.5, n)  # exports over output
    exports = trade.sum(axis=2)
    for t in range(len(years)):
        trade[t][np.arange(n), np.arange(n)] = exports[t] * (1 / openness - 1)
    by = {c.iso3: c for c in geo.all_countries()}
    neigh = np.array([[codes[b] in by[codes[a]].neighbours for b in range(n)] for a in range(n)], dtype=int)
    lang = np.array([by[c].language for c in codes])
    y, a, b = np.meshgrid(years, np.arange(n), np.arange(n), indexing="ij")
    frame = pd.DataFrame({
        "exporter": np.array(codes)[a.ravel()], "importer": np.array(codes)[b.ravel()], "year": y.ravel(),
        "trade": trade.ravel(), "DIST": dist[a.ravel(), b.ravel()], "CNTG": neigh[a.ravel(), b.ravel()],
        "LANG": (lang[a.ravel()] == lang[b.ravel()]).astype(int), "CLNY": 0,
    })
    frame["ln_DIST"] = np.log(frame["DIST"])
    since = {(scn.exporter, scn.importer): scn.embargo_date.year, (scn.importer, scn.exporter): scn.embargo_date.year}
    for e in scn.embargoes:
        since |= {(e.exporter, e.importer): e.date.year, (e.importer, e.exporter): e.date.year}
    start = np.array([since.get((e, i), 10_000) for e, i in zip(frame["exporter"], frame["importer"], strict=True)])
    frame["EMBARGO"] = (frame["year"] >= start).astype(int)
    return frame
