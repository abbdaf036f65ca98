"""Bad values in files whose rows are not one per line (Comext's summed CN8 lines, spreadsheet cells,
bulk files, WITS with blank lines) name the file's own line or cell and field, as the CSV readers do."""

import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file, ingest_paths
from tests.conftest import shared_file
from tests.ingest.conftest import snapshot
from tests.ingest.test_comext_bulk import ROWS, dat
from tests.ingest.test_comext_xlsx import workbook

ARMENIA = "real/comext/marylev_armenia_export_labels_Relational_View_2024-11-16T06_38_12.719Z.csv"
WITS = "real/wits/odibo1_WITS-Partner.csv"


def edited(relative: str, line: int, change, encoding: str = "utf-8") -> str:
    """The real file's text with its line `line` (1-based, header 1) changed by `change`."""
    lines = shared_file(relative).read_bytes().decode(encoding).splitlines(keepends=True)
    lines[line - 1] = change(lines[line - 1])
    return "".join(lines)


def last_field(value: str):
    return lambda text: text.rstrip("\r\n").rsplit(",", 1)[0] + f",{value}" + text[len(text.rstrip("\r\n")):]


def refused(store, path, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        ingest_paths(store, [path])
    assert snapshot(store) == (0, 0)


def test_comext_browser_value_names_its_line_and_column(store, write) -> None:
    path = write("armenia.csv", edited(ARMENIA, 5, last_field("9e18")))
    refused(store, path, r"armenia.csv:5: column VALUE_IN_EUR: trade value above 1e\+15 USD")


def test_comext_cn8_lines_summed_name_the_first_line(store, write) -> None:
    header = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\n"
    body = ("Germany,Armenia,85423190,EXPORT,Total,Aug. 2024,1\nGermany,Armenia,84713000,EXPORT,Total,Aug. 2024,2\n"
            "Germany,Armenia,85423110,EXPORT,Total,Aug. 2024,9e18\n")
    refused(store, write("cn8.csv", header + body),
            r"cn8.csv:2: column VALUE_IN_EUR: trade value above .* \(this line and 1 more summed into one flow\)")


def test_comext_the_same_line_twice_names_both(store, write) -> None:
    text = edited(ARMENIA, 7, lambda line: line + line)  # a line pasted twice: summed, it would count twice
    refused(store, write("armenia.csv", text), r"armenia.csv:7: the same observation twice \(2024-08, .*\), again on line 8")


def test_wits_year_and_value_name_the_line_and_column(store, write) -> None:
    year = edited(WITS, 7, lambda line: line.replace(",2018,", ",1800,"), "latin-1")
    refused(store, write("wits.csv", year, "latin-1"), r"wits.csv:7: column Year: implausible year \(before 1948")

    def value(line: str) -> str:
        fields = line.split(",")
        fields[6] = "1e308"  # thousand USD: overflows once scaled
        return ",".join(fields)
    refused(store, write("wits.csv", edited(WITS, 9, value, "latin-1"), "latin-1"),
            r"wits.csv:9: column Export \(US\$ Thousand\): trade value is not a finite number")


def test_wits_lines_after_a_blank_line_keep_their_numbers(store, write) -> None:
    text = edited(WITS, 3, lambda line: "\r\n" + line, "latin-1")  # a blank line 3: line 4 is the old line 3
    text = text.replace(",2018,", ",2200,", 2)  # the old lines 2 and 3: lines 2 and 4 now
    refused(store, write("wits.csv", text, "latin-1"), r"wits.csv:2: column Year: implausible year")
    lines = text.splitlines(keepends=True)
    text = "".join([lines[0], lines[1].replace(",2200,", ",2018,"), *lines[2:]])
    refused(store, write("wits.csv", text, "latin-1"), r"wits.csv:4: column Year: implausible year")


def test_spreadsheet_cell_names_sheet_row_and_column(store, tmp_path) -> None:
    path = workbook(tmp_path, [["Austria", "Armenia", 1.0, 1.0], ["Austria", "Georgia", 1.0, 9e18]])
    refused(store, path, r"small.xlsx \[Sheet 1\]:13: column D: trade value above 1e\+15 USD")
    path = workbook(tmp_path, [["Austria", "Armenia", 1.0, 1.0]], months=("2021-12", "1800-01"))
    refused(store, path, r"small.xlsx \[Sheet 1\]:9: column D: no EUR/USD rate for '1800-01'")


def test_bulk_file_names_the_first_line_of_a_summed_flow(store, write) -> None:
    rows = [*ROWS[:2], ("DE", "RU", "72081090", "2", "1", "202401", "9" + "0" * 18, "50"), *ROWS[3:]]
    refused(store, write("full_v2_202401.dat", dat(rows)),
            r"full_v2_202401.dat:2: column VALUE_EUR: trade value above .* \(this line and 2 more summed into one flow\)")


def test_good_files_still_go_in(store, write) -> None:
    assert ingest_file(store, write("armenia.csv", shared_file(ARMENIA).read_bytes())).rows == 30


def test_comtrade_with_breakdown_rows_left_out_names_the_line(store, write) -> None:
    # The real cement extract: its breakdown rows are left out, so rows are no longer lines.
    def value(line: str) -> str:
        fields = line.split(",")
        fields[-4] = "9" + "0" * 18  # Trade Value (US$)
        return ",".join(fields)
    text = edited("real/comtrade/ntacyica_cement_comtrade.csv", 3000, value)
    refused(store, write("cement.csv", text), r"cement.csv:3000: column Trade Value \(US\$\): trade value above 1e\+15 USD")


def test_generic_csv_after_a_blank_line_names_the_real_line_and_mapped_column(store, write) -> None:
    text = "when,from,to,dir,hs,usd\n2023,TUR,ISR,export,010121,1\n\n1800,TUR,ISR,export,010122,1\n"
    with pytest.raises(InputError, match=r"c.csv:4: column when: implausible year"):
        ingest_file(store, write("c.csv", text), "csv",
                    {"map": "period=when,reporter=from,partner=to,flow=dir,product=hs,value_usd=usd"})
    assert snapshot(store) == (0, 0)


def test_baci_after_blank_lines_names_the_real_line(store, write) -> None:
    """DuckDB's reader skips blank lines: an error found on the stored rows still names the file's line."""
    text = edited("real/baci/dersblog_excerpt/BACI_HS22_Y2022_V202401b.csv", 3, lambda line: "\n\n" + line)  # old line 3 is line 5
    lines = text.splitlines(keepends=True)
    lines[7] = lines[7].replace("4,31,", "4,999,", 1)  # line 8 (the old line 6): an unknown exporter code
    refused(store, write("BACI_HS22_Y2022_V202401b.csv", "".join(lines)), r"V202401b.csv:8: column j: unknown country code 999")


@pytest.mark.parametrize("change", [lambda line: "\r\n" + line, lambda line: line.replace("\n", "\r\n")])
def test_baci_with_a_crlf_line_among_lf_lines_names_it(store, write, change) -> None:
    """DuckDB's reader refuses mixed line endings without a line number: the message finds the line."""
    text = edited("real/baci/dersblog_excerpt/BACI_HS22_Y2022_V202401b.csv", 3, change)
    refused(store, write("BACI_HS22_Y2022_V202401b.csv", text),
            r"V202401b.csv:3: this line ends with CRLF where the header ends with LF \(mixed line endings\)")


def test_bulk_file_after_a_blank_line_names_the_real_lines(store, write) -> None:
    bad = ("DE", "RU", "72081000", "7", "1", "202401", "1", "1")
    def blank_line_3(rows) -> str:  # the rows on lines 2, 4 and 5
        header, first, rest = dat(rows).split("\n", 2)
        return f"{header}\n{first}\n\n{rest}"
    refused(store, write("full_v2_202401.dat", blank_line_3([ROWS[0], ROWS[2], bad])), r"full_v2_202401.dat:5: column FLOW: flow '7'")
    text = blank_line_3([ROWS[0], ROWS[2], ROWS[0]])
    refused(store, write("full_v2_202401.dat", text), r"full_v2_202401.dat:2: the same observation twice .*again on line 5")


def test_a_bom_before_a_latin1_file_reads_as_without(store, write) -> None:
    """An editor's UTF-8 BOM in front of a Latin-1 file (WITS's, with its 'Saint Barthélemy'): the same rows."""
    data = shared_file(WITS).read_bytes()
    assert ingest_file(store, write("wits.csv", b"\xef\xbb\xbf" + data)).rows == 248
