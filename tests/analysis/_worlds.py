"""Stores for the analysis tests: a small synthetic world (built once per session) and hand panels."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from entrepot.store import Store

SCENARIO = {"n_countries": 30, "n_products": 40}


@cache
def synth_world() -> tuple[Path, dict]:
    """A small synth world ingested through the real adapters: (store path, truth)."""
    from entrepot.synth import Scenario, generate, ingest_world

    world = generate(Scenario.default().replace(**SCENARIO))
    out = Path(tempfile.mkdtemp(prefix="entrepot-analysis-"))
    atexit.register(shutil.rmtree, out, True)  # 36 MB a session otherwise left in /tmp
    path = out / "store.duckdb"
    with Store(path) as st:
        ingest_world(st, world, out / "files")
    return path, world.truth


def insert(store: Store, rows: list[tuple]) -> None:
    """Canonical annual HS17 rows: (year, reporter, partner, flow, product, value, tonnes)."""
    frame = pd.DataFrame(rows, columns=["year", "reporter", "partner", "flow", "product", "value", "tonnes"])
    store.con.register("new_rows", frame.astype({"tonnes": float}))
    store.con.execute(
        "INSERT INTO flows SELECT CAST(year AS VARCHAR), 'A', year, NULL, reporter, true, partner, true, flow, 'HS17', "
        "product, length(product), value, tonnes, 't', 'comtrade', 'test' FROM new_rows"
    )
    store.con.unregister("new_rows")


def embargo_panel(store: Store, drop: float = 0.9, transition_drop: float = 0.5, cif_fob: float = 1.06) -> None:
    """TUR's HS2 exports to three controls and to ISR, 2018-2025, growing 5% a year with 5% noise;
    ISR's trade with TUR falls by `drop` from 2025 (`transition_drop` in 2024); ISR reports CIF."""
    rng = np.random.default_rng(1)
    rows = []
    for year in range(2018, 2026):
        for g in range(1, 21):
            base = 1e6 * g * 1.05 ** (year - 2018)
            for partner, scale in (("DEU", 1.0), ("FRA", 0.8), ("USA", 1.5)):
                rows.append((year, "TUR", partner, "export", f"{g:02d}", base * scale * np.exp(rng.normal(0, 0.05)), None))
            kept = 1.0 if year < 2024 else (1 - transition_drop if year == 2024 else 1 - drop)
            value = base * 0.5 * np.exp(rng.normal(0, 0.05)) * kept
            rows.append((year, "TUR", "ISR", "export", f"{g:02d}", value, None))
            rows.append((year, "ISR", "TUR", "import", f"{g:02d}", value * cif_fob, None))
    insert(store, rows)


def cli_json(cli, store: Store, *args: str) -> dict:
    """Run a command with --json on the test's store (closed first, as the CLI opens it) and parse it."""
    store.close()
    out = cli(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)
