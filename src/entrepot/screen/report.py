"""The screen's report page: one self-contained HTML file (plotly inlined, the world map's outlines
embedded by `entrepot.report.worldmap`), built from a `ScreenResult` only."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go

from entrepot.report import ROUTE, Figures, millions, scripts, table, usd
from entrepot.report.worldmap import geo_assets_script
from entrepot.screen.result import ScreenResult

KNOWN, LEAD = "#444444", "#d62728"  # known embargoes and leads: the same colours in every chart


def detour_map(res: ScreenResult) -> go.Figure:
    """Every collapse as a dashed line exporter -> importer (grey: known from a case file, red: a lead),
    and every flagged detour exporter -> intermediary -> importer between capitals, its width the
    rerouted value."""
    from entrepot import geo

    places = {c.iso3: c for c in geo.all_countries()}
    fig = go.Figure()
    roles: dict[str, str] = {}
    flagged = res.routes[res.routes.significant.fillna(False).astype(bool)]
    top = max(float(flagged.rerouted_value_usd.max()), 1.0) if len(flagged) else 1.0
    for c in res.collapses.itertuples():
        colour, kind = (KNOWN, "known embargo") if c.case else (LEAD, "lead")
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
    for kind, colour in (("known embargo", KNOWN), ("lead", LEAD)):  # legend entries for the line styles
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


def _drops(res: ScreenResult, figure: Figures) -> str:
    t = res.to_frame().head(25)
    labels = [f"{r.exporter}→{r.importer}{'' if r.section == 'ALL' else ' ' + r.section} {r.date}" for r in t.itertuples()]
    fig = go.Figure(go.Bar(x=t.drop_usd / 1e6, y=labels, orientation="h", marker_color=[KNOWN if s == "known embargo" else LEAD for s in t.status],
                           customdata=t.drop_pct * 100, hovertemplate="%{y}: %{x:,.0f} USD m (−%{customdata:.0f}%)<extra></extra>"))
    fig.update_layout(title="Largest collapses: drop against the counterfactual over the window, USD million (grey known, red lead)",
                      yaxis=dict(autorange="reversed"))
    return figure(fig, "chart-drops", height=max(300, 28 * len(t) + 120))


def write_screen_report(res: ScreenResult, out: str | Path) -> Path:
    """Write the page to `out` (written beside and renamed: never half a page) and return its path."""
    figure = Figures()
    p, frame = res.provenance, res.to_frame()
    body = [f"<p>{html.escape(line)}</p>" for line in res.summary()[:1]]
    if frame.empty:
        body.append('<div class="na">No collapse passes the test: nothing to map.</div>')
    else:
        body.append("<section><h2>Map of the detours</h2>" + geo_assets_script() + figure(detour_map(res), "chart-map", height=560) + "</section>")
        body.append("<section><h2>Collapses</h2>" + _drops(res, figure) + "</section>")
        shown = millions(frame.drop(columns=["pre_usd_per_period", "counterfactual_usd", "actual_usd"]))
        body.append("<section><h2>Ranked table</h2><p>Known embargoes are those a case file describes; the rest are leads."
                    " Intermediaries are those the route scan flags (Holm over the candidates, both legs).</p>" + table(shown) + "</section>")
    prov = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in p.items() if k != "batches")
    batches = ", ".join(f"{b['batch_id']} ({b['source']}, {b['n']:,} rows)" for b in p.get("batches", []))
    body.append(f"<section><h2>Provenance</h2><table class='data'>{prov}<tr><th>batches</th><td>{html.escape(batches)}</td></tr></table></section>")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>entrepot screen</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table.data{{border-collapse:collapse;font-size:12px;margin:1em 0}}
table.data td,table.data th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}}
.na{{background:#fff4e5;padding:.6em 1em;border-left:4px solid #f0a020}} h2{{border-bottom:2px solid #eee;padding-bottom:.2em}}</style>
{scripts()}</head><body><h1>Screen: collapses of trade and their detours</h1>{''.join(body)}</body></html>"""
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out
