"""Every figure entrepot draws, one function per result: `result.plot()`, the report and the dashboard.

Each takes a result and returns a plotly figure; the report renders them into its page
(`report.Figures`), the dashboard fetches them as JSON (`/api/...?figure=true`). Colours mean the same
in every chart: a flagged route blue, relabelling purple.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.colors import qualitative

if TYPE_CHECKING:
    import datetime as dt

    from entrepot.analysis.cost import CostResult
    from entrepot.analysis.effect import EffectResult
    from entrepot.analysis.first_leg import FirstLegResult
    from entrepot.analysis.flows import FlowsResult
    from entrepot.analysis.mirror import MirrorResult
    from entrepot.analysis.reroute import RerouteResult
    from entrepot.case import Case
    from entrepot.screening import ScreenResult

ROUTE, RELABEL, OTHER, PAIR, SUSPECT = "#1f77b4", "#9467bd", "#bbbbbb", "#444444", "#f0a020"  # the same colours in every chart
LEAD = "#d62728"  # a collapse the screen found that no case file describes
EVENT = dict(dash="dot", color="firebrick")
ROLES = (("the case's pair", PAIR), ("flagged intermediary", ROUTE), ("relabelling", RELABEL), ("suspected in the case file", SUSPECT))


def country_labels(codes) -> list[str]:  # noqa: ANN001 (any iterable of codes)
    """Axis labels with the country's name beside its code ("Greece (GRC)"), so a chart reads without a code list."""
    from entrepot.countries import name

    return [f"{name(c)} ({c})" if name(c) != c else c for c in codes]


def title(res, text: str) -> str:  # noqa: ANN001 (any result with a pair)
    """A chart's title: `text`, under a first line naming the pair and the products when the result is for a
    product or a basket ("Türkiye → Israel, HS 7214 (Bars and rods of iron…) and its sub-codes"), so a chart
    pasted alone says what it covers; `text` alone for all products."""
    from entrepot import countries, hs

    product, basket = getattr(res, "product", None), getattr(res, "basket", None)
    if not product and not basket:
        return text
    what = [hs.label(product, width=60)] if product else []
    what += [f"basket {basket}"] if basket else []
    return f"{countries.name(res.exporter)} → {countries.name(res.importer)}, {'; '.join(what)}<br>{text}"


def flows(res: FlowsResult, events: list[tuple[dt.date, str]] = ()) -> go.Figure:
    """Both sides' reports of the pair's trade, one line per series, in millions of the result's currency; `events` (date, label) marked."""
    fig = go.Figure()
    table, labels = res.table, res.labels()
    for col, label in labels.items():
        fig.add_trace(go.Scatter(x=table["period"], y=table[col] / 1e6, mode="lines+markers", name=label))
    periods = sorted(table["period"])
    marks = [(d, label) for d, label in sorted(events) if periods and periods[0] <= (f"{d:%Y}" if res.freq == "A" else f"{d:%Y-%m}") <= periods[-1]]
    for k, (date, label) in enumerate(marks):  # an event outside the data would stretch the axis, not mark it
        x = f"{date:%Y}" if res.freq == "A" else f"{date:%Y-%m}"
        fig.add_vline(x=x, line=EVENT)  # labels one under the other, left-aligned on their line: never on top of each other
        fig.add_annotation(x=x, y=1, yref="paper", text=f"{label} ({date})", showarrow=False, xanchor="left", yanchor="top",
                           yshift=-16 * k, bgcolor="rgba(255,255,255,0.8)", font=dict(size=11))
    per = "year" if res.freq == "A" else "month"
    fig.update_layout(title=title(res, f"{res.exporter}–{res.importer} trade as each side reports it ({res.currency} million per {per})"))
    return fig


