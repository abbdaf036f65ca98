"""GE scenarios on the data users have: each scenario either runs or stops with one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from entrepot.errors import InputError
from entrepot.models import ge, gravity
from tests.conftest import shared_file

CASE = Path(__file__).resolve().parents[2] / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A small synthetic world's gravity.csv (30 countries, 2022-2025, embargo TUR-ISR from 2024)."""
    from entrepot.synth import Scenario, generate

    path = tmp_path_factory.mktemp("world") / "gravity.csv"
    generate(Scenario.default().replace(n_countries=30, n_products=10)).gravity.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def df(world: Path) -> pd.DataFrame:
    return gravity.load_dataset(world)


def edited(df: pd.DataFrame, tmp_path: Path, change) -> Path:
    out = df[["exporter", "importer", "year", "trade", "DIST", "CNTG", "LANG", "CLNY", "EMBARGO"]].copy()
    change(out)
    path = tmp_path / "gravity.csv"
    out.to_csv(path, index=False)
    return path


def test_lift_embargo_runs_on_the_last_year_with_the_scenario_sign(cli, world: Path) -> None:
    """The command that died with exit 134 (exp overflow, then a Rust panic in pyfixest)."""
    out = cli("scenario", "--data", world, "--lift-embargo", "TUR,ISR", "--json")
    assert out.exit_code == 0, out.output
    res = json.loads(out.output)
    assert res["year"] == 2025 and res["direction"].startswith("counterfactual relative to baseline")
    tur = next(r for r in res["countries"] if r["country"] == "TUR")
    assert tur["partial_exports_pct"] > 0 and tur["real_gdp_pct"] > 0
    assert res["policy_estimates"]["EMBARGO"] < 0 and res["settings"]["base_year"] == 2025


def test_case_scenarios_run_from_the_cli(cli, world: Path) -> None:
    for sid in ("rapprochement", "two-blocs", "us-managed-order"):
        out = cli("scenario", "--data", world, "--case", CASE, "--scenario", sid)
        assert out.exit_code == 0, (sid, out.output)
        assert "counterfactual relative to baseline" in out.output


def test_no_policy_dummy_costs_stay_finite(df: pd.DataFrame) -> None:
    """Without regressors pyfixest's fixef() comes back on the wrong scale; costs come from fitted values."""
    res = ge.simulate(df.drop(columns="EMBARGO"), "blocs", [], [["TUR", "IRN"], ["ISR", "EGY"]])
    values = res.table.drop(columns="country").to_numpy()
    assert np.isfinite(values).all() and res.converged
    assert res.table.set_index("country").loc["TUR", "conditional_exports_pct"] < 0


def test_costs_invariant_to_exporter_and_importer_factors(df: pd.DataFrame) -> None:
    """Costs are identified up to exporter and importer factors; the equilibrium does not depend on them."""
    costs = ge.estimate_costs(df, policies=["EMBARGO"])
    t_cfl, text = ge.counterfactual(costs, "lift_embargo", ["TUR", "ISR"])
    n = len(costs.countries)
    u, v = np.exp(np.linspace(-30, 30, n)), np.exp(np.linspace(20, -20, n))
    scaled = ge.Costs(costs.countries, costs.trade, costs.t_bln * np.outer(u, v), costs.t_bar, {}, {}, costs.year)
    a = ge.solve(costs, t_cfl, 7.0, "DEU", text, method="exact").table.drop(columns="country")
    b = ge.solve(scaled, t_cfl * np.outer(u, v), 7.0, "DEU", text, method="exact").table.drop(columns="country")
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), atol=1e-6)


def test_separated_embargo_is_prohibitive_and_can_be_lifted(df: pd.DataFrame, tmp_path: Path) -> None:
    """Trade exactly zero wherever the embargo applies: no finite estimate, so a prohibitive cost."""
    path = edited(df, tmp_path, lambda d: d.__setitem__("trade", d["trade"].where(d["EMBARGO"] == 0, 0.0)))
    res = ge.simulate(gravity.load_dataset(path), "lift_embargo", ["TUR", "ISR"], [])
    assert res.beta["EMBARGO"] == -np.inf and any("prohibitive" in n for n in res.notes)
    table = res.table.set_index("country")
    assert table.loc["TUR", "partial_exports_pct"] > 0 and np.isfinite(table.loc["TUR", "real_gdp_pct"])
    assert res.to_dict()["policy_estimates"]["EMBARGO"] is None


