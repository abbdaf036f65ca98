"""`entrepot fetch comtrade` against a local server that answers like comtradeapi.un.org."""

from __future__ import annotations

import json
import time

import pytest

from entrepot.fetch import FetchError, comtrade
from entrepot.fetch import _comtrade as comtrade_module
from tests.conftest import DATA, shared_file
from tests.fetch.conftest import Hit, Reply

GET = "/data/v1/get/C/M/HS"
PREVIEW = "/public/v1/preview/C/M/HS"
ERRORS = json.loads((DATA / "fetch" / "comtrade_errors.json").read_text())
CHAPTERS = ["27", "39", "72", "84", "87"]


def template() -> dict:
    """A record of the real recorded answer (comtradr's test data: China's imports, 2010, TOTAL)."""
    return json.loads(shared_file("real/comtrade/comtradr_api_get_C_A_HS-60a6ad.json").read_text())["data"][0]


def fake_api(value=lambda rep, par, flow, period, cmd: 1000.0 * int(period[-2:]) + int(rep) % 7):
    """Answer like the API: one record per reporter, partner, flow, period and product; cut at maxRecords."""
    base = template()

    def respond(hit: Hit) -> Reply:
        q = hit.query
        cmds = CHAPTERS if q["cmdCode"] == "AG2" else q["cmdCode"].split(",")
        data = []
        for rep in q["reporterCode"].split(","):
            for par in q.get("partnerCode", "0").split(","):
                if par == rep:
                    continue
                for flow in q["flowCode"].split(","):
                    for period in q["period"].split(","):
                        for cmd in cmds:
                            data.append({**base, "freqCode": "M", "period": period, "refYear": int(period[:4]),
                                         "refMonth": int(period[4:]), "reporterCode": int(rep), "partnerCode": int(par),
                                         "flowCode": flow, "cmdCode": cmd, "classificationCode": "H6",
                                         "aggrLevel": 0 if cmd == "TOTAL" else len(cmd),
                                         "primaryValue": value(rep, par, flow, period, cmd)})
        data = data[: int(q["maxRecords"])]
        return Reply(200, json.dumps({"elapsedTime": "0.05 secs", "count": len(data), "data": data, "error": ""}).encode())

    return respond


def fetch(server, cache, store_path, **kw):
    args = dict(reporter="ISR,TUR", partner="TUR,ISR", period="2024-01:2024-03", freq="M", key="k3y", store=store_path,
                cache=cache, base_url=server.url, min_interval=0, backoff=0.01)
    return comtrade(**{**args, **kw})


def test_fetch_splits_caches_and_ingests(server, cache, store_path, store) -> None:
    server.route(GET, fake_api())
    store.close()
    res = fetch(server, cache, store_path)
    hits = server.hits_to(GET)
    assert len(hits) == 1 and res.downloaded == 1 and res.cached == 0
    q = hits[0].query
    assert (q["reporterCode"], q["partnerCode"], q["flowCode"], q["period"]) == ("376,792", "792,376", "M,X", "202401,202402,202403")
    assert (q["cmdCode"], q["breakdownMode"], q["partner2Code"], q["customsCode"], q["motCode"]) == ("TOTAL", "classic", "0", "C00", "0")
    assert hits[0].headers["ocp-apim-subscription-key"] == "k3y" and "subscription-key" not in q  # header, not URL
    assert res.records == 12 and res.ingested[0].rows == 12
    from entrepot.store import Store

    with Store(store_path, read_only=True) as st:
        rows = st.query("SELECT period, reporter, partner, flow, hs_rev, value_usd FROM flows ORDER BY 1, 2, 4")
    assert set(rows.reporter) == {"ISR", "TUR"} and set(rows.hs_rev) == {"HS22"}
    first = rows.iloc[0]
    assert (first.period, first.reporter, first.partner, first.flow, first.value_usd) == ("2024-01", "ISR", "TUR", "export", 1000 + 376 % 7)
    # The raw answer is on disk under its query's key; the key itself is in no file name or body.
    assert res.files[0].parent == cache / "comtrade" and "k3y" not in res.files[0].read_text()


