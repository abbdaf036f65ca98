"""The real Comtrade downloads in ../shared/real/comtrade, checked row by row against the source file.

Each test reads the source with the csv/json modules (not with entrepot) and compares every stored
row: reporter, partner, flow, period, product, HS revision and value.
"""

import csv
import json

import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file
from tests.conftest import shared_file
from tests.ingest.conftest import snapshot

REV = {"H0": "HS92", "H1": "HS96", "H2": "HS02", "H3": "HS07", "H4": "HS12", "H5": "HS17", "H6": "HS22"}
FLOW = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import",
        "1": "import", "2": "export", "3": "re-export", "4": "re-import"}


def rows_of(path, encoding="utf-8"):
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def stored(store):
    frame = store.query("SELECT reporter, partner, flow, period, product, hs_rev, value_usd, quantity, unit FROM flows")
    return {tuple(r[:6]): tuple(r[6:]) for r in frame.itertuples(index=False)}, len(frame)


def test_comtrade_plus_website_csv_trailing_commas_latin1(store) -> None:
    path = shared_file("real/comtrade/methakanb_thailand_TradeData.csv")
    source = rows_of(path, "latin-1")
    res = ingest_file(store, path)
    got, n = stored(store)
    assert res.rows == n == len(source) == 1178
    codes = {r["partnerCode"]: r["partnerISO"] for r in source}
    iso = {"0": "WLD", "490": "TWN", "899": "XNS", "97": "EU", "251": "FRA", "699": "IND", "757": "CHE", "842": "USA"}
    for r in source:
        partner = iso.get(r["partnerCode"], codes[r["partnerCode"]])
        key = ("THA", partner, "import", r["period"], r["cmdCode"], REV[r["classificationCode"]])
        value, quantity, unit = got[key]
        assert value == float(r["primaryValue"])
        if r["netWgt"]:
            assert (quantity, unit) == (float(r["netWgt"]), "kg")
    assert {k[5] for k in got} == {"HS12", "HS17", "HS22"}  # the revision in force each year, row by row


def test_comtrade_plus_services_file_is_refused(store, cli) -> None:
    path = shared_file("real/comtrade/nikolovska_TradeData_Services.csv")
    with pytest.raises(InputError, match="entrepot reads goods trade only"):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)
    result = cli("ingest", path)
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0


def test_comtrade_plus_api_json(store) -> None:
    path = shared_file("real/comtrade/comtradr_api_get_C_A_HS-60a6ad.json")
    records = json.loads(path.read_text())["data"]
    ingest_file(store, path)
    got, n = stored(store)
    assert n == len(records) == 4
    for r in records:
        key = ("CHN", r["partnerISO"], FLOW[r["flowCode"]], r["period"], "TOTAL", REV[r["classificationCode"]])
        assert got[key][0] == r["primaryValue"]


def test_legacy_csv_with_several_hs_revisions(store) -> None:
    path = shared_file("real/comtrade/itws_grain_ukraine_legacy_comtrade.csv")
    source = rows_of(path)
    ingest_file(store, path)
    got, n = stored(store)
    assert n == len(source) == 21
    for r in source:  # reporter 97 is the EU as Comtrade reports it (EU-28 here), an area, not a country
        value, quantity, unit = got[("EU", "UKR", "export", r["Year"], "1007", REV[r["Classification"]])]
        assert (value, quantity, unit) == (float(r["Trade Value (US$)"]), float(r["Netweight (kg)"]), "kg")
    assert len({k[5] for k in got}) == 5
    assert not store.query("SELECT DISTINCT reporter_is_country FROM flows").reporter_is_country.item()


def test_legacy_reduced_columns_and_chapters_without_leading_zero(store) -> None:
    path = shared_file("real/comtrade/sstaple15_us_cn_legacy_reduced_comtrade.csv")
    source = rows_of(path)
    ingest_file(store, path)
    got, n = stored(store)
    assert n == len(source) == 290
    for r in source:
        product = r["Commodity Code"].zfill(2)
        key = ("USA", "CHN", FLOW[r["Trade Flow Code"]], r["Year"], product, "HS17")
        assert got[key][0] == float(r["Trade Value (US$)"])
    assert {"01", "09", "97"} <= {k[4] for k in got}


def test_legacy_header_with_comtrade_plus_flow_letters_and_breakdowns(store) -> None:
    path = shared_file("real/comtrade/ntacyica_cement_comtrade.csv")
    source = rows_of(path)
    res = ingest_file(store, path)
    got, n = stored(store)
    totals = [r for r in source if r["2nd Partner Code"] == "0" and r["Customs Proc. Code"] == "C00"
              and r["Mode of Transport Code"] == "0" and r["Trade Flow"] in ("X", "M", "RX", "RM")]
    assert res.rows == n == len(totals) == 5039
    # Comtrade writes BEL for 58 Belgium-Luxembourg (before 1999): entrepot keeps it apart as BLX
    iso = {"490": "TWN", "58": "BLX"}
    for r in totals:
        reporter = iso.get(r["Reporter Code"], r["Reporter ISO"])
        value = got[(reporter, "WLD", FLOW[r["Trade Flow"]], r["Year"], "252310", REV[r["Classification"]])][0]
        assert value == float(r["Trade Value (US$)"])
    # the parts (by second partner, procedure, transport mode; DX/FM/XOP sub-flows) are left out, said so
    assert f"left out {len(source) - len(totals):,} breakdown rows" in res.notes[0]
    assert "16 of them, for 3 flows, have no total row" in res.notes[0] and "line 2382" in res.notes[0]


def test_legacy_flow_letters_need_a_known_letter(store, write) -> None:
    path = shared_file("real/comtrade/ntacyica_cement_comtrade.csv")
    lines = path.read_text(encoding="utf-8").splitlines()[:3]
    lines[2] = lines[2].replace(",0,M,36,", ",0,Q,36,")
    bad = write("cement.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"cement.csv:3: column Trade Flow: unknown trade flow 'Q'"):
        ingest_file(store, bad)


def test_comtrade_plus_bulk_file_tab_separated_txt_gz(store, tmp_path) -> None:
    import gzip

    source = rows_of(shared_file("real/comtrade/methakanb_thailand_TradeData.csv"), "latin-1")
    header = list(source[0])[:47]
    text = "\t".join(header) + "\n" + "".join("\t".join(r[h] for h in header) + "\n" for r in source)
    path = tmp_path / "COMTRADE-FINAL-CA764-2014-H4.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    from entrepot.store.ingest import ingest_paths

    res = ingest_paths(store, [path])
    assert [r.format for r in res] == ["comtrade"] and res[0].rows == len(source) == store.row_count()
    assert store.query("SELECT sum(value_usd) AS v FROM flows").v.item() == sum(float(r["primaryValue"]) for r in source)
