"""Analysis commands: effect (direct effect of an event), mirror (both sides' reports), reroute, cost (detours)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import (
    JsonOpt,
    StoreOpt,
    outputs,
    print_basis,
    print_json,
    print_table,
    read_store,
    split_codes,
)
from entrepot.errors import InputError
from entrepot.results import Result

if TYPE_CHECKING:
    import pandas as pd

    from entrepot.analysis.reroute import RerouteResult


def _echo_all(prefix: str, lines: list[str]) -> None:
    for line in lines:
        typer.echo(f"{prefix}: {line}")


def _ci(lo_hi: tuple[float, float], fmt: str) -> str:
    return f"[{fmt.format(lo_hi[0])}, {fmt.format(lo_hi[1])}]"


@app.command()
@outputs
def effect(
    exporter: Annotated[str, typer.Option("--exporter", help="ISO3 of the exporter (A).")],
    importer: Annotated[str, typer.Option("--importer", help="ISO3 of the importer (B).")],
    event: Annotated[str, typer.Option("--event", help="Event date, YYYY-MM-DD.")],
    freq: Annotated[str, typer.Option("--freq", help="A, M or auto (monthly when the pair has months).")] = "auto",
    exclude: Annotated[str | None, typer.Option("--exclude", help="Destinations left out of the control group: GRC,BGR.")] = None,
    exclude_flagged: Annotated[bool, typer.Option("--exclude-flagged", help="Also leave out the countries `reroute` flags"
                                                  " (their imports grew with the rerouted goods).")] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Direct effect: the pair's trade after the event against a trend + control counterfactual."""
    from entrepot.analysis.effect import effect as run

    with read_store(store) as st:
        res = run(st, exporter, importer, event, freq, split_codes(exclude), exclude_flagged=exclude_flagged)  # type: ignore[arg-type]
    if as_json:
        print_json(res)
        return res
    moved = f"; {res.transition} is a transition year ({res.transition_share_after:.0%} after the event), left out" if res.transition else ""
    typer.echo(f"{res.exporter} -> {res.importer}, event {res.event}: first post period {res.first_post}{moved}")
    for s in res.sides:
        print_table(s.series, title=f"{s.reporter} reports ({s.side} side)")
        typer.echo(
            f"change {s.change_pct:+.1%} {_ci((s.change_pct_ci_low, s.change_pct_ci_high), '{:+.1%}')}, "
            f"{s.change_usd / 1e6:+,.1f} million USD {_ci((s.change_usd_ci_low / 1e6, s.change_usd_ci_high / 1e6), '{:+,.1f}')} (95% CI)"
        )
    _echo_all("note", res.notes)
    print_basis(res)
    return res


