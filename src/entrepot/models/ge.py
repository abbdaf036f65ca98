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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entrepot.errors import InputError

COLUMNS = (
    "partial_exports_pct",
    "conditional_exports_pct",
    "full_exports_pct",
    "real_gdp_pct",
    "imr_pct",
    "omr_pct",
    "factory_price_pct",
)


@dataclass
class Costs:
    """Base-year trade matrix and cost terms (t_ij^(1-sigma)), countries in `countries` order."""

    countries: list[str]
    trade: np.ndarray  # X_ij, exporter rows, importer columns
    t_bln: np.ndarray
    t_bar: np.ndarray  # costs with every policy dummy off
    policy: dict[str, np.ndarray]  # policy dummies in the base year
    beta: dict[str, float]  # estimated policy effects
    year: int
    nobs: int = 0

    def index(self, codes: list[str]) -> list[int]:
        unknown = [c for c in codes if c not in self.countries]
        if unknown:
            raise InputError(f"scenario names countries not in the data: {', '.join(unknown)}")
        return [self.countries.index(c) for c in codes]


def estimate_costs(
    df: pd.DataFrame,
    year: int,
    policies: list[str],
    panel_years: list[int] | None = None,
    covariates: tuple[str, ...] = ("ln_DIST", "CNTG", "LANG", "CLNY"),
) -> Costs:
    """Step 1 of GEPPML: bilateral trade costs from a panel PPML with pair fixed effects."""
    import pyfixest as pf

    for col in policies:
        if col not in df.columns:
            raise InputError(f"policy variable {col!r} not in the data")
    panel = df if panel_years is None else df[df["year"].isin(panel_years)]
    if year not in set(panel["year"]):
        raise InputError(f"base year {year} not in the data's years {sorted(set(panel['year']))}")
    # One fixed effect per country pair (pair_id: symmetric in the AGTPA data, as in the book) and one
    # shared by all intra-national flows.
    panel = panel.assign(pair2=np.where(panel["exporter"] == panel["importer"], "intra", panel["pair_id"].astype(str)))
    traded = panel.groupby("pair_id")["trade"].transform("sum") > 0
    formula = f"trade ~ {' + '.join(policies) if policies else '1'} | exp_year + imp_year + pair2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois(formula, data=panel[traded], vcov={"CRV1": "pair_id"}, ssc=pf.ssc(k_adj=False))
    beta = {p: float(fit.coef()[p]) for p in policies}
    pair_fe = pd.Series(fit.fixef()["C(pair2)"], dtype=float)

    base = df[df["year"] == year].copy()
    countries = sorted(set(base["exporter"]) | set(base["importer"]))
    base["pair2"] = np.where(base["exporter"] == base["importer"], "intra", base["pair_id"].astype(str))
    base["t_bar"] = np.exp(base["pair2"].map(pair_fe))
    missing = base["t_bar"].isna()
    if missing.any():
        base.loc[missing, "t_bar"] = _fill_costs(base, covariates)[missing]
    n = len(countries)
    pos = {c: k for k, c in enumerate(countries)}
    i = base["exporter"].map(pos).to_numpy()
    j = base["importer"].map(pos).to_numpy()

    def matrix(values: pd.Series) -> np.ndarray:
        out = np.zeros((n, n))
        out[i, j] = values.to_numpy(dtype=float)
        return out

    if len(base) != n * n:
        raise InputError(f"the base year {year} must have every exporter-importer pair (found {len(base)} of {n * n})")
    trade = matrix(base["trade"])
    t_bar = matrix(base["t_bar"])
    policy = {p: matrix(base[p]) for p in policies}
    t_bln = t_bar * np.exp(sum((beta[p] * policy[p] for p in policies), np.zeros((n, n))))
    return Costs(countries, trade, t_bln, t_bar, policy, beta, year, int(fit._N))


def _fill_costs(base: pd.DataFrame, covariates: tuple[str, ...]) -> pd.Series:
    """Fitted pair costs from the gravity covariates, for pairs the panel could not identify."""
    import pyfixest as pf

    have = [c for c in covariates if c in base.columns]
    intl = base[base["exporter"] != base["importer"]]
    known = intl[intl["t_bar"].notna()]
    if not have:
        raise InputError("some pairs have no estimable cost and the data has no gravity covariates to fill them")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois(f"t_bar ~ {' + '.join(have)} | exporter + importer", data=known, vcov="hetero")
    return pd.Series(np.asarray(fit.predict(newdata=base, type="response")), index=base.index)


