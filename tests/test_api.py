"""The public API: entrepot/__init__.py (lazy names) and api.py (open, ingest, the models, the report)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import entrepot
from entrepot.errors import InputError


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


def test_models_take_a_dataframe_or_a_file(synth_world) -> None:
    path, _ = synth_world("routes")
    data = pd.read_csv(path.parent / "gravity.csv")
    est = entrepot.estimate(data, "trade ~ ln_DIST | exp_year + imp_year", years=[2023, 2024])
    assert est.coefficients.term.tolist() == ["ln_DIST"] and est.coefficients.estimate.iloc[0] < 0
    sim = entrepot.scenario(path.parent / "gravity.csv", "lift_embargo", ["TUR", "ISR"], policies=["EMBARGO"])
    assert {"TUR", "ISR"} <= set(sim.table.country)


def test_report_from_the_public_api(synth_world, tmp_path) -> None:
    from importlib import resources

    path, _ = synth_world("routes")
    case = resources.files("entrepot.data").joinpath("cases/turkey-israel.toml")
    with resources.as_file(case) as case_file:
        out = entrepot.report(path, case_file, tmp_path / "r.html")
    assert out.read_text().count("<section>") == 12  # headline, ..., sources and how to cite
