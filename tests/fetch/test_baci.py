"""`entrepot fetch baci` against a local server that serves a release zip like cepii.fr."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from entrepot.errors import InputError
from entrepot.fetch import FetchError, baci
from tests.fetch.conftest import Reply, ranged

ZIP = "/BACI_HS17_V202501.zip"
TRADE = {year: "t,i,j,k,v,q\n" + "".join(f"{year},792,376,{100000 + n * 7919 % 899999},{n * 7.3 % 1000:.3f},NA\n"
                                          for n in range(300)) for year in (2020, 2021, 2022)}


def release_zip() -> bytes:
    """A small zip laid out as CEPII publishes a release: one trade file per year, code tables, Readme."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for year, text in TRADE.items():
            zf.writestr(f"BACI_HS17_Y{year}_V202501.csv", text)
        zf.writestr("country_codes_V202501.csv", "country_code,country_name,country_iso2,country_iso3\n"
                    "300,Greece,GR,GRC\n376,Israel,IL,ISR\n792,Türkiye,TR,TUR\n")
        zf.writestr("product_codes_HS17_V202501.csv", "code,description\n870323,Cars\n271019,Oils\n720839,Iron\n")
        zf.writestr("Readme.txt", "BACI V202501 (test release)\n")
    return out.getvalue()


def fetch(server, cache, **kw):
    return baci("V202501", "HS17", cache=cache, base_url=server.url, backoff=0.01, ingest=False, **kw)


def test_download_checks_and_caches(server, cache) -> None:
    body = release_zip()
    server.route(ZIP, ranged(body))
    res = fetch(server, cache)
    assert res.files[0].read_bytes() == body and res.downloaded == 1 and res.requests == 1
    checked = json.loads(res.files[0].with_name(res.files[0].name + ".checked.json").read_text())
    assert checked["size"] == len(body) and "country_codes_V202501.csv" in checked["members"]
    again = fetch(server, cache)
    assert again.cached == 1 and again.requests == 0 and len(server.hits) == 1  # a cache hit sends nothing


