"""Comext bulk files (`full_v2_YYYYMM.dat`, in .7z as published), built here in the documented layout."""

import py7zr
import pytest

from entrepot.errors import InputError
from entrepot.io.comext import load_rates
from entrepot.store.ingest import ingest_paths
from tests.ingest.conftest import snapshot

V2 = ("REPORTER,PARTNER,TRADE_TYPE,PRODUCT_NC,PRODUCT_SITC,PRODUCT_CPA21,PRODUCT_BEC,PRODUCT_BEC5,PRODUCT_SECTION,"
      "FLOW,STAT_PROCEDURE,SUPPL_UNIT,PERIOD,VALUE_EUR,VALUE_NAC,QUANTITY_KG,QUANTITY_SUPPL_UNIT\n")
ROWS = [  # reporter, partner, CN8, flow, procedure, period, EUR, kg
    ("DE", "RU", "72081000", "2", "1", "202401", "1000", "500"),
    ("DE", "RU", "72081000", "2", "2", "202401", "200", "100"),  # inward processing: part of the same flow
    ("DE", "RU", "72081090", "2", "1", "202401", "300", "50"),  # another CN8 of heading 720810
    ("GR", "TR", "8542XXXX", "1", "1", "202401", "700", ""),  # confidential below HS4
    ("FR", "XI", "01012100", "1", "1", "202401", "50", "10"),  # Northern Ireland after Brexit
    ("IT", "QS", "99300000", "2", "1", "202401", "9", "1"),  # chapter 99: special code, not goods
]


def dat(rows, header=V2) -> str:
    def line(r):
        rep, par, cn, flow, proc, period, eur, kg = r
        return f"{rep},{par},E,{cn},00000,00000,41,41,XV,{flow},{proc},,{period},{eur},{eur},{kg},0\n"
    return header + "".join(line(r) for r in rows)


def test_bulk_file_summed_to_hs6_and_converted(store, write) -> None:
    res = ingest_paths(store, [write("full_v2_202401.dat", dat(ROWS))])[0]
    assert (res.format, res.rows) == ("comext-bulk", 3) and "left out 1 rows of CN chapter 99" in res.notes[0]
    rate = load_rates()["2024-01"]
    rows = store.query("SELECT * FROM flows").set_index(["reporter", "partner"])
    steel = rows.loc[("DEU", "RUS")]
    assert (steel["product"], steel.flow, steel.hs_rev, steel.period, steel.freq) == ("720810", "export", "HS22", "2024-01", "M")
    assert steel.value_usd == pytest.approx(1500 * rate) and steel.quantity == 650 and steel.unit == "kg"
    assert (steel.value_native, steel.currency) == (1500, "EUR")  # the EUR as published, exact
    chips = rows.loc[("GRC", "TUR")]
    assert (chips["product"], chips.product_level, chips.flow) == ("8542", 4, "import") and chips.value_usd == pytest.approx(700 * rate)
    assert not rows.loc[("FRA", "XI")].partner_is_country


def test_total_lines_stay_totals_beside_the_cn8_lines(store, write) -> None:
    """A TOTAL line (all products) is kept at level 0 and never summed into a heading: analyses read one level."""
    rows = [*ROWS[:3], ("DE", "RU", "TOTAL", "2", "1", "202401", "9000", "4000"), ("DE", "RU", "TOTAL", "2", "2", "202401", "1000", "")]
    assert ingest_paths(store, [write("full_v2_202401.dat", dat(rows))])[0].rows == 2
    total = store.query("SELECT * FROM flows WHERE product = 'TOTAL'").iloc[0]
    assert (total.product_level, total.value_native, total.quantity) == (0, 10000, 4000)
    assert store.query("SELECT value_native FROM flows WHERE product = '720810'").value_native.tolist() == [1500]


def test_annual_file_in_7z_as_published(store, tmp_path) -> None:
    inner = tmp_path / "full_v2_202352.dat"
    inner.write_text(dat([("NL", "CN", "85423100", "1", "1", "202352", "1000", "3")]))
    archive = tmp_path / "full_v2_202352.7z"
    with py7zr.SevenZipFile(archive, "w") as z7:
        z7.write(inner, inner.name)
    inner.unlink()
    res = ingest_paths(store, [archive])[0]
    assert str(res.path) == f"{archive}!full_v2_202352.dat" and res.rows == 1
    rates = load_rates()
    row = store.query("SELECT * FROM flows").iloc[0]
    assert (row.period, row.freq, row.hs_rev, row.reporter, row.partner) == ("2023", "A", "HS22", "NLD", "CHN")
    assert row.value_usd == pytest.approx(1000 * rates[rates.index.str.startswith("2023")].mean())


