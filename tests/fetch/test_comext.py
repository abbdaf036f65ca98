"""`entrepot fetch comext` against a local server that answers like Eurostat's Comext SDMX API."""

from __future__ import annotations

import pytest

from entrepot.fetch import FetchError, comext
from entrepot.io.comext import load_rates
from entrepot.results import Provenance
from tests.conftest import DATA
from tests.fetch.conftest import Hit, Reply

DATA_PATH = "/data/DS-045409"
HEADER = "DATAFLOW,LAST UPDATE,freq,reporter,partner,product,flow,indicators,TIME_PERIOD,OBS_VALUE,OBS_FLAG\n"
ALL_LEVELS = ["TOTAL", "87", "8703", "870323", "87032310", "87032390"]
FAULT_413 = (DATA / "fetch" / "comext_413.xml").read_bytes()


def months(start: str, end: str) -> list[str]:
    y, m = int(start[:4]), int(start[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def fake_api(hit: Hit) -> Reply:
    """Every observation the key selects, in Eurostat's long SDMX-CSV (an empty position: every code)."""
    freq, reps, pars, products, flows, indicators = hit.path.removeprefix(DATA_PATH + "/").split(".")
    lines = [HEADER]
    for rep in reps.split("+"):
        for par in pars.split("+"):
            for product in products.split("+") if products else ALL_LEVELS:
                for flow in flows.split("+"):
                    for period in months(hit.query["startPeriod"], hit.query["endPeriod"]):
                        for ind in indicators.split("+"):
                            value = 1000 * len(product) + int(period[-2:]) if ind == "VALUE_IN_EUROS" else 7
                            lines.append(f"ESTAT:DS-045409(1.0),12/11/25 11:00:00,{freq},{rep},{par},{product},{flow},{ind},"
                                         f"{period},{value},\n")
    return Reply(200, "".join(lines).encode(), {"Content-Type": "text/csv"})


def fetch(server, cache, store_path, **kw):
    args = dict(reporter="DEU,GRC", partner="ISR,TUR", period="2024-01:2024-03", hs="6", store=store_path, cache=cache,
                base_url=server.url, min_interval=0, backoff=0.01)
    return comext(**{**args, **kw})


def test_fetch_keeps_the_asked_level_and_ingests(server, cache, store_path) -> None:
    for key in ("M.DE.IL+TR..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG", "M.GR.IL+TR..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG"):
        server.route(f"{DATA_PATH}/{key}", fake_api)
    res = fetch(server, cache, store_path)
    # Unfiltered products cost 40,321 positions: one reporter a request fits the 1,000,000-cell budget.
    assert [h.query["startPeriod"] + ".." + h.query["endPeriod"] for h in server.hits] == ["2024-01..2024-03"] * 2
    assert res.records == 2 * 2 * 2 * 3  # HS6 only: TOTAL, chapter, heading and CN8 lines are dropped
    assert [r.path.name.split("-")[-2:] for r in res.ingested] == [["2024", "DE.csv"], ["2024", "GR.csv"]]  # a file a year and reporter
    assert sum(r.rows for r in res.ingested) == 24
    from entrepot.store import Store

    with Store(store_path, read_only=True) as st:
        rows = st.query("SELECT * FROM flows WHERE reporter = 'GRC' AND partner = 'ISR' AND flow = 'export' ORDER BY period")
    assert list(rows.period) == ["2024-01", "2024-02", "2024-03"] and set(rows["product"]) == {"870323"}
    rate = load_rates()["2024-02"]
    assert rows.value_usd[1] == pytest.approx((6000 + 2) * rate) and rows.quantity[1] == 700.0  # EUR -> USD, 100 kg -> kg


def test_rerun_is_a_cache_hit(server, cache, store_path) -> None:
    server.route(f"{DATA_PATH}/M.DE.IL..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG", fake_api)
    fetch(server, cache, store_path, reporter="DEU", partner="ISR")
    again = fetch(server, cache, store_path, reporter="DEU", partner="ISR")
    assert len(server.hits) == 1 and again.cached == 1 and again.ingested[0].skipped


def test_periods_are_split_under_the_cell_budget(server, cache, store_path) -> None:
    path = f"{DATA_PATH}/M.DE.IL.870323+870324.2.VALUE_IN_EUROS+QUANTITY_IN_100KG"
    server.route(path, fake_api)
    res = fetch(server, cache, store_path, reporter="DEU", partner="ISR", hs="870323,870324", flow="X",
                period="2023-01:2024-12", max_cells=40, ingest=False)
    # 2 products x 2 indicators = 4 cells a month: 10 months a request.
    assert [(h.query["startPeriod"], h.query["endPeriod"]) for h in server.hits] == [
        ("2023-01", "2023-10"), ("2023-11", "2024-08"), ("2024-09", "2024-12")]
    assert res.records == 24 * 2 and [p.name.split("-", 2)[2] for p in res.releases] == ["HS22-2023-DE.csv", "HS22-2024-DE.csv"]


def test_too_big_is_one_line(server, cache, store_path) -> None:
    server.route(f"{DATA_PATH}/M.DE.IL..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG", Reply(413, FAULT_413, {"Content-Type": "text/xml"}))
    with pytest.raises(FetchError, match="HTTP 413 .*EXTRACTION_TOO_BIG: The requested extraction is too big") as err:
        fetch(server, cache, store_path, reporter="DEU", partner="ISR")
    assert "\n" not in str(err.value)


def test_malformed_and_empty_answers(server, cache, store_path) -> None:
    path = f"{DATA_PATH}/M.DE.IL..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG"
    server.route(path, Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}))
    with pytest.raises(FetchError, match="malformed answer .*not SDMX-CSV"):
        fetch(server, cache, store_path, reporter="DEU", partner="ISR")
    server.route(path, Reply(200, HEADER.encode(), {"Content-Type": "text/csv"}))
    with pytest.raises(FetchError, match="Comext has no records for reporters DE, partners IL"):
        fetch(server, cache, store_path, reporter="DEU", partner="ISR")