def effect(res: EffectResult) -> go.Figure:
    """Each side's observed series beside its counterfactual after the event, USD million."""
    fig = go.Figure()
    for k, s in enumerate(res.sides):
        colour = qualitative.Plotly[k % len(qualitative.Plotly)]
        fig.add_trace(go.Scatter(x=s.series.period, y=s.series.observed_usd / 1e6, mode="lines+markers", line=dict(color=colour),
                                 name=f"{s.reporter} reports ({s.side} side)"))
        fig.add_trace(go.Scatter(x=s.series.period, y=s.series.counterfactual_usd / 1e6, mode="lines", line=dict(color=colour, dash="dash"),
                                 name=f"counterfactual ({s.side} side)"))
        if "counterfactual_ci_low_usd" in s.series:
            post = s.series[s.series.counterfactual_ci_low_usd.notna()]
            fig.add_trace(go.Scatter(x=list(post.period) + list(post.period[::-1]), fill="toself", opacity=0.15, line=dict(width=0),
                                     y=list(post.counterfactual_ci_high_usd / 1e6) + list(post.counterfactual_ci_low_usd[::-1] / 1e6),
                                     fillcolor=colour, name=f"95% CI ({s.side} side)", hoverinfo="skip"))
    fig.add_vline(x=res.transition or res.first_post, line=EVENT)
    fig.add_annotation(x=res.transition or res.first_post, y=1, yref="paper", text=f"event {res.event}", showarrow=False,
                       xanchor="left", yanchor="bottom")
    fig.update_layout(title=title(res, f"{res.exporter}→{res.importer} against its counterfactual, USD million (event {res.event})"))
    return fig


def mirror(res: MirrorResult) -> go.Figure:
    """The mirror gap per period and direction, importer (FOB) minus exporter, in millions of the result's currency."""
    fig = go.Figure()
    for direction, part in res.totals.groupby("direction"):
        fig.add_trace(go.Bar(x=part["period"], y=part["gap_usd"] / 1e6, name=f"{direction}: importer (FOB) − exporter"))
    periods = sorted(res.totals["period"].unique())
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=periods)
    label = None if res.event is None else f"{res.event:%Y}" if res.freq == "A" else f"{res.event:%Y-%m}"
    if label in periods:
        x = periods.index(label)  # a category's position: plotly.js draws a shape at a category's name wrongly here
        fig.add_vline(x=x, line=EVENT)
        fig.add_annotation(x=x, y=1, yref="paper", text=f"event {res.event}", showarrow=False, xanchor="left", yanchor="bottom")
    estimated = ", estimated" if res.cif_fob_estimated else ""
    fig.update_layout(title=title(res, f"Mirror gap, {res.currency} million (CIF/FOB {res.cif_fob:.3f}{estimated})"), barmode="group")
    return fig


def reroute(res: RerouteResult, top: int = 12) -> go.Figure:
    """The rerouted value through the best candidates with its 95% CI; flagged routes in blue.

    Candidates flagged for relabelling only are left out: they have a table of their own."""
    table = res.candidates
    only_relabelling = table.get("relabelling", False) & ~table.significant
    shown = table[~only_relabelling].head(top)
    fig = go.Figure(go.Bar(
        x=country_labels(shown["country"]), y=shown["rerouted_value_usd"] / 1e6, marker_color=[ROUTE if s else OTHER for s in shown["significant"]],
        error_y=dict(type="data", symmetric=False, array=(shown["ci_high"] - shown["rerouted_value_usd"]) / 1e6,
                     arrayminus=(shown["rerouted_value_usd"] - shown["ci_low"]) / 1e6),
    ))
    fig.update_layout(title=title(res, f"Estimated rerouted value {res.exporter}→C→{res.importer} over {res.window.span},"
                                       " USD million (95% CI; blue = significant)"))
    return fig


def first_leg(res: FirstLegResult) -> go.Figure:
    """Each candidate's share of A's basket drop to B that shows as extra sales to it, with its 95% CI;
    flagged ones in blue. The second leg is unobserved, and the title says so."""
    c = res.candidates
    fig = go.Figure(go.Bar(
        x=country_labels(c["country"]), y=c["share_of_drop"] * 100, marker_color=[ROUTE if f else OTHER for f in c["flagged"]],
        error_y=dict(type="data", symmetric=False, array=(c["ci_high"] - c["share_of_drop"]) * 100,
                     arrayminus=(c["share_of_drop"] - c["ci_low"]) * 100),
    ))
    fig.update_layout(title=title(res, f"Share of {res.exporter}'s basket drop to {res.importer} sold to C instead, % (95% CI;"
                                       f" blue = flagged); first leg only: C → {res.importer} unobserved"), yaxis_title="% of the drop")
    return fig


def sankey(res: RerouteResult) -> go.Figure:
    """A -> each flagged intermediary -> B, link width the rerouted value."""
    flagged = res.flagged
    n = len(flagged)
    fig = go.Figure(go.Sankey(
        node=dict(label=country_labels([res.exporter, *flagged["country"], res.importer]), pad=20),
        link=dict(source=[0] * n + list(range(1, n + 1)), target=list(range(1, n + 1)) + [n + 1] * n,
                  value=list(flagged["rerouted_value_usd"] / 1e6) * 2),
    ))
    fig.update_layout(title=title(res, "Rerouted value through the flagged intermediaries, USD million"))
    return fig


