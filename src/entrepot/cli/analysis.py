"""Embargo analytics: effect, mirror, reroute, cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, print_json, print_table, store_path
from entrepot.store import Store

ExporterOpt = Annotated[str, typer.Option("--exporter", help="Country A (ISO3).", show_default=False)]
ImporterOpt = Annotated[str, typer.Option("--importer", help="Country B (ISO3).", show_default=False)]
EventOpt = Annotated[str, typer.Option("--event", help="Date of the embargo, YYYY-MM-DD.", show_default=False)]


def _codes(text: str | None) -> list[str] | None:
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else None


@app.command()
def effect(exporter: ExporterOpt, importer: ImporterOpt, event: EventOpt, as_json: JsonOpt = False, store: StoreOpt = None) -> None:
    """The direct effect: flows before and after, as each side reports them, against a counterfactual."""
    from entrepot.analysis.effect import direct_effect

    with Store(store_path(store), read_only=True) as st:
        res = direct_effect(st, exporter, importer, event)
    if as_json:
        print_json(res.to_dict())
        return
    cols = ["series", "pre_usd_per_period", "post_usd_per_period", "counterfactual_usd_per_period", "change_pct", "ci_low_pct", "ci_high_pct"]
    print_table(res.totals[cols], title=f"Direct effect, {res.window.freq} data, event {res.window.event}")
    print_table(res.table[["series", "group"] + cols[1:]].head(20), title="By HS chapter (largest first)")


@app.command()
def mirror(
    a: Annotated[str, typer.Option("--a", help="Country A (ISO3).", show_default=False)],
    b: Annotated[str, typer.Option("--b", help="Country B (ISO3).", show_default=False)],
    event: Annotated[str | None, typer.Option("--event", help="Event date; flags are against the norm before it.")] = None,
    cif_fob: Annotated[float | None, typer.Option("--cif-fob", help="CIF/FOB factor; estimated from the store if omitted.")] = None,
    by: Annotated[str, typer.Option("--by", help="year or month.")] = "year",
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Mirror statistics: each side's report of the same flow, CIF/FOB-adjusted, with breaks flagged."""
    from entrepot.analysis.mirror import mirror as run

    with Store(store_path(store), read_only=True) as st:
        res = run(st, a, b, event, cif_fob, by)
    if as_json:
        print_json(res.to_dict())
        return
    print_table(res.table.round(2), title=f"Mirror statistics (CIF/FOB {res.cif_fob:.3f}, {res.cif_fob_source})")


@app.command()
def reroute(
    exporter: ExporterOpt,
    importer: ImporterOpt,
    event: EventOpt,
    candidates: Annotated[str | None, typer.Option("--candidates", help="Countries to test, e.g. GRC,BGR; default all.")] = None,
    both: Annotated[bool, typer.Option("--both", help="Also the reverse direction.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Family-wise error rate.")] = 0.05,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Rank third countries by evidence that trade from A to B went through them."""
    from entrepot.analysis.reroute import scan

    with Store(store_path(store), read_only=True) as st:
        res = scan(st, exporter, importer, event, _codes(candidates), alpha, both)
    if as_json:
        print_json(res.to_dict())
        return
    for r in [res] + ([res.reverse] if res.reverse else []):
        d = r.to_dict()
        share = d["rerouted_share_of_pre_event"]
        typer.echo(f"{r.exporter} -> {r.importer}: direct drop ${r.direct_drop_usd / 1e9:,.2f} bn over {', '.join(r.window.post)};"
                   f" rerouted ${r.rerouted_value_usd / 1e9:,.2f} bn" + (f" ({share:.0%} of the pre-event flow)" if share else ""))
        cols = ["country", "significant", "score", "rerouted_value_usd", "ci_low", "ci_high", "p_value", "leg1_p", "leg2_p", "markup_pct", "placebo_p"]
        print_table(r.candidates[cols].head(12), title="Candidate intermediaries")
        for note in r.notes:
            typer.echo(f"note: {note}")


@app.command()
def cost(
    exporter: ExporterOpt,
    importer: ImporterOpt,
    via: Annotated[str | None, typer.Option("--via", help="Intermediaries, e.g. GRC,BGR.")] = None,
    event: Annotated[str | None, typer.Option("--event", help="With no --via: cost every intermediary reroute flags.")] = None,
    params: Annotated[Path | None, typer.Option("--params", help="Cost parameter TOML (default: the shipped table).")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """The extra cost of the detour through each intermediary, per tonne and in total."""
    from entrepot.analysis.cost import detour_cost, load_params, volumes_from_reroute
    from entrepot.errors import InputError

    volumes = None
    vias = _codes(via)
    if vias is None:
        if not event:
            raise InputError("give --via C1,C2 or --event DATE to cost what reroute finds")
        from entrepot.analysis.reroute import scan

        with Store(store_path(store), read_only=True) as st:
            volumes = volumes_from_reroute(scan(st, exporter, importer, event))
        vias = list(volumes)
    res = detour_cost(exporter, importer, vias, load_params(params), volumes)
    if as_json:
        print_json(res.to_dict())
        return
    print_table(res.table.round(1), title=f"Detour costs {res.exporter} -> {res.importer}")
    if volumes:
        typer.echo(f"total extra cost: ${res.total_extra_cost_usd / 1e6:,.1f} million")
