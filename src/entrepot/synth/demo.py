"""`entrepot demo`: the default world, generated, ingested and told as a short story with numbers.

The demo is a list of steps; each takes the shared `DemoContext` and returns lines of the story.
Adding an analysis to the demo is adding one function to `STEPS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from entrepot.store import Store
from entrepot.synth import Scenario, World, generate, ingest_world


@dataclass
class DemoContext:
    store: Store
    out_dir: Path
    scenario: Scenario
    world: World | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # figures the steps found, for --json


def bn(usd: float) -> str:
    return f"USD {usd / 1e9:,.2f} bn"


def step_generate(ctx: DemoContext) -> list[str]:
    ctx.world = generate(ctx.scenario)
    scn = ctx.scenario
    return [
        f"Generated a synthetic world: {len(ctx.world.countries)} economies, {scn.n_products} HS6 products, "
        f"{scn.first_year}-{scn.last_year} (seed {scn.seed})."
    ]


def step_ingest(ctx: DemoContext) -> list[str]:
    paths = ingest_world(ctx.store, ctx.world, ctx.out_dir)
    rows = ctx.store.row_count()
    ctx.facts["files"] = {k: str(v) for k, v in paths.items()}
    return [f"Wrote {len(paths)} files (BACI, Comtrade, truth.json, gravity.csv) to {ctx.out_dir}; {rows:,} rows ingested."]


def step_direct(ctx: DemoContext) -> list[str]:
    """The collapse of direct trade, as each side reports it (entrepot.analysis.flows.bilateral)."""
    from entrepot.analysis.flows import bilateral

    scn = ctx.scenario
    a, b = scn.exporter, scn.importer
    table = bilateral(ctx.store, a, b, by="year").table.set_index("period")
    pre, last = str(date_year(scn.embargo_date) - 1), str(scn.last_year)
    ctx.facts["direct"] = table.loc[[pre, last]].to_dict()
    lines = [f"Embargo: {a} restricts exports to {b} from {scn.restriction_date}; full halt from {scn.embargo_date}."]
    for col, who in (("a_to_b_exporter", f"{a} reports exports to {b}"), ("a_to_b_importer", f"{b} reports imports from {a}"),
                     ("b_to_a_exporter", f"{b} reports exports to {a}"), ("b_to_a_importer", f"{a} reports imports from {b}")):
        before, after = table.at[pre, col], table.at[last, col]
        lines.append(f"  {who}: {bn(before)} in {pre} -> {bn(after)} in {last} ({(after / before - 1):+.0%}).")
    return lines


def step_truth(ctx: DemoContext) -> list[str]:
    """What the world's truth says happened, for the detectors to find."""
    d = ctx.world.truth["directions"][f"{ctx.scenario.exporter}->{ctx.scenario.importer}"]
    vias = ", ".join(f"{c} {bn(v['rerouted_total'])}" for c, v in d["intermediaries"].items())
    return [
        f"Truth: direct effect {bn(d['direct_effect'])}; rerouted {bn(d['rerouted_total'])} ({vias});",
        f"  relabelled to {d['relabel_country']} {bn(d['relabelled_total'])} (the gap between the two sides' figures above).",
    ]


STEPS: list[Callable[[DemoContext], list[str]]] = [step_generate, step_ingest, step_direct, step_truth]


def date_year(iso_date: str) -> int:
    return int(iso_date[:4])


def run_demo(store_path: Path, out_dir: Path, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every step against a fresh store at `store_path`; returns the facts and timings."""
    store_path.unlink(missing_ok=True)
    started = time.perf_counter()
    timings = {}
    with Store(store_path) as store:
        ctx = DemoContext(store, out_dir, Scenario.default())
        for step in STEPS:
            t0 = time.perf_counter()
            for line in step(ctx):
                echo(line)
            timings[step.__name__] = round(time.perf_counter() - t0, 2)
    total = time.perf_counter() - started
    echo(f"Done in {total:.1f} s; store at {store_path}.")
    return {"store": str(store_path), "out_dir": str(out_dir), "timings_s": timings, "total_s": round(total, 2), **ctx.facts}
