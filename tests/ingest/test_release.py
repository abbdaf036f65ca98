"""BACI releases as downloaded (folder, zip, .gz, .7z, a glob of the folder), with the release's own
country and product tables, checked row by row against the real files in ../shared/real/baci."""

import csv
import gzip
import shutil
import zipfile

import py7zr
import pytest

from entrepot.errors import InputError
from entrepot.io.baci import code_table
from entrepot.store.ingest import ingest_paths
from tests.conftest import shared_file
from tests.ingest.conftest import snapshot

TRADE = "real/baci/dersblog_excerpt/BACI_HS22_Y2022_V202401b.csv"


@pytest.fixture
def release(tmp_path):
    """A BACI release folder as CEPII ships it: trade file, country and product tables, Readme."""
    folder = tmp_path / "BACI_HS22_V202401b"
    folder.mkdir()
    shutil.copy(shared_file(TRADE), folder)
    shutil.copy(shared_file("real/baci/oyoobin_country_codes_V202501.csv"), folder / "country_codes_V202401b.csv")
    shutil.copy(shared_file("real/baci/oyoobin_product_codes_HS22_V202501.csv"), folder / "product_codes_HS22_V202401b.csv")
    shutil.copy(shared_file("real/baci/oyoobin_Readme_V202501_annotated.txt"), folder / "Readme.txt")
    return folder


def baci_rows(path):
    with path.open(newline="") as fh:
        return [{k: v.strip() for k, v in r.items()} for r in csv.DictReader(fh)]


def country_iso(table_file, code, raw=False):
    """The release table's ISO3 for a code; 490 (Other Asia, nes: S19 or N/A) is Taiwan unless `raw`."""
    with table_file.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["country_code"]: r for r in csv.DictReader(fh)}
    iso = (rows[code].get("country_iso3") or rows[code]["iso_3digit_alpha"]).strip()
    return "TWN" if code == "490" and not raw else iso


def check_rows(store, source, iso):
    frame = store.query("SELECT reporter, partner, product, year, value_usd, quantity, hs_rev, flow FROM flows")
    assert len(frame) == len(source)
    got = {(r.reporter, r.partner, r.product, r.year): r for r in frame.itertuples()}
    for r in source:
        row = got[(iso(r["i"]), iso(r["j"]), r["k"].zfill(6), int(r["t"]))]
        assert row.value_usd == pytest.approx(float(r["v"]) * 1000)
        assert row.quantity == pytest.approx(float(r["q"])) and (row.hs_rev, row.flow) == ("HS22", "export")


def test_release_folder_goes_in_whole(store, release) -> None:
    results = ingest_paths(store, [release])
    kinds = {r.path.name: r.format for r in results}
    assert kinds == {"Readme.txt": "readme", "country_codes_V202401b.csv": "country_codes",
                     "product_codes_HS22_V202401b.csv": "product_codes", "BACI_HS22_Y2022_V202401b.csv": "baci"}
    codes = release / "country_codes_V202401b.csv"
    check_rows(store, baci_rows(release / "BACI_HS22_Y2022_V202401b.csv"), lambda c: country_iso(codes, c))
    products = store.query("SELECT * FROM products")
    assert len(products) == 5609 and products["product"].str.fullmatch(r"\d{6}").all()
    horses = products.set_index("product").loc["010121"]
    assert (horses.hs_rev, horses.description, horses.source) == ("HS22", "Horses: live, pure-bred breeding animals", "BACI V202401b")
    assert store.batches()["options"].str.contains('"release": "V202401b"').all()


@pytest.mark.parametrize("pack", ["zip", "7z"])
def test_release_archive(store, release, tmp_path, pack: str) -> None:
    archive = tmp_path / f"BACI_HS22_V202401b.{pack}"
    if pack == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for f in release.iterdir():
                zf.write(f, f"BACI_HS22_V202401b/{f.name}")
    else:
        with py7zr.SevenZipFile(archive, "w") as z7:
            z7.writeall(release, "BACI_HS22_V202401b")
    results = ingest_paths(store, [archive])
    trade = [r for r in results if r.format == "baci"]
    assert [str(r.path) for r in trade] == [f"{archive}!BACI_HS22_V202401b/BACI_HS22_Y2022_V202401b.csv"]
    assert store.batches().path.tolist() == [str(trade[0].path)]
    assert store.row_count() == 9 and len(store.query("SELECT * FROM products")) == 5609


def test_glob_of_the_folder_and_a_single_file_use_the_release_table(store, release) -> None:
    ingest_paths(store, sorted(release.iterdir()))
    assert store.row_count() == 9
    assert "TWN" not in set(store.query("SELECT partner FROM flows").partner)  # code 490 is absent from the excerpt
    results = ingest_paths(store, [release / "BACI_HS22_Y2022_V202401b.csv"])
    assert [r.format for r in results] == ["country_codes", "baci"] and results[1].skipped


def test_gz_file(store, release, tmp_path) -> None:
    gz = tmp_path / "BACI_HS22_Y2022_V202401b.csv.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write((release / "BACI_HS22_Y2022_V202401b.csv").read_bytes())
    assert ingest_paths(store, [gz])[0].rows == 9


