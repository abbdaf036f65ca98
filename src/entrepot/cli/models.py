"""Structural gravity commands: estimate (PPML) and scenario (GE counterfactuals)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, outputs, print_basis, print_frame, print_json, split_codes, store_path
from entrepot.errors import InputError
from entrepot.models import ge, gravity

DataOpt = Annotated[Path | None, typer.Option(
    "--data", help="Gravity dataset (.dta, .csv, .parquet); else the store's annual exports with DIST, CNTG, LANG.")]


def _dataset(data: Path | None, store: Path | None):
    if data is not None:
        return gravity.load_dataset(data)
    from entrepot.store import Store

    with Store(store_path(store), read_only=True) as st:
        return gravity.from_store(st)  # international flows with the geography table's covariates


@app.command()
@outputs
def estimate(
    data: DataOpt = None,
    formula: Annotated[str | None, typer.Option("--formula", help=f"pyfixest formula: y ~ x1 + x2 | fe1 + fe2 [default:"
                                                f" {gravity.DEFAULT_FORMULA}; with --case: trade ~ EMBARGO and its leads and lags"
                                                f" | {gravity.DEFAULT_POLICY_FE}].", show_default=False)] = None,
    years: Annotated[str | None, typer.Option("--years", help="e.g. 1986:2006:4, 1986-2006 or 1986,1990.")] = None,
    intra: Annotated[bool, typer.Option("--intra/--no-intra", help="Keep intra-national flows.")] = False,
    cluster: Annotated[str, typer.Option("--cluster", help="Cluster standard errors by this column.")] = "pair_id",
    case: Annotated[Path | None, typer.Option("--case", help="Case file: adds an EMBARGO dummy for its main event (both"
                                              " directions when the event is), and to the formula.")] = None,
    leads: Annotated[int, typer.Option("--leads", min=0, help="With --case: leads EMBARGO_lead1.. (the dummy k periods ahead:"
                                       " trade moving before the event).")] = 0,
    lags: Annotated[int, typer.Option("--lags", min=0, help="With --case: lags EMBARGO_lag1.. (the dummy k periods back: the"
                                      " phasing-in; the effect k periods on is EMBARGO + lags 1..k).")] = 0,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> gravity.EstimateResult:
    """PPML gravity with fixed effects (pyfixest), standard errors clustered by pair."""
    if (leads or lags) and case is None:
        raise InputError("leads and lags are of a case's EMBARGO dummy: give --case FILE", parameter="leads" if leads else "lags")
    df = _dataset(data, store)
    if case is not None:
        from entrepot.case import load_case

        df, formula = gravity.event_study(df, load_case(case), formula, leads, lags)
    res = gravity.estimate(df, formula or gravity.DEFAULT_FORMULA, gravity.parse_years(years), intra, cluster or None)
    if as_json:
        print_json(res)
        return res
    print_frame(res.coefficients, title=f"PPML: {res.formula}", coefficients=True)
    typer.echo(f"observations: {res.nobs:,}   pseudo R2: {res.pseudo_r2:.4f}   standard errors {res.vcov}")
    for note in res.notes:
        typer.echo(f"note: {note}")
    print_basis(res)
    return res


@app.command()
@outputs
def scenario(
    data: DataOpt = None,
    remove_rta: Annotated[str | None, typer.Option("--remove-rta", help="Countries whose agreement is removed: CAN,MEX,USA.")] = None,
    add_rta: Annotated[str | None, typer.Option("--add-rta", help="Countries that form an agreement.")] = None,
    impose_embargo: Annotated[str | None, typer.Option("--impose-embargo", help="A pair: TUR,ISR.")] = None,
    lift_embargo: Annotated[str | None, typer.Option("--lift-embargo", help="A pair: TUR,ISR.")] = None,
    blocs: Annotated[str | None, typer.Option("--blocs", help="Blocs separated by ';': TUR,SAU,QAT;ISR,ARE,ETH.")] = None,
    case: Annotated[Path | None, typer.Option("--case", help="Case file holding the scenario.")] = None,
    scenario_id: Annotated[str | None, typer.Option("--scenario", help="Scenario id in the case file.")] = None,
    year: Annotated[int | None, typer.Option("--year", help="Base year [default: the data's last year].", show_default=False)] = None,
    panel_years: Annotated[str | None, typer.Option("--panel-years", help="Years for the cost estimation, e.g. 1986:2006:4.")] = None,
    policy: Annotated[str | None, typer.Option(
        "--policy", help="Policy dummies in the data, comma-separated [default: RTA and EMBARGO where the data identify them].",
        show_default=False)] = None,
    costs: Annotated[str, typer.Option("--costs", help="Trade costs from pair fixed effects (pair-fe) or gravity covariates.")] = "pair-fe",
    cost_terms: Annotated[str | None, typer.Option(
        "--cost-terms", help="With --costs covariates: 'ln_DIST + CNTG + LANG + INTL' or a comma list [default: those in the data].",
        show_default=False)] = None,
    sigma: Annotated[float, typer.Option("--sigma", help="Elasticity of substitution.")] = 7.0,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="Reference country (inward resistance fixed) [default: DEU, else the largest exporter].", show_default=False)] = None,
    tariff: Annotated[float | None, typer.Option("--tariff", help="Tariff equivalent of a bloc barrier [default: 0.25].", show_default=False)] = None,
    method: Annotated[str, typer.Option("--method", help="geppml (the book's procedure) or exact (fixed point).")] = "geppml",
    sector: Annotated[str | None, typer.Option(
        "--sector", help="Column of the data naming each flow's sector: solve by sector (exact method).", show_default=False)] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> ge.GEResult | ge.SectorResult:
    """General-equilibrium counterfactual (GEPPML): partial, conditional and full-endowment effects,
    counterfactual relative to baseline."""
    spec, case_file = _scenario_spec(remove_rta, add_rta, impose_embargo, lift_embargo, blocs, case, scenario_id)
    df = _dataset(data, store)
    policies = [p.strip() for p in policy.split(",") if p.strip()] if policy else None
    options = dict(year=year, panel_years=gravity.parse_years(panel_years), policies=policies, sigma=sigma, reference=reference,
                   method=method, costs=costs, terms=cost_terms)
    if case_file is not None:
        res = ge.simulate_case(df, case_file, spec, tariff=tariff, sector=sector, **options)
    else:
        kind, codes, groups = spec
        tariff = 0.25 if tariff is None else tariff
        if sector is not None:
            options.pop("method")
            res = ge.simulate_sectors(df, kind, codes, groups, sector, tariff=tariff, **options)
        else:
            res = ge.simulate(df, kind, codes, groups, tariff=tariff, **options)
    if as_json:
        print_json(res)
        return res
    typer.echo(res.summary())
    if isinstance(res, ge.SectorResult):
        print_frame(res.to_frame(), ["sector", *SHOWN, "output_pct"],
                    title=f"GE effects by sector, % change, counterfactual vs baseline, base year {res.year} (--csv: every column)")
    else:
        print_frame(res.to_frame(), SHOWN, title=f"GE effects, % change, counterfactual vs baseline, base year {res.year},"
                    f" sigma {res.sigma:g} (--csv: every column)")
        if not res.converged:
            typer.echo(f"warning: the full-endowment loop did not converge (residual {res.residual:.2e})", err=True)
    print_basis(res)
    return res


SHOWN = ["country", "partial_exports_pct", "conditional_exports_pct", "full_exports_pct", "real_gdp_pct"]  # the table's columns


def _scenario_spec(remove_rta, add_rta, impose_embargo, lift_embargo, blocs, case, scenario_id):
    """(the scenario: a case's Scenario or (kind, countries, blocs), the case) from the options."""
    given = {k: v for k, v in {"remove_rta": remove_rta, "add_rta": add_rta, "impose_embargo": impose_embargo,
                                "lift_embargo": lift_embargo, "blocs": blocs}.items() if v}
    if case is not None:
        from entrepot.case import load_case

        if given:
            raise InputError("give either --case with --scenario, or a scenario option, not both")
        if not scenario_id:
            raise InputError("--case needs --scenario ID")
        loaded = load_case(case)
        return loaded.scenario(scenario_id), loaded
    if len(given) != 1:
        raise InputError("give exactly one of --remove-rta, --add-rta, --impose-embargo, --lift-embargo, --blocs, or --case with --scenario")
    kind, text = next(iter(given.items()))
    if kind == "blocs":
        return (kind, [], [split_codes(b) for b in text.split(";") if b.strip()]), None
    return (kind, split_codes(text), []), None


@app.command("gravity-panel")
def gravity_panel(
    production: Annotated[Path, typer.Option("--production", help="CSV of country, year, production (or GDP) in USD.")],
    out: Annotated[Path, typer.Option("--out", help="Gravity CSV to write, for `entrepot scenario --data`.")] = Path("gravity.csv"),
    years: Annotated[str | None, typer.Option("--years", help="e.g. 2019-2025 [default: every year in both].", show_default=False)] = None,
    source: Annotated[str | None, typer.Option("--source", help="Store source to use (baci, comtrade...) when it has several.")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Build a gravity panel for scenarios: the store's exports, intra-national flows from a production
    file, distance, contiguity and language from the shipped geography table."""
    from entrepot.models import panel
    from entrepot.store import Store

    with Store(store_path(store), read_only=True) as st:
        df = panel.build_panel(st, production, gravity.parse_years(years), source)
    info = df.attrs["panel"]
    tmp = out.with_name(out.name + ".part")
    df[["exporter", "importer", "year", "trade", "DIST", "CNTG", "LANG"]].to_csv(tmp, index=False)
    tmp.replace(out)
    if as_json:
        print_json(info | {"out": str(out), "rows": len(df)})
        return
    typer.echo(f"{out}: {len(df):,} rows, {info['countries']} countries, years {info['years'][0]}-{info['years'][-1]}, source {info['source']}")
    if info["left_out"]:
        typer.echo(f"left out (no production for every year, no geography, or production below exports): {', '.join(info['left_out'])}")
    if info["production_below_exports"]:
        typer.echo(f"production below exports (supply gross output to keep them): {', '.join(info['production_below_exports'])}")