def timing(res: RerouteResult) -> go.Figure:
    """The event study of the flagged routes: each leg's excess per period (dotted into C, solid on to B)."""
    fig = go.Figure()
    palette = qualitative.Plotly
    groups = () if res.timing is None else res.timing.groupby("country", sort=False)
    for k, (country, rows) in enumerate(groups):
        colour = palette[k % len(palette)]
        for leg, dash, name in (("leg1", "dot", f"{res.exporter}→{country}"), ("leg2", "solid", f"{country}→{res.importer}")):
            fig.add_trace(go.Scatter(x=rows.period, y=rows[f"{leg}_usd"] / 1e6, mode="lines", name=name, legendgroup=country,
                                     line=dict(color=colour, dash=dash)))
            if f"{leg}_ci_low" in rows:  # the 95% band of each leg's excess
                fig.add_trace(go.Scatter(x=list(rows.period) + list(rows.period[::-1]), fill="toself", fillcolor=colour, opacity=0.12,
                                         y=list(rows[f"{leg}_ci_high"] / 1e6) + list(rows[f"{leg}_ci_low"][::-1] / 1e6),
                                         line=dict(width=0), legendgroup=country, showlegend=False, hoverinfo="skip"))
    event = res.window.to_dict()["excluded_as_partly_treated"] or [res.window.post[0]]
    fig.add_vline(x=event[0], line=EVENT)
    fig.add_annotation(x=event[0], y=1, yref="paper", text=f"event {res.window.event}", showarrow=False, xanchor="left", yanchor="bottom")
    fig.update_layout(title=title(res, f"Excess in the embargoed basket's product mix per {'month' if res.window.freq == 'M' else 'year'},"
                                       " USD million (dotted: into the intermediary; solid: on to the importer)"))
    return fig


def route_map(res: RerouteResult, case: Case | None = None) -> go.Figure:
    """Countries coloured by role (the pair, flagged, relabelling, suspected in `case`) and the routes
    drawn between capitals, line width the rerouted value. The outlines are plotly's unless the page
    embeds its own (`report.worldmap`)."""
    from entrepot import geo
    from entrepot.reporting import usd

    places = {c.iso3: c for c in geo.all_countries()}
    a, b = res.exporter, res.importer
    flagged = res.flagged
    relabelled = res.candidates[res.candidates.relabelling]["country"] if res.relabelling is not None else []
    suspects = case.intermediaries if case is not None else ()
    role = ({c: ROLES[3][0] for c in suspects} | {c: ROLES[2][0] for c in relabelled}
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
    fig.update_layout(title=title(res, "Routes between capitals (line width: rerouted value); outlines: Natural Earth 1:110m"),
                      legend=dict(orientation="h", y=-0.02))
    return fig


def cost(res: CostResult) -> go.Figure:
    """Extra freight and handling per tonne through each intermediary, USD."""
    routes = res.routes
    via = country_labels(routes.country)
    fig = go.Figure([go.Bar(x=via, y=routes.extra_freight_usd_per_t, name="extra freight, USD/t"),
                     go.Bar(x=via, y=routes.handling_usd_per_t, name="handling, USD/t")])
    fig.update_layout(title=f"Detour {res.exporter}→C→{res.importer}: extra cost per tonne", barmode="stack")
    return fig


def screen(res: ScreenResult) -> go.Figure:
    """Every collapse as a dashed line exporter -> importer (grey: known from a case file, red: a lead),
    and every flagged detour exporter -> intermediary -> importer between capitals, its width the
    rerouted value."""
    from entrepot import geo
    from entrepot.reporting import usd

    places = {c.iso3: c for c in geo.all_countries()}
    fig = go.Figure()
    roles: dict[str, str] = {}
    flagged = res.routes[res.routes.significant.fillna(False).astype(bool)]
    top = max(float(flagged.rerouted_value_usd.max()), 1.0) if len(flagged) else 1.0
    for c in res.collapses[~res.collapses.prices].itertuples():  # a price change is no collapse of goods: not on the map
        colour, kind = (PAIR, "known embargo") if c.case else (LEAD, "lead")
        roles.setdefault(c.exporter, "exporter or importer of a collapse")
        roles.setdefault(c.importer, "exporter or importer of a collapse")
        ends = [places[x] for x in (c.exporter, c.importer) if x in places]
        if len(ends) == 2:
            fig.add_trace(go.Scattergeo(lon=[p.lon for p in ends], lat=[p.lat for p in ends], mode="lines", opacity=0.7,
                                        line=dict(width=1.5, color=colour, dash="dot"), legendgroup=kind, showlegend=False,
                                        name=f"{c.exporter}→{c.importer} {c.date}: −{c.drop_pct:.0%} ({kind})"))
        for r in flagged[flagged.cid == c.cid].itertuples():
            roles[r.country] = "intermediary"
            path = [places[x] for x in (c.exporter, r.country, c.importer) if x in places]
            fig.add_trace(go.Scattergeo(lon=[p.lon for p in path], lat=[p.lat for p in path], mode="lines", opacity=0.6,
                                        line=dict(width=1 + 8 * r.rerouted_value_usd / top, color=ROUTE), showlegend=False,
                                        name=f"{c.exporter}→{r.country}→{c.importer}: {usd(r.rerouted_value_usd)}"))
    for kind, colour in (("known embargo", PAIR), ("lead", LEAD)):  # legend entries for the line styles
        fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="lines", line=dict(color=colour, dash="dot"), name=f"collapse: {kind}"))
    fig.add_trace(go.Scattergeo(lon=[None], lat=[None], mode="lines", line=dict(color=ROUTE, width=4), name="detour (width: rerouted value)"))
    shown = [x for x in roles if x in places]
    fig.add_trace(go.Scattergeo(lon=[places[x].lon for x in shown], lat=[places[x].lat for x in shown], mode="markers+text", text=shown,
                                textposition="top center", marker=dict(size=6, color=["#1f77b4" if roles[x] == "intermediary" else "black"
                                                                                      for x in shown]), name="capitals"))
    fig.update_geos(projection_type="natural earth", showland=True, landcolor="#eeeeee", showcountries=True, countrycolor="#bbbbbb",
                    showcoastlines=True, coastlinecolor="#888888", bgcolor="#e3eef7", showframe=False)
    fig.update_layout(title="Collapses of trade and their detours between capitals; outlines: Natural Earth 1:110m",
                      legend=dict(orientation="h", y=-0.02))
    return fig


