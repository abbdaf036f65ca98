"""The HTML report: written from a synthetic world's store, checked in headless Chromium (Playwright)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from entrepot.case import load_case
from entrepot.errors import InputError
from entrepot.hs import describe
from entrepot.report import check_claim, write_report
from entrepot.report.scenarios import scenarios_section
from entrepot.report.worldmap import planar_area, world_topojson
from entrepot.store import Store
from entrepot.synth import Scenario, generate, ingest_world
from tests.conftest import ARTIFACTS, ROOT

CASE = ROOT / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(report, store, gravity dataset) of a small synthetic world."""
    out = tmp_path_factory.mktemp("report")
    world = generate(Scenario.default().replace(n_countries=70, n_products=30, controls=2))
    with Store(out / "s.duckdb") as st:
        paths = ingest_world(st, world, out)
    case = load_case(CASE)
    with Store(out / "s.duckdb", read_only=True) as st:
        return write_report(case, st, out / "report.html", paths["gravity"]), out / "s.duckdb", paths["gravity"]


def test_report_is_self_contained(report) -> None:
    text = report[0].read_text()
    assert "plotly" in text and not re.search(r'<script[^>]+src="http', text)
    for title in ("Trade as each side reports it", "Mirror gap", "Where the trade went", "Claims in public, checked", "Scenarios"):
        assert title in text
    assert "Not available" not in text.split("<h2>Scenarios</h2>")[1]


def test_claims_are_checked_against_the_store(report) -> None:
    case = load_case(CASE)
    with Store(report[1], read_only=True) as st:
        rows = [check_claim(st, c) for c in case.claims]
    verdicts = " ".join(r["what the data say"] for r in rows)
    assert "2025:" in verdicts and ("holds" in verdicts or "differs" in verdicts)


def test_product_table_describes_the_codes(report) -> None:
    products = report[0].read_text().split("<h2>Products on the routes</h2>")[1].split("</section>")[0]
    codes = re.findall(r"<td>(\d{6})</td>", products)
    assert codes
    for code in codes:
        assert f"<td>{code}</td>\n      <td>{describe(code)}</td>".replace("&", "&amp;") in products


def test_scenarios_match_the_scenario_command(report, cli) -> None:
    """The report's figures for a scenario are what `entrepot scenario` prints for it."""
    section = report[0].read_text().split("<h2>Scenarios</h2>")[1].split("</section>")[0]
    reference = re.search(r"reference market (\w{3})", section).group(1)
    year = re.search(r"base year (\d{4})", section).group(1)
    out = cli("scenario", "--data", report[2], "--case", CASE, "--scenario", "rapprochement", "--year", year,
              "--policy", "EMBARGO", "--reference", reference, "--json")
    assert out.exit_code == 0, out.output
    effects = {r["country"]: r for r in json.loads(out.output)["countries"]}
    for country in ("TUR", "ISR"):
        row = re.search(rf"<td>rapprochement</td>\s*<td>{country}</td>\s*<td>([-\d.,]+)</td>\s*<td>([-\d.,]+)</td>\s*<td>([-\d.,]+)</td>", section)
        shown = [float(v) for v in row.groups()]
        expected = [effects[country][k] for k in ("partial_exports_pct", "full_exports_pct", "real_gdp_pct")]
        assert shown == pytest.approx(expected, abs=0.006)
    assert "Left out, not in the data: QAT, ARE" in section  # the small world lacks them: said, not hidden


def test_scenarios_need_a_gravity_dataset() -> None:
    with pytest.raises(InputError, match="need a gravity dataset"):
        scenarios_section(load_case(CASE), None)


def test_world_outlines_are_plotly_topojson() -> None:
    topo = world_topojson()
    ids = {g["id"] for g in topo["objects"]["countries"]["geometries"]}
    assert {"TUR", "ISR", "GRC", "BGR", "GEO", "AZE", "ALB", "PSE"} <= ids and len(ids) > 150
    outer = [topo["arcs"][shape[0][0]] for g in topo["objects"]["countries"]["geometries"] for shape in g["arcs"]]
    assert all(planar_area(ring) <= 0 for ring in outer)  # clockwise, as d3 fills


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.browser
def test_report_renders_in_chromium(report, browser_page) -> None:
    page, errors = browser_page
    outside: list[str] = []  # offline: any request that is not the file itself fails, and is noted

    def route(r) -> None:
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(report[0].as_uri())
    page.wait_for_selector("#chart-map .geo .layer.land path", timeout=20_000)
    assert page.locator(".js-plotly-plot").count() == 6  # flows, mirror, reroute, Sankey, map, scenarios
    assert page.locator(".js-plotly-plot .main-svg").count() >= 6
    shown = page.locator("section:has(h2:text('Where the trade went')) p").first.inner_text()
    assert "rerouted through flagged countries" in shown
    coast = page.locator("#chart-map .layer.coastlines path").get_attribute("d")
    assert coast and coast.count("M") > 20  # outlines drawn from the embedded TopoJSON
    assert page.locator("#chart-map .choroplethlocation").count() >= 5  # the pair and the flagged intermediaries

    page.hover("#chart-flows")
    with page.expect_download() as png:
        page.click('#chart-flows .modebar-btn[data-title="Download plot as a PNG"]')
    assert png.value.suggested_filename == "chart-flows.png"
    width, height = png_size(Path(png.value.path()).read_bytes())
    assert width >= 600 and height >= 300
    page.hover("#chart-map")
    with page.expect_download() as svg:
        page.click('#chart-map .modebar-btn[data-title="Download plot as an SVG"]')
    assert Path(svg.value.path()).read_text().startswith("<svg") and svg.value.suggested_filename == "chart-map.svg"

    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.locator("#chart-map").screenshot(path=str(ARTIFACTS / "report-map.png"))
    assert not outside, outside
    assert not errors, errors