def test_covariate_costs(cli, world: Path, df: pd.DataFrame) -> None:
    res = ge.simulate(df, "lift_embargo", ["TUR", "ISR"], [], costs="covariates", terms="ln_DIST + CNTG + LANG + INTL")
    assert res.settings["formula"] == "trade ~ ln_DIST + CNTG + LANG + INTL + EMBARGO | exp_year + imp_year"
    assert res.table.set_index("country").loc["TUR", "partial_exports_pct"] > 0
    out = cli("scenario", "--data", world, "--blocs", "TUR,IRN;ISR,EGY", "--costs", "covariates", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["settings"]["cost_method"] == "covariates"
    bad = cli("scenario", "--data", world, "--blocs", "TUR;ISR", "--costs", "covariates", "--cost-terms", "ln_DIST,TARIFF")
    assert bad.exit_code == 2 and "not in the data: TARIFF" in bad.output
    wrong = cli("scenario", "--data", world, "--blocs", "TUR;ISR", "--costs", "gravity")
    assert wrong.exit_code == 2 and "--costs must be one of pair-fe, covariates" in wrong.output


@pytest.mark.parametrize(("args", "message"), [
    (("--lift-embargo", "TUR,SAU"), "not in the data's base year 2025: SAU"),
    (("--lift-embargo", "TUR,ISR", "--year", "1994"), "base year 1994 not in the data's years"),
    (("--remove-rta", "TUR,ISR"), "needs an RTA variable"),
    (("--lift-embargo", "TUR,ISR", "--policy", "TARIFF"), "not in the data: TARIFF"),
    (("--lift-embargo", "TUR,ISR", "--panel-years", "2024-2025"), "EMBARGO does not change within any country pair"),
    (("--lift-embargo", "TUR,ISR", "--year", "2023"), "no embargo between TUR and ISR in the base year 2023"),
    (("--blocs", "TUR,ISR;ISR,EGY"), "more than one bloc"),
    (("--blocs", "TUR;ISR", "--sigma", "1"), "sigma must be a number above 1"),
    (("--impose-embargo", "TUR,TUR"), "pair of two different countries"),
])
def test_scenarios_the_data_cannot_support_stop_with_one_line(cli, world: Path, args, message) -> None:
    out = cli("scenario", "--data", world, *args)
    assert out.exit_code == 2 and message in out.output, out.output
    assert len(out.output.strip().splitlines()) == 1


def test_policy_never_on_and_bad_values(cli, df: pd.DataFrame, tmp_path: Path) -> None:
    never = edited(df, tmp_path, lambda d: d.__setitem__("EMBARGO", 0))
    out = cli("scenario", "--data", never, "--lift-embargo", "TUR,ISR")
    assert out.exit_code == 2 and "EMBARGO is 0 in every observation" in out.output
    infinite = edited(df, tmp_path, lambda d: d.__setitem__("trade", d["trade"].where(d.index != 5, np.inf)))
    out = cli("scenario", "--data", infinite, "--lift-embargo", "TUR,ISR")
    assert out.exit_code == 2 and "gravity.csv:7: column trade:" in out.output
    cov = edited(df, tmp_path, lambda d: d.__setitem__("CNTG", d["CNTG"].where(d.index != 5, np.inf)))
    out = cli("scenario", "--data", cov, "--lift-embargo", "TUR,ISR", "--costs", "covariates", "--cost-terms", "CNTG")
    assert out.exit_code == 2 and "infinite values in CNTG" in out.output
    home = edited(df, tmp_path, lambda d: d.__setitem__("trade", d["trade"].where((d["exporter"] != "GRC") | (d["importer"] != "GRC"), 0)))
    out = cli("scenario", "--data", home, "--lift-embargo", "TUR,ISR")
    assert out.exit_code == 2 and "no intra-national flow in any year for GRC" in out.output
    gap = edited(df, tmp_path, lambda d: d.drop(index=d.index[(d["year"] == 2025)][:3], inplace=True))
    out = cli("scenario", "--data", gap, "--lift-embargo", "TUR,ISR")
    assert out.exit_code == 2 and "must have every exporter-importer pair" in out.output


def test_a_country_cut_off_has_no_equilibrium(df: pd.DataFrame) -> None:
    costs = ge.estimate_costs(df, policies=["EMBARGO"])
    t = costs.t_bln.copy()
    k = costs.countries.index("TUR")
    t[k, :] = 0
    with pytest.raises(InputError, match="cuts TUR off from every market"):
        ge.solve(costs, t, 7.0, "DEU")


def test_result_protocol(df: pd.DataFrame) -> None:
    res = ge.simulate(df, "lift_embargo", ["TUR", "ISR"], [])
    frame = res.to_frame()
    assert list(frame.columns) == ["country", *ge.COLUMNS]
    assert [r["country"] for r in res.to_dict()["countries"]] == list(frame["country"])
    text = res.summary()
    assert "TUR" in text and "ISR" in text and "counterfactual relative to baseline" in text
    assert len(res.plot().data) == 2
    assert res.settings["data"].endswith("gravity.csv") and res.settings["policies"] == ["EMBARGO"]
    est = gravity.estimate(df, "trade ~ ln_DIST + CNTG + LANG | exp_year + imp_year")
    assert est.fit is not None and list(est.to_frame()["term"]) == ["ln_DIST", "CNTG", "LANG"]
    assert "ln_DIST" in est.summary() and est.provenance.files == ("gravity.csv",) and est.provenance.sources == ("gravity",)
    assert res.provenance.files == ("gravity.csv",) and "gravity.csv" in res.provenance.cite() and "sigma 7" in res.basis()["model"]
    assert len(est.plot().data) == 1


def test_remove_rta_reads_the_same_way_round() -> None:
    """Removing NAFTA lowers Canada's exports; the book's orientation is the inverse ratio."""
    data = gravity.load_dataset(shared_file("data/agtpa/Chapter2Application2.dta"))
    res = ge.simulate(data, "remove_rta", ["CAN", "MEX", "USA"], [], 1994, gravity.parse_years("1986:2006:4"), ["RTA"])
    can = res.table.set_index("country").loc["CAN"]
    book = res.relative_to_counterfactual().set_index("country").loc["CAN"]
    assert can["conditional_exports_pct"] < 0 and book["conditional_exports_pct"] == pytest.approx(34.99, abs=0.01)


@pytest.fixture(scope="module")
def sectoral(df: pd.DataFrame, tmp_path_factory) -> Path:
    """The small world split into three sectors, each pair's shares fixed over the years."""
    rng = np.random.default_rng(3)
    pairs = df[["exporter", "importer"]].drop_duplicates()
    shares = rng.dirichlet(np.ones(3), len(pairs))
    parts = []
    for k, name in enumerate(("agri", "metals", "textiles")):
        part = df.merge(pairs.assign(share=shares[:, k]), on=["exporter", "importer"])
        parts.append(part.assign(trade=part["trade"] * part["share"], sector=name).drop(columns="share"))
    path = tmp_path_factory.mktemp("sectors") / "gravity.csv"
    pd.concat(parts)[["exporter", "importer", "year", "sector", "trade", "DIST", "CNTG", "LANG", "CLNY", "EMBARGO"]].to_csv(path, index=False)
    return path


def test_sectors_solved_at_once_equal_the_sector_by_sector_solve(sectoral: Path, cli) -> None:
    data = gravity.load_dataset(sectoral)
    res = ge.simulate_sectors(data, "lift_embargo", ["TUR", "ISR"], [])
    frame = res.to_frame()
    assert res.converged and res.sectors == ["agri", "metals", "textiles"]
    for s in res.sectors:
        part = data[data["sector"] == s]
        costs = ge.estimate_costs(part, policies=["EMBARGO"])
        t_cfl, _ = ge.counterfactual(costs, "lift_embargo", ["TUR", "ISR"])
        alone = ge.solve(costs, t_cfl, 7.0, "DEU", method="exact").table.set_index("country")
        mine = frame[frame["sector"] == s].set_index("country")[list(ge.COLUMNS)]
        np.testing.assert_allclose(mine.to_numpy(), alone[list(ge.COLUMNS)].to_numpy(), atol=1e-8)
    total = frame[frame["sector"] == "all"].set_index("country")
    assert total.loc["TUR", "full_exports_pct"] > 0 and np.isfinite(total["real_gdp_pct"]).all()
    assert "TUR" in res.summary() and len(res.plot().data) == 1
    out = cli("scenario", "--data", sectoral, "--case", CASE, "--scenario", "rapprochement", "--sector", "sector", "--json")
    assert out.exit_code == 0, out.output
    assert {r["sector"] for r in json.loads(out.output)["rows"]} == {"agri", "metals", "textiles", "all"}
    missing = cli("scenario", "--data", sectoral, "--lift-embargo", "TUR,ISR", "--sector", "industry")
    assert missing.exit_code == 2 and "no sector column 'industry'" in missing.output