def with_footer(fig: go.Figure, res) -> go.Figure:  # noqa: ANN001 (any Result)
    """The figure with what its numbers are (`res.basis()`) and how to cite them in a footer, as
    every exported chart carries them (a chart pasted alone still says where it comes from)."""
    lines = [f"{k}: {v}" for k, v in res.basis().items()] + [res.provenance.cite()]
    wrapped = [textwrap.shorten(x, 170, placeholder="…") for x in lines]
    fig = go.Figure(fig)
    fig.update_layout(margin=dict(b=70 + 15 * len(wrapped)))
    fig.add_annotation(text="<br>".join(wrapped), xref="paper", yref="paper", x=0, y=0, yshift=-40,
                       showarrow=False, xanchor="left", yanchor="top", align="left", font=dict(size=10, color="#555"))
    return fig


def save(res, path: Path) -> Path:  # noqa: ANN001 (any Result)
    """Write `res.plot()` with its footer to `path`: PNG, SVG or PDF through kaleido (Debian's chromium
    when no other browser is there), HTML with plotly.js inlined."""
    fig = with_footer(res.plot(), res)
    fig.update_layout(template="plotly_white", width=1100, height=560 + 15 * len(res.basis()))
    if path.suffix.lower() == ".html":
        fig.write_html(path, include_plotlyjs=True)
        return path
    import logging
    import os
    import shutil

    for name in ("kaleido", "choreographer"):  # their INFO lines on stderr say nothing a user needs
        logging.getLogger(name).setLevel(logging.WARNING)
    if "BROWSER_PATH" not in os.environ and (found := shutil.which("chromium")):
        os.environ["BROWSER_PATH"] = found  # choreographer (kaleido's browser driver) looks here first
    for attempt in range(3):  # on a loaded machine kaleido can run its script before its page has loaded it
        try:
            fig.write_image(path)
            break
        except (RuntimeError, ValueError, OSError) as exc:  # no browser kaleido can drive, or that race
            if attempt < 2 and "is not defined" in str(exc):
                continue
            from entrepot.errors import InputError

            raise InputError(f"cannot write {path.name}: {str(exc).splitlines()[0]} (write .html instead, or install chromium)",
                             parameter="figure") from None
    return path
