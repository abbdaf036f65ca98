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
    """One step of the story: a title, its lines and maybe a table."""

    title: str
    lines: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None


def usd(x: float) -> str:
    """Dollars in words: "$1.20 billion", "-$10.25 billion"."""
    sign = "-" if x < 0 else ""
    for unit, div in (("billion", 1e9), ("million", 1e6)):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:,.2f} {unit}"
    return f"{sign}${abs(x):,.0f}"


def run(out: Path) -> Iterator[Step]:
    """Generate the default world in `out`, ingest it, and tell the story step by step."""
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
        yield from analysis_steps(store, scn, world.truth)
        yield from report_step(store, out, paths["gravity"])
    finally:
        store.close()


def steps(store: Store, scn, truth: dict) -> Iterator[Step]:
    """Did trade stop? Both sides' reports."""
    from entrepot.analysis.flows import flows as read

    a, b = scn.exporter, scn.importer
    res = read(store, a, b, freq="A")
    flows = res.table.set_index("period")
    view = flows[["a_to_b_exporter", "a_to_b_importer", "b_to_a_exporter", "b_to_a_importer"]] / 1e6
    view.columns = [f"{a}->{b} ({a} says)", f"{a}->{b} ({b} says)", f"{b}->{a} ({b} says)", f"{b}->{a} ({a} says)"]
    last = flows.index[-1]
    yield Step(
        "Did trade stop? Both sides' reports, USD million",
        [
            f"In {last}, {a} reports {usd(flows.loc[last, 'a_to_b_exporter'])} of exports to {b},"
            f" while {b} reports {usd(flows.loc[last, 'a_to_b_importer'])} of imports from {a}.",
            *basis_lines(res),
        ],
        view.map(lambda x: f"{x:,.0f}").reset_index(),
    )


def analysis_steps(store: Store, scn, truth: dict) -> Iterator[Step]:
    """The analyses, each beside the world's truth."""
    from entrepot.analysis.cost import cost
    from entrepot.analysis.effect import effect
    from entrepot.analysis.mirror import mirror
    from entrepot.analysis.reroute import scan

    a, b, event = scn.exporter, scn.importer, scn.embargo_date.isoformat()
    eff = effect(store, a, b, event)  # as `entrepot effect` computes it by default: every destination in the controls
    yield Step(f"The direct effect against a counterfactual ({'monthly' if eff.freq == 'M' else 'annual'} data)", [
        f"{s.reporter}'s figures: {100 * s.change_pct:+.1f}% (95% CI {100 * s.change_pct_ci_low:+.1f} to"
        f" {100 * s.change_pct_ci_high:+.1f}), {usd(s.change_usd)} over the post-event periods" for s in eff.sides
    ] + basis_lines(eff))
    mres = mirror(store, a, b, event=event)
    mir = mres.totals
    late = mir[mir.direction == f"{a}->{b}"].iloc[-1]
    yield Step("Mirror statistics", [
        f"In {late.period}, {b} reports {usd(late.importer_usd)} of imports from {a};"
        f" {a} reports {usd(late.exporter_usd)} of exports to {b}: a gap of {usd(late.gap_usd)} after CIF/FOB"
        + (" (flagged: outside the pre-event norm)." if late.flag else "."),
    ] + basis_lines(mres))
    rr = scan(store, a, b, event)
    flagged = rr.candidates[rr.candidates.significant]
    true = {x["country"]: x for x in truth["directions"][0]["intermediaries"]}
    relabel = truth["directions"][0].get("relabelled") or {}
    in_window = lambda k: k in rr.window.post or k[:4] in rr.window.post  # noqa: E731 - the truth is monthly, the window monthly or annual
    yield Step("Where did it go? Intermediaries flagged by reroute", [
        f"{r.country}: {usd(r.rerouted_value_usd)} (95% CI {usd(r.ci_low)} to {usd(r.ci_high)}),"
        f" p {'< 0.001' if r.p_value < 1e-3 else f'= {r.p_value:.3f}'}"
        + (f"  [truth: {usd(sum(v for k, v in true[r.country]['by_period'].items() if in_window(k)))}]" if r.country in true
           else f"  [truth: goods declared to it but landing in {b} (relabelling)]" if r.country == relabel.get("country")
           else "  [not a true route]")
        for r in flagged.itertuples()
    ] + [f"total rerouted over {rr.window.span}: {usd(rr.rerouted_value_usd)};"
         f" true routes: {', '.join(true)}"] + basis_lines(rr))
    if rr.relabelling is not None:
        found = rr.relabelling
        yield Step("Relabelled: declared to a third country, not recorded there", [
            f"{r.country}: {usd(r.relabelled_value_usd)} (95% CI {usd(r.relabel_ci_low)} to {usd(r.relabel_ci_high)}) over {found.window.span}"
            + (f"  [truth: {usd(sum(v for k, v in relabel['by_period'].items() if k in found.window.post))}]"
               if r.country == relabel.get("country") else "  [not relabelling in truth]")
            for r in rr.candidates[rr.candidates.relabelling].itertuples()
        ] + ([] if found.importer_excess_usd is None else
             [f"{b} records {usd(found.importer_excess_usd)} more imports from {a} than {a} declares, each product against"
              " its pre-event ratio"])
          + [f"relabelled value ({found.basis}): {usd(found.relabelled_value_usd)} (95% CI {usd(found.ci[0])} to {usd(found.ci[1])})"])
    detour = cost(store, a, b, rr)
    yield Step("What the detour costs", [
        f"via {r.country}: +{r.extra_km:,.0f} km, +${r.extra_freight_usd_per_t + r.handling_usd_per_t:,.0f}/t,"
        f" observed markup {r.observed_markup_pct:.1f}%" for r in detour.routes.itertuples()
    ] + [f"total extra cost: {usd(detour.total_extra_cost_usd or 0)}"] + basis_lines(detour))


def basis_lines(res) -> list[str]:  # noqa: ANN001 (any Result)
    """What a step's numbers are (`Result.basis`: source, frequency, window, controls), one line each."""
    return [f"  {key}: {text}" for key, text in res.basis().items()]


def report_step(store: Store, out: Path, gravity: Path) -> Iterator[Step]:
    """The report of the shipped case file."""
    from importlib import resources

    from entrepot.case import load_case
    from entrepot.reporting import write_report

    case_file = resources.files("entrepot.data").joinpath("cases/turkey-israel.toml")
    with resources.as_file(case_file) as path:
        case = load_case(path)
    report = write_report(case, store, out / "report.html", gravity)
    yield Step("The report", [f"open {report.resolve()} in a browser (self-contained, works offline)"])
