"""The public functions that are not an analysis of their own: opening a store, ingesting, the
gravity models' entry points and the report. `entrepot/__init__.py` exports them lazily with the
analyses; docs/python-api.md walks through them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from entrepot.errors import InputError
from entrepot.store import Store

if TYPE_CHECKING:
    from entrepot.case import Case
    from entrepot.models.ge import GEResult
    from entrepot.models.gravity import EstimateResult
    from entrepot.store.ingest import IngestResult

Format = Literal["auto", "baci", "comtrade", "comext", "stata", "csv"]
ScenarioKind = Literal["lift_embargo", "impose_embargo", "blocs", "remove_rta", "add_rta"]
FRAME_COLUMNS = ("reporter", "partner", "year", "month", "period", "flow", "product", "value_usd", "quantity", "unit", "hs_rev")


def open(path: str | Path | None = None, *, read_only: bool = False) -> Store:  # noqa: A001 - sqlite_utils.Database's sense
    """A store: the DuckDB file at `path` (created if missing), or a new one in memory when `path` is None.

    Use it as a context manager, or call `close()`.
    """
    return Store(":memory:" if path is None else path, read_only=read_only)


def ingest(store: Store, *sources: str | Path | pd.DataFrame, format: Format = "auto", name: str = "frame",  # noqa: A002
           keep_both: bool = False, **options: Any) -> list[IngestResult]:
    """Ingest trade files or DataFrames into `store`, each whole or not at all; the same content twice is a no-op.

    Parameters
    ----------
    store : Store
        The store to write.
    *sources : path or DataFrame
        Files in a format entrepot reads (told from the header unless `format` says), folders and
        archives (.zip, .gz, .7z: each one release, in one transaction), or DataFrames
        with canonical columns: reporter, partner, year (or period "2024"/"2024-05"), value_usd,
        flow (or the option ``flow="export"``), and optionally month, product, quantity, unit,
        hs_rev. A DataFrame goes in through the generic CSV adapter (`entrepot.io.csv`), checked as a
        file would be.
    format : str
        The adapter for files: auto, baci, comtrade, comext, comext-bulk, wits, stata or csv.
    name : str
        A DataFrame's name in the error messages and in the store's batches.
    keep_both : bool
        Keep the rows a source supersedes (observations the store already holds, e.g. an older
        release) in ``flows_superseded`` instead of deleting them; analyses still read the newer
        ones only (docs/store.md).
    **options
        Adapter options, as the command's flags: hs_rev, country_codes, country_names (`--countries`),
        rates, map, value_scale; for DataFrames also the constants flow, hs_rev, unit, countries, value_scale.
    """
    from entrepot.store.ingest import ingest_paths

    if not isinstance(store, Store):
        raise InputError(f"expected a Store (entrepot.open(path)), not {type(store).__name__}", parameter="store")
    out = []
    for source in sources:
        if isinstance(source, pd.DataFrame):
            out.append(_ingest_frame(store, source, name, options, keep_both))
        else:
            out.extend(ingest_paths(store, [source], format, options, keep_both=keep_both))
    return out


def _ingest_frame(store: Store, frame: pd.DataFrame, name: str, options: dict[str, Any], keep_both: bool) -> IngestResult:
    """A DataFrame through the generic CSV adapter: written as CSV with a mapping of its columns, so it
    is checked row by row and hashed by content like a file."""
    from entrepot.store.ingest import ingest_file

    columns = [c for c in frame.columns if c in FRAME_COLUMNS]
    unknown = [str(c) for c in frame.columns if c not in FRAME_COLUMNS]
    if unknown:
        raise InputError(f"unknown column(s) {', '.join(unknown)}; a frame has {', '.join(FRAME_COLUMNS)}", parameter=name)
    constants = {k: options.pop(k) for k in ("flow", "hs_rev", "unit", "countries", "value_scale", "product") if k in options}
    if options:
        raise InputError(f"unknown option(s) for a DataFrame: {', '.join(options)}", parameter=name)
    with tempfile.TemporaryDirectory(prefix="entrepot-frame-") as tmp:
        csv, mapping = Path(tmp) / f"{name}.csv", Path(tmp) / f"{name}.toml"
        frame[columns].to_csv(csv, index=False)
        lines = ["[columns]", *(f'{c} = "{c}"' for c in columns), "[constants]"]
        lines += [f"{k} = {v!r}" if isinstance(v, (int, float)) else f'{k} = "{v}"' for k, v in constants.items()]
        mapping.write_text("\n".join(lines) + "\n")
        return ingest_file(store, csv, "csv", {"map": str(mapping)}, keep_both=keep_both)


def estimate(data: Store | str | Path | pd.DataFrame, formula: str | None = None, years: Sequence[int] | str | None = None,
             intra: bool = False, cluster: str | None = "pair_id", case: Case | str | Path | None = None, leads: int = 0,
             lags: int = 0) -> EstimateResult:
    """PPML structural gravity with fixed effects (pyfixest), standard errors clustered by `cluster`.

    Parameters
    ----------
    data : Store, path or DataFrame
        A store (its annual exports between countries, with DIST, CNTG, LANG from the shipped
        geography table), a gravity dataset (.dta, .csv, .parquet with
        exporter, importer, year, trade and covariates) or such a DataFrame.
    formula : str, optional
        A pyfixest formula, ``y ~ x1 + x2 | fe1 + fe2``; `models.gravity.DEFAULT_FORMULA` by default.
    years : list of int or str, optional
        The years to keep: a list, or "1986:2006:4", "1986-2006", "1986,1990".
    intra : bool
        Keep intra-national flows.
    cluster : str, optional
        The column to cluster standard errors by; None for heteroskedasticity-robust ones.
    case : Case or path, optional
        A case file: its main event's EMBARGO dummy and `leads`/`lags` of it (`models.gravity.add_policy`)
        join the data and the formula (by default ``trade ~ EMBARGO + ... | exp_year + imp_year + pair``).
    """
    from entrepot.case import Case, load_case
    from entrepot.models import gravity

    chosen = gravity.parse_years(years) if isinstance(years, str) else (list(years) if years is not None else None)
    df = gravity_data(data)
    if case is not None:
        df, formula = gravity.event_study(df, case if isinstance(case, Case) else load_case(case), formula, leads, lags)
    elif leads or lags:
        raise InputError("leads and lags are of a case's EMBARGO dummy: give a case", parameter="case")
    return gravity.estimate(df, formula or gravity.DEFAULT_FORMULA, chosen, intra, cluster)


def scenario(data: Store | str | Path | pd.DataFrame, kind: ScenarioKind, countries: Sequence[str] = (),
             blocs: Sequence[Sequence[str]] = (), year: int | None = None, panel_years: Sequence[int] | None = None,
             policies: Sequence[str] | None = None, sigma: float = 7.0, reference: str | None = None, tariff: float = 0.25,
             method: Literal["geppml", "exact"] = "geppml", costs: Literal["pair-fe", "covariates"] = "pair-fe",
             cost_terms: str | Sequence[str] | None = None) -> GEResult:
    """A general-equilibrium counterfactual (GEPPML): partial, conditional and full-endowment effects.

    Parameters
    ----------
    data : Store, path or DataFrame
        A gravity dataset with intra-national flows (as for `estimate`).
    kind : str
        lift_embargo, impose_embargo (`countries` is the pair), remove_rta, add_rta (`countries`
        are the members) or blocs (`blocs`, lists of members).
    year : int, optional
        The base year; the data's last by default.
    panel_years, policies, sigma, reference, tariff, method, costs, cost_terms
        As `entrepot scenario`'s flags: the years and policy dummies the trade costs are estimated
        from (by default RTA and EMBARGO where the data identify them), the elasticity of
        substitution, the reference country (DEU, else the largest exporter), a bloc barrier's
        tariff equivalent, the solver, and where trade costs come from (pair fixed effects, or the
        gravity covariates `cost_terms`). Changes read counterfactual relative to baseline.
    """
    from entrepot.models import ge

    return ge.simulate(gravity_data(data), kind, list(countries), [list(b) for b in blocs], year,
                       list(panel_years) if panel_years else None, None if policies is None else list(policies), sigma,
                       reference, tariff, method, costs, None if cost_terms is None else cost_terms
                       if isinstance(cost_terms, str) else list(cost_terms))


def gravity_data(data: Store | str | Path | pd.DataFrame) -> pd.DataFrame:
    """A gravity dataset with its helper columns, from a store, a store or dataset file, or a DataFrame."""
    from entrepot.models import gravity

    if isinstance(data, pd.DataFrame):
        return gravity.prepare(data, Path("DataFrame"))
    if isinstance(data, Store):
        return gravity.from_store(data)
    path = Path(data)
    if path.suffix.lower() == ".duckdb":
        with Store(path, read_only=True) as st:
            return gravity.from_store(st)
    return gravity.load_dataset(path)


def report(store: Store | str | Path, case: Case | str | Path, out: str | Path = "report.html",
           gravity: str | Path | None = None, basket: str | Path | None = None, concordance: str | Path | None = None) -> Path:
    """Write the case's self-contained HTML report from the store to `out`; returns its path.

    `case` is a `Case` or the path of a case file; `gravity` a dataset with intra-national flows
    for the case's scenarios (the section says why it is missing without one); `basket` a code list
    replacing the case's; `concordance` the UNSD HS correlation table (or its folder) for a window
    across an HS revision.
    """
    from entrepot.case import Case, load_case
    from entrepot.reporting import write_report
    from entrepot.store import query as q

    chosen = case if isinstance(case, Case) else load_case(case)
    return q.reads_store(lambda st: write_report(chosen, st, out, gravity, basket, concordance))(store)
