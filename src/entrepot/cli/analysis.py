"""Analysis commands: effect (direct effect of an event), mirror (both sides' reports), reroute, cost (detours)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entrepot.basket import load_basket
from entrepot.cli import app
from entrepot.cli.common import (
    JsonOpt,
    StoreOpt,
    outputs,
    print_basis,
    print_frame,
    print_json,
    print_table,
    read_store,
    split_codes,
)
from entrepot.errors import InputError
from entrepot.results import Result, currency_names

if TYPE_CHECKING:
    import pandas as pd

    from entrepot.analysis.first_leg import FirstLegResult
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
    importer: Annotated[str, typer.Option("--importer", help="ISO3 of the importer (B), or EU27 / a group of the case.")],
    event: Annotated[str, typer.Option("--event", help="Event date: 2024-05-02, 2024-05 (its 1st) or 2024 (1 January).")],
    freq: Annotated[str, typer.Option("--freq", help="A, M or auto (monthly where every side that declares the pair has months"
                                      " around the event; docs/methods.md, Defaults).")] = "auto",
    source: Annotated[str, typer.Option("--source", help="reported (declarations), baci (reconciled, annual) or auto (the"
                                        " declarations when both sides declare the pair, else BACI).")] = "auto",
    product: Annotated[str | None, typer.Option("--product", help="Only this HS2/4/6 code and its sub-codes (72, 7208, 7208.10),"
                                                " by groups one level finer; all products by HS2 if omitted.")] = None,
    exclude: Annotated[str | None, typer.Option("--exclude", help="Destinations left out of the control group: GRC,BGR.")] = None,
    exclude_flagged: Annotated[bool, typer.Option("--exclude-flagged", help="Also leave out the countries `reroute` flags"
                                                  " (their imports grew with the rerouted goods).")] = False,
    basket: Annotated[Path | None, typer.Option("--basket", help="Only these products: a code list (CN8/HS).")] = None,
    currency: Annotated[str, typer.Option("--currency", help="USD or EUR (exact where the source reported in EUR).")] = "USD",
    case_file: Annotated[Path | None, typer.Option("--case", help="A case file whose groups either side may name.")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Direct effect: the pair's trade after the event against a trend + control counterfactual.

    Either side may be EU27 or a group of the case file (its members' sum, membership by date)."""
    from entrepot.analysis.effect import effect as run
    from entrepot.case import load_case

    with read_store(store) as st:
        res = run(st, exporter, importer, event, freq, split_codes(exclude), exclude_flagged=exclude_flagged,  # type: ignore[arg-type]
                  basket=load_basket(basket) if basket else None, currency=currency,
                  groups=load_case(case_file).groups if case_file else None, product=product, source=source)  # type: ignore[arg-type]
    if as_json:
        print_json(res)
        return res
    moved = f"; {res.transition} is a transition year ({res.transition_share_after:.0%} after the event), left out" if res.transition else ""
    typer.echo(f"{res.exporter} -> {res.importer}, event {res.event}: first post period {res.first_post}{moved}")
    for s in res.sides:
        print_frame(s.series.rename(columns=currency_names(s.series.columns, res.currency)), title=f"{s.reporter} reports ({s.side} side)")
        typer.echo(
            f"change {s.change_pct:+.1%} {_ci((s.change_pct_ci_low, s.change_pct_ci_high), '{:+.1%}')}, "
            f"{s.change_usd / 1e6:+,.1f} million {res.currency} {_ci((s.change_usd_ci_low / 1e6, s.change_usd_ci_high / 1e6), '{:+,.1f}')}"
            " (95% CI)"
        )
        if res.product is not None:  # the drill-down's breakdown, one level under the code, with the HS names
            print_table(s.groups[["grp", "description", "pre_mean_usd", "post_mean_usd", "counterfactual_mean_usd", "change_usd"]],
                        title=f"{s.reporter}'s figures by product group under HS {res.product}, per period")
    _echo_all("note", res.notes)
    print_basis(res)
    return res


