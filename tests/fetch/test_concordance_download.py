"""The UNSD correspondence table downloaded from a local server that answers as UNSD's web server does:
the real table (read from ../shared/concordance, served as an .xlsx), cached once, resumed after a cut,
and a bad answer (a 404 page, an HTML page with status 200, the server down) as one line, nothing cached."""

from __future__ import annotations

import pytest

from entrepot import concordance
from entrepot.errors import InputError
from tests.conftest import shared_file
from tests.fetch.conftest import Reply, ranged

NAME = "HS2022toHS2017ConversionAndCorrelationTables.xlsx"
PATH = f"/unsd/classifications/Econ/tables/{NAME}"  # concordance.URL's path
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_FOUND = (b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"><html><head><title>404 - File or directory not found.'
             b"</title></head><body><h2>404 - File or directory not found.</h2></body></html>")


@pytest.fixture
def unsd(server, cache, monkeypatch):
    """`concordance.URL` pointed at the local server, a fresh cache, short waits between retries."""
    monkeypatch.setattr(concordance, "URL", server.url + "/unsd/classifications/Econ/tables/{name}")
    monkeypatch.setattr(concordance, "BACKOFF", 0.01)
    return server


def table_bytes() -> bytes:
    return shared_file(f"concordance/{NAME}").read_bytes()


def test_downloaded_once_then_read_from_the_cache(unsd, cache) -> None:
    unsd.route(PATH, Reply(200, table_bytes(), {"Content-Type": XLSX, "ETag": '"1d9"', "Accept-Ranges": "bytes"}))
    first = concordance.load_table("HS22", "HS17")
    again = concordance.load_table("HS22", "HS17")
    assert len(unsd.hits_to(PATH)) == 1 and unsd.hits[0].headers["user-agent"].startswith("entrepot")
    assert first.path == again.path == cache / "concordance" / NAME
    assert (cache / "concordance" / NAME).read_bytes() == table_bytes()
    assert len(first.links) == len(again.links) > 15_000 and first.links.equals(again.links)
    assert sorted(p.name for p in (cache / "concordance").iterdir()) == [NAME]


def test_a_cut_download_resumes(unsd, cache) -> None:
    body = table_bytes()
    unsd.route(PATH, ranged(body, cut_first=len(body) // 3))
    table = concordance.load_table("HS22", "HS17")
    hits = unsd.hits_to(PATH)
    assert len(hits) == 2 and hits[1].headers["range"] == f"bytes={len(body) // 3}-"  # the rest only, not the whole file again
    assert table.path.read_bytes() == body


@pytest.mark.parametrize("reply, reason", [
    (Reply(404, NOT_FOUND, {"Content-Type": "text/html"}), "HTTP 404 .*File or directory not found"),
    (Reply(200, NOT_FOUND, {"Content-Type": "text/html"}), "cannot read the workbook"),  # a portal's error page with 200
    (Reply(503, b"busy", {"Content-Type": "text/plain"}), "HTTP 503 busy"),  # after its retries
])
def test_a_bad_answer_is_one_line_and_nothing_is_cached(unsd, cache, reply, reason) -> None:
    unsd.route(PATH, reply)
    with pytest.raises(InputError, match=f"cannot download {unsd.url}{PATH} \\({reason}.*\\); download it and give its path") as err:
        concordance.load_table("HS22", "HS17")
    assert "\n" not in str(err.value)
    assert not (cache / "concordance").exists() or not list((cache / "concordance").iterdir())  # nothing half-written


def test_the_server_down(cache, monkeypatch) -> None:
    monkeypatch.setattr(concordance, "URL", "http://127.0.0.1:9/tables/{name}")  # the discard port: nothing listens
    monkeypatch.setattr(concordance, "BACKOFF", 0.01)
    with pytest.raises(InputError, match=r"cannot download http://127.0.0.1:9/tables/HS2022toHS2012.*ConnectError.*give its path"):
        concordance.load_table("HS22", "HS12")