def test_rerun_reads_the_cache_without_a_request(server, cache, store_path) -> None:
    server.route(GET, fake_api())
    fetch(server, cache, store_path)
    n = len(server.hits)
    again = fetch(server, cache, store_path)
    assert len(server.hits) == n and again.requests == 0 and again.cached == 1
    assert again.ingested[0].skipped  # the same release: a no-op in the store


def test_refresh_downloads_again_and_a_revision_is_a_new_release(server, cache, store_path) -> None:
    server.route(GET, fake_api())
    first = fetch(server, cache, store_path)
    server.route(GET, fake_api(value=lambda *a: 5.0))  # Comtrade revised every figure
    again = fetch(server, cache, store_path, refresh=True)
    assert again.downloaded == 1 and not again.ingested[0].skipped
    assert again.ingested[0].batch_id != first.ingested[0].batch_id


def test_monthly_query_is_split_under_the_record_limit(server, cache, store_path, monkeypatch) -> None:
    server.route(GET, fake_api())
    res = fetch(server, cache, store_path, hs="2", period="2023-01:2024-12", max_records=50_000)
    # 2 reporters x 2 partners x 2 flows x 99 chapters is at most 792 records a month: 12 months a call.
    assert [len(h.query["period"].split(",")) for h in server.hits_to(GET)] == [12, 12]
    assert res.records == 2 * 2 * 24 * len(CHAPTERS)


def test_an_answer_cut_at_max_records_is_asked_again_in_halves(server, cache, store_path, monkeypatch) -> None:
    # The planner expects 3 chapters; the server has 5, so the first answer fills maxRecords exactly.
    monkeypatch.setitem(comtrade_module.PRODUCTS_AT_LEVEL, 2, 3)
    server.route(GET, fake_api())
    res = fetch(server, cache, store_path, reporter="ISR", partner="TUR", hs="2", period="2024-01:2024-04", max_records=25)
    periods = [h.query["period"] for h in server.hits_to(GET)]
    assert periods == ["202401,202402,202403,202404", "202401,202402", "202403,202404"]
    assert res.records == 4 * 2 * len(CHAPTERS) and res.downloaded == 2  # the cut answer is not kept
    n = len(server.hits)
    again = fetch(server, cache, store_path, reporter="ISR", partner="TUR", hs="2", period="2024-01:2024-04", max_records=25)
    assert len(server.hits) == n and again.cached == 2  # a rerun goes straight to the halves, from the cache


def test_preview_without_a_key_states_its_limit(server, cache, store_path, monkeypatch) -> None:
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    server.route(PREVIEW, fake_api())
    res = fetch(server, cache, store_path, key=None, ingest=False)
    assert server.hits_to(PREVIEW)[0].query["maxRecords"] == "500"
    assert "at most 500 records" in res.notes[0]


def test_preview_too_small_for_the_query(server, cache, store_path, monkeypatch) -> None:
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    full = {"count": 500, "data": [template()] * 500, "error": ""}  # one request, and the answer is full
    server.route(PREVIEW, Reply(200, json.dumps(full).encode()))
    with pytest.raises(FetchError, match="preview stops at 500; set COMTRADE_API_KEY"):
        fetch(server, cache, store_path, key=None, reporter="ISR", partner="TUR", period="2024-01", flow="M", ingest=False)


