"""The dashboard: its JSON API (with OpenAPI) and its page in headless Chromium, read-only on the store."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from entrepot.hs import describe
from entrepot.web import create_app
from tests.conftest import ARTIFACTS


@pytest.fixture
def store_file(synth_world) -> Path:
    return synth_world("routes")[0]


def test_api_and_openapi(store_file: Path) -> None:
    client = TestClient(create_app(store_file))
    spec = client.get("/openapi.json").json()
    assert {"/api/pairs", "/api/flows", "/api/mirror", "/api/reroute", "/api/hs"} <= set(spec["paths"])
    assert client.get("/api/hs?codes=847130,847199").json() == {"847130": describe("847130"), "847199": describe("847199")}
    pairs = client.get("/api/pairs?limit=5").json()
    assert len(pairs) == 5 and pairs[0]["value_usd"] >= pairs[-1]["value_usd"]
    flows = client.get("/api/flows?exporter=TUR&importer=ISR&freq=M").json()
    assert flows["rows"] and flows["labels"]["a_to_b_importer"].startswith("ISR imports") and "figures" not in flows
    drawn = client.get("/api/mirror?exporter=TUR&importer=ISR&figure=true").json()["figures"]
    assert drawn[0]["data"][0]["type"] == "bar" and "Mirror gap" in drawn[0]["layout"]["title"]["text"]
    bad = client.get("/api/reroute?exporter=TUX&importer=ISR&event=2024-05-02")
    assert bad.status_code == 400 and "exporter: 'TUX' is not a known country code" in bad.json()["error"]
    before = store_file.stat().st_mtime
    client.get("/api/reroute?exporter=TUR&importer=ISR&event=2024-05-02")
    assert store_file.stat().st_mtime == before  # read-only


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_dashboard_renders_in_chromium(store_file: Path, browser_page) -> None:
    import uvicorn

    page, errors = browser_page
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store_file), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#rerouted", timeout=30_000)
        assert page.locator(".js-plotly-plot .main-svg").count() >= 4
        shown = page.locator("#rerouted").inner_text()
        api = TestClient(create_app(store_file)).get("/api/reroute?exporter=TUR&importer=ISR&event=2024-05-02").json()
        assert shown == _million(api["rerouted_value_usd"])  # the page shows the API's figure
        relabelled = api["relabelling"]["relabelled_value_usd"]
        assert api["relabelling"]["countries"] == ["PSE"] and page.locator("#relabelled").inner_text() == _million(relabelled)
        first = api["intermediaries"][0]
        row = page.locator("#products tbody tr").first.locator("td").all_inner_texts()
        assert first["significant"] and row == [first["country"], first["top_products"][0], describe(first["top_products"][0])]
        page.hover("#chart-reroute")
        titles = page.locator("#chart-reroute .modebar-btn").evaluate_all("bs => bs.map(b => b.dataset.title)")
        assert {"Download plot as a PNG", "Download plot as an SVG"} <= set(titles)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert not errors, errors


def _million(usd: float) -> str:
    """As the page's fmt() writes it: at most one decimal, none when it rounds to .0 (toLocaleString)."""
    return f"${usd / 1e6:,.1f}".removesuffix(".0") + " million"