@app.command()
@outputs
def mirror(
    exporter: Annotated[str, typer.Option("--exporter", "--a", help="ISO3 of one country (A).")],
    importer: Annotated[str, typer.Option("--importer", "--b", help="ISO3 of the other (B); both directions are compared.")],
    cif_fob: Annotated[float | None, typer.Option("--cif-fob", help="CIF/FOB ratio, e.g. 1.06 [default: estimated].")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Event date: the gap's norm is taken before it.")] = None,
    freq: Annotated[str, typer.Option("--freq", help="A or M.")] = "A",
    products: Annotated[bool, typer.Option("--products", help="Also print the table by HS2 group.")] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Mirror statistics: each side's report of the same flow, CIF/FOB adjusted, with gap breaks flagged."""
    from entrepot.analysis.mirror import mirror as run

    with read_store(store) as st:
        res = run(st, exporter, importer, event, freq, cif_fob)  # type: ignore[arg-type]
    if as_json:
        print_json(res)
        return res
    how = "estimated" if res.cif_fob_estimated else "given"
    shown = ["direction", "period", "exporter_usd", "importer_fob_usd", "gap", "flag"]
    print_table(res.totals[shown], title=f"Mirror {res.exporter} <-> {res.importer} (CIF/FOB {res.cif_fob:.3f}, {how})")
    if products:
        print_table(res.products[shown[:1] + ["grp"] + shown[1:]], title="By HS2 group (importer at FOB)")
    _echo_all("flag", res.headlines)
    _echo_all("note", res.notes)
    print_basis(res)
    return res


@app.command()
@outputs
def reroute(
    exporter: Annotated[str, typer.Option("--exporter", help="ISO3 of the exporter (A).")],
    importer: Annotated[str, typer.Option("--importer", help="ISO3 of the importer (B).")],
    event: Annotated[str, typer.Option("--event", help="Event date, YYYY-MM-DD.")],
    candidates: Annotated[str | None, typer.Option("--candidates", help="Countries to test, e.g. GRC,BGR; default all.")] = None,
    both: Annotated[bool, typer.Option("--both", help="Also the reverse direction.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Family-wise error rate.")] = 0.05,
    source: Annotated[str, typer.Option("--source", help="baci (annual), reported (declared reports, monthly where A reports"
                                        " monthly) or auto (BACI when the store has it).")] = "auto",
    min_share: Annotated[float | None, typer.Option("--min-share", help="Smallest share of the stopped flow a flagged country"
                                                    " must carry (materiality) [default: 0.001, i.e. 0.1%].")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Rank third countries by evidence that trade from A to B went through them (docs/methods.md)."""
    from entrepot.analysis.reroute import scan

    with read_store(store) as st:
        res = scan(st, exporter, importer, event, split_codes(candidates) or None, alpha, both, source=source,  # type: ignore[arg-type]
                   min_share=min_share)
    if as_json:
        print_json(res)
        return res
    for r in [res] + ([res.reverse] if res.reverse else []):
        typer.echo(r.summary())
        print_table(_reroute_rows(r), title="Candidate intermediaries, USD million (--json: both legs, top products)",
                    right=["p", "rerouted", "95% CI", "markup", "from", "relabelled", "relabel p"])
        _echo_all("note", r.notes)
    print_basis(res)
    return res


def _reroute_rows(r: RerouteResult, top: int = 12) -> pd.DataFrame:
    """The flagged candidates, then the next best up to `top` rows: USD million, narrow enough for a terminal;
    `from`: the first period with excess on both legs."""
    import pandas as pd

    table = r.candidates
    relabel = "relabelling" in table
    flagged = table.significant | (table.relabelling if relabel else False)
    shown = pd.concat([table[flagged], table[~flagged].head(max(top - int(flagged.sum()), 0))])
    out = pd.DataFrame({
        "country": shown.country,
        "found": [" + ".join(k for k, on in (("route", s), ("relabel", r)) if on)
                  for s, r in zip(shown.significant, shown.relabelling if relabel else [False] * len(shown), strict=True)],
        "p": shown.p_value.map(_p), "rerouted": shown.rerouted_value_usd.map(_millions),
        "95% CI": [f"{_millions(lo)}–{_millions(hi)}" for lo, hi in zip(shown.ci_low, shown.ci_high, strict=True)],
        "markup": shown.markup_pct.map("{:.1f}%".format),
        "from": [(r.timing is not None and sig and r.onset(c)) or "" for c, sig in zip(shown.country, shown.significant, strict=True)],
    })
    if relabel:
        out["relabelled"] = shown.relabelled_value_usd.map(_millions)
        out["relabel p"] = shown.relabel_p.map(_p)
    return out


def _millions(usd: float) -> str:
    return "" if math.isnan(usd) else f"{usd / 1e6:,.0f}" if abs(usd) >= 1e7 else f"{usd / 1e6:,.1f}"


def _p(p: float) -> str:
    return "" if math.isnan(p) else "<1e-15" if p < 1e-15 else f"{p:.0e}" if p < 1e-3 else f"{p:.3f}"


@app.command()
@outputs
def cost(
    exporter: Annotated[str, typer.Option("--exporter", help="ISO3 of the exporter (A).")],
    importer: Annotated[str, typer.Option("--importer", help="ISO3 of the importer (B).")],
    via: Annotated[str | None, typer.Option("--via", help="Intermediaries: GRC,BGR.")] = None,
    value: Annotated[float | None, typer.Option("--value", help="Rerouted value in USD (one --via only).")] = None,
    reroute: Annotated[Path | None, typer.Option("--reroute", help="JSON of `entrepot reroute --json` (its flagged routes).")] = None,
    params: Annotated[Path | None, typer.Option("--params", help="Parameter table (TOML) replacing the shipped one.")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Extra cost of the detour through each intermediary: distance, freight, handling, markup."""
    from entrepot.analysis.cost import cost as run
    from entrepot.analysis.cost import load_params

    items = [{"country": c, "rerouted_value_usd": value} for c in split_codes(via)]
    if value is not None and len(items) != 1:
        raise InputError("goes with exactly one --via country", parameter="value")
    if reroute is not None:
        try:
            items += [i for i in json.loads(reroute.read_text())["intermediaries"] if i.get("significant", True)]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a reroute result with an 'intermediaries' list ({exc.__class__.__name__})", path=reroute) from None
    table = load_params(params)
    with read_store(store) as st:
        res = run(st, exporter, importer, items, table)
    if as_json:
        print_json(res)
        return res
    print_table(res.routes, title=f"Detour costs {res.exporter} -> {res.importer} (parameters: {res.params.path})")
    if res.total_extra_cost_usd is not None:
        typer.echo(f"total extra cost: {res.total_extra_cost_usd / 1e6:,.1f} million USD on {res.total_rerouted_usd / 1e6:,.1f} million rerouted")
    _echo_all("note", res.notes)
    print_basis(res)
    return res
