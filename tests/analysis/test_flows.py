"""Both sides' series (analysis/flows.py), read by the query layer's rule."""

import json

import pytest

from entrepot.analysis.flows import flows
from entrepot.analysis.mirror import mirror
from entrepot.errors import InputError
from tests.conftest import DATA, insert

COMTRADE = DATA / "comtrade" / "TUR_2023_2024_M_H5.csv"
KEYS = ("period", "reporter", "partner", "flow", "product", "value_usd", "source")


def add(store, rows: list[tuple]) -> None:
    """Insert rows given as (period, reporter, partner, flow, product, value, source)."""
    insert(store, [dict(zip(KEYS, r, strict=True)) for r in rows])


def test_both_sides_side_by_side(store) -> None:
    add(store, [
        ("2025", "TUR", "ISR", "export", "TOTAL", 5e6, "comtrade"),
        ("2025", "ISR", "TUR", "import", "TOTAL", 924e6, "comtrade"),
        ("2025", "ISR", "TUR", "export", "TOTAL", 11e6, "comtrade"),
    ])
    res = flows(store, "tur", "ISR")
    row = res.table.iloc[0]
    assert (row.period, row.a_to_b_exporter, row.a_to_b_importer, row.b_to_a_exporter) == ("2025", 5e6, 924e6, 11e6)
    assert res.labels()["a_to_b_importer"] == "ISR imports from TUR, as ISR reports"
    tidy = res.to_frame()
    assert list(tidy.columns) == list(res.COLUMNS) and len(tidy) == 3
    assert tidy.set_index("series").loc["a_to_b_importer", ["exporter", "importer", "reporter", "flow"]].tolist() == [
        "TUR", "ISR", "ISR", "import"]
    assert res.to_dict()["rows"][0] == {k: (None if v != v else v) for k, v in tidy.iloc[0].items()}


def test_never_double_counts_levels_or_sources(store) -> None:
    add(store, [
        ("2024", "TUR", "ISR", "export", "TOTAL", 100.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "7208", 30.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "720810", 20.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "720890", 10.0, "comtrade"),
        ("2024", "TUR", "ISR", "export", "TOTAL", 999.0, "baci"),
        ("2023", "TUR", "ISR", "export", "TOTAL", 55.0, "baci"),
        ("2024-05", "TUR", "ISR", "export", "TOTAL", 7.0, "comtrade"),
    ])
    # A country's own report before reconciled BACI, for the whole series: BACI's 2023 is not spliced
    # in (until 2026-12 each period chose its own source, giving [55, 100]).
    assert flows(store, "TUR", "ISR").table.a_to_b_exporter.tolist() == [100.0]
    assert flows(store, "TUR", "ISR").provenance.sources == ("comtrade",)
    assert flows(store, "TUR", "ISR", product="7208").table.a_to_b_exporter.tolist() == [30.0]
    assert flows(store, "TUR", "ISR", product="72").table.a_to_b_exporter.tolist() == [30.0]
    assert flows(store, "TUR", "ISR", freq="M").table.a_to_b_exporter.item() == 7.0


def test_baci_is_read_where_no_side_reports(store) -> None:
    add(store, [("2023", "TUR", "ISR", "export", "TOTAL", 55.0, "baci"), ("2024", "TUR", "ISR", "export", "TOTAL", 60.0, "baci")])
    res = flows(store, "TUR", "ISR")
    assert res.table.a_to_b_exporter.tolist() == [55.0, 60.0] and res.provenance.sources == ("baci",)
    # BACI's figure is no side's declaration: its label and basis say reconciled, not "as TUR reports"
    assert res.labels()["a_to_b_exporter"] == "TUR exports to ISR, BACI reconciled"
    assert "reconciled" in res.basis()["source"] and "CEPII BACI" in res.provenance.cite()
    with pytest.raises(InputError, match="one side only: TUR->ISR left out: ISR reports no imports from TUR"):
        mirror(store, "TUR", "ISR", cif_fob=1.05)  # not importer values of 0 and gaps of -1


def test_months_make_a_year_only_when_all_twelve_are_there(store) -> None:
    """Until 2026-12 a year with some months read as the sum of those months (a partial year)."""
    add(store, [(f"2023-{m:02d}", "TUR", "ISR", "export", "TOTAL", 1.0, "comtrade") for m in range(1, 13)]
        + [(f"2024-{m:02d}", "TUR", "ISR", "export", "TOTAL", 1.0, "comtrade") for m in range(1, 5)])
    assert flows(store, "TUR", "ISR").table.set_index("period").a_to_b_exporter.to_dict() == {"2023": 12.0}


