import re

import pandas as pd
import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_file
from tests.conftest import shared_file
from tests.ingest.conftest import snapshot


def test_agtpa_stata_file(store) -> None:
    path = shared_file("data/agtpa/Chapter1Application1.dta")
    res = ingest_file(store, path, options={"value_scale": 1e6})
    assert res.rows == 99_981
    q = store.query(
        "SELECT count(*) n, count(DISTINCT reporter) c, sum((reporter = partner)::int) intra FROM flows"
    ).iloc[0]
    assert (q.n, q.c) == (99_981, 69) and q.intra > 0  # intra-national flows kept
    assert "ROU" in set(store.query("SELECT DISTINCT reporter FROM flows").reporter)  # AGTPA's ROM


def test_stata_bad_code_and_missing_column(store, tmp_path) -> None:
    good = {"exporter": ["TUR", "ISR"], "importer": ["ISR", "XXX"], "year": [2020, 2020], "trade": [1.0, 2.0]}
    pd.DataFrame(good).to_stata(tmp_path / "g.dta", write_index=False)
    with pytest.raises(InputError, match=r"column obs\[2\]\.importer: unknown country code 'XXX'"):  # Stata's observation 2
        ingest_file(store, tmp_path / "g.dta")
    pd.DataFrame({"exporter": ["TUR"], "importer": ["ISR"], "year": [2020]}).to_stata(tmp_path / "h.dta", write_index=False)
    with pytest.raises(InputError, match="missing column"):
        ingest_file(store, tmp_path / "h.dta")
    assert snapshot(store) == (0, 0)


def test_generic_csv_with_toml_mapping(store, write) -> None:
    mapping = write(
        "map.toml",
        '[columns]\nreporter = "Exporter"\npartner = "Importer"\nyear = "Year"\nvalue_usd = "Value (kUSD)"\n'
        'product = "HS"\n[constants]\nflow = "export"\nvalue_scale = 1000\ncountries = "name"\nhs_rev = "HS17"\n',
    )
    path = write("my.csv", 'Exporter,Importer,Year,HS,Value (kUSD)\nTürkiye,Greece,2024,7208,"1,250.5"\nTurkey,Georgia,2024,72,3\n')
    ingest_file(store, path, "csv", {"map": str(mapping)})
    rows = store.query("SELECT partner, product, product_level, value_usd FROM flows ORDER BY partner")
    assert rows.values.tolist() == [["GEO", "72", 2, 3000.0], ["GRC", "7208", 4, 1_250_500.0]]


def test_generic_csv_inline_mapping_and_errors(store, write) -> None:
    path = write("m.csv", "rep,par,per,fl,val\nTUR,ISR,2024-05,export,10\nTUR,ISR,2024-13,export,10\n")
    spec = "reporter=rep,partner=par,period=per,flow=fl,value_usd=val"
    with pytest.raises(InputError, match=r":3: column per: unreadable period '2024-13'"):
        ingest_file(store, path, "csv", {"map": spec})
    with pytest.raises(InputError, match="mapping lacks flow"):
        ingest_file(store, path, "csv", {"map": "reporter=rep,partner=par,period=per,value_usd=val"})
    with pytest.raises(InputError, match="needs a column mapping"):
        ingest_file(store, path, "csv")
    assert snapshot(store) == (0, 0)


@pytest.mark.parametrize(("column", "values", "expected"), [
    ("year", [2020, 2020.5, 2020], r"^error: bad\.dta: column obs\[2\]\.year: year is not a whole number: 2020\.5$"),
    ("trade", [1.0, 2.0, -3.0], r"^error: bad\.dta: column obs\[3\]\.trade: negative value '-3\.0'$"),
    ("importer", ["ISR", "TUR", "ISR"], r"^error: bad\.dta: the same observation twice \(2020, TUR, ISR, export, TOTAL\) "
                                        r"\(observation 1\), again on observation 3; a file must hold each observation once$"),
])
def test_stata_errors_name_file_observation_and_field_on_one_line(cli, tmp_path, column, values, expected) -> None:
    """A .dta has no lines: messages name the observation as Stata counts them (from 1), and the field."""
    frame = pd.DataFrame({"exporter": ["TUR", "GRC", "TUR"], "importer": ["ISR", "TUR", "DEU"], "year": [2020] * 3, "trade": [1.0, 2.0, 3.0]})
    frame[column] = values
    frame.to_stata(tmp_path / "bad.dta", write_index=False)
    (tmp_path / "cut.dta").write_bytes((tmp_path / "bad.dta").read_bytes()[:300])
    for name, pattern in (("bad.dta", expected), ("cut.dta", r"^error: cut\.dta: not a readable Stata file: [^\n]+$")):
        out = cli("ingest", tmp_path / name)
        assert out.exit_code == 2 and "Traceback" not in out.output
        assert re.match(pattern, out.output.strip().replace(str(tmp_path) + "/", "")), out.output
