import json
import re

import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA
from tests.ingest.conftest import snapshot

PLUS = DATA / "comtrade" / "TUR_2023_2024_M_H5.csv"
LEGACY_HEADER = (
    "Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,Trade Flow,"
    "Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,2nd Partner Code,2nd Partner,"
    "2nd Partner ISO,Customs Proc. Code,Customs,Mode of Transport Code,Mode of Transport,Commodity Code,"
    "Commodity,Qty Unit Code,Qty Unit,Qty,Alt Qty Unit Code,Alt Qty Unit,Alt Qty,Netweight (kg),"
    "Gross weight (kg),Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$),Flag\r\n"
)


def legacy_row(flow: str = "1", partner: str = "792", value: str = "924000000", cls: str = "H4", cmd: str = "TOTAL",
               level: str = "0") -> str:
    return (
        f"{cls},2025,2025,2025,{level},0,{flow},Import,376,Israel,ISR,{partner},Türkiye,TUR,,,,,,,,{cmd},"
        f"All Commodities,1,No Quantity,,,,,,,{value},,,0\r\n"
    )


def test_comtrade_plus_csv(store) -> None:
    ingest_file(store, PLUS)
    rows = store.query("SELECT * FROM flows ORDER BY period, partner")
    assert len(rows) == 5
    sep = rows[(rows.period == "2023-09") & (rows.partner == "ISR")].iloc[0]
    assert (sep.freq, sep.month, sep.flow, sep.hs_rev, sep["product"]) == ("M", 9, "export", "HS17", "TOTAL")
    assert sep.value_usd == 460_300_000  # quoted, with thousands separators
    pse = rows[rows.partner == "PSE"].iloc[0]
    assert (pse["product"], pse.quantity, pse.unit) == ("720810", 1_500_000, "kg")
    assert rows[rows.partner == "TWN"].flow.item() == "import"  # 490 "Other Asia, nes"
    world = rows[rows.partner == "WLD"].iloc[0]
    assert not world.partner_is_country and world.value_usd != world.value_usd  # blank value kept as NULL


def test_comtrade_json(store, write) -> None:
    record = {
        "freqCode": "A", "period": "2025", "reporterCode": 376, "reporterISO": "ISR", "partnerCode": 792,
        "flowCode": "M", "classificationCode": "H6", "cmdCode": "TOTAL", "primaryValue": 924000000.0,
        "partner2Code": 0, "customsCode": "C00", "motCode": 0, "netWgt": None,
    }
    path = write("comtrade.json", json.dumps({"elements": [record], "count": 1}))
    assert ingest_file(store, path).format == "comtrade"
    row = store.query("SELECT * FROM flows").iloc[0]
    assert (row.reporter, row.partner, row.flow, row.hs_rev, row.value_usd) == ("ISR", "TUR", "import", "HS22", 924e6)


def test_legacy_bulk_csv_latin1(store, write) -> None:
    path = write("comtrade_legacy.csv", LEGACY_HEADER + legacy_row() + legacy_row("2", "384"), encoding="latin-1")
    ingest_file(store, path)
    rows = store.query("SELECT partner, flow, value_usd FROM flows ORDER BY flow")
    assert rows.values.tolist() == [["CIV", "export", 924e6], ["TUR", "import", 924e6]]


@pytest.mark.parametrize(
    "row, expected",
    [
        (legacy_row(value="12x"), r":3: column Trade Value \(US\$\): not a number: '12x'"),
        (legacy_row(partner="1234"), r":3: column Partner Code: unknown country code '1234'"),
        (legacy_row(flow="7"), r":3: column Trade Flow Code: unknown trade flow code '7'"),
        (legacy_row(cmd="10121", level="4"), r":3: column Commodity Code: HS code '10121' does not have the digits of its aggregate level"),
        (legacy_row(cmd="1234567"), r":3: column Commodity Code: not an HS code \(2, 4 or 6 digits\) or TOTAL: '1234567'"),
        (legacy_row(value='"1.234,56"'), r":3: column Trade Value \(US\$\): ambiguous decimal separator in '1.234,56'"),
        (legacy_row(cls="S3"), r":3: column Classification: classification 'S3' is not an HS revision"),
        ("H4,2025,2025,2025,0", r":3: expected 35 fields, found 5"),
    ],
)
def test_bad_rows_reject_whole_file(store, write, row: str, expected: str) -> None:
    path = write("legacy.csv", LEGACY_HEADER + legacy_row() + row)
    with pytest.raises(InputError, match=expected):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)


