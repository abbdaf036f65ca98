"""The dashboard: its JSON API (with OpenAPI) and its page in headless Chromium, read-only on the store."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entrepot.countries import name
from entrepot.hs import describe, label
from entrepot.web import create_app
from tests.conftest import ARTIFACTS


@pytest.fixture
def store_file(synth_world) -> Path:
    return synth_world("routes")[0]


def client_of(store_file: Path) -> TestClient:
    return TestClient(create_app(store_file), base_url="http://127.0.0.1:8765")


def test_api_and_openapi(store_file: Path) -> None:
    client = client_of(store_file)
    spec = client.get("/openapi.json").json()
    assert {"/api/pairs", "/api/flows", "/api/effect", "/api/mirror", "/api/reroute", "/api/cost", "/api/hs"} <= set(spec["paths"])
    assert client.get("/api/hs?codes=847130,847199").json() == {"847130": describe("847130"), "847199": describe("847199")}
    pairs = client.get("/api/pairs?limit=5").json()
    assert len(pairs) == 5 and pairs[0]["value_usd"] >= pairs[-1]["value_usd"]
    flows = client.get("/api/flows?exporter=TUR&importer=ISR&freq=M").json()
    assert flows["rows"] and flows["labels"]["a_to_b_importer"].startswith("ISR imports") and "figures" not in flows
    drawn = client.get("/api/mirror?exporter=TUR&importer=ISR&figure=true").json()["figures"]
    assert drawn[0]["data"][0]["type"] == "bar" and "Mirror gap" in drawn[0]["layout"]["title"]["text"]
    bad = client.get("/api/reroute?exporter=TUX&importer=ISR&event=2024-05-02")
    assert bad.status_code == 400 and "exporter: 'TUX' is not a known country code" in bad.json()["error"]
    assert "basis" in flows and "cite" in flows["provenance"]
    assert client.get("/api/countries").json()["GRC"] == "Greece"
    assert client.get("/api/product?code=72.14").json() == {"code": "7214", "label": label("7214")}  # as the analyses read it


def test_every_time_chart_marks_the_event(store_file: Path) -> None:
    """The flows, effect and mirror charts each draw the event as a dotted line with its label."""
    client = client_of(store_file)
    for api in ("flows", "effect", "mirror"):
        layout = client.get(f"/api/{api}?exporter=TUR&importer=ISR&event=2024-05-02&figure=true").json()["figures"][0]["layout"]
        assert [s for s in layout["shapes"] if s["type"] == "line" and s["line"]["dash"] == "dot"], api
        assert any("2024-05-02" in a["text"] for a in layout["annotations"]), api
    before = store_file.stat().st_mtime
    client.get("/api/reroute?exporter=TUR&importer=ISR&event=2024-05-02")
    assert store_file.stat().st_mtime == before  # read-only


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/api/flows?exporter=TUR&importer=ISR&format=csv", 422, "unknown parameter format; it takes event, exporter, figure, freq, importer,"
     " product"),
    ("/api/mirror?exporter=TUR&importer=ISR&source=reported", 422, "unknown parameter source"),
    ("/api/flows?exporter=TUR", 422, "importer: Field required"),
    ("/api/effect?exporter=TUR&importer=ISR&event=2024-05-02&freq=Q", 422, "freq: Input should be 'A', 'M' or 'auto'"),
    ("/api/reroute?exporter=TUR&importer=ISR&event=9999-12-31", 400, "event: 9999-12-31 is not a date trade data can cover"),
    ("/api/reroute?exporter=TUR&importer=ISR&event=2024-13-01", 422, "event: Input should be a valid date"),
    ("/api/pairs?limit=0", 422, "limit: Input should be greater than or equal to 1"),
    ("/api/effect?exporter=TUR&importer=ISR&event=2024-05-02&product=72x", 400, "product: must be an HS2, HS4 or HS6 code"),
    ("/api/mirror?exporter=TUR&importer=ISR&product=7", 400, "product: must be an HS2, HS4 or HS6 code"),
    ("/api/product?code=72x", 400, "code: must be an HS2, HS4 or HS6 code, not '72x'"),
])
def test_every_user_error_is_one_line_4xx(store_file: Path, url: str, status: int, message: str) -> None:
    r = client_of(store_file).get(url)
    assert r.status_code == status and message in r.json()["error"] and "\n" not in r.json()["error"]


def test_host_allow_list_and_offline_docs(store_file: Path) -> None:
    """Only loopback names are answered (DNS rebinding); /docs is Swagger UI served from the package, not a CDN."""
    assert TestClient(create_app(store_file), base_url="http://attacker.example").get("/api/pairs").status_code == 400
    assert client_of(store_file).get("/api/pairs", headers={"host": "localhost:8765"}).status_code == 200
    docs = client_of(store_file).get("/docs").text
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "http" not in docs.split("<body>")[0].replace("http-equiv", "")


def test_pairs_read_one_source_per_pair(store_file: Path) -> None:
    """A pair is BACI's or a declaration's figure, never both added together."""
    from entrepot.store import Store

    pairs = client_of(store_file).get("/api/pairs?limit=500").json()
    with Store(store_file, read_only=True) as st:
        sources = dict(st.query("SELECT reporter || partner AS k, count(DISTINCT source) AS n FROM flows WHERE flow = 'export'"
                                " GROUP BY 1").values.tolist())
    mixed = [p for p in pairs if sources.get(p["exporter"] + p["importer"], 1) > 1]
    assert all(p["source"] != "baci" for p in mixed)  # declared first, BACI only where nothing else is
    assert {"exporter", "importer", "value_usd", "source", "freq"} <= set(pairs[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(store_file: Path):
    """The dashboard served by uvicorn on a free local port while the test runs: its address."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store_file), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


