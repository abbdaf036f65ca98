"""The screen's report page in Debian's Chromium (Playwright): offline, the map drawn, no console errors."""

from __future__ import annotations

import re

import pytest

from entrepot.screening import screen
from entrepot.screening.report import write_screen_report
from entrepot.store import Store
from tests.conftest import ARTIFACTS, open_offline


@pytest.mark.browser
def test_screen_page_renders_offline_with_the_map(world, tmp_path, browser_page) -> None:
    with Store(world[0], read_only=True) as st:
        res = screen(st)
    page_path = write_screen_report(res, tmp_path / "screen.html")
    text = page_path.read_text()
    assert not re.search(r'<script[^>]+src="http', text) and "known embargo" in text
    page, errors = browser_page
    outside = open_offline(page, page_path)
    page.wait_for_selector("#chart-map .geo .layer.land path", timeout=20_000)
    assert page.locator(".js-plotly-plot").count() == 2  # the map and the drops
    coast = page.locator("#chart-map .layer.coastlines path").get_attribute("d")
    assert coast and coast.count("M") > 20  # outlines from the embedded TopoJSON
    flagged = int(res.routes.significant.fillna(False).sum())
    assert page.locator("#chart-map .scattergeo .js-line").count() >= len(res.collapses) + flagged
    assert page.locator("#chart-drops .bars .point").count() == len(res.collapses)
    ranked = page.locator("section:has(h2:text('Ranked table')) table.data")
    assert ranked.locator("tbody tr").count() == len(res.collapses)
    headings = ranked.locator("thead th").all_inner_texts()
    assert "drop, %" in headings and not {"drop_pct", "p_value", "q_value"} & set(headings), headings  # each once, in words
    page.screenshot(path=str(ARTIFACTS / "screen.png"), full_page=True)
    page.locator("#chart-map").screenshot(path=str(ARTIFACTS / "screen-map.png"))
    assert not errors and not outside, (errors, outside)
