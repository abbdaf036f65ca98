"""General-equilibrium counterfactuals on structural gravity, following GEPPML (Anderson, Larch and
Yotov 2018; Yotov et al. 2016, ch. 2).

1. Trade costs: a panel PPML with exporter-year, importer-year and pair fixed effects (all
   intra-national pairs share one fixed effect) and the policy dummies gives each pair's cost
   `t_ij = exp(pair FE + beta * policy)`; pairs the panel cannot identify get the fitted value of a
   PPML of the pair terms on the gravity covariates with exporter and importer effects.
2. Baseline, conditional and full-endowment GE in the base year. PPML with only exporter and
   importer fixed effects and the costs as an offset is solved exactly by the structural system's
   fixed point (Fally 2015): the fixed effects are the multilateral-resistance terms. We solve that
   system directly (`balance`), which gives the same numbers as re-estimating the PPML at each
   step (tested), in milliseconds, and with no tuning knob. The reference importer's inward
   resistance is normalised to 1. The full-endowment loop updates factory-gate prices
   `p_i = ((exp(pi_i')/E_R') / (exp(pi_i)/E_R))^(1/(1-sigma))`, output `Y_i' = p_i Y_i` and
   expenditure `E_i' = phi_i Y_i'` (constant deficit ratios) until the prices stop moving.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from entrepot.errors import InputError
from entrepot.models.gravity import data_provenance, ppml
from entrepot.results import Provenance, Result, records

COLUMNS = (
    "partial_exports_pct",
    "conditional_exports_pct",
    "full_exports_pct",
    "real_gdp_pct",
    "imr_pct",
    "omr_pct",
    "factory_price_pct",
)
KNOWN_POLICIES = ("RTA", "EMBARGO")  # policy dummies a scenario can switch
COST_METHODS = ("pair-fe", "covariates")
COST_TERMS = ("ln_DIST", "CNTG", "LANG", "CLNY", "INTL")  # gravity covariates, as gegravity's users take them
FILL_TERMS = ("ln_DIST", "CNTG", "LANG", "CLNY")
DIRECTION = "counterfactual relative to baseline, in percent (negative: the scenario lowers it)"


@dataclass
class Costs:
    """Base-year trade matrix and cost terms (t_ij^(1-sigma)), countries in `countries` order.

    Costs are identified only up to an exporter and an importer factor, which the resistances absorb;
    the matrices are normalised so that no factor overflows.
    """

    countries: list[str]
    trade: np.ndarray  # X_ij, exporter rows, importer columns
    t_bln: np.ndarray
    t_bar: np.ndarray  # costs with every policy dummy off
    policy: dict[str, np.ndarray]  # policy dummies in the base year
    beta: dict[str, float]  # estimated policy effects; -inf: no trade wherever the policy applies
    year: int
    nobs: int = 0
    method: str = "pair-fe"
    formula: str = ""
    notes: list[str] = field(default_factory=list)
    fit: Any = field(default=None, repr=False)

    def index(self, codes: list[str]) -> list[int]:
        unknown = [c for c in codes if c not in self.countries]
        if unknown:
            raise InputError(f"scenario names countries not in the data's base year {self.year}: {', '.join(unknown)}")
        return [self.countries.index(c) for c in codes]

    def with_policy(self, policy: dict[str, np.ndarray]) -> np.ndarray:
        """t_bar times exp(beta * dummy) for each policy; a separated policy (beta -inf) zeroes its pairs."""
        t = self.t_bar.copy()
        for name, on in policy.items():
            t *= np.where(on != 0, np.exp(self.beta[name] * on) if np.isfinite(self.beta[name]) else 0.0, 1.0)
        return t


def terms_list(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """'ln_DIST + CNTG', 'ln_DIST,CNTG' or a list -> ['ln_DIST', 'CNTG']."""
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = spec.split("~", 1)[-1].split("|", 1)[0].replace("+", ",").split(",")
    return [t.strip() for t in spec if t.strip()]


def estimate_costs(
    df: pd.DataFrame,
    year: int | None = None,
    policies: list[str] | tuple[str, ...] = (),
    panel_years: list[int] | None = None,
    costs: str = "pair-fe",
    terms: str | list[str] | None = None,
) -> Costs:
    """Step 1 of GEPPML: bilateral trade costs from a panel PPML.

    - `costs="pair-fe"` (the book's): exporter-year, importer-year and pair fixed effects plus the
      policy dummies; each pair's cost is exp(pair FE), pairs never traded get the fitted value of a
      PPML of those costs on the gravity covariates.
    - `costs="covariates"` (gegravity's): the same PPML with the covariates `terms` (default: those of
      COST_TERMS in the data) instead of pair effects; cost = exp(sum of beta * covariate).

    A policy that is on only where trade is zero has no finite estimate (complete separation): it is
    kept out of the regression and taken as prohibitive (trade stops), and the result says so.
    `year` defaults to the panel's last year.
    """
    if costs not in COST_METHODS:
        raise InputError(f"--costs must be one of {', '.join(COST_METHODS)}, not {costs!r}")
    policies = list(dict.fromkeys(policies))
    for col in policies:
        if col not in df.columns:
            raise InputError(f"policy variable {col!r} not in the data")
    panel = df if panel_years is None else df[df["year"].isin(panel_years)]
    if panel.empty:
        raise InputError(f"no observations in the panel years {panel_years}")
    years = sorted(int(y) for y in set(panel["year"]))
    year = years[-1] if year is None else int(year)
    if year not in years:
        raise InputError(f"base year {year} not in the data's years {years}")
    base = df[df["year"] == year]
    countries = sorted(set(base["exporter"]) | set(base["importer"]))
    n = len(countries)
    if len(base) != n * n or base.duplicated(["exporter", "importer"]).any():
        raise InputError(f"the base year {year} must have every exporter-importer pair once, intra-national"
                         f" flows included (found {len(base)} rows for {n} countries, {n * n} pairs)")
    grid = _Grid(countries, base)
    home = panel[panel["exporter"] == panel["importer"]].groupby("exporter")["trade"].sum()
    if (home <= 0).any():
        # Zero domestic sales every year is a separation the PPML cannot fit (its demeaning never converges).
        raise InputError(f"no intra-national flow in any year for {', '.join(home.index[home <= 0])}: the model needs"
                         " each country's sales at home (production minus exports)")
    notes: list[str] = []
    separated = []
    for p in policies:
        on = panel[p] != 0
        if not on.any():
            raise InputError(f"policy {p} is 0 in every observation of the years {years[0]}-{years[-1]}: nothing to estimate it from")
        if panel.loc[on, "trade"].sum() == 0:
            separated.append(p)
            notes.append(f"{p}: no trade wherever it applies, so it has no finite estimate; taken as prohibitive (trade stops)")
    estimable = [p for p in policies if p not in separated]
    sample = panel[~(panel[separated] != 0).any(axis=1)] if separated else panel
    if costs == "pair-fe":
        log_t, beta, fit, formula = _pair_fe_costs(sample, base, estimable, grid, notes)
    else:
        log_t, beta, fit, formula = _covariate_costs(sample, base, estimable, terms, grid)
    beta |= {p: -np.inf for p in separated}
    t_bar = np.exp(_normalised(log_t))
    if not np.isfinite(t_bar).all():
        raise InputError("non-finite trade costs after estimation: check the data for extreme values")
    policy = {p: np.nan_to_num(grid.matrix(base[p])) for p in policies}
    out = Costs(countries, np.nan_to_num(grid.matrix(base["trade"])), t_bar, t_bar, policy, beta, year, int(fit._N),
                costs, formula, notes, fit)
    out.t_bln = out.with_policy(policy)
    return out


class _Grid:
    """Base-year rows <-> n x n matrices (exporter rows, importer columns)."""

    def __init__(self, countries: list[str], base: pd.DataFrame) -> None:
        pos = {c: k for k, c in enumerate(countries)}
        self.n = len(countries)
        self.i, self.j = base["exporter"].map(pos).to_numpy(), base["importer"].map(pos).to_numpy()

    def matrix(self, values) -> np.ndarray:
        out = np.full((self.n, self.n), np.nan)
        out[self.i, self.j] = np.asarray(values, dtype=float)
        return out

    def cells(self, m: np.ndarray) -> np.ndarray:
        return m[self.i, self.j]


def _pair_fe_costs(sample, base, policies, grid: _Grid, notes):
    """log t_bar from pair fixed effects (one shared by all intra-national flows), the policy betas."""
    for p in policies:
        if not (sample.groupby("pair_id")[p].nunique() > 1).any():
            raise InputError(f"policy {p} does not change within any country pair in the years used, so the pair"
                             " fixed effects absorb it: use more years (--panel-years) or --costs covariates")
    intra = sample["exporter"] == sample["importer"]
    sample = sample.assign(pair2=np.where(intra, "intra", sample["pair_id"].astype(str)))
    traded = sample.groupby("pair2")["trade"].transform("sum") > 0
    formula = f"trade ~ {' + '.join(policies) if policies else '1'} | exp_year + imp_year + pair2"
    sample = sample[traded].reset_index(drop=True)
    fit = ppml(formula, sample, {"CRV1": "pair_id"})
    beta = {p: float(fit.coef()[p]) for p in policies}
    pair_fe = _pair_effects(fit, sample, beta)
    pair2 = np.where(base["exporter"] == base["importer"], "intra", base["pair_id"].astype(str))
    log_t = grid.matrix(pd.Series(pair2).map(pair_fe))
    if np.isnan(log_t).any():
        unknown = int(np.isnan(log_t).sum())
        notes.append(f"{unknown} pair(s) never traded in the panel: costs fitted from the gravity covariates")
        log_t = _fill_costs(base, log_t, grid)
    return log_t, beta, fit, formula


def _pair_effects(fit, sample: pd.DataFrame, beta: dict[str, float]) -> pd.Series:
    """The pair fixed effects of a PPML fit, recovered from its fitted values.

    pyfixest 0.60's `fixef()` of a Poisson fit without regressors returns effects on the wrong scale
    (values near 1e11: exp overflows, and the next fit aborts in pyfixest's Rust demeaner). Its fitted
    values are right, and their log is exactly additive in the fixed effects, so a least-squares
    split of log(mu) minus the policy terms gives the same effects in every case.
    """
    import pyfixest as pf

    kept = np.setdiff1d(np.arange(len(sample)), np.fromiter(fit._na_index, dtype=int))
    used = sample.iloc[kept]
    log_mu = np.log(np.asarray(fit.predict(type="response"), dtype=float))
    log_mu -= sum((beta[p] * used[p].to_numpy(dtype=float) for p in beta), np.zeros(len(used)))
    if not np.isfinite(log_mu).all():
        raise InputError("the cost regression's fitted trade is zero or infinite for some pairs: check the data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no regressors: pyfixest warns of an empty covariance matrix
        ols = pf.feols("log_mu ~ 1 | exp_year + imp_year + pair2", data=used.assign(log_mu=log_mu), fixef_tol=1e-12)
        return pd.Series(ols.fixef(atol=1e-12, btol=1e-12)["C(pair2)"], dtype=float)


def _normalised(log_t: np.ndarray) -> np.ndarray:
    """log costs minus exporter and importer medians: the same equilibrium (the resistances absorb
    any such factor), with no overflow in exp. pyfixest's fixed effects carry arbitrary, possibly huge,
    offsets between the exporter-year, importer-year and pair effects."""
    out = log_t - np.nanmedian(log_t, axis=1, keepdims=True)
    return out - np.nanmedian(out, axis=0, keepdims=True)


def _fill_costs(base: pd.DataFrame, log_t: np.ndarray, grid: _Grid) -> np.ndarray:
    """Fitted pair costs from the gravity covariates, for pairs the panel could not identify."""
    t = np.exp(_normalised(log_t))
    frame = base.assign(t_bar=grid.cells(t))
    intl = frame[frame["exporter"] != frame["importer"]]
    known = intl[intl["t_bar"].notna()]
    have = [c for c in FILL_TERMS if c in frame.columns and known[c].nunique() > 1]
    if not have:
        raise InputError("some pairs never trade in the panel and the data has no gravity covariates"
                         f" ({', '.join(FILL_TERMS)}) to give them a cost")
    fit = ppml(f"t_bar ~ {' + '.join(have)} | exporter + importer", known, "hetero")
    fitted = grid.matrix(np.asarray(fit.predict(newdata=frame, type="response"), dtype=float))
    filled = np.where(np.isnan(t), fitted, t)
    if np.isnan(filled).any() or (filled <= 0).any():
        raise InputError(f"{int(np.isnan(filled).sum())} pair(s) have neither trade in the panel nor covariates"
                         f" ({', '.join(have)}) to give them a cost")
    return np.log(filled)


def _covariate_costs(sample, base, policies, terms, grid: _Grid):
    """log t_bar = sum of beta * covariate from a PPML with exporter-year and importer-year effects."""
    chosen = terms_list(terms) or [t for t in COST_TERMS if t in sample.columns and sample[t].nunique() > 1]
    if not chosen:
        raise InputError(f"--costs covariates needs gravity covariates in the data (e.g. {', '.join(COST_TERMS)})")
    clash = [t for t in chosen if t in policies]
    if clash:
        raise InputError(f"{', '.join(clash)} is a policy (--policy) and a cost covariate at once; name it once")
    formula = f"trade ~ {' + '.join(chosen + policies)} | exp_year + imp_year"
    fit = ppml(formula, sample, {"CRV1": "pair_id"})
    coef = fit.coef()
    log_t = sum((coef[t] * grid.matrix(base[t]) for t in chosen), np.zeros((grid.n, grid.n)))
    if np.isnan(log_t).any():
        raise InputError(f"{int(np.isnan(log_t).sum())} base-year pair(s) lack a value of {', '.join(chosen)}")
    return log_t, {p: float(coef[p]) for p in policies}, fit, formula


def balance(t: np.ndarray, Y: np.ndarray, E: np.ndarray, ref: int, tol: float = 1e-13, start=None):
    """Exporter and importer terms a, b with sum_j a_i b_j t_ij = Y_i, sum_i a_i b_j t_ij = E_j, b_ref = 1.

    These are exp(exporter FE) and exp(importer FE) of a PPML with an offset log t, solved as the
    structural multilateral-resistance system by alternating updates. Leading axes (sectors) are
    solved at once: t (..., n, n), Y and E (..., n).
    """
    b = np.ones_like(E) if start is None else start.copy()
    for _ in range(20_000):
        a = Y / _rows(t, b)
        b_new = E / _cols(t, a)
        b_new /= b_new[..., ref : ref + 1]
        if np.max(np.abs(b_new / b - 1)) < tol:
            a = Y / _rows(t, b_new)
            return a, b_new
        b = b_new
    raise InputError("multilateral resistances did not converge (check for countries with no trade)")


def _rows(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...j->...i", t, b)


def _cols(t: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...i->...j", t, a)


def _trade(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a[..., :, None] * b[..., None, :] * t


VARIABLES = {  # column: what it measures
    "partial_exports_pct": "foreign exports, resistances held at the baseline (partial effect)",
    "conditional_exports_pct": "foreign exports, output and expenditure fixed (conditional GE)",
    "full_exports_pct": "foreign exports, factory-gate prices adjusted (full-endowment GE)",
    "real_gdp_pct": "real GDP (welfare): output over the inward resistance",
    "imr_pct": "inward multilateral resistance (consumer prices)",
    "omr_pct": "outward multilateral resistance",
    "factory_price_pct": "factory-gate price",
}


@dataclass(frozen=True)
class GEResult(Result):
    """A GE counterfactual: per country, the change of each of VARIABLES, counterfactual relative to
    baseline in percent (every kind of scenario the same way round).

    `to_frame()` columns: country, then the keys of VARIABLES. `provenance`: the data file or the store's
    batches (`Provenance`); `settings`: the cost regression, panel and base years, policies, the scenario,
    sigma, reference, method (and the case and its assumption for a case's scenario).
    """

    COLUMNS = {"country": "ISO3"} | VARIABLES

    countries: list[str]
    reference: str
    table: pd.DataFrame  # country + COLUMNS, percent
    description: str
    iterations: int
    residual: float
    converged: bool
    sigma: float
    year: int
    beta: dict[str, float] = field(default_factory=dict)
    method: str = "geppml"
    market_clearing: float = 0.0  # max of |shipments / output - 1| and |purchases / expenditure - 1|, full GE
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance.empty)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def relative_to_counterfactual(self) -> pd.DataFrame:
        """The same changes the other way round, baseline relative to counterfactual: how Yotov et al.
        report the effects of an agreement that exists (the scenario removes it)."""
        out = self.table.copy()
        out[list(COLUMNS)] = (100.0 / (100.0 + out[list(COLUMNS)]) - 1.0) * 100.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.description,
            "reference": self.reference,
            "sigma": self.sigma,
            "year": self.year,
            "direction": DIRECTION,
            "variables": VARIABLES,
            "policy_estimates": {k: (None if not np.isfinite(v) else v) for k, v in self.beta.items()},
            "method": self.method,
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": self.residual,
            "market_clearing": self.market_clearing,
            "notes": self.notes,
            "settings": self.settings,
            "provenance": self.provenance.to_dict(),
            "countries": records(self.table),
        }

    def summary(self, countries: list[str] | None = None) -> str:
        """One paragraph: the scenario, its assumptions and the welfare changes of `countries` (default:
        the largest gains and losses)."""
        t = self.table.set_index("country")
        named = countries or self.scenario_countries()[:6]
        codes = [c for c in named if c in t.index] or list(t["real_gdp_pct"].abs().nlargest(3).index)
        changes = ", ".join(f"{c} {t.loc[c, 'real_gdp_pct']:+.2f}% real GDP ({t.loc[c, 'full_exports_pct']:+.1f}% exports)"
                            for c in codes)
        costs = self.settings.get("costs", "")
        est = ", ".join(f"{k} {v:.3f}" if np.isfinite(v) else f"{k} prohibitive" for k, v in self.beta.items())
        state = "converged" if self.converged else f"did NOT converge (residual {self.residual:.1e})"
        return (f"Scenario: {self.description}. Base year {self.year}, sigma {self.sigma:g}, reference importer"
                f" {self.reference}, trade costs from {costs or 'the data'}{f' (policy estimates: {est})' if est else ''}."
                f" Full-endowment GE, {self.method} method, {state} after {self.iterations} round(s). Changes are"
                f" {DIRECTION}: {changes}." + (f" Notes: {'; '.join(self.notes)}." if self.notes else ""))

    def scenario_countries(self) -> list[str]:
        """The countries the scenario names (its pair, agreement members or bloc members)."""
        spec = self.settings.get("scenario") or {}
        return list(dict.fromkeys([*spec.get("countries", []), *(c for b in spec.get("blocs", []) for c in b)]))

    def basis(self) -> dict[str, str]:
        """The data, the scenario and its assumption, the model and its settings."""
        return super().basis() | _ge_basis(self.settings, self.description, self.method)

    def plot(self, countries: list[str] | None = None):
        """Real GDP and exports changes, bars by country (default: the ten largest welfare changes)."""
        import plotly.graph_objects as go

        t = self.table.set_index("country")
        codes = [c for c in (countries or []) if c in t.index] or list(t["real_gdp_pct"].abs().nlargest(10).index)
        from entrepot.figures import country_labels

        fig = go.Figure()
        for col, name in (("real_gdp_pct", "real GDP"), ("full_exports_pct", "foreign exports")):
            fig.add_bar(x=country_labels(codes), y=t.loc[codes, col], name=name)
        fig.update_layout(title=f"{self.description}: % change, counterfactual vs baseline ({self.year}, sigma {self.sigma:g})",
                          barmode="group", yaxis_title="%")
        return fig


def solve(
    costs: Costs,
    t_cfl: np.ndarray,
    sigma: float,
    reference: str,
    description: str = "",
    method: str = "geppml",
    tol: float | None = None,
    max_iter: int = 1_000,
) -> GEResult:
    """Baseline, partial, conditional and full-endowment GE for counterfactual costs `t_cfl`.

    `method="geppml"` runs the full-endowment loop as the book's procedure does (stopping rule 0.01),
    which reproduces its published tables; `method="exact"` solves the same equilibrium conditions
    to a fixed point (tolerance 1e-10). See docs/validation.md for how far apart they land.
    """
    if method not in ("geppml", "exact"):
        raise InputError(f"method must be geppml or exact, not {method!r}")
    if not (np.isfinite(sigma) and sigma > 1):
        raise InputError(f"sigma must be a number above 1, not {sigma}")
    ref = costs.index([reference])[0]
    X, t_bln = costs.trade, costs.t_bln
    Y, E = X.sum(axis=1), X.sum(axis=0)
    empty = [c for c, y, e in zip(costs.countries, Y, E, strict=True) if not (y > 0 and e > 0)]
    if empty:
        raise InputError(f"every country needs positive output and expenditure in the base year {costs.year}: {', '.join(empty)}")
    for name, t in (("baseline", t_bln), ("counterfactual", t_cfl)):
        if not np.isfinite(t).all() or (t < 0).any():
            raise InputError(f"non-finite or negative {name} trade costs")
        cut = [c for c, r, k in zip(costs.countries, t.sum(axis=1), t.sum(axis=0), strict=True) if not (r > 0 and k > 0)]
        if cut:
            raise InputError(f"the {name} cuts {', '.join(cut)} off from every market: no equilibrium")
    pairs, full, clearing = _equilibrium(t_bln, t_cfl, Y, E, ref, sigma, method, tol, max_iter)
    table = pd.DataFrame({"country": costs.countries})
    for name, change in pairs.items():
        table[name] = change
    return GEResult(
        costs.countries, reference, table, description,
        full["iterations"], full["residual"], full["converged"], sigma, costs.year, costs.beta,
        method, clearing, list(costs.notes),
    )


def _equilibrium(t_bln, t_cfl, Y, E, ref, sigma, method, tol, max_iter) -> tuple[dict[str, np.ndarray], dict[str, Any], float]:
    """(percent change of each of COLUMNS, the full-GE solution, its market-clearing residual).

    Arrays may carry a leading sector axis (method "exact" only): each sector is its own world.
    """
    phi = E / Y
    inv = 1.0 / (1.0 - sigma)
    off = ~np.eye(Y.shape[-1], dtype=bool)
    E_ref = E[..., ref : ref + 1]

    a0, b0 = balance(t_bln, Y, E, ref)
    X_bln = _trade(a0, b0, t_bln)
    omr0, imr0 = Y * E_ref / a0, E / (b0 * E_ref)

    X_pe = _trade(a0, b0, t_cfl)  # baseline resistances, counterfactual costs
    ac, bc = balance(t_cfl, Y, E, ref, start=b0)
    X_cdl = _trade(ac, bc, t_cfl)

    if method == "geppml":
        full = _full_endowment(t_cfl, Y, E, phi, ref, inv, a0, (ac, bc, X_cdl), tol or 0.01, max_iter)
    else:
        full = _exact_full(t_cfl, Y, phi, ref, inv, a0, bc, tol or 1e-10, max_iter)
    Y1, omr1, imr1, X_full = full["Y"], full["omr"], full["imr"], full["X"]
    p = full["p"]

    def exports(m: np.ndarray) -> np.ndarray:
        return (m * off).sum(axis=-1)

    pairs = {  # (baseline value, counterfactual value)
        "partial_exports_pct": (exports(X_bln), exports(X_pe)),
        "conditional_exports_pct": (exports(X_bln), exports(X_cdl)),
        "full_exports_pct": (exports(X_bln), exports(X_full)),
        "real_gdp_pct": (Y / imr0**inv, Y1 / imr1**inv),
        "imr_pct": (imr0**inv, imr1**inv),
        "omr_pct": (omr0**inv, omr1**inv),
        "factory_price_pct": (np.ones_like(p), p),
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = {name: (cfl / bln - 1.0) * 100.0 for name, (bln, cfl) in pairs.items()}
    E1 = phi * Y1
    clearing = float(max(np.abs(X_full.sum(axis=-1) / Y1 - 1).max(), np.abs(X_full.sum(axis=-2) / E1 - 1).max()))
    full["levels"] = {name: pair for name, pair in pairs.items()}
    return changes, full, clearing


def _exact_full(t_cfl, Y, phi, ref, inv, a0, b_start, tol, max_iter) -> dict[str, Any]:
    """Factory-gate prices p with p = ((a(p)/E_R(p)) / (a0/E_R))^(1/(1-sigma)), where a(p) solves the
    resistance system at output p*Y and expenditure phi*p*Y: iterated until p stops moving."""
    p, b = np.ones_like(Y), b_start
    E0_ref = (phi * Y)[..., ref : ref + 1]
    residual, converged, it = np.inf, False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        Y1 = p * Y
        E1 = phi * Y1
        a, b = balance(t_cfl, Y1, E1, ref, start=b)
        p_new = ((a / E1[..., ref : ref + 1]) / (a0 / E0_ref)) ** inv
        residual = float(np.max(np.abs(p_new / p - 1)))
        p = p_new
        if residual < tol:
            converged = True
            break
    Y1, E1 = p * Y, phi * p * Y
    a, b = balance(t_cfl, Y1, E1, ref, start=b)
    E1_ref = E1[..., ref : ref + 1]
    return {"p": p, "Y": Y1, "omr": Y1 * E1_ref / a, "imr": E1 / (b * E1_ref), "X": _trade(a, b, t_cfl),
            "iterations": it, "residual": residual, "converged": converged}


def _full_endowment(t_cfl, Y, E, phi, ref, inv, a0, conditional, tol, max_iter) -> dict[str, Any]:
    """The full-endowment loop of the GEPPML procedure, step by step as in Yotov et al. (2016).

    Each round scales last round's trade by the change in factory-gate prices (exporter's and
    importer's) over the change in resistances, re-solves the PPML with the counterfactual costs,
    updates output (row sums), expenditure (phi * output) and prices. It stops when the round-to-round
    change of the price changes is below `tol` (the book uses 0.01 for both its maximum and its
    standard deviation); final output is `p * Y`, final trade is rebuilt from the final indexes.
    """
    ac, bc, X = conditional
    E_R = E[ref]
    a_prev, E_R_prev = ac, E_R
    Y_s, E_s = Y, E
    cp = (ac / a0) ** inv  # change in prices from the baseline to the conditional solution
    c_omr = c_imr = np.ones_like(Y)
    omr_prev, imr_prev = Y * E_R / ac, E / (bc * E_R)
    last_cp = np.zeros_like(Y)
    b = bc
    residual, converged, it = np.inf, False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        trade = X * cp[:, None] * cp[None, :] / (c_omr[:, None] * c_imr[None, :])
        Y_s = trade.sum(axis=1)
        E_s = phi * Y_s
        a, b = balance(t_cfl, Y_s, trade.sum(axis=0), ref, start=b)
        X = a[:, None] * b[None, :] * t_cfl
        E_R_s = E_s[ref]
        new_cp = ((a / a_prev) / (E_R_s / E_R_prev)) ** inv
        omr, imr = Y_s * E_R_s / a, E_s / (b * E_R_s)
        c_omr, c_imr = omr / omr_prev, imr / imr_prev
        diff = cp - last_cp
        residual = max(abs(float(diff.max())), float(diff.std(ddof=1)))
        last_cp, cp = cp, new_cp
        a_prev, E_R_prev, omr_prev, imr_prev = a, E_R_s, omr, imr
        if residual < tol:
            converged = True
            break
    p = ((a_prev / a0) / (E_R_prev / E_R)) ** inv
    Y_full = p * Y
    E_full = phi * Y_full
    omr_full = Y_full * E_R_prev / a_prev
    imr_full = E_s / (b * E_R_prev)
    X_full = Y_full[:, None] * E_full[None, :] * t_cfl / (imr_full[None, :] * omr_full[:, None])
    return {"p": p, "Y": Y_full, "omr": omr_full, "imr": imr_full, "X": X_full,
            "iterations": it, "residual": residual, "converged": converged}


PROHIBITIVE = 1e-6  # cost factor of an embargo with no estimate: trade falls to a millionth
POLICY_OF = {"remove_rta": "RTA", "add_rta": "RTA", "lift_embargo": "EMBARGO", "impose_embargo": "EMBARGO"}


def counterfactual(costs: Costs, kind: str, countries: list[str] | None = None,
                   blocs: list[list[str]] | None = None, tariff: float = 0.25, sigma: float = 7.0) -> tuple[np.ndarray, str]:
    """Counterfactual costs for a scenario: (t_cfl, description).

    - remove_rta / add_rta COUNTRIES: the RTA dummy off / on among them (estimated RTA effect).
    - impose_embargo / lift_embargo A,B: the EMBARGO dummy on / off between the pair, both ways, with
      its estimated effect; imposing with no estimate uses a prohibitive cost (trade x 1e-6).
    - blocs [[...], [...]]: a tariff-equivalent barrier `tariff` between different blocs (trade cost
      factor (1+tariff)^-sigma), none inside; countries in no bloc are unaligned. With a single bloc,
      the barrier inside the group falls instead (factor (1+tariff)^sigma).
    """
    n = len(costs.countries)
    pol = {k: v.copy() for k, v in costs.policy.items()}

    def pairs_among(codes: list[str]) -> np.ndarray:
        idx = costs.index(codes)
        mask = np.zeros((n, n), dtype=bool)
        mask[np.ix_(idx, idx)] = True
        np.fill_diagonal(mask, False)
        return mask

    codes = list(countries or [])
    if kind in ("remove_rta", "add_rta"):
        if "RTA" not in pol:
            raise InputError("this scenario needs an RTA variable in the data (estimated with --policy RTA)")
        if len(codes) < 2:
            raise InputError(f"{kind} needs at least two countries")
        pol["RTA"][pairs_among(codes)] = 0.0 if kind == "remove_rta" else 1.0
        verb = "removing" if kind == "remove_rta" else "adding"
        return costs.with_policy(pol), f"{verb} the trade agreement among {', '.join(codes)}"
    if kind in ("impose_embargo", "lift_embargo"):
        if len(codes) != 2 or codes[0] == codes[1]:
            raise InputError(f"{kind} needs a pair of two different countries")
        mask = pairs_among(codes)
        if "EMBARGO" in pol:
            if kind == "lift_embargo" and not pol["EMBARGO"][mask].any():
                raise InputError(f"no embargo between {codes[0]} and {codes[1]} in the base year {costs.year}: nothing to lift")
            pol["EMBARGO"][mask] = 1.0 if kind == "impose_embargo" else 0.0
            how = "prohibitive" if not np.isfinite(costs.beta["EMBARGO"]) else "estimated"
            return costs.with_policy(pol), f"{kind.replace('_', ' ')} between {codes[0]} and {codes[1]} ({how} effect)"
        if kind == "lift_embargo":
            raise InputError("lifting an embargo needs its estimated effect: the data has no EMBARGO variable")
        t = costs.t_bln.copy()
        t[mask] *= PROHIBITIVE
        return t, f"embargo between {codes[0]} and {codes[1]} (prohibitive cost)"
    if kind == "blocs":
        groups = [list(g) for g in (blocs or [])]
        if not groups or any(not g for g in groups):
            raise InputError("a blocs scenario needs at least one non-empty bloc")
        member = {c: k for k, g in enumerate(groups) for c in g}
        if len(member) < sum(len(g) for g in groups):
            raise InputError("a country is in more than one bloc")
        costs.index(list(member))
        if not (np.isfinite(tariff) and tariff > -1):
            raise InputError(f"the bloc barrier's tariff equivalent must be above -100%, not {tariff}")
        t = costs.t_bln.copy()
        if len(groups) == 1:
            if len(groups[0]) < 2:
                raise InputError("a single bloc needs at least two members")
            t[pairs_among(groups[0])] *= (1 + tariff) ** sigma
            return t, f"barriers of {tariff:.0%} fall inside {', '.join(groups[0])}"
        label = np.array([member.get(c, -1) for c in costs.countries])
        across = (label[:, None] >= 0) & (label[None, :] >= 0) & (label[:, None] != label[None, :])
        t[across] *= (1 + tariff) ** (-sigma)
        names = " vs ".join("[" + ", ".join(g) + "]" for g in groups)
        return t, f"a {tariff:.0%} tariff-equivalent barrier between blocs {names}"
    raise InputError(f"unknown scenario kind {kind!r}")


def choose_policies(df: pd.DataFrame, kind: str, policies: list[str] | tuple[str, ...] | None,
                    panel_years: list[int] | None = None, costs: str = "pair-fe") -> tuple[list[str], list[str]]:
    """(policy dummies to estimate, notes). Given ones must be in the data; by default, the known ones
    (RTA, EMBARGO) in the data that the cost regression can identify, and always the scenario's own."""
    needed = POLICY_OF.get(kind)
    if policies is not None:
        chosen = list(dict.fromkeys(policies))
        missing = [p for p in chosen if p not in df.columns]
        if missing:
            raise InputError(f"policy variable(s) not in the data: {', '.join(missing)}")
        return chosen, []
    panel = df if panel_years is None else df[df["year"].isin(panel_years)]
    chosen, notes = [], []
    for p in KNOWN_POLICIES:
        if p not in df.columns:
            continue
        varies = panel.groupby("pair_id")[p].nunique().gt(1).any() if costs == "pair-fe" else panel[p].nunique() > 1
        if varies or p == needed:
            chosen.append(p)
        else:
            notes.append(f"{p} left out of the cost estimation: it does not change within any pair in the years used")
    return chosen, notes


def simulate(df: pd.DataFrame, kind: str, countries: list[str], blocs: list[list[str]], year: int | None = None,
             panel_years: list[int] | None = None, policies: list[str] | tuple[str, ...] | None = None, sigma: float = 7.0,
             reference: str | None = None, tariff: float = 0.25, method: str = "geppml", costs: str = "pair-fe",
             terms: str | list[str] | None = None) -> GEResult:
    """One scenario end to end: trade costs from the data, the counterfactual, the GE solution.

    Defaults: the data's last year as base year, the policy dummies `choose_policies` picks, DEU as the
    reference importer if it is in the data (else the largest exporter).
    """
    chosen, notes = choose_policies(df, kind, policies, panel_years, costs)
    est = estimate_costs(df, year, chosen, panel_years, costs, terms)
    if reference is None:
        reference = "DEU" if "DEU" in est.countries else est.countries[int(np.argmax((est.trade * ~np.eye(len(est.countries), dtype=bool)).sum(1)))]
    t_cfl, description = counterfactual(est, kind, countries, blocs, tariff, sigma)
    res = solve(est, t_cfl, sigma, reference.upper(), description, method=method)
    return replace(res, notes=notes + res.notes, provenance=data_provenance(df), settings={
        "data": df.attrs.get("source"),
        "costs": f"{est.method} PPML: {est.formula} ({est.nobs:,} observations)",
        "cost_method": est.method,
        "formula": est.formula,
        "panel_years": sorted(int(y) for y in set((df if panel_years is None else df[df["year"].isin(panel_years)])["year"])),
        "base_year": est.year,
        "policies": chosen,
        "scenario": {"kind": kind, "countries": list(countries), "blocs": [list(b) for b in blocs], "tariff": tariff},
        "sigma": sigma, "reference": reference.upper(), "method": method,
    } | _store_settings(df))


def _store_settings(df: pd.DataFrame) -> dict[str, Any]:
    """The store and batch ids a panel was read from (`panel.build_panel`, `gravity.from_store`), if any;
    the batches themselves are in the result's provenance."""
    panel = {k: v for k, v in df.attrs.get("panel", {}).items() if k != "batch_rows"}
    return {"store": panel} if panel else {}


def _ge_basis(settings: dict[str, Any], description: str, method: str) -> dict[str, str]:
    """The lines of a GE result's `basis()`: scenario, assumption, model."""
    out = {"scenario": description + (f" (case {settings['case_scenario']})" if settings.get("case_scenario") else "")}
    if settings.get("assumption"):
        out["assumption"] = settings["assumption"]
    if "sigma" not in settings:  # solved directly (`solve`), not by `simulate`: no settings recorded
        return out
    out["model"] = (f"structural gravity GE ({method}), base year {settings.get('base_year')}, sigma {settings.get('sigma'):g},"
                    f" reference importer {settings.get('reference')}; trade costs from {settings.get('costs') or settings.get('cost_method')}"
                    f"; policies {', '.join(settings.get('policies') or []) or 'none'}; changes are {DIRECTION}")
    return out


def simulate_case(df: pd.DataFrame, case, scenario, tariff: float | None = None, sector: str | None = None,
                  **options: Any) -> GEResult | SectorResult:
    """A case file's scenario: the data get the case's EMBARGO dummy if they lack one; bloc members
    not in the data are left out (and named in the notes); the scenario's tariff, else `tariff`, else 25%.
    With `sector` (a column of the data), solved by sector (`simulate_sectors`)."""
    from entrepot.models.gravity import add_policy

    if "EMBARGO" not in df.columns:
        e = case.main_event
        df = df.copy()
        add_policy(df, "EMBARGO", [(e.exporter, e.importer)] + ([(e.importer, e.exporter)] if e.both_directions else []), e.date.year)
    have = set(df.loc[df["year"] == (options.get("year") or df["year"].max()), "exporter"])
    scenario, left_out = scenario.within(have)
    kind, countries, blocs = scenario.spec()
    tariff = scenario.tariff or tariff or 0.25
    if sector is not None:
        options.pop("method", None)  # by sector, the exact solve
        res = simulate_sectors(df, kind, countries, blocs, sector, tariff=tariff, **options)
    else:
        res = simulate(df, kind, countries, blocs, tariff=tariff, **options)
    notes = res.notes + ([f"simulated without {', '.join(left_out)}: not in the data"] if left_out else [])
    return replace(res, notes=notes, settings=res.settings | {
        "case": str(case.path) if case.path else case.id, "case_scenario": scenario.id, "assumption": scenario.note})


def case_scenarios(df: pd.DataFrame, case, **options: Any) -> list[tuple[Any, GEResult | InputError]]:
    """Every scenario of a case file, each its result or the one-line reason it cannot run on `df`."""
    out: list[tuple[Any, GEResult | InputError]] = []
    for s in case.scenarios:
        try:
            out.append((s, simulate_case(df, case, s, **options)))
        except InputError as exc:
            out.append((s, exc))
    return out


@dataclass(frozen=True)
class SectorResult(Result):
    """A multi-sector counterfactual: each sector its own world (sector-specific endowments, output and
    expenditure by sector as in the base year), solved at once; country totals aggregate them.

    `to_frame()` columns: sector ("all" for the country totals), country, then COLUMNS. Totals:
    exports summed over sectors; real GDP is total output over a Cobb-Douglas price index with the
    base year's expenditure shares; output_pct the change in total output at factory-gate prices.
    Resistances and prices are per sector only (NaN in the totals).
    """

    COLUMNS = {"sector": "sector, or all", "country": "ISO3"} | VARIABLES | {"output_pct": "total output (totals only)"}

    sectors: list[str]
    countries: list[str]
    frame: pd.DataFrame
    description: str
    sigma: float
    year: int
    reference: str
    converged: bool
    market_clearing: float
    notes: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=Provenance.empty)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"scenario": self.description, "sectors": self.sectors, "reference": self.reference, "sigma": self.sigma,
                "year": self.year, "direction": DIRECTION, "variables": VARIABLES, "converged": self.converged,
                "market_clearing": self.market_clearing, "notes": self.notes, "settings": self.settings,
                "provenance": self.provenance.to_dict(), "rows": records(self.frame)}

    def basis(self) -> dict[str, str]:
        """The data, the scenario and its assumption, the model and its settings (by sector)."""
        return super().basis() | _ge_basis(self.settings, f"{self.description}, by sector ({len(self.sectors)})", "exact")

    def summary(self, country: str | None = None) -> str:
        t = self.frame
        focus = country or next(iter((self.settings.get("scenario") or {}).get("countries") or []), t["country"].iloc[0])
        mine = t[(t["country"] == focus) & (t["sector"] != "all")].set_index("sector")["full_exports_pct"]
        total = t[(t["country"] == focus) & (t["sector"] == "all")].iloc[0]
        moves = ", ".join(f"{k} {v:+.1f}%" for k, v in mine.reindex(mine.abs().sort_values(ascending=False).index[:3]).items())
        return (f"Scenario by sector ({len(self.sectors)} sectors): {self.description}. Base year {self.year}, sigma {self.sigma:g},"
                f" reference importer {self.reference}; each sector its own world (sector-specific output, base-year expenditure"
                f" by sector). {focus}: real GDP {total['real_gdp_pct']:+.2f}%, exports {total['full_exports_pct']:+.1f}%; largest"
                f" sector export changes {moves}. Changes are {DIRECTION}.")

    def plot(self, country: str | None = None):
        import plotly.graph_objects as go

        t = self.frame
        focus = country or next(iter((self.settings.get("scenario") or {}).get("countries") or []), t["country"].iloc[0])
        rows = t[(t["country"] == focus) & (t["sector"] != "all")]
        fig = go.Figure(go.Bar(x=rows["sector"], y=rows["full_exports_pct"], name="foreign exports"))
        fig.update_layout(title=f"{focus}: exports by sector, % change ({self.description})", yaxis_title="%")
        return fig


def solve_sectors(costs: list[Costs], t_cfl: list[np.ndarray], sectors: list[str], sigma: float, reference: str,
                  description: str = "") -> SectorResult:
    """The exact full-endowment GE of every sector at once (arrays stacked on a sector axis)."""
    countries = costs[0].countries
    if any(c.countries != countries for c in costs):
        raise InputError("every sector needs the same countries in the base year")
    ref = costs[0].index([reference])[0]
    X = np.stack([c.trade for c in costs])
    Y, E = X.sum(axis=-1), X.sum(axis=-2)
    thin = [(sectors[k], countries[i]) for k, i in zip(*np.nonzero(~((Y > 0) & (E > 0))), strict=True)]
    if thin:
        raise InputError(f"every country needs positive output and expenditure in every sector: {', '.join(map('/'.join, thin[:5]))}")
    changes, full, clearing = _equilibrium(np.stack([c.t_bln for c in costs]), np.stack(t_cfl), Y, E, ref, sigma, "exact", None, 1_000)
    rows = [pd.DataFrame({"sector": s, "country": countries} | {k: v[n] for k, v in changes.items()}) for n, s in enumerate(sectors)]
    lv = full["levels"]
    total = {name: (lv[name][1].sum(0) / lv[name][0].sum(0) - 1) * 100 for name in ("partial_exports_pct", "conditional_exports_pct",
                                                                                      "full_exports_pct")}
    alpha = E / E.sum(0)  # base-year expenditure shares by sector
    (P0, P1), (Y0, Y1) = lv["imr_pct"], (Y, full["Y"])
    price = np.exp((alpha * np.log(P1 / P0)).sum(0))
    total["real_gdp_pct"] = (Y1.sum(0) / Y0.sum(0) / price - 1) * 100
    total["output_pct"] = (Y1.sum(0) / Y0.sum(0) - 1) * 100
    frame = pd.concat([*rows, pd.DataFrame({"sector": "all", "country": countries} | total)], ignore_index=True)
    return SectorResult(sectors, countries, frame, description, sigma, costs[0].year, reference, bool(full["converged"]), clearing,
                        sorted({n for c in costs for n in c.notes}))


def simulate_sectors(df: pd.DataFrame, kind: str, countries: list[str], blocs: list[list[str]], sector: str = "sector",
                     year: int | None = None, panel_years: list[int] | None = None,
                     policies: list[str] | tuple[str, ...] | None = None, sigma: float = 7.0, reference: str | None = None,
                     tariff: float = 0.25, costs: str = "pair-fe", terms: str | list[str] | None = None) -> SectorResult:
    """One scenario by sector: costs estimated sector by sector, the counterfactual in each, one stacked solve."""
    if sector not in df.columns:
        raise InputError(f"no sector column {sector!r} in the data")
    sectors = sorted(df[sector].astype(str).unique())
    chosen, notes = choose_policies(df, kind, policies, panel_years, costs)
    est, cfl, description = [], [], ""
    for s in sectors:
        part = df[df[sector].astype(str) == s]
        part.attrs = df.attrs
        try:
            c = estimate_costs(part, year, chosen, panel_years, costs, terms)
            t, description = counterfactual(c, kind, countries, blocs, tariff, sigma)
        except InputError as exc:
            raise InputError(f"sector {s}: {exc}") from None
        est.append(c)
        cfl.append(t)
    if reference is None:
        reference = "DEU" if "DEU" in est[0].countries else est[0].countries[0]
    res = solve_sectors(est, cfl, sectors, sigma, reference.upper(), description)
    return replace(res, notes=notes + res.notes, provenance=data_provenance(df), settings={
                      "data": df.attrs.get("source"), "sector_column": sector, "cost_method": costs, "policies": chosen,
                      "formulas": sorted({c.formula for c in est}), "base_year": est[0].year,
                      "scenario": {"kind": kind, "countries": list(countries), "blocs": [list(b) for b in blocs], "tariff": tariff},
                      "sigma": sigma, "reference": reference.upper(), "method": "exact"} | _store_settings(df))