def balance(t: np.ndarray, Y: np.ndarray, E: np.ndarray, ref: int, tol: float = 1e-13, start=None):
    """Exporter and importer terms a, b with sum_j a_i b_j t_ij = Y_i, sum_i a_i b_j t_ij = E_j, b_ref = 1.

    These are exp(exporter FE) and exp(importer FE) of a PPML with an offset log t, solved as the
    structural multilateral-resistance system by alternating updates.
    """
    b = np.ones(len(E)) if start is None else start.copy()
    for _ in range(20_000):
        a = Y / (t @ b)
        b_new = E / (t.T @ a)
        b_new /= b_new[ref]
        if np.max(np.abs(b_new / b - 1)) < tol:
            a = Y / (t @ b_new)
            return a, b_new
        b = b_new
    raise InputError("multilateral resistances did not converge (check for countries with no trade)")


@dataclass
class GEResult:
    countries: list[str]
    reference: str
    table: pd.DataFrame  # country + COLUMNS, percent
    orientation: str  # "effect_of_removed" (baseline vs counterfactual) or "effect_of_scenario"
    description: str
    iterations: int
    residual: float
    converged: bool
    sigma: float
    year: int
    beta: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.description,
            "reference": self.reference,
            "sigma": self.sigma,
            "year": self.year,
            "direction": (
                "effects of what the scenario removes: baseline relative to counterfactual, in percent"
                if self.orientation == "effect_of_removed"
                else "effects of the scenario: counterfactual relative to baseline, in percent"
            ),
            "policy_estimates": self.beta,
            "converged": self.converged,
            "iterations": self.iterations,
            "residual": self.residual,
            "countries": self.table.to_dict(orient="records"),
        }


