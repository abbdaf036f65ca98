"""Shared fixtures: a fresh store per test, the synthetic worlds (built once a session), rows inserted
through the schema, the CLI runner, and the files in ../shared."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from entrepot import schema
from entrepot.cli import app
from entrepot.store import Store
from entrepot.store.warehouse import write_flows

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


# The synthetic worlds the tests read, each generated and ingested once a session (`synth_world`):
# the default Türkiye-Israel case (five routes, relabelling through PSE) small enough to be quick,
# and the same world without any rerouting.
WORLDS: dict[str, dict] = {
    "routes": {"n_countries": 70, "n_products": 40, "controls": 2, "seed": 11},
    "clean": {"n_countries": 70, "n_products": 40, "controls": 2, "seed": 11, "routes": (), "relabel_country": None,
              "relabel_share": 0.0},
}


@pytest.fixture(scope="session")
def synth_world(tmp_path_factory) -> Callable[[str], tuple[Path, dict]]:
    """`synth_world("routes")` -> (store path, truth) of a world in `WORLDS`, ingested through the real
    adapters once a session (the world's files, gravity.csv among them, are beside the store)."""
    from entrepot.synth import Scenario, generate, ingest_world

    built: dict[str, tuple[Path, dict]] = {}

    def get(name: str) -> tuple[Path, dict]:
        if name not in built:
            out = tmp_path_factory.mktemp(f"world-{name}")
            world = generate(Scenario.default().replace(**WORLDS[name]))
            with Store(out / "store.duckdb") as st:
                ingest_world(st, world, out)
            built[name] = (out / "store.duckdb", world.truth)
        return built[name]

    return get


def insert(store: Store, rows: list[dict], **defaults) -> None:
    """Insert flows by column name, through `entrepot.schema`: each row gives what it needs (period or
    year [+ month], reporter, partner, flow, product, value_usd...), `defaults` the rest; year, month,
    freq and product_level follow from period and product unless given."""
    frame = pd.DataFrame([defaults | r for r in rows])
    base = {"reporter_is_country": True, "partner_is_country": True, "hs_rev": "HS17", "product": schema.TOTAL,
            "quantity": None, "unit": None, "source": "comtrade", "batch_id": "test", "value_native": None, "currency": "USD"}
    for column, value in base.items():
        frame[column] = frame[column].where(frame[column].notna(), value) if column in frame else value
    if "period" not in frame:
        month = frame["month"] if "month" in frame else pd.Series([None] * len(frame))
        frame["period"] = [str(y) if pd.isna(m) else f"{int(y):04d}-{int(m):02d}" for y, m in zip(frame.year, month, strict=True)]
    frame["year"] = frame.period.str[:4].astype(int)
    frame["month"] = [int(p[5:]) if len(p) > 4 else None for p in frame.period]
    frame["freq"] = ["M" if len(p) > 4 else "A" for p in frame.period]
    frame["product_level"] = [0 if p == schema.TOTAL else len(p) for p in frame["product"]]
    frame["unit"] = frame["unit"].where(frame.quantity.isna(), frame["unit"].fillna("t"))
    store.con.register("new_rows", frame[list(schema.FLOW_COLUMNS)].astype({"quantity": float, "value_usd": float, "value_native": float}))
    write_flows(store.con, f"SELECT {schema.select_list()} FROM new_rows")
    store.con.unregister("new_rows")


def edit_flows(store: Store, sql: str, params: list | None = None) -> None:
    """Run an UPDATE or DELETE written against `flows` (a view: `schema.SEGMENT`) on a copy of its rows,
    then store them again in their order: for tests that reshape a store's data."""
    con = store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE edited AS SELECT * FROM {schema.FLOWS_WITH_ROWID} ORDER BY row_id")
    con.execute(re.sub(r"\bflows\b", "edited", sql), params or [])
    con.execute("DELETE FROM flow_rows")
    con.execute("DELETE FROM segments")
    write_flows(con, f"SELECT {schema.select_list()} FROM edited ORDER BY row_id")
    con.execute("DROP TABLE edited")


def cli_json(cli, store: Store, *args: str) -> dict:
    """Run a command with --json on the test's store (closed first, as the CLI opens it) and parse it."""
    store.close()
    out = cli(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture
def cli(store_path: Path):
    """Run the CLI in-process against the test's store: `cli("ingest", path)` -> Result."""
    runner = CliRunner()

    def run(*args: str | Path):
        return runner.invoke(app, [str(a) for a in args], env={"ENTREPOT_STORE": str(store_path)})

    return run


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"


def open_offline(page, path: Path) -> list[str]:  # noqa: ANN001 (a Playwright page)
    """Open a self-contained page as a reader offline would: every request that is not the file itself
    (or its data:/blob: parts) fails; returns the list of such requests, filled as the page loads."""
    outside: list[str] = []

    def route(r) -> None:  # noqa: ANN001
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return outside


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
