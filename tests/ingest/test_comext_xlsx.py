"""Comext data-browser workbooks: the real files of the EU-Russia case, checked cell by cell against
the sheets read a second way (pandas with openpyxl, not the adapter's calamine), and bad input."""

import re
import warnings

import openpyxl
import pandas as pd
import pytest

from entrepot.errors import InputError
from entrepot.io import adapter_for
from entrepot.io.comext import load_rates
from entrepot.store.ingest import ingest_file, ingest_paths
from tests.conftest import shared_file
from tests.ingest.conftest import snapshot

CASE = "real/cases/eu-russia-2022"
# Eurostat's labels in these files -> ISO3, written out here so the test does not share the adapter's mapping.
ISO3 = {
    "Austria": "AUT", "Belgium (incl. Luxembourg 'LU' -> 1998)": "BEL", "Bulgaria": "BGR", "Croatia": "HRV",
    "Cyprus": "CYP", "Czechia": "CZE", "Denmark": "DNK", "Estonia": "EST", "Finland": "FIN", "Greece": "GRC",
    "Germany (incl. German Democratic Republic 'DD' from 1991)": "DEU", "Hungary": "HUN", "Ireland (Eire)": "IRL",
    "Italy (incl. San Marino 'SM' -> 1993)": "ITA", "Latvia": "LVA", "Lithuania": "LTU", "Luxembourg": "LUX",
    "France (incl. Saint Barthélemy 'BL' -> 2012; incl. French Guiana 'GF', Guadeloupe 'GP', Martinique 'MQ', "
    "Réunion 'RE' from 1997; incl. Mayotte 'YT' from 2014)": "FRA",
    "Malta": "MLT", "Netherlands": "NLD", "Poland": "POL", "Portugal": "PRT", "Romania": "ROU", "Slovakia": "SVK",
    "Slovenia": "SVN", "Spain (incl. Canary Islands 'XB' from 1997)": "ESP", "Sweden": "SWE",
    "Armenia": "ARM", "Belarus (Belorussia)": "BLR", "Georgia": "GEO", "Kazakhstan": "KAZ", "Kyrgyzstan": "KGZ",
    "Russian Federation (Russia)": "RUS", "Uzbekistan": "UZB",
}


