import pandas as pd
import pytest

from entrepot.analysis.mirror import mirror
from entrepot.errors import InputError
from entrepot.store import Store
from tests.analysis.conftest import embargo_panel
from tests.conftest import cli_json, insert


def test_given_cif_fob_closes_a_pure_valuation_gap(store) -> None:
    embargo_panel(store, cif_fob=1.06)
    res = mirror(store, "TUR", "ISR", cif_fob=1.06, event="2024-05-02")
    assert not res.cif_fob_estimated
    assert res.totals.gap.abs().max() < 1e-12 and not res.totals.flag.any()
    assert res.totals.direction.unique().tolist() == ["TUR->ISR"]


def test_cif_fob_estimated_from_pre_event_cells(store) -> None:
    embargo_panel(store, cif_fob=1.08)
    assert mirror(store, "TUR", "ISR", event="2024-05-02").cif_fob == pytest.approx(1.08)


def test_motivating_puzzle_importer_reports_plenty_exporter_almost_none(store) -> None:
    years = range(2019, 2026)
    insert(store, [{"year": y, "value_usd": 6e9 if y < 2024 else 3e6} for y in years], reporter="TUR", partner="ISR", flow="export")
    insert(store, [{"year": y, "value_usd": 6.4e9 if y < 2024 else 924e6} for y in years], reporter="ISR", partner="TUR", flow="import")
    res = mirror(store, "ISR", "TUR", event="2024-05-02")
    last = res.totals.set_index("period").loc["2025"]
    assert last.flag and last.gap > 0.95 and not res.totals[res.totals.phase == "pre"].flag.any()
    assert "2025: ISR reports $924.0 million of imports from TUR; TUR reports $3.0 million" in res.headlines[-1]


def test_synth_world_gap_measures_the_relabelled_trade(synth_world) -> None:
    """Relabelled goods are declared to PSE by TUR but recorded from TUR by ISR: the post-event
    gap (importer at FOB minus exporter) is that value, month by month."""
    path, truth = synth_world("routes")
    with Store(path, read_only=True) as st:
        res = mirror(st, "TUR", "ISR", event=truth["event"], freq="M")
    tur_isr = res.totals[res.totals.direction == "TUR->ISR"].set_index("period")
    post = tur_isr[tur_isr.phase == "post"]
    relabelled = pd.Series(truth["directions"][0]["relabelled"]["by_period"])
    assert post.gap_usd.sum() == pytest.approx(relabelled[post.index].sum(), rel=0.1)
    assert post.flag.all() and tur_isr[tur_isr.phase == "pre"].flag.sum() <= 1
    assert 1.0 < res.cif_fob < 1.15


def test_cli_json_by_product(cli, store) -> None:
    embargo_panel(store)
    data = cli_json(cli, store, "mirror", "--a", "TUR", "--b", "ISR", "--cif-fob", "1.06")
    assert data["cif_fob"] == 1.06 and {r["grp"] for r in data["products"]} == {f"{g:02d}" for g in range(1, 21)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--a", "TRK", "--b", "ISR"], "--exporter: 'TRK' is not a known country code"),
        (["--a", "TUR", "--b", "GRC"], "no trade between TUR and GRC"),
        (["--a", "TUR", "--b", "ISR", "--event", "2030-01-01"], "outside the data's range"),
        (["--a", "TUR", "--b", "ISR", "--cif-fob", "6"], "--cif-fob: must be a ratio near 1"),
    ],
)
def test_bad_input(cli, store, args: list[str], message: str) -> None:
    embargo_panel(store)
    store.close()
    out = cli("mirror", *args)
    assert out.exit_code == 2 and message in out.stderr and out.stderr.count("\n") == 1


def test_no_common_cell_asks_for_cif_fob(store) -> None:
    insert(store, [{"reporter": "TUR", "partner": "ISR", "flow": "export", "product": "01"},
                   {"reporter": "ISR", "partner": "TUR", "flow": "import", "product": "02"}], year=2023, value_usd=1e6)
    with pytest.raises(InputError, match="cif_fob: cannot estimate CIF/FOB"):
        mirror(store, "TUR", "ISR")