def test_breakdown_rows_are_left_out_with_a_note(store, write) -> None:
    text = PLUS.read_text(encoding="utf-8").splitlines()
    text.append(text[1].replace(",0,W00,World,H5", ",300,GRC,Greece,H5"))
    path = write("breakdown.csv", "\n".join(text) + "\n")
    res = ingest_file(store, path)
    assert res.rows == 5 and store.row_count() == 5
    assert len(res.notes) == 1 and "left out 1 breakdown rows" in res.notes[0] and "no total row" not in res.notes[0]


def test_rows_keep_their_own_hs_revision(store, write) -> None:
    path = write("legacy.csv", LEGACY_HEADER + legacy_row(cls="H4") + legacy_row(cls="H5", partner="384"))
    ingest_file(store, path)
    assert store.query("SELECT partner, hs_rev FROM flows ORDER BY partner").values.tolist() == [["CIV", "HS17"], ["TUR", "HS12"]]


def test_json_errors_name_the_original_record_after_breakdowns_are_left_out(store, write) -> None:
    base = {"freqCode": "A", "period": "2025", "reporterCode": 376, "partnerCode": 792, "flowCode": "M",
            "classificationCode": "H6", "cmdCode": "TOTAL", "primaryValue": 1.0, "partner2Code": 0, "customsCode": "C00", "motCode": 0}
    records = [base | {"partner2Code": 300}, base, base | {"partnerCode": 1234}]
    path = write("c.json", json.dumps({"data": records}))
    with pytest.raises(InputError, match=r"column data\[2\]\.partnerCode: unknown country code '1234'"):
        ingest_file(store, path)


@pytest.mark.parametrize("text", ['{"elapsedTime": "0.1 secs", "count": 0, "data": []}', '{"data": [], "count": 0}', "[]"])
def test_a_query_that_matched_nothing_says_so(cli, tmp_path, text) -> None:
    """The API's answer to a query with no results is recognised as Comtrade and refused as empty, not 'unknown format'."""
    (tmp_path / "c.json").write_text(text)
    out = cli("ingest", tmp_path / "c.json")
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert re.match(r"^error: c\.json: no records( \(its 'data' list is empty\))?: the query matched nothing",
                    out.output.strip().replace(str(tmp_path) + "/", "")), out.output


@pytest.mark.parametrize(("change", "expected"), [
    ({2: {"primaryValue": -5}}, r"^error: c\.json: column data\[2\]\.primaryValue: negative value '-5(\.0)?'$"),
    ({1: {"partnerCode": 9999}}, r"^error: c\.json: column data\[1\]\.partnerCode: unknown country code '9999'$"),
    ({2: {"partnerCode": 792}}, r"^error: c\.json: the same observation twice \(2025, ISR, TUR, import, TOTAL\) \(record 0\), "
                                r"again on record 2; a file must hold each observation once$"),
    ("cut", r"^error: c\.json:\d+: not valid JSON: [^\n]+$"),
    ("no value", r"^error: c\.json: column data\[1\]: the record lacks primaryValue, which the others have$"),
    ("number", r"^error: c\.json: column data\[1\]: not a record \(a JSON object\): 5$"),
])
def test_json_errors_name_file_record_and_field_on_one_line(cli, tmp_path, change, expected) -> None:
    """JSON has no lines that matter: messages name the record by its index under "data", and the field."""
    base = {"freqCode": "A", "period": "2025", "reporterCode": 376, "flowCode": "M", "classificationCode": "H6",
            "cmdCode": "TOTAL", "primaryValue": 1.0, "partner2Code": 0, "customsCode": "C00", "motCode": 0}
    records = [base | {"partnerCode": p} for p in (792, 300, 276)]
    whole = json.dumps({"data": records}, indent=1)
    if change == "no value":
        del records[1]["primaryValue"]
    elif change == "number":
        records[1] = 5
    edits = change if isinstance(change, dict) else {}
    text = whole[: len(whole) // 2] if change == "cut" else json.dumps({"data": [r | edits.get(i, {}) if isinstance(r, dict) else r
                                                                                  for i, r in enumerate(records)]})
    (tmp_path / "c.json").write_text(text)
    out = cli("ingest", tmp_path / "c.json")
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert re.match(expected, out.output.strip().replace(str(tmp_path) + "/", "")), out.output
