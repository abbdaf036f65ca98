"""Shared fixtures: a fresh store per test, the CLI runner, and the files in ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrepot.cli import app
from entrepot.store import Store

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SHARED = Path(os.environ.get("ENTREPOT_SHARED", ROOT.parent / "shared"))  # override from a git worktree
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_file(relative: str) -> Path:
    """A file from ../shared: skip with the reason on a developer's machine, fail under CI."""
    path = SHARED / relative
    if not path.exists():
        message = f"../shared/{relative} not found (it sits beside the repository in CI)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def store(store_path: Path):
    with Store(store_path) as st:
        yield st


@pytest.fixture
def cli(store_path: Path):
    """Run the CLI in-process against the test's store: `cli("ingest", path)` -> Result."""
    runner = CliRunner()

    def run(*args: str | Path):
        return runner.invoke(app, [str(a) for a in args], env={"ENTREPOT_STORE": str(store_path)})

    return run


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def browser_page():
    """A headless Chromium page (Debian's package, driven by Playwright) collecting console errors.

    Skips with the reason on a developer's machine without Chromium, fails under CI.
    Yields (page, errors); screenshots go to tests/artifacts/.
    """
    if not CHROMIUM.exists():
        message = "headless Chromium (Debian package chromium) not installed: `make browser` installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        yield page, errors
        browser.close()