def sheet_cells(path, sheet: str) -> tuple[str, str, dict]:
    """(product code, flow, {(reporter, partner, period): EUR}) of one sheet, read with pandas/openpyxl."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Workbook contains no default style"
        grid = pd.read_excel(path, sheet_name=sheet, header=None, engine="openpyxl", dtype=object)
    col_a = grid[0].astype(str)
    product = grid.iloc[col_a[col_a.str.startswith("PRODUCT")].index[0], 2]
    flow = grid.iloc[col_a[col_a == "FLOW"].index[0], 2]
    time_row = col_a[col_a == "TIME"].index[0]
    months = list(grid.iloc[time_row, 2:])
    cells = {}
    for r in range(time_row + 3, len(grid)):
        if pd.isna(grid.iloc[r, 0]):
            break
        for k, month in enumerate(months):
            v = grid.iloc[r, 2 + k]
            if v != ":":
                cells[(ISO3[grid.iloc[r, 0]], ISO3[grid.iloc[r, 1]], month)] = float(v)
    return re.search(r"\[(\w+)\]$", product).group(1), flow, cells


@pytest.mark.parametrize("workbook, sheets", [
    ("eurostat_xlsx/22_4624885_spreadsheet.xlsx", ["Sheet 1", "Sheet 17", "Sheet 33"]),
    ("eu_total_trade_4630244_spreadsheet.xlsx", ["Sheet 1", "Sheet 4"]),
])
def test_rows_match_the_sheets_cell_by_cell(store, workbook: str, sheets: list[str]) -> None:
    path = shared_file(f"{CASE}/{workbook}")
    assert adapter_for(path).name == "comext-xlsx"
    ingest_file(store, path)
    rates = load_rates()
    for sheet in sheets:
        code, flow, cells = sheet_cells(path, sheet)
        product = "TOTAL" if code == "TOTAL" else code
        rows = store.query("SELECT * FROM flows WHERE product = ? AND flow = ?", [product, flow.lower()])
        got = {(r.reporter, r.partner, r.period): r for r in rows.itertuples()}
        assert set(got) == set(cells), sheet  # every available cell is a row, and ':' cells none
        for key, eur in cells.items():
            row = got[key]
            assert (row.value_native, row.currency) == (eur, "EUR")
            assert row.value_usd == pytest.approx(eur * rates[key[2]])
            assert row.product_level == (0 if product == "TOTAL" else len(product))
            assert row.hs_rev == (None if product == "TOTAL" else "HS22" if key[2] >= "2022" else "HS17")
            assert (row.freq, row.source) == ("M", "comext-xlsx")


@pytest.mark.slow
def test_the_whole_case_folder(store) -> None:
    """All 22 workbooks: 2,338 product sheets, about 1.14 million available values (the README's count)."""
    folder = shared_file(f"{CASE}/eurostat_xlsx")
    results = ingest_paths(store, [folder])  # the folder, as `entrepot ingest FOLDER` takes it
    assert len(results) == 22 and all(r.format == "comext-xlsx" for r in results)
    counts = store.query("SELECT count(*) n, count(DISTINCT product) products, "
                         "count(DISTINCT product) FILTER (WHERE product_level = 8) cn8 FROM flows").iloc[0]
    assert counts.n == 1_141_670
    assert counts.cn8 == 2_219  # the README: 2,219 CN8 codes with data
    # CN8 codes kept whole; HS4 sheets kept as HS4; no summed rows
    assert set(store.query("SELECT DISTINCT product_level FROM flows").product_level) == {4, 8}
    assert ingest_file(store, results[0].path).skipped  # the same file twice is a no-op


def workbook(tmp_path, rows: list[list], *, product: str = "Sauces [21039090]", flow: str = "EXPORT",
             indicator: str = "VALUE_IN_EUROS", months=("2021-12", "2022-01")):
    """A small workbook in the data browser's layout, written with openpyxl."""
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.create_sheet("Structure")
    ws = wb.create_sheet("Sheet 1")
    for line in [["Data extracted on 21/01/2023 20:19:52 from [ESTAT]"],
                 ["Dataset: ", "EU trade since 1988 by HS2-4-6 and CN8 [DS-045409__custom_1]"],
                 ["Last updated: ", "13/01/2023 11:00"], [],
                 ["PRODUCT [PRODUCT]", None, product], ["FLOW", None, flow], ["INDICATORS", None, indicator], [],
                 ["TIME", "TIME", *months], ["FREQ (Labels)", "FREQ (Labels)", *["Monthly"] * len(months)],
                 ["REPORTER (Labels)", "PARTNER (Labels)"], *rows, [], ["Special value"], [":", "not available"]]:
        ws.append(line)
    path = tmp_path / "small.xlsx"
    wb.save(path)
    return path


def test_small_workbook_revisions_and_not_available(store, tmp_path) -> None:
    path = workbook(tmp_path, [["Austria", "Armenia", 100.0, ":"], ["France (incl. Saint Barthélemy 'BL' -> 2012)", "Georgia", ":", 7.0]])
    res = ingest_file(store, path)
    assert (res.format, res.rows) == ("comext-xlsx", 2)
    rows = store.query("SELECT reporter, partner, period, product, hs_rev, value_native FROM flows ORDER BY period")
    assert rows.values.tolist() == [["AUT", "ARM", "2021-12", "21039090", "HS17", 100.0], ["FRA", "GEO", "2022-01", "21039090", "HS22", 7.0]]


@pytest.mark.parametrize("kwargs, rows, expected", [
    ({}, [["Austria", "Armenia", "12a", 1.0]], r"small.xlsx \[Sheet 1\]:12: column C: not a number: '12a'"),
    ({}, [["Austria", "Atlantis", 1.0, 1.0]], r"small.xlsx \[Sheet 1\]:12: column B: unknown country 'Atlantis'"),
    ({"product": "Sauces"}, [["Austria", "Armenia", 1.0, 1.0]], r"\[Sheet 1\]:5: column C: no CN/HS code"),
    ({"flow": "TRANSIT"}, [["Austria", "Armenia", 1.0, 1.0]], r"\[Sheet 1\]:6: column C: flow 'TRANSIT'"),
    ({"indicator": "SUPPLEMENTARY_QUANTITY"}, [["Austria", "Armenia", 1.0, 1.0]], r":7: column C: indicator"),
    ({"months": ("2021-12", "Dec 2099x")}, [["Austria", "Armenia", 1.0, 1.0]], r"unreadable period 'Dec 2099x'"),
    ({}, [["Austria", "Armenia", 1.0, 1.0], ["Austria", "Armenia", 2.0, 2.0]], r"the same flow twice"),
    ({}, [["Austria", "Armenia", -5.0, 1.0]], r":12: column C: negative value"),
])
def test_bad_input_names_sheet_row_and_column_and_writes_nothing(store, tmp_path, kwargs, rows, expected) -> None:
    path = workbook(tmp_path, rows, **kwargs)
    with pytest.raises(InputError, match=expected):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)


def test_other_spreadsheets_are_not_taken_for_comext(tmp_path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["reporter", "partner", "value"])
    wb.save(tmp_path / "other.xlsx")
    with pytest.raises(InputError, match="cannot tell the format"):
        adapter_for(tmp_path / "other.xlsx")
