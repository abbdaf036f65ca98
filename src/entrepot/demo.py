"""The demo's story, as a sequence of small steps over the default synthetic world.

Each step is a function returning a `Step`; adding an analysis to the demo is adding one step.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from entrepot.store import Store


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None


def usd(x: float) -> str:
    for unit, div in (("billion", 1e9), ("million", 1e6)):
        if abs(x) >= div:
            return f"${x / div:,.2f} {unit}"
    return f"${x:,.0f}"


def run(out: Path) -> Iterator[Step]:
    from entrepot.synth import Scenario, generate, ingest_world

    scn = Scenario.default()
    world = generate(scn)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    store = Store(out / "demo.duckdb")
    try:
        paths = ingest_world(store, world, out / "world")
        yield Step("A synthetic Türkiye–Israel world", [
            f"{len(world.countries)} economies, {len(world.products)} HS6 products, {scn.start} to {scn.end};"
            f" embargo {scn.exporter}<->{scn.importer} from {scn.embargo_date} (restrictions from {scn.restriction_date}).",
            f"ingested {store.row_count():,} rows from {len(paths) - 2} files (BACI yearly, Comtrade monthly) into {store.path}",
        ])
        yield from steps(store, scn, world.truth)
    finally:
        store.close()


def steps(store: Store, scn, truth: dict) -> Iterator[Step]:
    from entrepot.analysis.flows import bilateral

    a, b = scn.exporter, scn.importer
    flows = bilateral(store, a, b, by="year").table.set_index("period")
    view = flows[["a_to_b_exporter", "a_to_b_importer", "b_to_a_exporter", "b_to_a_importer"]] / 1e6
    view.columns = [f"{a}->{b} ({a} says)", f"{a}->{b} ({b} says)", f"{b}->{a} ({b} says)", f"{b}->{a} ({a} says)"]
    last = flows.index[-1]
    yield Step(
        "Did trade stop? Both sides' reports, USD million",
        [
            f"In {last}, {a} reports {usd(flows.loc[last, 'a_to_b_exporter'])} of exports to {b},"
            f" while {b} reports {usd(flows.loc[last, 'a_to_b_importer'])} of imports from {a}.",
        ],
        view.round(1).reset_index(),
    )