def test_429_waits_as_told_then_succeeds(server, cache, store_path, monkeypatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    answers = [Reply(429, json.dumps(ERRORS["429"]).encode(), {"Retry-After": "3"}),
               Reply(503, b"Service Unavailable", {"Content-Type": "text/plain"})]
    ok = fake_api()
    server.route(GET, lambda hit: answers.pop(0) if answers else ok(hit))
    res = fetch(server, cache, store_path, backoff=0.5)
    assert len(server.hits_to(GET)) == 3 and res.requests == 3 and res.records == 12
    assert waits == [3.0, 1.0]  # Retry-After honoured, then exponential backoff (0.5 * 2**1)


def test_cut_connection_is_retried(server, cache, store_path) -> None:
    ok = fake_api()
    state = {"n": 0}

    def respond(hit):
        state["n"] += 1
        reply = ok(hit)
        return Reply(reply.status, reply.body, cut_after=len(reply.body) // 2) if state["n"] == 1 else reply

    server.route(GET, respond)
    assert fetch(server, cache, store_path).records == 12 and state["n"] == 2


@pytest.mark.parametrize(("status", "expect"), [
    (401, "refused the API key (HTTP 401: Access denied due to invalid subscription key"),
    (403, "HTTP 403: Out of call volume quota. Quota will be replenished in 03:30:56."),
])
def test_refusals_are_one_line(server, cache, store_path, status, expect) -> None:
    server.route(GET, Reply(status, json.dumps(ERRORS[str(status)]).encode()))
    with pytest.raises(FetchError, match=expect.replace("(", r"\(").replace(".", r"\.")) as err:
        fetch(server, cache, store_path)
    assert "\n" not in str(err.value)
    assert len(server.hits_to(GET)) == 1  # never retried


def test_malformed_and_empty_answers(server, cache, store_path) -> None:
    server.route(GET, Reply(200, b"<html><body>The service is unavailable.</body></html>", {"Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="malformed Comtrade answer"):
        fetch(server, cache, store_path)
    server.route(GET, Reply(200, json.dumps(ERRORS["empty"]).encode()))
    with pytest.raises(FetchError, match="no records for reporter ISR,TUR"):
        fetch(server, cache, store_path)
    server.route(GET, Reply(200, json.dumps({**ERRORS["empty"], "error": "Invalid period"}).encode()))
    with pytest.raises(FetchError, match="Comtrade says: Invalid period"):
        fetch(server, cache, store_path)
    assert not list((cache / "comtrade").glob("*.json"))  # nothing bad was cached


def test_an_interrupted_fetch_resumes(server, cache, store_path) -> None:
    ok = fake_api()
    served = {"n": 0}

    def flaky(hit):  # two answers, then the server fails for good
        served["n"] += 1
        return ok(hit) if served["n"] <= 2 else Reply(500, b'{"message": "down"}')

    server.route(GET, flaky)
    kw = dict(reporter="ISR", partner="TUR", hs="2", period="2023-01:2024-12", max_records=500)
    with pytest.raises(FetchError, match="HTTP 500"):
        fetch(server, cache, store_path, **kw)
    assert len(list((cache / "comtrade").glob("*.json"))) == 2
    server.route(GET, ok)
    before = len(server.hits)
    res = fetch(server, cache, store_path, **kw)
    assert res.cached == 2 and res.downloaded == len(server.hits) - before == len(res.files) - 2 > 0


def test_the_real_recorded_answer_goes_in(server, cache, store_path) -> None:
    real = shared_file("real/comtrade/comtradr_api_get_C_A_HS-60a6ad.json")
    server.route("/data/v1/get/C/A/HS", Reply(200, real.read_bytes()))
    res = fetch(server, cache, store_path, reporter="CHN", partner=None, period="2010", freq="A")
    assert "partnerCode" not in server.hits[0].query  # every partner
    records = json.loads(real.read_text())["data"]
    assert res.records == len(records) == res.ingested[0].rows
    assert res.files[0].read_bytes() == real.read_bytes()  # cached as received


def test_bad_queries_are_input_errors() -> None:
    from entrepot.errors import InputError

    for kw, msg in [({"period": "2024-01:2023-01", "freq": "M"}, "backwards"), ({"period": "2024-01", "freq": "A"}, "is a month"),
                    ({"period": "2024", "hs": "12345"}, "--hs takes"), ({"period": "2024", "reporter": "XYZ"}, "unknown country"),
                    ({"period": "2024", "flow": "sideways"}, "--flow takes")]:
        with pytest.raises(InputError, match=msg):
            comtrade(**{"reporter": "ISR", **kw})


def test_dry_run_plans_the_documented_query_without_a_request(server, cache, store_path) -> None:
    # docs/fetch.md: the Türkiye–Israel monthly HS6 query is 24 calls under a free key's 100,000 records.
    res = fetch(server, cache, store_path, period="2022-01:2025-12", hs="6", dry_run=True)
    assert res.notes == ["24 request(s) planned, 0 of them cached"] and not server.hits


def test_the_same_observation_twice_is_an_error(server, cache, store_path) -> None:
    ok = fake_api()

    def twice(hit):
        body = json.loads(ok(hit).body)
        body["data"].append(body["data"][0])
        return Reply(200, json.dumps(body).encode())

    server.route(GET, twice)
    with pytest.raises(FetchError, match="answered the same observation twice: C, M, 202401, 376, 792"):
        fetch(server, cache, store_path)