def test_bad_codes() -> None:
    from entrepot.errors import InputError

    with pytest.raises(InputError, match="unknown country code 'XYZ' for Comext"):
        comext("DEU", "XYZ", "2024-01")
    with pytest.raises(InputError, match="at least one partner"):
        comext("DEU", None, "2024-01")


def test_an_interrupted_fetch_resumes(server, cache, store_path) -> None:
    served = {"n": 0}

    def flaky(hit):  # the first reporter's answer, then a server that fails for good
        served["n"] += 1
        return fake_api(hit) if served["n"] == 1 else Reply(503, b"<html>Service Unavailable</html>", {"Content-Type": "text/html"})

    for rep in ("DE", "GR"):
        server.route(f"{DATA_PATH}/M.{rep}.IL+TR..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG", flaky)
    with pytest.raises(FetchError, match="HTTP 503"):
        fetch(server, cache, store_path)
    assert len(list((cache / "comext").glob("*.csv"))) == 1
    for rep in ("DE", "GR"):
        server.route(f"{DATA_PATH}/M.{rep}.IL+TR..1+2.VALUE_IN_EUROS+QUANTITY_IN_100KG", fake_api)
    res = fetch(server, cache, store_path)
    assert (res.cached, res.downloaded, res.records) == (1, 1, 24)
    assert [r["rows"] for r in res.to_dict()["ingested"]] == [12, 12] and len(res.to_frame()) == 2
    assert "1 from the cache, 1 downloaded" in res.summary() and res.to_dict()["batches"] == [r.batch_id for r in res.ingested]
    assert isinstance(res.provenance, Provenance) and list(res.provenance.batches.batch_id) == [r.batch_id for r in res.ingested]
    assert res.provenance.sources == ("comext",) and "Eurostat Comext" in res.provenance.cite()
    assert res.to_dict()["provenance"]["cite"] == res.provenance.cite()


def test_dry_run_plans_the_documented_query_without_a_request(server, cache, store_path) -> None:
    # docs/fetch.md: all 27 members' HS6 trade with Israel and Türkiye, 2022-2025, is 432 requests.
    res = fetch(server, cache, store_path, reporter=None, period="2022-01:2025-12", dry_run=True)
    assert res.notes == ["432 request(s) planned, 0 of them cached"] and not server.hits
    codes = fetch(server, cache, store_path, reporter=None, period="2022-01:2025-12", hs="870323,870324", dry_run=True)
    assert codes.notes == ["1 request(s) planned, 0 of them cached"]  # 20,736 cells