@app.command()
@outputs
def mirror(
    exporter: Annotated[str, typer.Option("--exporter", "--a", help="ISO3 of one country (A), or EU27 / a group of the case.")],
    importer: Annotated[str, typer.Option("--importer", "--b", help="ISO3 of the other (B), or a group; both directions are compared.")],
    cif_fob: Annotated[float | None, typer.Option("--cif-fob", help="CIF/FOB ratio, e.g. 1.06 [default: estimated].")] = None,
    event: Annotated[str | None, typer.Option("--event", help="Event date: the gap's norm is taken before it.")] = None,
    freq: Annotated[str, typer.Option("--freq", help="A, M or auto (monthly where both sides declare the pair in months"
                                      " around the event; docs/methods.md, Defaults).")] = "auto",
    products: Annotated[bool, typer.Option("--products", help="Also print the table by product group (HS2, or one level under"
                                           " --product), with the HS names.")] = False,
    product: Annotated[str | None, typer.Option("--product", help="Only this HS2/4/6 code and its sub-codes (72, 7208, 7208.10),"
                                                " by groups one level finer; all products by HS2 if omitted.")] = None,
    basket: Annotated[Path | None, typer.Option("--basket", help="Only these products: a code list (CN8/HS).")] = None,
    currency: Annotated[str, typer.Option("--currency", help="USD or EUR (exact where the source reported in EUR).")] = "USD",
    case_file: Annotated[Path | None, typer.Option("--case", help="A case file whose groups either side may name.")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Mirror statistics: each side's report of the same flow, CIF/FOB adjusted, with gap breaks flagged."""
    from entrepot.analysis.mirror import mirror as run
    from entrepot.case import load_case

    with read_store(store) as st:
        res = run(st, exporter, importer, event, freq, cif_fob, basket=load_basket(basket) if basket else None,  # type: ignore[arg-type]
                  currency=currency, groups=load_case(case_file).groups if case_file else None, product=product)
    if as_json:
        print_json(res)
        return res
    how = "estimated" if res.cif_fob_estimated else "given"
    shown = ["direction", "period", "exporter_usd", "importer_fob_usd", "gap", "flag"]
    named = currency_names(shown, res.currency)  # _eur for a result in EUR; present() shows "EUR m"
    columns = [named.get(c, c) for c in shown]
    print_frame(res.totals.rename(columns=named), columns,
                title=f"Mirror {res.exporter} <-> {res.importer} (CIF/FOB {res.cif_fob:.3f}, {how})")
    if products:
        print_frame(res.products.rename(columns=named), columns[:1] + ["grp", "description"] + columns[1:],
                    title=f"By {'HS2 group' if res.product is None else 'product group'} (importer at FOB)")
    _echo_all("flag", res.headlines)
    _echo_all("note", res.notes)
    print_basis(res)
    return res


@app.command()
@outputs
def reroute(
    exporter: Annotated[str | None, typer.Option("--exporter", help="ISO3 of the exporter (A), or EU27 / a group of the case"
                                                 " [default: the case's].", show_default=False)] = None,
    importer: Annotated[str | None, typer.Option("--importer", help="ISO3 of the importer (B) [default: the case's].",
                                                 show_default=False)] = None,
    event: Annotated[str | None, typer.Option("--event", help="Event date (2024-05-02, 2024-05 or 2024) [default: the case's main event].",
                                              show_default=False)] = None,
    candidates: Annotated[str | None, typer.Option("--candidates", help="Countries (or groups) to test, e.g. GRC,BGR; default all"
                                                   " (the case's suspects with --case).")] = None,
    case_file: Annotated[Path | None, typer.Option("--case", help="A case file: the pair, event, groups, suspects and basket.")] = None,
    basket: Annotated[Path | None, typer.Option("--basket", help="Product codes (CN8/HS, one a line or a `code` column): rank on"
                                                " these against the rest of trade [default: the case's].")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="USD or EUR [default: the case's, else USD].")] = None,
    concordance: Annotated[Path | None, typer.Option("--concordance", help="UNSD HS correlation table, or its folder, for a window"
                                                     " across an HS revision [default: cached or downloaded from UNSD].")] = None,
    both: Annotated[bool, typer.Option("--both", help="Also the reverse direction.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Family-wise error rate.")] = 0.05,
    source: Annotated[str, typer.Option("--source", help="baci (reconciled, annual), reported (declarations) or auto (the"
                                        " declarations when both sides declare the pair by product, monthly where both have"
                                        " months, else BACI; docs/methods.md, Defaults).")] = "auto",
    product: Annotated[str | None, typer.Option("--product", help="Only this HS2/4/6 code and its sub-codes (72, 7208, 7208.10):"
                                                " the drop, both legs and relabelling measured on them; with --basket, the"
                                                " basket's codes under it; for a group as exporter without --basket, the basket.")] = None,
    min_share: Annotated[float | None, typer.Option("--min-share", help="Smallest share of the stopped flow a flagged country"
                                                    " must carry (materiality) [default: 0.001, i.e. 0.1%].")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Rank third countries by evidence that trade from A to B went through them (docs/methods.md).

    When the store has no flow between the candidates and B (one side's declarations, such as Comext's),
    candidates are ranked on the first leg, the basket against the rest of trade, and the output says
    the second leg is unobserved."""
    from entrepot.analysis.first_leg import FirstLegResult, has_second_leg
    from entrepot.analysis.reroute import scan
    from entrepot.analysis.reroute.result import VERDICTS
    from entrepot.case import load_case

    case = load_case(case_file) if case_file else None
    exporter, importer = exporter or (case and case.countries[0]), importer or (case and case.countries[1])
    event = event or (case and case.main_event.date.isoformat())
    if not (exporter and importer and event):
        raise InputError("give --exporter, --importer and --event, or --case FILE")
    cands = split_codes(candidates) or (list(case.intermediaries) if case else [])
    chosen = case.basket(basket) if case else (load_basket(basket) if basket else None)
    with read_store(store) as st:
        if chosen is None and cands and not has_second_leg(st, importer.upper(), list(case.expand(cands) if case else cands)):
            raise InputError(f"the store has no flows between the candidates and {importer}: only the first leg can be"
                             " ranked, against the rest of trade; give --basket FILE (the products to rank on)")
        res = scan(st, exporter, importer, event, cands or None, alpha, both, source=source, min_share=min_share,  # type: ignore[arg-type]
                   basket=chosen, currency=currency or (case.currency if case else "USD"), groups=case.groups if case else None,
                   concordance=concordance, product=product)
    if as_json:
        print_json(res)
        return res
    if isinstance(res, FirstLegResult):
        _print_first_leg(res)
        print_basis(res)
        return res
    for r in [res] + ([res.reverse] if res.reverse else []):
        typer.echo(r.summary())
        rows = _reroute_rows(r)
        print_table(rows, title="Candidate intermediaries, USD million (--json: both legs, top products)",
                    right=["p", "rerouted", "95% CI", "markup", "from", "relabelled", "relabel p"])
        used = {code for cell in rows.verdict for code in cell.split(", ")}
        _echo_all("verdict", [f"{code} = {means}" for code, means in VERDICTS.items() if code in used])
        _echo_all("note", r.notes)
    print_basis(res)
    return res


def _print_first_leg(res: FirstLegResult) -> None:
    """The first-leg ranking: the basket to B, then each candidate's evidence, in the result's currency (millions)."""
    import pandas as pd

    d, cur = res.direct, res.currency
    typer.echo(f"{res.exporter} -> {res.importer}, basket {res.basket}: {d['basket_pre'] / 1e6:,.1f} -> {d['basket_post'] / 1e6:,.1f}"
               f" {cur} m per month ({d['basket_change']:+.1%}); rest of trade {d['control_change']:+.1%}; "
               f"{res.window.span} against {res.window.pre[0]}..{res.window.pre[-1]}")
    c = res.candidates
    table = pd.DataFrame({
        "country": c.country, "flagged": c.flagged.map({True: "yes", False: ""}),  # in rank order (--json: rank)
        "basket, change": c.basket_change.map("{:+.0%}".format), "rest of trade, change": c.control_change.map("{:+.0%}".format),
        "share of the drop": c.share_of_drop.map("{:.1%}".format),
        "95% CI of the share": [f"{lo:.1%}–{hi:.1%}" for lo, hi in zip(c.ci_low, c.ci_high, strict=True)],
        "p": c.p_value.map(_p), "placebo p": c.placebo_p.map(_p), "products stopped and started": c.products_stopped_started,
        "second leg": c.second_leg,
    })
    legs = set(c.second_leg)
    if len(legs) == 1:  # the same for every candidate: said once, in the title, so the table fits a terminal
        table = table.drop(columns="second leg")
    print_table(table, title=f"Candidates on the first leg ({cur}{f'; second leg {legs.pop()}' if len(legs) == 1 else ''};"
                             " --json: top products)", right=[c for c in table.columns if c not in ("country", "flagged", "second leg")])
    _echo_all("note", res.notes)


def _reroute_rows(r: RerouteResult, top: int = 12) -> pd.DataFrame:
    """The flagged candidates, then the next best up to `top` rows: USD million, narrow enough for a terminal;
    `from`: the first period with excess on both legs; `verdict`: route, relabel, or the route tests'
    verdict in a word (`VERDICTS`, the legend printed under the table; docs/methods.md, decoys)."""
    import pandas as pd

    from entrepot.analysis.reroute.result import REASONS

    table = r.candidates
    relabel = "relabelling" in table
    flagged = table.significant | (table.relabelling if relabel else False)
    shown = pd.concat([table[flagged], table[~flagged].head(max(top - int(flagged.sum()), 0))])
    relabelled = shown.relabelling if relabel else pd.Series(False, index=shown.index)
    out = pd.DataFrame({
        "country": shown.country,
        "p": shown.p_value.map(_p), "rerouted": shown.rerouted_value_usd.map(_millions),
        "95% CI": [f"{_millions(lo)}–{_millions(hi)}" for lo, hi in zip(shown.ci_low, shown.ci_high, strict=True)],
        "markup": shown.markup_pct.map("{:.1f}%".format),
        "from": [(r.timing is not None and sig and r.onset(c)) or "" for c, sig in zip(shown.country, shown.significant, strict=True)],
    })
    if relabel:
        out["relabelled"] = shown.relabelled_value_usd.map(_millions)
        out["relabel p"] = shown.relabel_p.map(_p)
    # what the scan found, or why a country was not flagged as a route (the decoy tests' verdict), in a word
    codes = shown.reason.map(REASONS)
    out["verdict"] = [f"{code}, relabel" if r and code != "none" else "relabel" if r else code
                      for r, code in zip(relabelled, codes, strict=True)]
    return out


def _millions(usd: float) -> str:
    return "" if math.isnan(usd) else f"{usd / 1e6:,.0f}" if abs(usd) >= 1e7 else f"{usd / 1e6:,.1f}"


def _p(p: float) -> str:
    return "" if math.isnan(p) else "<0.001" if p < 1e-3 else f"{p:.3f}"


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
    title = f"Detour {res.exporter} -> {res.importer}"
    print_frame(res.routes, ["country", "route", "extra_km", "extra_freight_usd_per_t", "handling_usd_per_t"],
                title=f"{title}: distances and costs per tonne (parameters: {res.params.path})")
    print_frame(res.routes, ["country", "observed_markup_pct", "rerouted_value_usd", "extra_cost_usd", "extra_cost_pct_of_value"],
                title=f"{title}: what the rerouted goods cost (--json, --csv: every column)")
    if res.total_extra_cost_usd is not None:
        typer.echo(f"total extra cost: {res.total_extra_cost_usd / 1e6:,.1f} million USD on {res.total_rerouted_usd / 1e6:,.1f} million rerouted")
    _echo_all("note", res.notes)
    print_basis(res)
    return res
