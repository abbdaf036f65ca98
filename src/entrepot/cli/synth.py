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
    outside_boom: Annotated[int | None, typer.Option(min=0, help="Decoys: both legs boom outside the basket.")] = None,
    demand_boom: Annotated[int | None, typer.Option(min=0, help="Decoys: countries whose imports of the basket rise from every origin.")] = None,
    diversion: Annotated[int | None, typer.Option(min=0, help="Decoys: suppliers the importer turns to (leg 2 rises, leg 1 does not).")] = None,
    deflection: Annotated[int | None, typer.Option(min=0, help="Decoys: buy what the importer stopped buying, sell it their own.")] = None,
    hubs: Annotated[int | None, typer.Option(min=0, help="Decoys: entrepôts (ARE, SGP, HKG...) with large flows both ways.")] = None,
    price_shock: Annotated[int | None, typer.Option(min=0, help="Decoys: countries whose both legs' prices rise, quantities flat.")] = None,
    gaps: Annotated[int | None, typer.Option(min=0, help="Decoys: missing reporter-years or runs of months.")] = None,
    hs_change: Annotated[str | None, typer.Option(help="Decoys: month (YYYY-MM) reporters switch from HS2017 to HS2022 codes.")] = None,
    onset_months: Annotated[int | None, typer.Option(min=0, help="Routes build up over this many months.")] = None,
    second_event: Annotated[str | None, typer.Option(help="Date part of the embargo is lifted (2025, 2025-04, 2025-04-01).")] = None,
    hs_relabel: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Share of routes' leg 2 under another HS6 of the HS4.")] = None,
    route_boom: Annotated[int | None, typer.Option(min=0, help="The first N routes' trade with both sides of the pair also booms.")] = None,
    all_decoys: Annotated[bool, typer.Option("--all-decoys", help="Every decoy class at once, mild (Decoys.every()).")] = False,
    strong_decoys: Annotated[bool, typer.Option("--strong-decoys", help="Every decoy class at once, strong enough to pass"
                                                " the two-leg route test (Decoys.strong()).")] = False,
    embargoes: Annotated[int, typer.Option(min=0, help="Further embargoes of random sizes and dates, each with its routes.")] = 0,
    concordance: Annotated[Path | None, typer.Option(help="Directory of UNSD's HS correspondence workbooks (for --hs-change).")] = None,
) -> None:
    """Write a synthetic world in the real formats (BACI, Comtrade) with its truth.json."""
    import dataclasses

    from entrepot.analysis.window import parse_event
    from entrepot.errors import InputError
    from entrepot.synth import Decoys, Scenario, generate, load_scenario, random_embargoes

    scn = load_scenario(scenario_file) if scenario_file else Scenario.default()
    if seed is not None:
        scn = scn.replace(seed=seed)
    decoys = Decoys.strong() if strong_decoys else Decoys.every() if all_decoys else scn.decoys
    def date(value: str | None, flag: str):
        try:
            return None if value is None else parse_event(value)
        except InputError:
            raise InputError(f"{flag}: not a date: {value!r} (2025, 2025-04 or 2025-04-01)") from None

    date(hs_change, "--hs-change")
    given = {"outside_boom": outside_boom, "demand_boom": demand_boom, "diversion": diversion, "deflection": deflection, "hubs": hubs,
             "price_shock": price_shock, "gaps": gaps, "hs_change": hs_change, "onset_months": onset_months,
             "second_event": date(second_event, "--second-event"), "hs_relabel": hs_relabel, "route_boom": route_boom}
    decoys = dataclasses.replace(decoys, **{k: v for k, v in given.items() if v is not None})
    scn = scn.replace(decoys=decoys, concordance=str(concordance) if concordance else scn.concordance)
    if embargoes:
        scn = scn.replace(embargoes=scn.embargoes + random_embargoes(scn, embargoes))
    world = generate(scn)
    for name, path in world.write(out).items():
        typer.echo(f"{name}: {path}")
    source = world.truth.get("decoys", {}).get("hs_change", {}).get("source", "")
    if source.startswith("fallback"):
        typer.echo(f"note: --hs-change drew its revisions from a built-in sample, {source}; give --concordance DIR for UNSD's whole table")


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
            print_table(step.table, right=list(step.table.columns[1:]))
    typer.echo(f"\ndone in {time.perf_counter() - started:.1f}s; files in {out}/")
