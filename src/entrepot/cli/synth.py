"""Commands for synthetic worlds: `synth` writes one, `demo` tells the default one's story."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, print_json


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory for the world's files.", show_default=False)],
    scenario: Annotated[Path | None, typer.Option("--scenario", help="Scenario TOML [default: Türkiye-Israel].")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the scenario's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate a synthetic world with known truth, in BACI and Comtrade formats, plus truth.json."""
    from entrepot.synth import Scenario, generate, load_scenario

    scn = load_scenario(scenario) if scenario else Scenario.default()
    if seed is not None:
        scn = dataclasses.replace(scn, seed=seed)
    paths = generate(scn).write(out)
    if as_json:
        print_json({k: str(v) for k, v in paths.items()})
    else:
        for name, path in paths.items():
            typer.echo(f"{name}: {path}")


@app.command()
def demo(
    store: Annotated[Path | None, typer.Option("--store", help="Store to create [default: ./entrepot-demo/demo.duckdb].")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the world's files [default: ./entrepot-demo].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate the default Türkiye-Israel world, ingest it into a fresh store and tell its story."""
    from entrepot.synth.demo import run_demo

    out = out or Path("entrepot-demo")
    result = run_demo(store or out / "demo.duckdb", out, echo=(lambda _: None) if as_json else typer.echo)
    if as_json:
        print_json(result)
