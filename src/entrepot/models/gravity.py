"""PPML gravity estimation with high-dimensional fixed effects, through pyfixest.

Data come from an economist's own file (`.dta`, `.csv`, `.parquet` with `exporter, importer, year,
trade` and covariates) or from the store (aggregate trade by exporter, importer and year). Helper
columns are added so formulas read like the method: `ln_DIST`, `exp_year`, `imp_year`, `pair_id`
(when absent), `INTL` (1 for international flows) and policy dummies from a case file's events.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from entrepot.errors import InputError
from entrepot.results import Provenance, Result

DEFAULT_FORMULA = "trade ~ ln_DIST + CNTG + LANG + CLNY | exp_year + imp_year"


def load_dataset(path: str | Path) -> pd.DataFrame:
    """A gravity dataset from Stata, CSV or Parquet, with the helper columns added."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    readers = {".dta": lambda p: pd.read_stata(p, convert_categoricals=False), ".csv": pd.read_csv, ".parquet": pd.read_parquet}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise InputError("expected a .dta, .csv or .parquet gravity dataset", path=path)
    try:
        frame = reader(path)
    except Exception as exc:  # each reader raises its own kinds on a bad file
        raise InputError(f"cannot read: {exc}", path=path) from None
    return prepare(frame, path)


def from_store(store, years: list[int] | None = None, source: str | None = None) -> pd.DataFrame:
    """Trade by exporter, importer and year from the store (entrepot.models.panel.international_flows),
    with DIST, CNTG and LANG from the shipped geography table."""
    from entrepot.models.panel import geography, international_flows

    flows = international_flows(store, years, source)
    df = prepare(flows[["exporter", "importer", "year", "trade"]].merge(geography(), how="left", on=["exporter", "importer"]),
                 Path(str(store.path)))
    batches = sorted({b for bs in flows["batches"] for b in bs})
    df.attrs["panel"] = {"store": str(store.path), "source": str(flows["source"].iloc[0]), "batches": batches,
                         "batch_rows": batch_rows(store, str(flows["source"].iloc[0]), batches)}
    return df


def batch_rows(store, source: str, batches: list[str]) -> list[dict[str, Any]]:
    """The store's rows for these ingest batches (file, rows, when), plain, for a panel's `attrs`."""
    from entrepot.store import query as q

    found = q.provenance(store, [source]).batches
    found = found[found["batch_id"].isin(batches)]
    return found.astype({"ingested_at": str}).to_dict(orient="records")


def data_provenance(df: pd.DataFrame) -> Provenance:
    """Where a gravity dataset came from, as every result says it: the store's ingest batches
    (`from_store`, `panel.build_panel`), else the file (or "DataFrame") it was read from."""
    panel = df.attrs.get("panel") or {}
    if panel.get("batch_rows"):
        return Provenance((panel["source"],), pd.DataFrame(panel["batch_rows"]))
    row = {"batch_id": None, "source": "gravity", "path": df.attrs.get("source", "DataFrame"), "rows": len(df), "ingested_at": ""}
    return Provenance(("gravity",), pd.DataFrame([row]))