def solve(
    costs: Costs,
    t_cfl: np.ndarray,
    sigma: float,
    reference: str,
    orientation: str = "effect_of_scenario",
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
    ref = costs.index([reference])[0]
    X, t_bln = costs.trade, costs.t_bln
    Y, E = X.sum(axis=1), X.sum(axis=0)
    if np.any(Y <= 0) or np.any(E <= 0):
        raise InputError("every country needs positive output and expenditure in the base year")
    phi = E / Y
    inv = 1.0 / (1.0 - sigma)
    off = ~np.eye(len(Y), dtype=bool)

    a0, b0 = balance(t_bln, Y, E, ref)
    X_bln = a0[:, None] * b0[None, :] * t_bln
    omr0, imr0 = Y * E[ref] / a0, E / (b0 * E[ref])

    X_pe = X_bln * t_cfl / t_bln
    ac, bc = balance(t_cfl, Y, E, ref, start=b0)
    X_cdl = ac[:, None] * bc[None, :] * t_cfl

    if method == "geppml":
        full = _full_endowment(t_cfl, Y, E, phi, ref, inv, a0, (ac, bc, X_cdl), tol or 0.01, max_iter)
    else:
        full = _exact_full(t_cfl, Y, phi, ref, inv, a0, bc, tol or 1e-10, max_iter)
    Y1, omr1, imr1, X_full = full["Y"], full["omr"], full["imr"], full["X"]
    p = full["p"]

    def exports(m: np.ndarray) -> np.ndarray:
        return (m * off).sum(axis=1)

    pairs = {  # (baseline value, counterfactual value)
        "partial_exports_pct": (exports(X_bln), exports(X_pe)),
        "conditional_exports_pct": (exports(X_bln), exports(X_cdl)),
        "full_exports_pct": (exports(X_bln), exports(X_full)),
        "real_gdp_pct": (Y / imr0**inv, Y1 / imr1**inv),
        "imr_pct": (imr0**inv, imr1**inv),
        "omr_pct": (omr0**inv, omr1**inv),
        "factory_price_pct": (np.ones_like(p), p),  # see below: the book's sign
    }
    table = pd.DataFrame({"country": costs.countries})
    for name, (bln, cfl) in pairs.items():
        ratio = bln / cfl if orientation == "effect_of_removed" else cfl / bln
        table[name] = (ratio - 1.0) * 100.0
    return GEResult(
        costs.countries, reference, table, orientation, description,
        full["iterations"], full["residual"], full["converged"], sigma, costs.year, costs.beta,
    )


def _exact_full(t_cfl, Y, phi, ref, inv, a0, b_start, tol, max_iter) -> dict[str, Any]:
    """Factory-gate prices p with p = ((a(p)/E_R(p)) / (a0/E_R))^(1/(1-sigma)), where a(p) solves the
    resistance system at output p*Y and expenditure phi*p*Y: iterated until p stops moving."""
    p, b = np.ones_like(Y), b_start
    residual, converged, it = np.inf, False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count reported after the loop)
        Y1 = p * Y
        E1 = phi * Y1
        a, b = balance(t_cfl, Y1, E1, ref, start=b)
        p_new = ((a / E1[ref]) / (a0 / (phi[ref] * Y[ref]))) ** inv
        residual = float(np.max(np.abs(p_new / p - 1)))
        p = p_new
        if residual < tol:
            converged = True
            break
    Y1, E1 = p * Y, phi * p * Y
    a, b = balance(t_cfl, Y1, E1, ref, start=b)
    return {"p": p, "Y": Y1, "omr": Y1 * E1[ref] / a, "imr": E1 / (b * E1[ref]), "X": a[:, None] * b[None, :] * t_cfl,
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


def counterfactual(costs: Costs, kind: str, countries: list[str] | None = None,
                   blocs: list[list[str]] | None = None, tariff: float = 0.25, sigma: float = 7.0) -> tuple[np.ndarray, str, str]:
    """Counterfactual costs for a scenario: (t_cfl, orientation, description).

    - remove_rta / add_rta COUNTRIES: the RTA dummy off / on among them (estimated RTA effect);
      removing reports the effects *of* the agreement (baseline relative to counterfactual).
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

    def with_policy() -> np.ndarray:
        return costs.t_bar * np.exp(sum((costs.beta[k] * pol[k] for k in pol), np.zeros((n, n))))

    codes = list(countries or [])
    if kind in ("remove_rta", "add_rta"):
        if "RTA" not in pol:
            raise InputError("this scenario needs an RTA variable in the data (estimated with --policy RTA)")
        pol["RTA"][pairs_among(codes)] = 0.0 if kind == "remove_rta" else 1.0
        verb = "removing" if kind == "remove_rta" else "adding"
        column = "effect_of_removed" if kind == "remove_rta" else "effect_of_scenario"
        return with_policy(), column, f"{verb} the trade agreement among {', '.join(codes)}"
    if kind in ("impose_embargo", "lift_embargo"):
        if len(codes) != 2:
            raise InputError(f"{kind} needs a pair of countries")
        mask = pairs_among(codes)
        if "EMBARGO" in pol:
            pol["EMBARGO"][mask] = 1.0 if kind == "impose_embargo" else 0.0
            return with_policy(), "effect_of_scenario", f"{kind.replace('_', ' ')} between {codes[0]} and {codes[1]} (estimated effect)"
        if kind == "lift_embargo":
            raise InputError("lifting an embargo needs its estimated effect: the data has no EMBARGO variable")
        t = costs.t_bln.copy()
        t[mask] *= PROHIBITIVE
        return t, "effect_of_scenario", f"embargo between {codes[0]} and {codes[1]} (prohibitive cost)"
    if kind == "blocs":
        groups = [list(g) for g in (blocs or [])]
        if not groups:
            raise InputError("a blocs scenario needs at least one bloc")
        member = {c: k for k, g in enumerate(groups) for c in g}
        costs.index(list(member))
        t = costs.t_bln.copy()
        if len(groups) == 1:
            t[pairs_among(groups[0])] *= (1 + tariff) ** sigma
            return t, "effect_of_scenario", f"barriers of {tariff:.0%} fall inside {', '.join(groups[0])}"
        label = np.array([member.get(c, -1) for c in costs.countries])
        across = (label[:, None] >= 0) & (label[None, :] >= 0) & (label[:, None] != label[None, :])
        t[across] *= (1 + tariff) ** (-sigma)
        names = " vs ".join("[" + ", ".join(g) + "]" for g in groups)
        return t, "effect_of_scenario", f"a {tariff:.0%} tariff-equivalent barrier between blocs {names}"
    raise InputError(f"unknown scenario kind {kind!r}")


def simulate(df: pd.DataFrame, kind: str, countries: list[str], blocs: list[list[str]], year: int,
             panel_years: list[int] | None = None, policies: tuple[str, ...] = ("RTA",), sigma: float = 7.0,
             reference: str = "DEU", tariff: float = 0.25, method: str = "geppml") -> GEResult:
    """One scenario end to end: trade costs from the data, the counterfactual, the GE solution."""
    costs = estimate_costs(df, year, [p for p in policies if p in df.columns], panel_years)
    t_cfl, orientation, description = counterfactual(costs, kind, countries, blocs, tariff, sigma)
    return solve(costs, t_cfl, sigma, reference.upper(), orientation, description, method=method)
