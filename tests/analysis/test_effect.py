import datetime as dt

import pytest

from entrepot.analysis.effect import effect
from entrepot.analysis.window import Timing, period_label
from entrepot.errors import InputError
from entrepot.store import Store
from tests.analysis.conftest import embargo_panel
from tests.conftest import cli_json, insert


def test_annual_recovers_a_known_drop_and_leaves_the_partial_year_out(store) -> None:
    embargo_panel(store, drop=0.9)
    res = effect(store, "TUR", "ISR", "2024-05-02", n_boot=499)
    assert (res.freq, res.first_post, res.transition) == ("A", "2025", "2024")
    assert res.transition_share_after == pytest.approx(244 / 366)
    for side in res.sides:
        lo, hi = side.change_pct_ci_low, side.change_pct_ci_high
        assert lo < -0.9 < hi and hi - lo < 0.05
        assert abs(side.change_pct + 0.9) < 0.02
        assert side.change_usd_ci_low < side.change_usd < side.change_usd_ci_high < 0
        phases = dict(zip(side.series.period, side.series.phase, strict=True))
        assert phases["2023"] == "pre" and phases["2024"] == "transition" and phases["2025"] == "post"


def test_event_on_first_of_january_has_no_transition_year() -> None:
    assert Timing.of(dt.date(2024, 1, 1), "A") == Timing("A", 2024, None, 1.0)


@pytest.mark.parametrize(("day", "first_post", "transition"), [(1, "2024-05", None), (2, "2024-06", "2024-05"), (31, "2024-06", "2024-05")])
def test_monthly_event_month_rule(day: int, first_post: str, transition: str | None) -> None:
    """A month the event falls inside is left out, like the year in annual data."""
    t = Timing.of(dt.date(2024, 5, day), "M")
    assert period_label(t.first_post, "M") == first_post
    assert (None if t.transition is None else period_label(t.transition, "M")) == transition
    assert t.share_after == pytest.approx(1.0 if day == 1 else (32 - day) / 31)


def test_synth_world_direct_effect_on_both_sides(synth_world) -> None:
    """Exporter side: the embargo stops all but the leak. Importer side: relabelled goods still
    arrive and the importer records their true origin, so its reports fall by less."""
    path, truth = synth_world("routes")
    scn = truth["scenario"]
    suspects = [r["via"] for r in scn["routes"]] + [scn["relabel_country"]]
    with Store(path, read_only=True) as st:
        res = effect(st, "TUR", "ISR", truth["event"], freq="M", exclude=suspects, n_boot=299)
    assert res.freq == "M" and res.first_post == "2024-06" and res.transition == "2024-05"
    by_side = {s.side: s for s in res.sides}
    exporter_truth = -(1 - scn["leak_share"])
    importer_truth = -(1 - scn["leak_share"] - scn["relabel_share"])
    assert abs(by_side["exporter"].change_pct - exporter_truth) < 0.02
    assert abs(by_side["importer"].change_pct - importer_truth) < 0.05
    assert by_side["importer"].change_pct_ci_low < importer_truth < by_side["importer"].change_pct_ci_high


def test_synth_world_annual_has_too_little_before_the_event(synth_world) -> None:
    path, truth = synth_world("routes")  # data start in 2022: two whole years before 2024
    with Store(path, read_only=True) as st, pytest.raises(InputError, match="too little data before the event: 2 periods"):
        effect(st, "TUR", "ISR", truth["event"], freq="A")


def test_cli_json(cli, store) -> None:
    embargo_panel(store)
    data = cli_json(cli, store, "effect", "--exporter", "TUR", "--importer", "ISR", "--event", "2024-05-02")
    assert [s["side"] for s in data["sides"]] == ["exporter", "importer"]
    assert data["controls"] == ["DEU", "FRA", "USA"] and data["transition_period"] == "2024"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exporter", "XYZ", "--importer", "ISR", "--event", "2024-05-02"], "--exporter: 'XYZ' is not a known country code"),
        (["--exporter", "TUR", "--importer", "ISR", "--event", "2031-05-02"], "outside the data's range"),
        (["--exporter", "TUR", "--importer", "ISR", "--event", "2010-05-02"], "outside the data's range"),
        (["--exporter", "TUR", "--importer", "ISR", "--event", "2020-05-02"], "too little data before the event"),
        (["--exporter", "TUR", "--importer", "ISR", "--event", "May 2024"], "--event: must be a date"),
        (["--exporter", "TUR", "--importer", "GRC", "--event", "2024-05-02"], "no trade between TUR and GRC"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, store, args: list[str], message: str) -> None:
    embargo_panel(store)
    rows = store.row_count()
    store.close()
    out = cli("effect", *args)
    assert out.exit_code == 2
    assert message in out.stderr and out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")
    with Store(store.path, read_only=True) as st:
        assert st.row_count() == rows


def test_no_control_group(store) -> None:
    insert(store, [{"year": y, "product": "01", "value_usd": 1e6} for y in range(2018, 2026)], reporter="TUR", partner="ISR", flow="export")
    with pytest.raises(InputError, match="no control group"):
        effect(store, "TUR", "ISR", "2024-05-02")


def test_group_without_control_trade_uses_the_whole_control(store) -> None:
    embargo_panel(store, drop=0.9)
    insert(store, [{"year": y, "product": "93", "value_usd": 1e6 * (1.0 if y < 2024 else 0.1)} for y in range(2018, 2026)],
           reporter="TUR", partner="ISR", flow="export")
    side = effect(store, "TUR", "ISR", "2024-05-02", n_boot=99).sides[0]
    arms = side.groups.set_index("grp").loc["93"]
    assert arms.counterfactual_mean_usd > 0 and -0.95 < arms.change_pct < -0.85