def prepare(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check the core columns and add the helper columns; `df.attrs["source"]` names the file."""
    missing = [c for c in ("exporter", "importer", "year", "trade") if c not in frame.columns]
    if missing:
        raise InputError(f"gravity data lacks column(s) {', '.join(missing)}", path=path)
    df = frame.copy()
    for col in ("year", "trade"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{int(bad.sum())} row(s) with a missing, negative or infinite {col} (first: {df[col].iloc[row]!r})",
                             path=path, line=row + 2 if path.suffix.lower() == ".csv" else None, column=col)
        df[col] = values
    df["year"] = df["year"].astype(int)
    df["exporter"] = df["exporter"].astype(str)
    df["importer"] = df["importer"].astype(str)
    for name in ("DIST", "dist"):
        if name in df.columns and f"ln_{name}" not in df.columns:
            df[f"ln_{name}"] = np.log(df[name].where(df[name] > 0))
    df["exp_year"] = df["exporter"] + df["year"].astype(str)
    df["imp_year"] = df["importer"] + df["year"].astype(str)
    df["INTL"] = (df["exporter"] != df["importer"]).astype(int)
    if "pair_id" not in df.columns:
        a, b = df[["exporter", "importer"]].min(axis=1), df[["exporter", "importer"]].max(axis=1)
        df["pair_id"] = a + "-" + b
    df["pair"] = df["exporter"] + "_" + df["importer"]
    df.attrs["source"] = str(path)
    return df


DEFAULT_POLICY_FE = "exp_year + imp_year + pair"  # pair: directional (exporter_importer), as trade costs are


def add_policy(df: pd.DataFrame, name: str, pairs: list[tuple[str, str]], start_year: int, leads: int = 0, lags: int = 0) -> list[str]:
    """Add a policy dummy (1 for the pairs from the first data year at or after `start_year` on) and its
    event-study leads and lags; returns their names.

    As in Yotov et al. (2016, ch. 1): ``name_lead{k}`` is the dummy k data periods ahead, policy(t+k) (1 from
    k periods before the start: a coefficient far from zero says the pairs' trade moved before the
    policy, i.e. it is not exogenous); ``name_lag{k}`` the dummy k periods back, policy(t-k) (1 from k
    periods after the start: the phasing-in). The effect k periods after the start is the sum of the
    policy's coefficient and its lags 1..k.
    """
    key = set(pairs)
    on_pair = np.array([(e, i) in key for e, i in zip(df["exporter"], df["importer"], strict=True)])
    years = sorted(int(y) for y in df["year"].unique())
    names = [name]
    df[name] = (on_pair & (df["year"] >= start_year)).astype(int)
    for k in range(1, leads + 1):
        names.append(f"{name}_lead{k}")
        df[names[-1]] = (on_pair & (df["year"] >= _shift(years, start_year, -k, name))).astype(int)
    for k in range(1, lags + 1):
        names.append(f"{name}_lag{k}")
        df[names[-1]] = (on_pair & (df["year"] >= _shift(years, start_year, k, name))).astype(int)
    return names


def _shift(years: list[int], start: int, k: int, name: str) -> int:
    """The data year k periods after (or before) the first year at or after `start`; an error when the
    data have no such year, or none before it (the dummy would not vary within the pairs)."""
    first = next((i for i, y in enumerate(years) if y >= start), None)
    if first is None or not 0 < first + k < len(years):
        kind = f"lead {-k}" if k < 0 else f"lag {k}"
        raise InputError(f"{name} {kind}: the data's years ({years[0]}-{years[-1]}) have no year {abs(k)} period(s)"
                         f" {'before' if k < 0 else 'after'} {start} with one before it; ask for fewer leads or lags",
                         parameter="leads" if k < 0 else "lags")
    return years[first + k]


def with_terms(formula: str | None, terms: list[str]) -> str:
    """`formula` with `terms` first on its right-hand side (those it lacks); with no formula, the
    event-study gravity of a policy: ``trade ~ terms | exp_year + imp_year + pair`` (directional pair fixed effects
    absorb the time-invariant covariates; Yotov et al. 2016, ch. 1)."""
    if formula is None:
        return f"trade ~ {' + '.join(terms)} | {DEFAULT_POLICY_FE}"
    lhs, rest = formula.split("~", 1)
    rhs, _, fe = rest.partition("|")
    have = {t.strip() for t in rhs.split("+")}
    added = [t for t in terms if t not in have]
    rhs = " + ".join([*added, *(t.strip() for t in rhs.split("+") if t.strip())])
    return f"{lhs.strip()} ~ {rhs}" + (f" | {fe.strip()}" if fe.strip() else "")


def event_study(df: pd.DataFrame, case, formula: str | None = None, leads: int = 0, lags: int = 0) -> tuple[pd.DataFrame, str]:
    """The data with the case's EMBARGO dummy and its leads and lags (`add_policy`; both directions when
    the case's main event is both ways), and the formula that estimates them (`with_terms`)."""
    event = case.main_event
    pairs = [(event.exporter, event.importer)] + ([(event.importer, event.exporter)] if event.both_directions else [])
    out = df.copy()
    out.attrs = df.attrs
    names = add_policy(out, "EMBARGO", pairs, event.date.year, leads, lags)
    return out, with_terms(formula, names)


@dataclass(frozen=True)
class EstimateResult(Result):
    """A PPML fit: the coefficient table, the sample, and the pyfixest object itself (`fit`).

    `to_frame()` columns: term, estimate, std_error, statistic, p_value, ci_low, ci_high.
    `provenance`: the data file, or the store's batches (`data_provenance`); `sample`: years and flows.
    """

    COLUMNS = {"term": "covariate", "estimate": "coefficient", "std_error": "standard error", "statistic": "z statistic",
               "p_value": "two-sided p-value", "ci_low": "95% interval, low", "ci_high": "95% interval, high"}
    COEFFICIENTS = True

    formula: str
    nobs: int
    coefficients: pd.DataFrame
    vcov: str
    pseudo_r2: float | None
    deviance: float | None
    sample: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance.empty)
    fit: Any = field(default=None, repr=False)
    notes: tuple[str, ...] = ()  # what a reader must know to read the intervals (`few_treated`)

    def to_frame(self) -> pd.DataFrame:
        return self.coefficients.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "estimator": "PPML (pyfixest fepois)",
            "coefficients": self.coefficients.to_dict(orient="records"),
            "nobs": self.nobs,
            "vcov": self.vcov,
            "pseudo_r2": self.pseudo_r2,
            "deviance": self.deviance,
            "sample": self.sample,
            "notes": list(self.notes),
            "provenance": self.provenance.to_dict(),
        }

    def basis(self) -> dict[str, str]:
        """The data, the estimator and formula, the sample and the standard errors."""
        years = self.sample.get("years") or []
        span = f"{years[0]}-{years[-1]} ({len(years)} years)" if years else "all years"
        flows = "with intra-national flows" if self.sample.get("intra_national") else "international flows only"
        return super().basis() | {"model": f"PPML (pyfixest fepois): {self.formula}; standard errors {self.vcov}",
                                  "sample": f"{self.nobs:,} observations, {span}, {flows}"}

    def summary(self) -> str:
        terms = "; ".join(f"{r.term} {r.estimate:.3f} ({r.std_error:.3f})" for r in self.coefficients.itertuples())
        years = self.sample.get("years") or []
        span = f"{years[0]}-{years[-1]}" if years else "all years"
        r2 = "" if self.pseudo_r2 is None else f", pseudo R2 {self.pseudo_r2:.3f}"
        flows = "" if self.sample.get("intra_national") else ", international flows only"
        return f"PPML of {self.formula} on {self.nobs:,} observations ({span}{flows}{r2}): {terms}; standard errors {self.vcov}, in brackets."

    def plot(self):
        """The coefficients with their 95% intervals."""
        import plotly.graph_objects as go

        c = self.coefficients
        fig = go.Figure(go.Scatter(x=c["estimate"], y=c["term"], mode="markers",
                                   error_x={"type": "data", "symmetric": False, "array": c["ci_high"] - c["estimate"],
                                            "arrayminus": c["estimate"] - c["ci_low"]}))
        fig.update_layout(title=f"PPML estimates, 95% intervals ({self.nobs:,} obs.)", xaxis_title="coefficient")
        return fig


