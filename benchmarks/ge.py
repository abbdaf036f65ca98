"""General-equilibrium speed and agreement: entrepot's GE solver beside the gegravity package.

Two problems, each solved by both in one run:
1. NAFTA (AGTPA Chapter2Application2.dta, 1994, sigma 7, reference DEU): trade costs from a pyfixest
   PPML of trade on ln distance, contiguity, language, colony, RTA and an international border
   (exporter-year and importer-year effects, 1986-2006 every 4 years); counterfactual: NAFTA's RTA
   dummies off. gegravity needs `omr_rescale` (peers.md): we try 10, 1, 100, 1000, 0.1, ... and keep the first that
   converges, as a user would.
2. A generated world of 200+ countries (entrepot.synth's gravity.csv, last full year), costs from
   the same kind of regression; counterfactual: the case's two-bloc split with a 25% barrier.
Also times the book-procedure NAFTA solve (GEPPML as in Yotov et al. 2016) after estimation.
Writes the GE section of docs/performance.md.

    python benchmarks/ge.py [--reps 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import machine, median, write_section  # noqa: E402

from entrepot.models import ge, gravity  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "agtpa"
RESCALES = (10, 1, 100, 1000, 0.1, 0.01, 0.001)
USED: list[float] = []
COST_VARS = ["ln_DIST", "CNTG", "LANG", "CLNY", "RTA", "INTL"]


def costs_from_coefficients(df: pd.DataFrame, year: int, beta: dict[str, float], policy: dict[str, np.ndarray] | None = None):
    base = df[df["year"] == year]
    countries = sorted(set(base["exporter"]))
    pos = {c: k for k, c in enumerate(countries)}
    n = len(countries)
    i, j = base["exporter"].map(pos).to_numpy(), base["importer"].map(pos).to_numpy()
    trade = np.zeros((n, n))
    trade[i, j] = base["trade"].to_numpy()
    log_t = np.zeros((n, n))
    for var, b in beta.items():
        m = np.zeros((n, n))
        m[i, j] = base[var].to_numpy(dtype=float)
        log_t += b * m
    return countries, trade, np.exp(log_t), (i, j, base)


def ours(countries, trade, t_bln, t_cfl, reference, sigma, reps):
    costs = ge.Costs(countries, trade, t_bln, t_bln, {}, {}, 0)
    times, res = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        res = ge.solve(costs, t_cfl, sigma, reference, "effect_of_scenario", method="exact")
        times.append(time.perf_counter() - t0)
    return res, median(times)


def theirs(base: pd.DataFrame, experiment: pd.DataFrame, beta: dict[str, float], reference: str, sigma: float, reps: int):
    import gegravity as gg

    frame = base.copy()
    frame["year"] = frame["year"].astype(str)
    frame["E"] = frame.groupby("importer")["trade"].transform("sum")
    frame["Y"] = frame.groupby("exporter")["trade"].transform("sum")
    exp = experiment.copy()
    exp["year"] = exp["year"].astype(str)
    coeffs = gg.CostCoeffs(pd.DataFrame({"var": list(beta), "coef": list(beta.values())}), "var", "coef")
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = gg.BaselineData(frame, "importer", "exporter", "year", "trade", "E", "Y")
            model = gg.OneSectorGE(data, year=str(frame["year"].iloc[0]), reference_importer=reference, sigma=sigma,
                                   expend_var_name="E", output_var_name="Y", cost_variables=list(beta),
                                   cost_coeff_values=coeffs, quiet=True)
            for rescale in RESCALES:  # what a user must do: try rescale factors until the solver converges
                try:
                    model.build_baseline(omr_rescale=rescale)
                    USED.append(rescale)
                    break
                except ValueError:
                    continue
            else:
                raise RuntimeError(f"gegravity: no omr_rescale in {RESCALES} converged")
            model.define_experiment(exp)
            model.simulate()
        times.append(time.perf_counter() - t0)
        out = model.country_results
    return out, median(times)


def compare(mine: ge.GEResult, other: pd.DataFrame) -> dict[str, float]:
    t = mine.table.set_index("country")
    other = other.reindex(t.index)
    return {
        "foreign exports": float((t["full_exports_pct"] - other["foreign exports change (percent)"]).abs().max()),
        "real GDP": float((t["real_gdp_pct"] - other["GDP change (percent)"]).abs().max()),
        "factory-gate price": float((t["factory_price_pct"] - other["factory gate price change (percent)"]).abs().max()),
    }


def problem(df, year, scenario_mask, reps, label, shift_var="RTA", fixed: dict[str, float] | None = None):
    usable = [v for v in COST_VARS if v in df.columns and df[v].nunique() > 1]
    est = gravity.estimate(df, "trade ~ " + " + ".join(usable) + " | exp_year + imp_year", intra=True, cluster="pair_id")
    beta = dict(zip(est.coefficients["term"], est.coefficients["estimate"], strict=True)) | (fixed or {})
    countries, trade, t_bln, (i, j, base) = costs_from_coefficients(df, year, beta)
    mask = scenario_mask(countries)
    t_cfl = t_bln * mask
    mine, my_time = ours(countries, trade, t_bln, t_cfl, "DEU" if "DEU" in countries else countries[0], 7.0, reps)
    experiment = base.copy()
    factor = mask[i, j]
    # Express the counterfactual in gegravity's terms: shift the cost variable RTA (or a bloc dummy).
    experiment[shift_var] = experiment[shift_var] + np.log(factor) / beta[shift_var]
    other, their_time = theirs(base, experiment, beta, "DEU" if "DEU" in countries else countries[0], 7.0, max(1, reps // 2))
    return {"label": label, "n": len(countries), "ours": my_time, "theirs": their_time, "diff": compare(mine, other),
            "mine": mine, "other": other}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    nafta = gravity.load_dataset(SHARED / "Chapter2Application2.dta")
    nafta = nafta[nafta["year"].isin(range(1986, 2007, 4))]

    results = []
    # NAFTA: counterfactual RTA = 0 among members, i.e. cost factor exp(-beta_RTA * RTA).

    def nafta_mask_factory(df):
        est = gravity.estimate(df, "trade ~ " + " + ".join(COST_VARS) + " | exp_year + imp_year", intra=True)
        beta_rta = float(est.coefficients.set_index("term").loc["RTA", "estimate"])
        base = df[df["year"] == 1994]
        def mask(countries):
            m = np.ones((len(countries), len(countries)))
            pos = {c: k for k, c in enumerate(countries)}
            for e, i_, r in zip(base["exporter"], base["importer"], base["RTA"], strict=True):
                if e in ("CAN", "MEX", "USA") and i_ in ("CAN", "MEX", "USA") and e != i_ and r:
                    m[pos[e], pos[i_]] = np.exp(-beta_rta)
            return m
        return mask

    results.append(problem(nafta, 1994, nafta_mask_factory(nafta), args.reps, "NAFTA removed (69 countries)"))

    from entrepot.synth import Scenario, generate

    world = generate(Scenario.default().replace(n_countries=220, n_products=15, density=0.05, controls=2))
    grav = world.gravity.rename(columns={})
    grav["BLOC"] = 0  # the scenario's barrier enters gegravity as this cost variable, coefficient -sigma*ln(1.25)
    grav = gravity.prepare(grav, Path("gravity.csv"))
    last = int(grav["year"].max())
    grav = grav[grav["year"].isin([last - 2, last - 1, last])]
    blocs = [["TUR", "SAU", "QAT"], ["ISR", "ARE", "ETH"]]
    def bloc_mask(countries):
        m = np.ones((len(countries), len(countries)))
        side = {c: k for k, b in enumerate(blocs) for c in b}
        for a, ca in enumerate(countries):
            for b, cb in enumerate(countries):
                if ca in side and cb in side and side[ca] != side[cb]:
                    m[a, b] = 1.25 ** -7
        return m
    results.append(problem(grav, last, bloc_mask, args.reps, f"two blocs, 25% barrier ({grav['exporter'].nunique()} countries, synthetic)",
                           "BLOC", {"BLOC": -7 * np.log(1.25)}))

    book_df = gravity.load_dataset(SHARED / "Chapter2Application2.dta")
    costs = ge.estimate_costs(book_df, 1994, ["RTA"], list(range(1986, 2007, 4)))
    t_cfl, orientation, text = ge.counterfactual(costs, "remove_rta", ["CAN", "MEX", "USA"])
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        ge.solve(costs, t_cfl, 7.0, "DEU", orientation, text)
        times.append(time.perf_counter() - t0)

    lines = ["## General equilibrium: entrepot beside gegravity", "",
             f"`python benchmarks/ge.py` — medians of {args.reps} runs (gegravity: {max(1, args.reps // 2)}), solve only"
             f" (after estimation). Machine: {machine()}.", "",
             "| problem | countries | entrepot (s) | gegravity 0.3 (s) | speed-up"
             " | max abs. difference, pp: foreign exports / real GDP / factory price |",
             "|---|---|---|---|---|---|"]
    for r, rescale in zip(results, USED[:: max(1, args.reps // 2)], strict=True):
        r["label"] += f"; gegravity omr_rescale {rescale:g}"
    for r in results:
        d = r["diff"]
        lines.append(f"| {r['label']} | {r['n']} | {r['ours']:.3f} | {r['theirs']:.2f} | {r['theirs'] / r['ours']:.0f}x |"
                     f" {d['foreign exports']:.3f} / {d['real GDP']:.3f} / {d['factory-gate price']:.3f} |")
    can = results[0]["mine"].table.set_index("country").loc["CAN"]
    other = results[0]["other"].loc["CAN"]
    lines += ["", f"NAFTA, Canada: foreign exports {can.full_exports_pct:.2f}% (gegravity {other['foreign exports change (percent)']:.2f}%),"
              f" real GDP {can.real_gdp_pct:.2f}% (gegravity {other['GDP change (percent)']:.2f}%).",
              f"The book-procedure NAFTA solve (GEPPML, docs/validation.md) takes {median(times):.3f} s after estimation (goal: 2 s).",
              "entrepot needs no rescaling knob: its resistance solver works in levels with the reference importer fixed."]
    write_section("performance.md", "ge", "\n".join(lines), title="Performance")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
