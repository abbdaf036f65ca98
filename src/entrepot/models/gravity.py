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


def from_store(store, years: list[int] | None = None) -> pd.DataFrame:
    """Aggregate trade by exporter, importer and year from the store (exporters' reports, all products)."""
    where = "" if not years else f"AND year IN ({', '.join(str(int(y)) for y in years)})"
    frame = store.query(f"""
        SELECT reporter AS exporter, partner AS importer, year, sum(value_usd) AS trade
        FROM flows
        WHERE flow = 'export' AND freq = 'A' AND product_level = 0 AND partner_is_country AND reporter_is_country {where}
        GROUP BY ALL
    """)
    if frame.empty:
        raise InputError("the store has no annual all-product export flows to estimate on")
    return prepare(frame, Path(str(store.path)))


def prepare(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [c for c in ("exporter", "importer", "year", "trade") if c not in frame.columns]
    if missing:
        raise InputError(f"gravity data lacks column(s) {', '.join(missing)}", path=path)
    df = frame.copy()
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
    return df


def add_policy(df: pd.DataFrame, name: str, pairs: list[tuple[str, str]], start_year: int, leads: int = 0, lags: int = 0) -> list[str]:
    """Add a policy dummy (1 for the pairs from `start_year` on) and event-study leads/lags; returns names."""
    key = set(pairs)
    on_pair = np.array([(e, i) in key for e, i in zip(df["exporter"], df["importer"], strict=True)])
    df[name] = (on_pair & (df["year"] >= start_year)).astype(int)
    names = [name]
    years = sorted(df["year"].unique())
    for k in range(1, leads + 1):
        col = f"{name}_lead{k}"
        target = _shift(years, start_year, -k)
        df[col] = (on_pair & (df["year"] == target)).astype(int)
        names.append(col)
    for k in range(1, lags + 1):
        col = f"{name}_lag{k}"
        target = _shift(years, start_year, k)
        df[col] = (on_pair & (df["year"] == target)).astype(int)
        names.append(col)
    return names


def _shift(years: list[int], start: int, k: int) -> int | None:
    """The data year k periods after (or before) the first year at or after `start`."""
    first = next((i for i, y in enumerate(years) if y >= start), None)
    if first is None or not 0 <= first + k < len(years):
        return None
    return years[first + k]


@dataclass
class EstimateResult:
    formula: str
    nobs: int
    coefficients: pd.DataFrame  # term, estimate, std_error, statistic, p_value, ci_low, ci_high
    vcov: str
    pseudo_r2: float | None
    deviance: float | None
    sample: dict[str, Any] = field(default_factory=dict)

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
        }


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


def estimate(
    df: pd.DataFrame,
    formula: str = DEFAULT_FORMULA,
    years: list[int] | None = None,
    intra: bool = False,
    cluster: str | None = "pair_id",
) -> EstimateResult:
    """PPML with fixed effects (pyfixest `fepois`), standard errors clustered by `cluster`."""
    import pyfixest as pf

    missing = [c for c in formula_columns(formula) if c not in df.columns]
    if missing:
        raise InputError(f"formula names column(s) not in the data: {', '.join(missing)}")
    sample = select_sample(df, years, intra)
    vcov: Any = {"CRV1": cluster} if cluster else "hetero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # Stata's ppml adjusts clustered errors by G/(G-1) only; so does this, to match published tables.
            fit = pf.fepois(formula, data=sample, vcov=vcov, ssc=pf.ssc(k_adj=False))
        except Exception as exc:  # pyfixest raises ValueError/RuntimeError subclasses on bad designs
            raise InputError(f"estimation failed: {exc}".split("\n")[0]) from None
    rhs = formula.split("~", 1)[1].split("|", 1)[0]
    wanted = [t.strip() for t in rhs.split("+") if t.strip() and t.strip() != "1"]
    tidy = fit.tidy().reset_index()
    dropped = [t for t in wanted if t not in set(tidy["Coefficient"])]
    if dropped:
        raise InputError(f"singular design: {', '.join(dropped)} collinear with the fixed effects or other covariates")
    coefs = pd.DataFrame({
        "term": tidy["Coefficient"],
        "estimate": tidy["Estimate"],
        "std_error": tidy["Std. Error"],
        "statistic": tidy["t value"],
        "p_value": tidy["Pr(>|t|)"],
        "ci_low": tidy["2.5%"],
        "ci_high": tidy["97.5%"],
    })
    return EstimateResult(
        formula=formula,
        nobs=int(fit._N),
        coefficients=coefs,
        vcov=f"clustered by {cluster}" if cluster else "heteroskedasticity-robust",
        pseudo_r2=_float(getattr(fit, "_pseudo_r2", None)),
        deviance=_float(getattr(fit, "deviance", None)),
        sample={"years": sorted(int(y) for y in sample["year"].unique()), "intra_national": intra},
    )


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
