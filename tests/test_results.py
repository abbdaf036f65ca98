"""The result protocol (results.py) on every analysis result: to_frame, to_dict, summary, plot, provenance."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

import entrepot

EVENT = "2024-05-02"


@pytest.fixture(scope="module")
def results(synth_world) -> dict:
    """Every analysis on the session's world, through the public API with the store given as a path."""
    path, truth = synth_world("routes")
    rr = entrepot.reroute(path, "TUR", "ISR", event=EVENT)
    return {
        "flows": entrepot.flows(path, "TUR", "ISR", freq="M"),
        "effect": entrepot.effect(path, "TUR", "ISR", event=EVENT, n_boot=99),
        "mirror": entrepot.mirror(path, "TUR", "ISR", event=EVENT),
        "reroute": rr,
        "cost": entrepot.cost(path, "TUR", "ISR", via=rr),
        "claims": entrepot.check_claims(path, _case()),
        "estimate": entrepot.estimate(path, "trade ~ ln_DIST + CNTG + LANG | exp_year + imp_year"),  # the store's BACI
        "scenario": entrepot.scenario(path.parent / "gravity.csv", "lift_embargo", ["TUR", "ISR"], policies=["EMBARGO"]),
    }


def _case():
    from importlib import resources

    with resources.as_file(resources.files("entrepot.data").joinpath("cases/turkey-israel.toml")) as p:
        return entrepot.load_case(p)


@pytest.mark.parametrize("name", ["flows", "effect", "mirror", "reroute", "cost", "claims", "estimate", "scenario"])
def test_every_result_follows_the_protocol(results, name) -> None:
    res = results[name]
    assert isinstance(res, entrepot.results.Result) and isinstance(res.provenance, entrepot.Provenance)
    assert res.provenance.cite().startswith("Computed with entrepot") and res.basis()["source"]
    frame = res.to_frame()
    assert list(frame.columns) == list(res.COLUMNS) and len(frame)
    payload = json.loads(json.dumps(res.to_dict(), allow_nan=False, default=str))  # valid JSON, no NaN
    assert payload["provenance"]["sources"] == list(res.provenance.sources) and len(res.provenance.batches)
    assert isinstance(res.summary(), str) and res.summary() == str(res)
    if name != "claims":
        assert isinstance(res.plot(), go.Figure)
    with pytest.raises(AttributeError):  # results are frozen
        res.provenance = None


def test_charts_name_the_countries_beside_their_codes(results) -> None:
    """Bars and the Sankey read without a code list: 'Greece (GRC)', not 'GRC'."""
    from entrepot import figures

    bars = results["reroute"].plot().data[0].x
    assert "Greece (GRC)" in bars and all("(" in label for label in bars)
    assert "Türkiye (TUR)" in figures.sankey(results["reroute"]).data[0].node.label
    assert all(label.endswith(")") for label in results["cost"].plot().data[0].x)
    assert all(label.endswith(")") for label in results["scenario"].plot().data[0].x)


def test_chart_titles_name_the_product(results, synth_world) -> None:
    """A result for a product or a basket names it in its chart's title, as the report and the dashboard draw it
    (a chart pasted alone says what it covers); a result for all products keeps its one-line title."""
    from entrepot import figures, hs
    from entrepot.basket import parse_basket
    from entrepot.reporting import Figures

    path, _ = synth_world("routes")
    rr = entrepot.reroute(path, "TUR", "ISR", event=EVENT, product="29")
    drawn = [entrepot.flows(path, "TUR", "ISR", product="29", freq="M").plot(), rr.plot(), figures.sankey(rr), figures.timing(rr),
             entrepot.effect(path, "TUR", "ISR", event=EVENT, product="29", n_boot=99).plot(),
             entrepot.mirror(path, "TUR", "ISR", event=EVENT, product="2.9").plot()]
    named = f"Türkiye → Israel, {hs.label('29')}<br>"
    assert all(fig.layout.title.text.startswith(named) for fig in drawn), [fig.layout.title.text for fig in drawn]
    basket = parse_basket("code\n290519\n293212\n", name="chemicals")
    title = entrepot.flows(path, "TUR", "ISR", freq="M", basket=basket).plot().layout.title.text
    assert title.startswith("Türkiye → Israel, basket chemicals<br>TUR–ISR trade")
    for res in (results["reroute"], results["effect"], results["flows"]):
        assert "<br>" not in res.plot().layout.title.text and "Israel" not in res.plot().layout.title.text
    long = hs.label("90", width=60)  # a long description is cut at a word in the title, its code kept
    assert long.startswith("HS 90 (Optical") and "…" in long and len(long) < len(hs.label("90"))
    fig = drawn[0]
    Figures()(fig, "chart")  # the report leaves room for the second line
    assert fig.layout.margin.t == 70