def formula_columns(formula: str) -> list[str]:
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula.replace("C(", "("))
    return [n for n in names if n not in {"C", "i", "log", "np", "exp"}]


def select_sample(df: pd.DataFrame, years: list[int] | None, intra: bool) -> pd.DataFrame:
    out = df if years is None else df[df["year"].isin(years)]
    if not intra:
        out = out[out["exporter"] != out["importer"]]
    if out.empty:
        raise InputError("no observations left after selecting years and flows")
    return out


def ppml(formula: str, data: pd.DataFrame, vcov: Any = "hetero", offset: str | None = None, **options: Any):
    """pyfixest's `fepois`, behind the checks that keep bad data out of it.

    pyfixest's Rust demeaner aborts the whole process (`demean.rs ... unwrap() on a None value`) when
    a value is infinite, so nothing non-finite may reach it: an infinite covariate is an error here;
    a missing one drops its row, as in pyfixest (the count is the result's `nobs`). Coefficients that
    come back non-finite, or dropped as collinear, are errors too.
    """
    import pyfixest as pf

    columns = [c for c in dict.fromkeys(formula_columns(formula) + ([offset] if offset else [])) if c]
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise InputError(f"formula names column(s) not in the data: {', '.join(missing)}")
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(data[c])]
    infinite = [c for c in numeric if np.isinf(data[c].to_numpy(dtype=float)).any()]
    if infinite:
        raise InputError(f"infinite values in {', '.join(infinite)}: PPML needs finite covariates")
    depvar = formula.split("~", 1)[0].strip()
    if depvar in numeric and (data[depvar] < 0).any():
        raise InputError(f"{depvar} has negative values: PPML needs non-negative flows")
    if depvar in numeric and not (data[depvar] > 0).any():
        raise InputError(f"{depvar} is zero in every observation: nothing to estimate")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyfixest warns about every dropped singleton; the count is nobs
        try:
            fit = pf.fepois(formula, data=data, vcov=vcov, offset=offset, **options)
        except Exception as exc:  # pyfixest raises ValueError/RuntimeError subclasses on bad designs
            raise InputError(f"estimation failed: {exc}".split("\n")[0]) from None
        coef = fit.coef()  # warns when there are no regressors
    rhs = formula.split("~", 1)[1].split("|", 1)[0]
    wanted = [t.strip() for t in rhs.split("+") if t.strip() and t.strip() != "1"]
    dropped = [t for t in wanted if t not in coef.index]
    if dropped:
        raise InputError(f"singular design: {', '.join(dropped)} collinear with the fixed effects or other covariates")
    bad = [t for t in wanted if not np.isfinite(coef[t])]
    if bad:
        raise InputError(f"estimation did not converge: non-finite estimate for {', '.join(bad)}")
    return fit


