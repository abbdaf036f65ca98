"""The screen's report page: one self-contained HTML file (plotly inlined, the world map's outlines
embedded by `entrepot.reporting.worldmap`), built from a `ScreenResult` only."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go

from entrepot.figures import LEAD, OTHER, PAIR
from entrepot.reporting import Figures, present, scripts, table
from entrepot.reporting.worldmap import geo_assets_script
from entrepot.screening.result import ScreenResult


def _drops(res: ScreenResult, figure: Figures) -> str:
    t = res.to_frame().head(25)
    labels = [f"{r.exporter}→{r.importer}{'' if r.section == 'ALL' else ' ' + r.section} {r.date}" for r in t.itertuples()]
    colours = [{"known embargo": PAIR, "prices": OTHER}.get(s, LEAD) for s in t.status]
    fig = go.Figure(go.Bar(x=t.drop_usd / 1e6, y=labels, orientation="h", marker_color=colours,
                           customdata=t.drop_pct * 100, hovertemplate="%{y}: %{x:,.0f} USD m (−%{customdata:.0f}%)<extra></extra>"))
    fig.update_layout(title="Largest collapses: drop against the counterfactual over the window, USD million"
                            " (dark grey known, red lead, light grey a price change)",
                      yaxis=dict(autorange="reversed"))
    return figure(fig, "chart-drops", height=max(300, 28 * len(t) + 120))


def write_screen_report(res: ScreenResult, out: str | Path) -> Path:
    """Write the page to `out` (written beside and renamed: never half a page) and return its path."""
    figure = Figures()
    frame = res.to_frame()
    body = [f"<p>{html.escape(res.summary())}</p>"]
    if frame.empty:
        body.append('<div class="na">No collapse passes the test: nothing to map.</div>')
    else:
        body.append("<section><h2>Map of the detours</h2>" + geo_assets_script() + figure(res.plot(), "chart-map", height=560) + "</section>")
        body.append("<section><h2>Collapses</h2>" + _drops(res, figure) + "</section>")
        shown = present(frame.drop(columns=["pre_usd_per_period", "counterfactual_usd", "actual_usd"]))
        body.append("<section><h2>Ranked table</h2><p>Known embargoes are those a case file describes; the rest are leads,"
                    " but for price changes: the value fell, the volume (tonnes at the pair's unit values) did not."
                    " Intermediaries are those the route scan flags (Holm over the candidates, both legs).</p>" + table(shown) + "</section>")
    prov = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in res.settings.items())
    batches = ", ".join(f"{b.batch_id} ({b.source}, {b.rows:,} rows read{'' if b.path is None else ', ' + str(b.path)})"
                        for b in res.provenance.batches.itertuples())
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