def test_a_bad_file_in_a_release_leaves_the_store_unchanged(store, release) -> None:
    (release / "BACI_HS22_Y2023_V202401b.csv").write_text("t,i,j,k,v,q\n2022,4,20,010121,1,1\n")
    before = snapshot(store)
    with pytest.raises(InputError, match=r"BACI_HS22_Y2023_V202401b.csv:2: column t: a row of year 2022 in a file named for 2023"):
        ingest_paths(store, [release])
    assert snapshot(store) == before and store.query("SELECT count(*) AS n FROM products").n.item() == 0


def test_error_inside_an_archive_names_the_member(store, release, tmp_path) -> None:
    (release / "BACI_HS22_Y2022_V202401b.csv").write_text("t,i,j,k,v,q\n2022,4,20,1234567,1,1\n")
    archive = tmp_path / "rel.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in release.iterdir():
            zf.write(f, f.name)
    with pytest.raises(InputError, match=r"rel.zip!BACI_HS22_Y2022_V202401b.csv:2: column k: not an HS6 code .*1234567"):
        ingest_paths(store, [archive])


@pytest.mark.parametrize("k", ["12", "1234567", "0101A1"])
def test_wrong_length_hs_codes_are_rejected_not_padded_or_cut(store, release, k: str) -> None:
    (release / "BACI_HS22_Y2022_V202401b.csv").write_text(f"t,i,j,k,v,q\n2022,4,20,010121,1,1\n2022,4,20,{k},1,1\n")
    with pytest.raises(InputError, match=rf":3: column k: not an HS6 code .*{k}"):
        ingest_paths(store, [release])


def test_country_table_of_another_release_is_refused(store, release) -> None:
    (release / "country_codes_V202401b.csv").rename(release / "country_codes_V202301.csv")
    with pytest.raises(InputError, match="country table of release V202301 given for a trade file of release V202401b"):
        ingest_paths(store, [release])


@pytest.mark.parametrize("table, italy, other_asia", [
    ("real/baci/onecampaign_country_codes_V202201.csv", 381, "N/A"),  # BOM, CRLF, Italy 381
    ("real/baci/iabrilliant_country_codes_V202301.csv", 380, "N/A"),  # older header, CRLF
    ("real/baci/oyoobin_country_codes_V202501.csv", 380, "S19"),
])
def test_country_table_header_variants(table: str, italy: int, other_asia: str) -> None:
    path = shared_file(table)
    codes = code_table({"country_codes": path})
    assert codes[italy] == "ITA" and country_iso(path, "490", raw=True) == other_asia and codes[490] == "TWN"
    assert codes[58] == "BLX" and codes[711] == "SACU" and codes[530] == "ANT" and codes[891] == "SCG" and codes[736] == "SDN"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            n, iso = int(r["country_code"]), (r.get("country_iso3") or r["iso_3digit_alpha"]).strip()
            if n not in (58, 490, 697, 711, 849):  # BACI's ISO column names a member (BEL for Belgium-Luxembourg) or N/A
                assert codes[n] == iso, (n, iso)


def test_renamed_pandas_subset_with_hs_rev(store) -> None:
    path = shared_file("real/baci/oyoobin_baci_85_only_pandas_subset.csv")
    with pytest.raises(InputError, match="--hs-rev"):
        ingest_paths(store, [path])
    ingest_paths(store, [path], options={"hs_rev": "HS22", "country_codes": shared_file("real/baci/oyoobin_country_codes_V202501.csv")})
    codes = shared_file("real/baci/oyoobin_country_codes_V202501.csv")
    source = baci_rows(path)
    frame = store.query("SELECT reporter, partner, product, value_usd FROM flows")
    assert len(frame) == len(source)
    got = {(r.reporter, r.partner): r.value_usd for r in frame.itertuples()}
    for r in source:
        assert got[(country_iso(codes, r["i"]), country_iso(codes, r["j"]))] == pytest.approx(float(r["v"]) * 1000)


def test_readmes_alone_are_recognised(store, release) -> None:
    for readme in ("real/baci/onecampaign_baci_readme_V202201.txt", "real/baci/oyoobin_Readme_V202501_annotated.txt"):
        assert [r.format for r in ingest_paths(store, [shared_file(readme)])] == ["readme"]
    assert snapshot(store) == (0, 0)


def test_cli_release_folder_and_notes(cli, release) -> None:
    result = cli("ingest", release)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("Readme.txt: readme: recognised, nothing to store")
    assert any("product table: 5,609 descriptions kept for reports" in line for line in lines)
    assert lines[-1].startswith(f"{release}/BACI_HS22_Y2022_V202401b.csv: baci, release V202401b, 9 rows (batch ")


def test_cli_missing_folder_is_one_line(cli, tmp_path) -> None:
    result = cli("ingest", tmp_path / "nowhere")
    assert result.exit_code == 2 and "no such file or folder" in result.output and result.output.strip().count("\n") == 0


@pytest.mark.parametrize("args, expected", [
    (["--value-scale", "nan"], "--value-scale nan: must be a positive finite number"),
    (["--value-scale", "-1000"], "--value-scale -1000.0: must be a positive finite number"),
    (["--hs-rev", "HS2017"], "--hs-rev 'HS2017': choose from HS92"),
    (["--countries", "nowhere.csv"], "nowhere.csv: --countries: no such file"),
])
def test_impossible_options_are_one_line(cli, release, args, expected: str) -> None:
    result = cli("ingest", release, *args)
    assert result.exit_code == 2 and expected in result.output and result.output.strip().count("\n") == 0