def estimate(
    df: pd.DataFrame,
    formula: str = DEFAULT_FORMULA,
    years: list[int] | None = None,
    intra: bool = False,
    cluster: str | None = "pair_id",
) -> EstimateResult:
    """PPML with fixed effects (pyfixest `fepois`), standard errors clustered by `cluster`."""
    import pyfixest as pf

    sample = select_sample(df, years, intra)
    vcov: Any = {"CRV1": cluster} if cluster else "hetero"
    # Stata's ppml adjusts clustered errors by G/(G-1) only; so does this, to match published tables.
    fit = ppml(formula, sample, vcov, ssc=pf.ssc(k_adj=False))
    tidy = fit.tidy().reset_index()
    coefs = pd.DataFrame({
        "term": tidy["Coefficient"],
        "estimate": tidy["Estimate"],
        "std_error": tidy["Std. Error"],
        "statistic": tidy["t value"],
        "p_value": tidy["Pr(>|t|)"],
        "ci_low": tidy["2.5%"],
        "ci_high": tidy["97.5%"],
    })
    sample_years = sorted(int(y) for y in sample["year"].unique())
    return EstimateResult(
        formula=formula,
        nobs=int(fit._N),
        coefficients=coefs,
        vcov=f"clustered by {cluster}" if cluster else "heteroskedasticity-robust",
        pseudo_r2=_float(getattr(fit, "_pseudo_r2", None)),
        deviance=_float(getattr(fit, "deviance", None)),
        sample={"years": sample_years, "intra_national": intra},
        provenance=data_provenance(df),
        fit=fit,
        notes=tuple(few_treated(sample, list(coefs["term"]), cluster)),
    )


MIN_TREATED_CLUSTERS = 5  # fewer clusters with a dummy on, and clustered standard errors over-reject


def few_treated(sample: pd.DataFrame, terms: list[str], cluster: str | None) -> list[str]:
    """A note for the 0/1 dummies among `terms` that are on in fewer than MIN_TREATED_CLUSTERS clusters (by
    `cluster`, else by pair): an embargo on one pair is one treated cluster, and the cluster-robust variance
    then rests on that cluster's residuals alone, so its standard errors are far too small and its tests
    over-reject (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017, 2018). The wild cluster bootstrap
    fails with so few treated clusters too (MacKinnon and Webb 2018), and pyfixest's wildboottest() runs on
    OLS only, not on PPML (0.60: NotImplementedError): the note says so rather than give an interval."""
    by = cluster if cluster in sample.columns else "pair_id" if "pair_id" in sample.columns else None
    if by is None:
        return []
    dummies = [t for t in terms if t in sample.columns and pd.api.types.is_numeric_dtype(sample[t])
               and set(sample[t].dropna().unique()) <= {0, 1} and (sample[t] == 1).any()]
    counts = {t: int(sample.loc[sample[t] == 1, by].nunique()) for t in dummies}
    few = {t: k for t, k in counts.items() if k < MIN_TREATED_CLUSTERS}
    notes = []
    for k in sorted(set(few.values())):
        named = ", ".join(t for t, n in few.items() if n == k)
        notes.append(f"{named}: on in {k} of {sample[by].nunique():,} clusters ({by}) only; with fewer than {MIN_TREATED_CLUSTERS}"
                     " treated clusters the standard errors are far too small and the p-values and intervals not to be trusted"
                     " (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017, 2018): read the estimate, not its interval."
                     " So few treated clusters defeat a wild cluster bootstrap too (MacKinnon and Webb 2018), and pyfixest's"
                     " wildboottest() does not run on PPML.")
    return notes


def _float(value: Any) -> float | None:
    try:
        return float(np.asarray(value).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return None


def parse_years(spec: str | None) -> list[int] | None:
    """'1986:2006:4' (start:end:step), '1986-2006' or '1986,1990,1994'."""
    if not spec:
        return None
    try:
        if ":" in spec:
            parts = [int(p) for p in spec.split(":")]
            start, end, step = (parts + [1])[:3]
            return list(range(start, end + 1, step))
        if "-" in spec:
            start, end = (int(p) for p in spec.split("-"))
            return list(range(start, end + 1))
        return [int(p) for p in spec.split(",")]
    except ValueError:
        raise InputError(f"--years: expected e.g. 1986:2006:4, 1986-2006 or 1986,1990; got {spec!r}") from None
