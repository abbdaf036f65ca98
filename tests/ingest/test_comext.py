import pytest

from entrepot.errors import InputError
from entrepot.io.comext import load_rates
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA
from tests.ingest.conftest import snapshot

SAMPLE = DATA / "comext" / "comext_GR_BG_2024.csv"
HEADER = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"


def test_reads_relational_view_and_converts_eur(store) -> None:
    ingest_file(store, SAMPLE)
    rows = store.query("SELECT * FROM flows ORDER BY period, reporter")
    rates = load_rates()
    aug = rows[rows.period == "2024-08"].set_index("flow")
    # '12,345,678' EUR at August 2024's ECB mean rate
    assert aug.loc["import", "value_usd"] == pytest.approx(12_345_678 * rates["2024-08"])
    assert (aug.loc["import", "value_native"], aug.loc["import", "currency"]) == (12_345_678, "EUR")  # exact in EUR
    assert (aug.loc["import", "reporter"], aug.loc["import", "partner"]) == ("GRC", "TUR")
    # two CN8 lines of one HS6 heading summed; quantity in 100 kg -> kg; HS revision of 2024
    assert (aug.loc["export", "product"], aug.loc["export", "quantity"], aug.loc["export", "hs_rev"]) == ("720810", 3000, "HS22")
    annual = rows[rows.reporter == "EU27"].iloc[0]
    assert not annual.reporter_is_country and annual.freq == "A"
    year_rate = rates[rates.index.str.startswith("2024")].mean()
    assert annual.value_usd == pytest.approx(40_000_000 * year_rate)
    assert rows[rows.reporter == "BGR"].value_usd.isna().all()  # ':' confidential kept blank


def test_user_rates_table_and_missing_period(store, write) -> None:
    rates = write("rates.csv", "period,usd_per_eur\n2024-08,2.0\n")
    path = write("c.csv", HEADER + "Greece,IL,Total,EXPORT,NORMAL,Aug. 2024,100\n")
    ingest_file(store, path, options={"rates": rates})
    assert store.query("SELECT value_usd FROM flows").value_usd.item() == 200
    path2 = write("c2.csv", HEADER + "Greece,IL,Total,EXPORT,NORMAL,Aug. 2024,100\nGreece,IL,Total,EXPORT,NORMAL,Sep. 2024,100\n")
    with pytest.raises(InputError, match=r":3: column PERIOD: no EUR/USD rate for 'Sep. 2024'"):
        ingest_file(store, path2, options={"rates": rates})


@pytest.mark.parametrize(
    "row, expected",
    [
        ("Greece,IL,Total,EXPORT,NORMAL,Aug. 2024,12a", r":3: column VALUE_IN_EUR: not a number: '12a'"),
        ("Atlantis,IL,Total,EXPORT,NORMAL,Aug. 2024,1", r":3: column REPORTER: unknown country code 'Atlantis'"),
        ("Greece,IL,Total,EXPORT,NORMAL,Augustus 2024,1", r":3: column PERIOD: unreadable period"),
        ("Greece,IL,Total,TRANSIT,NORMAL,Aug. 2024,1", r":3: column FLOW: flow 'TRANSIT'"),
        ("Greece,IL,720810,EXPORT,NORMAL,Aug. 2024,\"1.234,56\"", r":3: column VALUE_IN_EUR: ambiguous decimal separator"),
        ("Greece,IL,72081,EXPORT,NORMAL,Aug. 2024,1", r":3: column PRODUCT: not an HS/CN code or Total: '72081'"),
        ("Greece,IL,Total,EXPORT", r":3: expected 7 fields, found 4"),
    ],
)
def test_bad_rows_reject_whole_file(store, write, row: str, expected: str) -> None:
    path = write("c.csv", HEADER + "Greece,IL,720810,EXPORT,NORMAL,Aug. 2024,5\n" + row + "\n")
    with pytest.raises(InputError, match=expected):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)


def test_a_file_across_a_revision_change_keeps_each_years_revision(store, write) -> None:
    path = write("c.csv", HEADER + "Greece,IL,720810,EXPORT,NORMAL,Aug. 2021,5\nGreece,IL,720810,EXPORT,NORMAL,Aug. 2024,5\n")
    ingest_file(store, path)
    assert store.query("SELECT period, hs_rev FROM flows ORDER BY period").values.tolist() == [["2021-08", "HS17"], ["2024-08", "HS22"]]


def test_total_and_parts_of_procedures_would_double_count(store, write) -> None:
    path = write("c.csv", HEADER + "Greece,IL,Total,EXPORT,NORMAL,Aug. 2024,5\nGreece,IL,Total,EXPORT,TOTAL,Aug. 2024,5\n")
    with pytest.raises(InputError, match="double count"):
        ingest_file(store, path)


def test_year_with_months_missing_from_the_table_has_no_rate(store, write) -> None:
    rates = write("rates.csv", "period,usd_per_eur\n" + "".join(f"2023-{m:02d},1.1\n" for m in range(1, 12)))
    path = write("annual.csv", HEADER + "Greece,Türkiye,Total,IMPORT,Total,2023,1000\n")
    before = snapshot(store)
    with pytest.raises(InputError, match="no EUR/USD rate for '2023'"):
        ingest_file(store, path, options={"rates": rates})
    assert snapshot(store) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1"])
def test_bom_and_latin1_files_are_detected_and_read(store, write, encoding: str) -> None:
    path = write("c.csv", HEADER + 'Greece,Türkiye,Total,IMPORT,Total,Aug. 2024,"1,000"\n', encoding=encoding)
    res = ingest_file(store, path)
    assert (res.format, res.rows) == ("comext", 1)
    assert store.query("SELECT partner FROM flows").partner.tolist() == ["TUR"]


def test_cli_bad_row_is_one_line_exit_2(cli, write) -> None:
    path = write("c.csv", HEADER + "Greece,IL,Total,EXPORT,NORMAL,Aug. 2024,12a\n")
    result = cli("ingest", path)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "c.csv:2: column VALUE_IN_EUR: not a number" in result.output


@pytest.mark.parametrize("reporter, partner, flow, period, expected", [
    ("Deutschland", "Russland", "AUSFUHR", "Okt. 2024", ("DEU", "RUS", "export", "2024-10")),
    ("Allemagne", "Russie, Fédération de", "IMPORTATION", "févr. 2024", ("DEU", "RUS", "import", "2024-02")),
    ("Frankreich", "Vereinigte Staaten", "EINFUHR", "Jan.-Dez. 2023", ("FRA", "USA", "import", "2023")),
    ("DE-Germany", "US-United States", "1-IMPORT", "202352-Jan.-Dec. 2023", ("DEU", "USA", "import", "2023")),
    ("EU27_2020", "RU", "2", "202408", ("EU27", "RUS", "export", "2024-08")),  # the codes display
    ("EL", "XK", "1", "2024M08", ("GRC", "XKX", "import", "2024-08")),
])
def test_browser_in_german_french_and_code_labels(store, write, reporter, partner, flow, period, expected) -> None:
    path = write("c.csv", HEADER + f'"{reporter}","{partner}","Total","{flow}","Total","{period}",100\n')
    ingest_file(store, path)
    row = store.query("SELECT reporter, partner, flow, period FROM flows").iloc[0]
    assert tuple(row) == expected
