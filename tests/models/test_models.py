"""Structural gravity against the published tables of Yotov et al. (2016), computed here from the shared files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from entrepot.errors import InputError
from entrepot.models import ge, gravity
from tests.conftest import shared_file

# Table 1 column (4), from ../shared/data/agtpa/SOURCE.md
TABLE1 = {"ln_DIST": (-0.841, 0.032), "CNTG": (0.437, 0.083), "LANG": (0.247, 0.077), "CLNY": (-0.222, 0.116)}
# Table 4 rows from SOURCE.md. Its numbers in columns 4-7 are, in order, the factory-gate price, the
# inward resistance, real GDP and the outward resistance (the labels in SOURCE.md are permuted; see
# docs/validation.md), which is the order of the book's do-file output.
TABLE4 = {
    "CAN": (55.05, 34.99, 37.46, 1.84, -1.48, 3.40, -2.14),
    "MEX": (56.65, 41.64, 43.51, 1.30, -2.40, 3.81, -1.52),
    "USA": (18.33, 14.48, 14.88, 0.15, -0.18, 0.33, -0.17),
}
ORDER = ("partial_exports_pct", "conditional_exports_pct", "full_exports_pct", "factory_price_pct", "imr_pct", "real_gdp_pct", "omr_pct")


@pytest.fixture(scope="module")
def nafta() -> ge.GEResult:
    df = gravity.load_dataset(shared_file("data/agtpa/Chapter2Application2.dta"))
    costs = ge.estimate_costs(df, 1994, ["RTA"], gravity.parse_years("1986:2006:4"))
    t_cfl, text = ge.counterfactual(costs, "remove_rta", ["CAN", "MEX", "USA"])
    return ge.solve(costs, t_cfl, 7.0, "DEU", text)


def test_table1_ppml_column(cli) -> None:
    path = shared_file("data/agtpa/Chapter1Application1.dta")
    out = cli("estimate", "--data", path, "--years", "1986:2006:4", "--json")
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert res["nobs"] == 28_152
    got = {c["term"]: (round(c["estimate"], 3), round(c["std_error"], 3)) for c in res["coefficients"]}
    assert got == TABLE1


def test_table4_nafta(nafta: ge.GEResult) -> None:
    # The book reports the effects of NAFTA: baseline relative to the counterfactual without it.
    table = nafta.relative_to_counterfactual().set_index("country")
    for country, published in TABLE4.items():
        ours = table.loc[country, list(ORDER)].to_numpy()
        diff = np.abs(ours - np.array(published))
        if country == "USA":
            # The published partial effect for the USA (18.33) is not what the book's own procedure gives
            # (18.83) while CAN and MEX match to 0.01 with the same formula: a transcription slip.
            assert ours[0] == pytest.approx(18.83, abs=0.005)
            diff = diff[1:]
        assert diff.max() < 0.05, (country, dict(zip(ORDER, ours.round(2), strict=True)))
    assert nafta.converged


def test_balance_equals_pyfixest_ppml_with_offset() -> None:
    """The resistance solver gives the fitted values of a PPML with exporter/importer FE and an offset."""
    import pyfixest as pf

    rng = np.random.default_rng(1)
    n = 12
    t = np.exp(rng.normal(0, 1, (n, n)))
    X = rng.gamma(1.0, 1.0, (n, n)) * t * 100
    a, b = ge.balance(t, X.sum(1), X.sum(0), ref=0)
    df = pd.DataFrame({"x": X.ravel(), "exp": np.repeat(np.arange(n), n).astype(str),
                       "imp": np.tile(np.arange(n), n).astype(str), "off": np.log(t).ravel()})
    fit = pf.fepois("x ~ 1 | exp + imp", data=df, offset="off")
    np.testing.assert_allclose((a[:, None] * b[None, :] * t).ravel(), fit.predict(type="response"), rtol=1e-6)


def test_no_change_gives_zero_effects(nafta: ge.GEResult) -> None:
    n = len(nafta.countries)
    costs = ge.Costs(nafta.countries, np.ones((n, n)) + np.eye(n) * 5, np.ones((n, n)), np.ones((n, n)), {}, {}, 2000)
    res = ge.solve(costs, costs.t_bln.copy(), 7.0, "DEU", method="exact")
    assert np.abs(res.table.drop(columns="country").to_numpy()).max() < 1e-8


def test_exact_method_converges_and_reference_imr_fixed(nafta: ge.GEResult) -> None:
    df = gravity.load_dataset(shared_file("data/agtpa/Chapter2Application2.dta"))
    costs = ge.estimate_costs(df, 1994, ["RTA"], gravity.parse_years("1986:2006:4"))
    t_cfl, _ = ge.counterfactual(costs, "blocs", blocs=[["TUR", "QAT"], ["ISR", "JOR"]])
    res = ge.solve(costs, t_cfl, 7.0, "DEU", method="exact")
    table = res.table.set_index("country")
    assert res.converged and res.residual < 1e-10
    assert table.loc["DEU", "imr_pct"] == pytest.approx(0, abs=1e-9)
    assert table.loc["TUR", "partial_exports_pct"] < 0 and table.loc["ISR", "real_gdp_pct"] < 0


def test_bad_inputs(cli, tmp_path) -> None:
    path = shared_file("data/agtpa/Chapter1Application1.dta")
    missing = cli("estimate", "--data", path, "--formula", "trade ~ ln_DIST + TARIFF | exp_year + imp_year")
    assert missing.exit_code == 2 and "not in the data: TARIFF" in missing.output
    singular = cli("estimate", "--data", path, "--formula", "trade ~ ln_DIST + INTL | exp_year + imp_year", "--years", "2006")
    assert singular.exit_code == 2 and "singular design: INTL" in singular.output
    unknown = cli("scenario", "--data", shared_file("data/agtpa/Chapter2Application2.dta"), "--blocs", "TUR,SAU;ISR",
                  "--panel-years", "1990:1998:4")
    assert unknown.exit_code == 2 and "not in the data's base year 1998: SAU" in unknown.output
    with pytest.raises(InputError, match="needs an RTA variable"):
        ge.counterfactual(ge.Costs(["A", "B"], np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), {}, {}, 2000), "remove_rta", ["A", "B"])


CASE = Path(__file__).resolve().parents[2] / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"
TRUE_EVENT_STUDY = {"EMBARGO": -1.2, "EMBARGO_lead1": 0.0, "EMBARGO_lag1": -0.5}


def _event_world(seed: int, noise: float) -> pd.DataFrame:
    """Trade between 9 countries, 2019-2027, from exporter-year, importer-year and pair effects; TUR<->ISR
    (the case's embargo, both ways, from 2024) loses exp(-1.2) of its trade in 2024 and exp(-1.7) from 2025 on
    (the lag's -0.5 added), and nothing moves before (the lead's 0). With noise, Gamma noise of that
    coefficient of variation around the mean, as PPML assumes."""
    rng = np.random.default_rng(seed)
    codes = ["TUR", "ISR", "GRC", "BGR", "DEU", "FRA", "EGY", "JOR", "ITA"]
    rows = []
    exp_fe = {(c, y): rng.normal(0, 0.5) for c in codes for y in range(2019, 2028)}
    imp_fe = {(c, y): rng.normal(0, 0.5) for c in codes for y in range(2019, 2028)}
    pair_fe = {(a, b): rng.normal(20, 1) for a in codes for b in codes}
    for a in codes:
        for b in codes:
            for y in range(2019, 2028):
                log_mu = exp_fe[a, y] + imp_fe[b, y] + pair_fe[a, b]
                if {a, b} == {"TUR", "ISR"} and y >= 2024:
                    log_mu += -1.2 + (-0.5 if y >= 2025 else 0.0)
                mu = np.exp(log_mu)
                trade = rng.gamma(1 / noise**2, mu * noise**2) if noise else mu
                rows.append({"exporter": a, "importer": b, "year": y, "trade": trade, "DIST": 1000.0})
    return pd.DataFrame(rows)


def test_event_study_formula_and_dummies_recover_the_true_coefficients(tmp_path, cli) -> None:
    """The --leads/--lags dummies enter the formula (they used to join the data only), with pair fixed
    effects, and PPML gives back the coefficients the world was made with: exactly without noise, and
    near them with 5% noise on every flow."""
    import entrepot
    from entrepot.case import load_case

    exact = entrepot.estimate(_event_world(0, 0.0), case=CASE, leads=1, lags=1)
    assert exact.formula == "trade ~ EMBARGO + EMBARGO_lead1 + EMBARGO_lag1 | exp_year + imp_year + pair"
    got = exact.to_frame().set_index("term")["estimate"]
    for term, truth in TRUE_EVENT_STUDY.items():
        assert got[term] == pytest.approx(truth, abs=1e-6), term
    df, formula = gravity.event_study(gravity.prepare(_event_world(0, 0.0), tmp_path), load_case(CASE), None, 1, 1)
    pair = df[(df.exporter == "ISR") & (df.importer == "TUR")].set_index("year")  # both directions: the event is both ways
    assert list(pair.EMBARGO_lead1[pair.EMBARGO_lead1 == 1].index) == [2023, 2024, 2025, 2026, 2027]
    assert list(pair.EMBARGO_lag1[pair.EMBARGO_lag1 == 1].index) == [2025, 2026, 2027]
    assert df[(df.exporter == "GRC")][["EMBARGO", "EMBARGO_lead1", "EMBARGO_lag1"]].to_numpy().sum() == 0
    for seed in (1, 2, 3):  # seeds not looked at before writing the test
        path = tmp_path / f"world{seed}.csv"
        _event_world(seed, 0.05).to_csv(path, index=False)
        out = cli("estimate", "--data", path, "--case", CASE, "--leads", "1", "--lags", "1", "--json")
        assert out.exit_code == 0, out.output
        coefs = {c["term"]: c for c in json.loads(out.stdout)["coefficients"]}
        for term, truth in TRUE_EVENT_STUDY.items():
            # One treated pair: clustered intervals are too narrow to test coverage; the estimate is near.
            assert abs(coefs[term]["estimate"] - truth) < 0.15, (seed, term, coefs[term])


def test_event_study_on_one_treated_pair_says_its_intervals_are_not_to_be_trusted(tmp_path, cli) -> None:
    """TUR<->ISR is one cluster of pair_id: every embargo term is on in 1 of 36 clusters, and the result's notes
    (the CLI's too) say that its clustered errors are far too small, citing the literature; a dummy on in many
    clusters gets no note."""
    import entrepot

    res = entrepot.estimate(_event_world(1, 0.05), case=CASE, leads=1, lags=1)
    assert len(res.notes) == 1 and res.notes[0].startswith("EMBARGO, EMBARGO_lead1, EMBARGO_lag1: on in 1 of 36 clusters (pair_id)")
    assert "Cameron, Gelbach and Miller 2008" in res.notes[0] and "does not run on PPML" in res.notes[0]
    assert res.to_dict()["notes"] == list(res.notes)
    world = _event_world(1, 0.05)
    near = ["GRC", "BGR", "TUR", "ITA", "EGY"]
    world["NEAR"] = (world.exporter.isin(near) & world.importer.isin(near)).astype(int)  # on in 10 of the 36 pair clusters
    assert entrepot.estimate(world, "trade ~ NEAR | exp_year + imp_year", cluster="pair_id").notes == ()
    path = tmp_path / "world.csv"
    _event_world(1, 0.05).to_csv(path, index=False)
    out = cli("estimate", "--data", path, "--case", CASE)
    assert out.exit_code == 0 and "note: EMBARGO: on in 1 of 36 clusters (pair_id) only" in out.stdout


def test_event_study_user_formula_gains_the_terms_and_too_many_leads_is_an_error(tmp_path, cli) -> None:
    assert gravity.with_terms("trade ~ ln_DIST | exp_year", ["EMBARGO", "EMBARGO_lag1"]) == \
        "trade ~ EMBARGO + EMBARGO_lag1 + ln_DIST | exp_year"
    assert gravity.with_terms("trade ~ EMBARGO + ln_DIST", ["EMBARGO"]) == "trade ~ EMBARGO + ln_DIST"
    path = tmp_path / "world.csv"
    _event_world(0, 0.0).to_csv(path, index=False)
    out = cli("estimate", "--data", path, "--case", CASE, "--leads", "5")
    assert out.exit_code == 2 and "--leads: EMBARGO lead 5" in out.stderr and out.stderr.count("\n") == 1
    out = cli("estimate", "--data", path, "--lags", "1")
    assert out.exit_code == 2 and "give --case FILE" in out.stderr
