"""The public API (entrepot/__init__.py, api.py) and the result protocol every analysis follows (results.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import plotly.graph_objects as go
import pytest

import entrepot
from entrepot.errors import InputError

EVENT = "2024-05-02"


def test_import_is_lazy_and_the_names_are_all_there() -> None:
    out = subprocess.run([sys.executable, "-c", "import entrepot, sys; print(sorted(m for m in ('pandas', 'duckdb', 'numpy') "
                          "if m in sys.modules))"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert set(entrepot.__all__) == set(entrepot._EXPORTS) | {"__version__"}
    for name, (_, attribute) in entrepot._EXPORTS.items():
        value = getattr(entrepot, name)
        assert callable(value) if attribute else hasattr(value, "__path__"), name
    assert callable(entrepot.fetch.comtrade)
    with pytest.raises(AttributeError):
        entrepot.bilateral  # noqa: B018


def test_errors_name_parameters_and_are_value_errors() -> None:
    with entrepot.open() as st, pytest.raises(ValueError, match="^importer: 'XX' is not a known country code"):
        entrepot.flows(st, "TUR", "XX")
    err = InputError("must be A or M, not 'Q'", parameter="freq")
    assert str(err) == "freq: must be A or M, not 'Q'" and err.for_flag("--freq") == "--freq: must be A or M, not 'Q'"


def test_dataframes_go_in_like_files_checked_and_once() -> None:
    frame = pd.DataFrame({"reporter": ["TUR", "TUR", "ISR"], "partner": ["ISR", "ISR", "TUR"], "year": [2023, 2024, 2024],
                          "value_usd": [1e6, 2e6, 3e6]})
    with entrepot.open() as st:
        first, = entrepot.ingest(st, frame, flow="export", name="mine")
        again, = entrepot.ingest(st, frame, flow="export", name="mine")
        assert (first.rows, first.skipped, again.skipped) == (3, False, True) and st.row_count() == 3
        res = entrepot.flows(st, "TUR", "ISR")
        assert res.table.a_to_b_exporter.tolist() == [1e6, 2e6] and res.provenance.batches.batch_id.tolist() == [first.batch_id]
        bad = frame.assign(reporter=["TUR", "TXX", "ISR"])
        with pytest.raises(InputError, match=r"mine.csv:3: column reporter"):  # the frame's row 2 is line 3 of its CSV
            entrepot.ingest(st, bad, flow="export", name="mine")
        with pytest.raises(InputError, match="unknown column"):
            entrepot.ingest(st, frame.assign(colour="red"), flow="export")
        assert st.row_count() == 3


@pytest.fixture(scope="module")
def results(synth_world) -> dict:
    """Every analysis on the session's world, through the public API with the store given as a path."""
    path, truth = synth_world("routes")
    rr = entrepot.reroute(path, "TUR", "ISR", event=EVENT)
    return {
        "flows": entrepot.flows(path, "TUR", "ISR", freq="M"),
        "effect": entrepot.effect(path, "TUR", "ISR", event=EVENT, n_boot=99),
        "mirror": entrepot.mirror(path, "TUR", "ISR", event=EVENT),
        "reroute": rr,
        "cost": entrepot.cost(path, "TUR", "ISR", via=rr),
        "claims": entrepot.check_claims(path, _case()),
    }


def _case():
    from importlib import resources

    with resources.as_file(resources.files("entrepot.data").joinpath("cases/turkey-israel.toml")) as p:
        return entrepot.load_case(p)


@pytest.mark.parametrize("name", ["flows", "effect", "mirror", "reroute", "cost", "claims"])
def test_every_result_follows_the_protocol(results, name) -> None:
    res = results[name]
    frame = res.to_frame()
    assert list(frame.columns) == list(res.COLUMNS) and len(frame)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False, default=str))  # valid JSON, no NaN
    assert payload["provenance"]["sources"] == list(res.provenance.sources) and len(res.provenance.batches)
    assert isinstance(res.summary(), str) and res.summary() == str(res)
    if name != "claims":
        assert isinstance(res.plot(), go.Figure)
    with pytest.raises(AttributeError):  # results are frozen
        res.provenance = None


def test_cost_takes_the_reroute_result_itself(results) -> None:
    rr, detour = results["reroute"], results["cost"]
    assert list(detour.routes.country) == list(rr.flagged.country)
    assert detour.total_rerouted_usd == pytest.approx(rr.rerouted_value_usd)


def test_models_take_a_dataframe_or_a_file(synth_world) -> None:
    path, _ = synth_world("routes")
    data = pd.read_csv(path.parent / "gravity.csv")
    est = entrepot.estimate(data, "trade ~ ln_DIST | exp_year + imp_year", years=[2023, 2024])
    assert est.coefficients.term.tolist() == ["ln_DIST"] and est.coefficients.estimate.iloc[0] < 0
    sim = entrepot.scenario(path.parent / "gravity.csv", "lift_embargo", ["TUR", "ISR"], policies=["EMBARGO"])
    assert {"TUR", "ISR"} <= set(sim.table.country)


def test_report_from_the_public_api(synth_world, tmp_path) -> None:
    path, _ = synth_world("routes")
    out = entrepot.report(path, _case(), tmp_path / "r.html")
    assert out.read_text().count("<section>") == 9
