"""The `entrepot fetch` commands: what they print, and one line with exit code 2 when the source refuses."""

from __future__ import annotations

import json

from tests.conftest import DATA
from tests.fetch.conftest import Reply
from tests.fetch.test_comtrade import GET, fake_api

ERRORS = json.loads((DATA / "fetch" / "comtrade_errors.json").read_text())


def test_fetch_comtrade_prints_what_it_did(cli, server, cache, monkeypatch) -> None:
    monkeypatch.setenv("ENTREPOT_COMTRADE_URL", server.url)
    monkeypatch.setenv("COMTRADE_API_KEY", "k3y")
    server.route(GET, fake_api())
    args = ("fetch", "comtrade", "--reporter", "ISR,TUR", "--partner", "TUR,ISR", "--period", "2024-01:2024-03", "--freq", "M")
    res = cli(*args)
    assert res.exit_code == 0, res.output
    assert "1 downloaded" in res.output and "12 rows" in res.output
    again = cli(*args, "--json")
    payload = json.loads(again.output)
    assert payload["cached"] == 1 and payload["requests"] == 0 and payload["ingested"][0]["skipped"]
    assert cli("flows", "--reporter", "TUR", "--partner", "ISR", "--by", "month").exit_code == 0


def test_fetch_comtrade_bad_key_is_one_line(cli, server, cache, monkeypatch) -> None:
    monkeypatch.setenv("ENTREPOT_COMTRADE_URL", server.url)
    monkeypatch.setenv("COMTRADE_API_KEY", "wrong")
    server.route(GET, Reply(401, json.dumps(ERRORS["401"]).encode()))
    res = cli("fetch", "comtrade", "--reporter", "ISR", "--partner", "TUR", "--period", "2024-01", "--freq", "M")
    assert res.exit_code == 2
    assert res.output.startswith("error: Comtrade refused the API key (HTTP 401") and res.output.count("\n") == 1
    assert "Traceback" not in res.output


def test_fetch_baci_without_network_access_fails_cleanly(cli, cache, monkeypatch, no_network) -> None:
    # No base URL override: the real cepii.fr would be asked; the guard refuses it, and the user sees one line.
    monkeypatch.delenv("ENTREPOT_BACI_URL", raising=False)
    monkeypatch.setattr("time.sleep", lambda s: None)  # the retries' backoff
    res = cli("fetch", "baci", "--release", "V202501", "--hs", "HS17", "--no-ingest")
    assert res.exit_code == 2 and res.output.startswith("error: GET https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_HS17_V202501.zip")
    assert no_network and all("cepii" in r for r in no_network)
    no_network.clear()  # the attempt was this test's point