def test_v1_layout_by_column_names(store, write) -> None:
    header = ("DECLARANT,DECLARANT_ISO,PARTNER,PARTNER_ISO,TRADE_TYPE,PRODUCT_NC,PRODUCT_SITC,FLOW,STAT_REGIME,"
              "SUPP_UNIT,PERIOD,VALUE_IN_EUROS,QUANTITY_IN_KG,SUP_QUANTITY\n")
    path = write("full201912.dat", header + "004,DE,075,RU,E,72081000,67351,2,1,,201912,1000,500,0\n")
    ingest_paths(store, [path])
    row = store.query("SELECT * FROM flows").iloc[0]
    assert (row.reporter, row.partner, row["product"], row.hs_rev, row.period) == ("DEU", "RUS", "720810", "HS17", "2019-12")


@pytest.mark.parametrize("row, expected", [
    (("DE", "RU", "7208100", "2", "1", "202401", "1", "1"), r":3: column PRODUCT_NC: not a CN8 code .*'7208100'"),
    (("DE", "RU", "72081000", "3", "1", "202401", "1", "1"), r":3: column FLOW: flow '3' is not 1"),
    (("DE", "RU", "72081000", "2", "1", "202413", "1", "1"), r":3: column PERIOD: unreadable period '202413'"),
    (("DE", "ZZ", "72081000", "2", "1", "202401", "1", "1"), r":3: column PARTNER: unknown country code 'ZZ'"),
    (("DE", "RU", "72081000", "2", "1", "202401", '"1.234,5"', "1"), r":3: column VALUE_EUR: not a non-negative number: '1.234,5'"),
    (("DE", "RU", "72081000", "2", "1", "202401", "-5", "1"), r":3: column VALUE_EUR: not a non-negative number: '-5'"),
])
def test_bad_rows_reject_the_file(store, write, row, expected: str) -> None:
    path = write("full_v2_202401.dat", dat([ROWS[0], row]))
    with pytest.raises(InputError, match=expected):
        ingest_paths(store, [path])
    assert snapshot(store) == (0, 0)


def test_metadata_txt_beside_a_bulk_file_is_recognised(store, tmp_path) -> None:
    (tmp_path / "full_v2_202401.dat").write_text(dat(ROWS[:1]))
    (tmp_path / "FLOW.txt").write_text("1\tImport\n2\tExport\n")
    assert [r.format for r in ingest_paths(store, [tmp_path])] == ["readme", "comext-bulk"]


def test_the_same_line_twice_is_an_error_naming_both(store, write) -> None:
    path = write("full_v2_202401.dat", dat([ROWS[0], ROWS[2], ROWS[0]]))
    with pytest.raises(InputError, match=r":2: the same observation twice \(DE, RU, 72081000, 2, 202401\), again on line 4"):
        ingest_paths(store, [path])
    assert snapshot(store) == (0, 0)


def test_lines_differing_in_a_dropped_dimension_are_summed(store, write) -> None:
    """Trade type, procedure and supplementary unit are dimensions entrepot does not keep: summed over."""
    text = dat(ROWS[:1]) + "DE,RU,I,72081000,00000,00000,41,41,XV,2,1,,202401,40,40,4,0\n" \
                           "DE,RU,E,72081000,00000,00000,41,41,XV,2,1,NAR,202401,2,2,1,0\n"
    ingest_paths(store, [write("full_v2_202401.dat", text)])
    row = store.query("SELECT * FROM flows").iloc[0]
    assert (row.value_native, row.quantity) == (1042, 505)


def test_exponent_notation_reads(store, write) -> None:
    ingest_paths(store, [write("full_v2_202401.dat", dat([("DE", "RU", "72081000", "2", "1", "202401", "1.5E+03", "2e1")]))])
    row = store.query("SELECT * FROM flows").iloc[0]
    assert (row.value_native, row.quantity) == (1500, 20)


@pytest.mark.parametrize("value, expected", [
    ("1e400", r"number too large to be a trade figure: '1e400'"),
    ("inf", r"not a non-negative number: 'inf'"),
    ("NaN", r"not a non-negative number: 'NaN'"),
    ("1.5E", r"not a non-negative number: '1.5E'"),
])
def test_non_finite_values_reject_the_file(store, write, value: str, expected: str) -> None:
    path = write("full_v2_202401.dat", dat([ROWS[0], ("DE", "RU", "72081090", "2", "1", "202401", value, "1")]))
    with pytest.raises(InputError, match=r":3: column VALUE_EUR: " + expected):
        ingest_paths(store, [path])
    assert snapshot(store) == (0, 0)