def test_flows_cli_json_csv_and_bad_input(cli) -> None:
    assert cli("ingest", COMTRADE).exit_code == 0
    out = json.loads(cli("flows", "--reporter", "TUR", "--partner", "ISR", "--by", "month", "--json").output)
    assert [r["value_usd"] for r in out["rows"] if r["series"] == "a_to_b_exporter"] == [460_300_000, 1200]
    csv = cli("flows", "--reporter", "TUR", "--partner", "PSE", "--by", "month", "--csv", "-").output
    assert csv.splitlines()[0] == "period,series,exporter,importer,reporter,flow,value_usd,source"  # the CSV alone, no table
    assert "basis" in json.loads(cli("flows", "--reporter", "TUR", "--partner", "ISR", "--json").output)
    bad = cli("flows", "--reporter", "TUX", "--partner", "ISR")
    assert bad.exit_code == 2 and "--exporter: 'TUX' is not a known country code" in bad.output


def test_dotted_product_codes(store) -> None:
    add(store, [("2023", "TUR", "ISR", "export", "720810", 5.0, "comtrade"), ("2023", "TUR", "ISR", "export", "730000", 7.0, "comtrade")])
    assert flows(store, "TUR", "ISR", product="72.08").table.a_to_b_exporter.tolist() == [5.0]


def test_bad_product(store) -> None:
    with pytest.raises(InputError, match="product: must be an HS2, HS4 or HS6 code"):
        flows(store, "TUR", "ISR", product="7")


def test_exports_from_the_result(cli, tmp_path) -> None:
    """--parquet and --figure are the same for every analysis command (cli.common.outputs): the table
    rounded, the chart with its basis and citation in the footer."""
    import pandas as pd

    assert cli("ingest", COMTRADE).exit_code == 0
    out = cli("flows", "--reporter", "TUR", "--partner", "ISR", "--by", "month", "--parquet", tmp_path / "f.parquet",
              "--figure", tmp_path / "f.html")
    assert out.exit_code == 0, out.output
    frame = pd.read_parquet(tmp_path / "f.parquet")
    assert list(frame.columns)[:2] == ["period", "series"] and str(frame.value_usd.dtype) == "Int64"  # whole dollars
    page = (tmp_path / "f.html").read_text()
    assert "Computed with entrepot" in page and "frequency: monthly" in page
    bad = cli("flows", "--reporter", "TUR", "--partner", "ISR", "--figure", tmp_path / "f.gif")
    assert bad.exit_code == 2 and "--figure" in bad.output and ".png, .svg, .pdf or .html" in bad.output


@pytest.mark.browser
def test_figure_as_svg_through_kaleido(cli, tmp_path) -> None:
    assert cli("ingest", COMTRADE).exit_code == 0
    out = cli("flows", "--reporter", "TUR", "--partner", "ISR", "--figure", tmp_path / "f.svg")
    assert out.exit_code == 0, out.output
    svg = (tmp_path / "f.svg").read_text()
    assert svg.startswith("<svg") and "Computed with entrepot" in svg


def test_kaleido_run_before_its_page_loaded_is_retried(cli, tmp_path, monkeypatch) -> None:
    """Under load kaleido can evaluate its script before the page defined it ('kaleido_scopes is not defined'):
    the figure is tried again (three times at most) instead of failing; any other error is one line at once."""
    import plotly.graph_objects as go

    calls = []

    def flaky(fig, path, *args, **kwargs) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
        path.write_text("<svg/>")

    monkeypatch.setattr(go.Figure, "write_image", flaky)
    assert cli("ingest", COMTRADE).exit_code == 0
    out = cli("flows", "--reporter", "TUR", "--partner", "ISR", "--figure", tmp_path / "f.svg")
    assert out.exit_code == 0 and len(calls) == 2, out.output
    monkeypatch.setattr(go.Figure, "write_image", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no browser found")))
    out = cli("flows", "--reporter", "TUR", "--partner", "ISR", "--figure", tmp_path / "g.svg")
    assert out.exit_code == 2 and "cannot write g.svg: no browser found" in out.output