def test_a_cut_download_resumes_with_range(server, cache) -> None:
    body = release_zip()
    server.route(ZIP, ranged(body, cut_first=len(body) // 3))
    res = fetch(server, cache)
    assert res.files[0].read_bytes() == body
    first, second = server.hits_to(ZIP)
    assert "range" not in first.headers
    assert second.headers["range"] == f"bytes={len(body) // 3}-" and second.headers["if-range"] == '"v1"'


def test_a_download_interrupted_in_an_earlier_run_resumes(server, cache) -> None:
    body = release_zip()
    part = cache / "baci" / "BACI_HS17_V202501.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(body[:1000])
    part.with_name(part.name + ".json").write_text(json.dumps({"validator": '"v1"', "total": len(body)}))
    server.route(ZIP, ranged(body))
    assert fetch(server, cache).files[0].read_bytes() == body
    assert server.hits_to(ZIP)[0].headers["range"] == "bytes=1000-"


def test_a_changed_file_is_not_spliced(server, cache) -> None:
    body = release_zip()
    part = cache / "baci" / "BACI_HS17_V202501.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 1000)  # the start of an older upload
    part.with_name(part.name + ".json").write_text(json.dumps({"validator": '"v0"', "total": 5000}))
    server.route(ZIP, ranged(body, etag='"v1"'))  # If-Range fails: the server sends the whole new file
    assert fetch(server, cache).files[0].read_bytes() == body


def test_checksum_mismatch_discards_the_download(server, cache) -> None:
    body = bytearray(release_zip())
    start = body.index(b"BACI_HS17_Y2021") + 60  # inside the first member's compressed data
    body[start] ^= 0xFF
    server.route(ZIP, ranged(bytes(body)))
    with pytest.raises(FetchError, match="checksum mismatch|not a readable zip") as err:
        fetch(server, cache)
    assert "rerun" in str(err.value) and not list((cache / "baci").iterdir())


def test_a_wrong_sha256_discards_the_download(server, cache) -> None:
    server.route(ZIP, ranged(release_zip()))
    with pytest.raises(FetchError, match="SHA-256 .* does not match the expected 0000"):
        fetch(server, cache, sha256="0" * 64)
    assert not (cache / "baci" / "BACI_HS17_V202501.zip").exists()


def test_a_server_that_keeps_cutting_leaves_a_part_to_resume(server, cache) -> None:
    body = release_zip()
    server.route(ZIP, lambda hit: Reply(200, body, {"ETag": '"v1"'}, cut_after=100))
    with pytest.raises(FetchError, match="rerun to resume"):
        fetch(server, cache)
    assert (cache / "baci" / "BACI_HS17_V202501.zip.part").exists()


def test_not_found_is_one_line(server, cache) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        baci("V209901", "HS17", cache=cache, base_url=server.url, backoff=0.01, ingest=False)


def test_years_keep_only_those_trade_files(server, cache) -> None:
    server.route(ZIP, ranged(release_zip()))
    res = fetch(server, cache, years="2022")
    with zipfile.ZipFile(res.releases[0]) as zf:
        assert sorted(zf.namelist()) == ["BACI_HS17_Y2022_V202501.csv", "Readme.txt", "country_codes_V202501.csv",
                                         "product_codes_HS17_V202501.csv"]
        assert zf.read("BACI_HS17_Y2022_V202501.csv").decode() == TRADE[2022]
    with pytest.raises(InputError, match="has no year 2018, 2019; it holds 2020-2022"):
        fetch(server, cache, years="2018:2022")


@pytest.fixture
def small_blocks(monkeypatch):
    from entrepot.fetch._baci import RangeFile

    monkeypatch.setattr(RangeFile, "BLOCK", 512)  # the test zip is a few kB; a real one is read in 8 MB blocks


def test_years_read_only_their_members_with_range_requests(server, cache, small_blocks) -> None:
    body = release_zip()
    server.route(ZIP, ranged(body))
    res = fetch(server, cache, years="2021")
    gets = [h for h in server.hits_to(ZIP) if h.method == "GET"]
    assert gets and all("range" in h.headers for h in gets)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        other_years = sum(i.compress_size for i in zf.infolist() if "_Y2021_" not in i.filename and "_Y20" in i.filename)
    assert len(gets) * 512 < len(body) - other_years + 3 * 512  # the other years' bytes were not fetched
    with zipfile.ZipFile(res.releases[0]) as zf:
        assert zf.read("BACI_HS17_Y2021_V202501.csv").decode() == TRADE[2021]
        assert "BACI_HS17_Y2022_V202501.csv" not in zf.namelist() and "country_codes_V202501.csv" in zf.namelist()
    n = len(server.hits)
    assert fetch(server, cache, years="2021").cached == 1 and len(server.hits) == n  # a cache hit sends nothing


def test_years_resume_member_by_member(server, cache, small_blocks) -> None:
    body = release_zip()
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        offsets = {i.filename: i.header_offset for i in zf.infolist()}
    broken = (offsets["BACI_HS17_Y2021_V202501.csv"], offsets["BACI_HS17_Y2022_V202501.csv"])
    ok = ranged(body)
    state = {"down": True}

    def flaky(hit):  # the bytes of the 2021 member cannot be had, the rest can
        wanted = hit.headers.get("range", "")
        start = int(wanted.removeprefix("bytes=").split("-")[0]) if wanted else 0
        return Reply(500, b"down") if state["down"] and broken[0] <= start < broken[1] else ok(hit)

    server.route(ZIP, flaky)
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch(server, cache, years="2020:2021")
    assert [p.name for p in (cache / "baci").glob("*.parts/*.csv")] == ["BACI_HS17_Y2020_V202501.csv"]
    state["down"] = False
    res = fetch(server, cache, years="2020:2021")
    assert res.cached == 1 and res.downloaded == 4  # 2021 and the three companion files
    with zipfile.ZipFile(res.releases[0]) as zf:
        assert zf.read("BACI_HS17_Y2020_V202501.csv").decode() == TRADE[2020]
        assert zf.read("BACI_HS17_Y2021_V202501.csv").decode() == TRADE[2021]
        assert zf.testzip() is None


def test_a_cut_block_is_asked_again(server, cache, small_blocks) -> None:
    body = release_zip()
    ok = ranged(body)
    state = {"n": 0}

    def cut_once(hit):
        state["n"] += 1
        reply = ok(hit)
        return Reply(reply.status, reply.body, reply.headers, cut_after=10) if state["n"] == 4 else reply

    server.route(ZIP, cut_once)
    res = fetch(server, cache, years="2022")
    with zipfile.ZipFile(res.releases[0]) as zf:
        assert zf.read("BACI_HS17_Y2022_V202501.csv").decode() == TRADE[2022]


def test_years_without_range_support_download_the_whole_zip(server, cache) -> None:
    body = release_zip()
    server.route(ZIP, Reply(200, body, {"Content-Type": "application/zip"}))  # no Accept-Ranges
    res = fetch(server, cache, years="2022")
    assert res.files[0].read_bytes() == body
    with zipfile.ZipFile(res.releases[0]) as zf:
        assert "BACI_HS17_Y2021_V202501.csv" not in zf.namelist()


def test_a_corrupt_member_read_by_range_is_an_error(server, cache, small_blocks) -> None:
    body = bytearray(release_zip())
    start = body.index(b"BACI_HS17_Y2021") + 60
    body[start] ^= 0xFF
    server.route(ZIP, ranged(bytes(body)))
    with pytest.raises(FetchError, match="checksum mismatch or corrupt zip"):
        fetch(server, cache, years="2021")
    assert not list((cache / "baci").glob("*.parts"))


def test_bad_release_names() -> None:
    with pytest.raises(InputError, match="--hs must be one of"):
        baci("V202501", "HS19")
    with pytest.raises(InputError, match="--release looks like V202501"):
        baci("2025", "HS17")


def test_the_release_is_ingested_from_the_zip(server, cache, store_path) -> None:
    server.route(ZIP, ranged(release_zip()))
    res = baci("V202501", "HS17", cache=cache, base_url=server.url, store=store_path, years="2022")
    trade = [r for r in res.ingested if r.batch_id]  # the code tables and Readme are companions, not batches
    assert [r.rows for r in trade] == [300]
    from entrepot.store import Store

    with Store(store_path, read_only=True) as st:
        got = st.query("SELECT year, reporter, partner, count(*) AS n FROM flows GROUP BY ALL")
    assert got.values.tolist() == [[2022, "TUR", "ISR", 300]]