IDLE = "!document.body.hasAttribute('aria-busy')"  # the page has drawn every panel


@pytest.mark.browser
def test_dashboard_renders_in_chromium(store_file: Path, served: str, browser_page) -> None:
    page, errors = browser_page
    page.goto(f"{served}/")
    page.wait_for_selector("#rerouted", timeout=90_000)
    assert page.locator(".js-plotly-plot .main-svg").count() >= 4
    shown = page.locator("#rerouted").inner_text()
    api = client_of(store_file).get("/api/reroute?exporter=TUR&importer=ISR&event=2024-05-02").json()
    assert shown == _million(api["rerouted_value_usd"])  # the page shows the API's figure
    relabelled = api["relabelling"]["relabelled_value_usd"]
    assert api["relabelling"]["countries"] == ["PSE"] and page.locator("#relabelled").inner_text() == _million(relabelled)
    first = api["intermediaries"][0]
    row = page.locator("#products tbody tr").first.locator("td").all_inner_texts()
    greece = f"{name(first['country'])} ({first['country']})"  # names beside codes
    assert first["significant"] and row == [greece, first["top_products"][0], describe(first["top_products"][0])]
    assert page.locator("#a-name").inner_text() == name("TUR") and page.locator("#b-name").inner_text() == name("ISR")
    assert "event (2024-05-02)" in page.locator("#chart-flows .annotation-text").all_text_contents()
    page.hover("#chart-reroute")
    titles = page.locator("#chart-reroute .modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
    assert {"Download plot as a PNG", "Download plot as an SVG"} <= set(titles)
    assert page.locator("#chart-effect .main-svg").count() and page.locator("#chart-cost .main-svg").count()
    assert "source:" in page.locator("#panel-effect .basis").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    # the URL carries the view: a shared link opens the same pair, event and intermediary
    page.select_option("#via", first["country"])
    page.wait_for_function(f"location.search.includes('via={first['country']}')")
    page.wait_for_function(IDLE, timeout=90_000)
    shared = page.url
    assert "exporter=TUR" in shared and "importer=ISR" in shared and "event=2024-05-02" in shared
    page.goto(shared)
    page.wait_for_selector("#rerouted", timeout=90_000)
    assert page.locator("#via").input_value() == first["country"]
    assert set(page.locator("#products tbody tr td:first-child").all_inner_texts()) == {greece}
    # the other direction
    page.click("#swap")
    page.wait_for_function("location.search.includes('exporter=ISR')")
    page.wait_for_function(IDLE, timeout=90_000)
    assert page.locator("#a").input_value() == "ISR"
    assert not errors, errors
    # an error clears that panel's old charts and leaves the others
    page.fill("#a", "TUR")
    page.fill("#b", "ISR")
    page.fill("#event", "2031-01-01")
    page.click("button[type=submit]")
    page.wait_for_function(IDLE + " && document.querySelector('#panel-effect .error').textContent", timeout=90_000)
    assert page.locator("#chart-effect .main-svg").count() == 0 and page.locator("#chart-flows .main-svg").count() >= 1
    assert "panels shown" in page.locator("#status").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-error.png"), full_page=True)
    # the event past the data answers 4xx by design (the browser logs each); nothing else may fail
    assert not [e for e in errors if "status of 40" not in e], errors


@pytest.mark.browser
def test_dashboard_drills_down_to_a_product(store_file: Path, served: str, browser_page) -> None:
    """The product field: a code (dots allowed) named beside it (hs.label), the flows, effect, mirror and reroute
    panels redrawn for it with titles naming it, the view's URL keeping it; a code that is not one says so."""
    page, errors = browser_page
    api = client_of(store_file)
    page.goto(f"{served}/")
    page.wait_for_selector("#rerouted", timeout=90_000)
    whole = page.locator("#rerouted").inner_text()
    assert page.locator("#product-name").inner_text() == "all products" and not page.locator("#cost-scope").inner_text()

    page.fill("#product", "29")
    page.click("button[type=submit]")
    page.wait_for_function("location.search.includes('product=29')")
    page.wait_for_function(IDLE, timeout=90_000)
    assert page.locator("#product-name").inner_text() == label("29")
    chemicals = api.get("/api/reroute?exporter=TUR&importer=ISR&event=2024-05-02&product=29").json()
    assert page.locator("#rerouted").inner_text() == _million(chemicals["rerouted_value_usd"]) != whole
    for chart in ("flows", "effect", "mirror", "reroute", "sankey"):  # each chart's title names the product
        assert "HS 29 (Organic chemicals)" in page.locator(f"#chart-{chart} .gtitle").text_content(), chart
    assert f"products: {label('29')}" in page.locator("#panel-effect .basis").inner_text()
    assert "not broken down by product" in page.locator("#cost-scope").inner_text()  # the cost panel stays all products'
    page.screenshot(path=str(ARTIFACTS / "dashboard-product.png"), full_page=True)

    page.fill("#product", "2914.79")  # as a tariff writes it; one subheading: the reroute panel says why it cannot scan
    page.click("button[type=submit]")
    page.wait_for_function("location.search.includes('product=2914.79')")
    page.wait_for_function(IDLE, timeout=90_000)
    assert page.locator("#product-name").inner_text() == label("291479")
    assert "HS 291479 holds 1 product(s)" in page.locator("#panel-reroute .error").inner_text()
    assert "HS 291479" in page.locator("#chart-flows .gtitle").text_content()
    page.goto(page.url)  # a shared link opens the same product
    page.wait_for_function(IDLE + " && document.querySelector('#chart-flows .main-svg')", timeout=90_000)
    assert page.locator("#product").input_value() == "2914.79" and page.locator("#product-name").inner_text() == label("291479")

    page.fill("#product", "72x")
    page.click("button[type=submit]")
    page.wait_for_function(IDLE + " && document.querySelector('#panel-effect .error').textContent", timeout=90_000)
    assert "must be an HS2, HS4 or HS6 code" in page.locator("#product-name").inner_text()
    assert "product: must be an HS2, HS4 or HS6 code" in page.locator("#panel-effect .error").inner_text()

    page.fill("#product", "")  # all products again
    page.click("button[type=submit]")
    page.wait_for_function("!location.search.includes('product')")
    page.wait_for_selector("#rerouted", timeout=90_000)
    page.wait_for_function(IDLE, timeout=90_000)
    assert page.locator("#rerouted").inner_text() == whole and page.locator("#product-name").inner_text() == "all products"
    assert not [e for e in errors if "status of 40" not in e], errors


def _million(usd: float) -> str:
    """As the page's fmt() writes it: at most one decimal, none when it rounds to .0 (toLocaleString)."""
    return f"${usd / 1e6:,.1f}".removesuffix(".0") + " million"
