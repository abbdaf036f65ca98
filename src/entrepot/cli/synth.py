"""Synthetic worlds: `entrepot synth` writes one; `entrepot demo` tells the default case's story on one."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import print_table


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory for the world's files.")] = Path("entrepot-world"),
    scenario_file: Annotated[Path | None, typer.Option("--scenario", help="Scenario TOML (docs/synth.md).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")] = None,
) -> None:
    """Write a synthetic world in the real formats (BACI, Comtrade) with its truth.json."""
    from entrepot.synth import Scenario, generate, load_scenario

    scn = load_scenario(scenario_file) if scenario_file else Scenario.default()
    if seed is not None:
        scn = scn.replace(seed=seed)
    for name, path in generate(scn).write(out).items():
        typer.echo(f"{name}: {path}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Directory for the world, the store and the report.")] = Path("entrepot-demo"),
) -> None:
    """Generate the default Türkiye–Israel world, ingest it, run the analyses and tell the story."""
    from entrepot import demo as story

    started = time.perf_counter()
    for step in story.run(out):
        typer.echo(f"\n== {step.title} ({time.perf_counter() - started:.1f}s)")
        for line in step.lines:
            typer.echo(line)
        if step.table is not None:
            print_table(step.table)
    typer.echo(f"\ndone in {time.perf_counter() - started:.1f}s; files in {out}/")
