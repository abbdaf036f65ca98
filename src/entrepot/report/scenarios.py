"""The report's scenario section: the case file's GE scenarios, solved on a gravity dataset.

Trade costs are estimated once (GEPPML step 1, `ge.estimate_costs`) with the policy dummies the
data can identify: RTA if the data has it, and EMBARGO for the case's main event (the pair, both
ways, from its year), as `entrepot scenario --case` does. Each scenario is then solved in the
latest year of the data, the year the embargo is in force. A bloc member absent from the data is
left out of its bloc, and the report says so; a scenario that cannot run says why.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from entrepot.case import Case, Scenario
from entrepot.errors import InputError
from entrepot.models import ge, gravity

SIGMA = 7.0  # elasticity of substitution, the CLI's default
TARIFF = 0.25  # tariff equivalent of a bloc barrier when the case file gives none, the CLI's default
SHOWN = {"partial_exports_pct": "exports, partial %", "full_exports_pct": "exports, full GE %", "real_gdp_pct": "real GDP %"}


@dataclasses.dataclass
class Outcome:
    scenario: Scenario
    result: ge.GEResult | None = None
    reason: str = ""  # why it was not computed
    left_out: tuple[str, ...] = ()  # bloc members not in the data


def run(case: Case, data: pd.DataFrame) -> tuple[ge.Costs, str, list[Outcome]]:
    """Estimate the costs once and solve every scenario of the case: (costs, reference, outcomes)."""
    event = case.main_event
    gravity.add_policy(data, "EMBARGO", [(event.exporter, event.importer), (event.importer, event.exporter)], event.date.year)
    varies = data.groupby("pair_id")[[p for p in ("RTA", "EMBARGO") if p in data.columns]].nunique().max() > 1
    year = int(data["year"].max())
    costs = ge.estimate_costs(data, year, list(varies[varies].index))
    reference = costs.countries[int(np.argmax(costs.trade.sum(axis=0)))]  # the largest market
    outcomes = []
    for scenario in case.scenarios:
        try:
            fitted, left_out = in_data(scenario, set(costs.countries))
            kind, codes, blocs = fitted.spec()
            t_cfl, orientation, text = ge.counterfactual(costs, kind, codes, blocs, scenario.tariff or TARIFF, SIGMA)
            outcomes.append(Outcome(scenario, ge.solve(costs, t_cfl, SIGMA, reference, orientation, text), left_out=left_out))
        except InputError as exc:
            outcomes.append(Outcome(scenario, reason=str(exc)))
    return costs, reference, outcomes


def in_data(scenario: Scenario, have: set[str]) -> tuple[Scenario, tuple[str, ...]]:
    """A blocs scenario keeps the members the data has, as long as each bloc keeps one (two for a
    single bloc); other scenarios are returned as they are, to fail on a missing country."""
    if scenario.kind != "blocs":
        return scenario, ()
    left_out = tuple(c for bloc in scenario.blocs for c in bloc if c not in have)
    blocs = tuple(tuple(c for c in bloc if c in have) for bloc in scenario.blocs)
    if min(len(b) for b in blocs) < (2 if len(blocs) == 1 else 1):
        raise InputError(f"too few of the bloc members are in the data (missing: {', '.join(left_out)})")
    return dataclasses.replace(scenario, blocs=blocs), left_out


def scenarios_section(case: Case, data_path: str | Path | None) -> str:
    """Each scenario's effect on the case's countries, as a table and a chart."""
    from entrepot.report import chart, table

    if not case.scenarios:
        raise InputError("the case file has no [[scenarios]]")
    if data_path is None:
        raise InputError("scenarios need a gravity dataset with intra-national flows: "
                         "`entrepot report CASE --gravity FILE` (a synthetic world writes one: gravity.csv)")
    costs, reference, outcomes = run(case, gravity.load_dataset(data_path))
    rows, notes = [], []
    for o in outcomes:
        what = html.escape(o.result.description if o.result else o.scenario.kind.replace("_", " "))
        note = f"<li><b>{html.escape(o.scenario.id)}</b>: {what}. {html.escape(o.scenario.note)}"
        if o.left_out:
            note += f" <i>Left out, not in the data: {', '.join(o.left_out)}.</i>"
        if o.result is None:
            note += f' <span class="na">Not computed: {html.escape(o.reason)}</span>'
        else:
            effects = o.result.table.set_index("country")
            for country in case.countries:
                if country in effects.index:
                    rows.append({"scenario": o.scenario.id, "country": country,
                                 **{label: effects.loc[country, col] for col, label in SHOWN.items()}})
        notes.append(note + "</li>")
    betas = "; ".join(f"{k} {v:+.3f} (trade × {np.exp(v):.2f})" for k, v in costs.beta.items()) or "none"
    if "EMBARGO" not in costs.beta:
        betas += f"; none for the embargo: no pair's trade in the data changes status at {case.main_event.date.year}"
    head = (f"<p>Structural gravity (GEPPML), base year {costs.year}, σ = {SIGMA:g}, {len(costs.countries)} countries,"
            f" reference market {reference}; estimated policy effects: {html.escape(betas)}. Changes are the scenario's"
            f" relative to the baseline, in percent.</p><ul>{''.join(notes)}</ul>")
    if not rows:
        return head
    frame = pd.DataFrame(rows)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Exports, full GE, % change", "Real GDP, % change"))
    for k, (country, part) in enumerate(frame.groupby("country", sort=False)):
        for col, label in ((1, SHOWN["full_exports_pct"]), (2, SHOWN["real_gdp_pct"])):
            fig.add_trace(go.Bar(x=part["scenario"], y=part[label], name=country, legendgroup=country, showlegend=col == 1,
                                 marker_color=("#444444", "#1f77b4")[k % 2]), row=1, col=col)
    return head + chart(fig, "chart-scenarios") + table(frame)
