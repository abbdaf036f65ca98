import os
import subprocess
import sys

import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA, ROOT
from tests.ingest.conftest import snapshot

SAMPLE = DATA / "baci" / "BACI_HS17_Y2022_V202401.csv"
CODES = DATA / "baci" / "country_codes_V202401.csv"
HEADER = "t,i,j,k,v,q\n"


def test_reads_real_shaped_baci(store) -> None:
    res = ingest_file(store, SAMPLE)
    assert (res.format, res.rows) == ("baci", 6)
    rows = store.query("SELECT * FROM flows ORDER BY value_usd DESC")
    top = rows.iloc[0]
    # v in thousands of USD, product padded to 6 digits, HS revision from the file name
    assert (top.reporter, top.partner, top["product"], top.value_usd, top.hs_rev) == ("TUR", "ISR", "010121", 1_520_500.0, "HS17")
    assert rows.quantity.isna().sum() == 2  # 'NA' padded with spaces, and a blank q
    assert set(rows.currency) == {"USD"} and rows.value_native.isna().all()  # USD is value_usd itself
    assert set(rows.partner) == {"ISR", "TUR", "PSE", "TWN", "WLD"}
    world = rows[rows.partner == "WLD"].iloc[0]
    assert not world.partner_is_country  # an area keeps its own code and flag


def test_country_codes_file(store) -> None:
    ingest_file(store, SAMPLE, options={"country_codes": CODES})
    assert "TWN" in set(store.query("SELECT partner FROM flows").partner)  # BACI's S19


@pytest.mark.parametrize(
    "body, expected",
    [
        ("2022,792,376,010121,abc,1\n", r":3: column v: cannot read string \"abc\""),
        ("2022,792,999,010121,1.0,1\n", r":3: column j: unknown country code 999"),
        ("2022,792,376,01A121,1.0,1\n", r":3: column k: not an HS6 code"),
        ("2022,792,376,010121,1.0,x\n", r":3: column q: quantity is not"),
        ("2022,792,376,010121,1.0,inf\n", r":3: column q: quantity is not a finite non-negative number: inf"),
        ("2022,792,376,010121,1e300,1\n", r":3: column v: trade value above 1e\+15 USD"),
        ("2022,792,376,010121,1e400,1\n", r":3: column v: trade value is not a finite number"),
        ("2022,792,376,0101", r":3: expected 6 fields, found 4"),
        ("2022,792,376,,1.0,1\n", r":3: column k: not an HS6 code \(6 digits, or 5 without the leading zero\): \(blank\)$"),
        ("2022,,376,010121,1.0,1\n", r":3: column i: unknown country code \(blank\)$"),
        (",792,376,010121,1.0,1\n", r":3: column t: blank year$"),
    ],
)
def test_bad_rows_reject_whole_file(store, write, body: str, expected: str) -> None:
    path = write("BACI_HS17_Y2022_V202401.csv", HEADER + "2022,792,376,010121,1.0,1\n" + body)
    with pytest.raises(InputError, match=expected):
        ingest_file(store, path)
    assert snapshot(store) == (0, 0)


def test_wrong_header_with_forced_format(store, write) -> None:
    path = write("BACI_HS17_Y2022.csv", "year,exp,imp,hs6,value,qty\n2022,792,376,010121,1,1\n")
    with pytest.raises(InputError, match=r":1: expected header t,i,j,k,v,q"):
        ingest_file(store, path, "baci")


def test_hs_revision_needed(store, write) -> None:
    path = write("trade.csv", HEADER + "2022,792,376,010121,1,1\n")
    with pytest.raises(InputError, match="--hs-rev"):
        ingest_file(store, path)
    assert ingest_file(store, path, options={"hs_rev": "HS12"}).rows == 1


def test_a_baci_ingest_loads_neither_pandas_nor_coco(tmp_path) -> None:
    """pandas (and coco, built on it) cost a BACI ingest a tenth of its time: its path never imports them."""
    script = ("import sys; from entrepot.store import Store; from entrepot.store.ingest import ingest_file\n"
              f"with Store({str(tmp_path / 's.duckdb')!r}) as st:\n"
              f"    assert ingest_file(st, {str(SAMPLE)!r}, options={{'country_codes': {str(CODES)!r}}}).rows == 6\n"
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'country_converter', 'pyarrow'}))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert out.stdout.strip() == "[]"
