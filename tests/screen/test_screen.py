"""The screen on DuckDB: the planted embargo found and marked known, its routes through reroute's scan,
the lossless reduction the scan reads, the result protocol, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from entrepot.analysis.reroute import scan
from entrepot.errors import InputError
from entrepot.screening import screen
from entrepot.screening.detect import bh
from entrepot.screening.routes import event_date
from entrepot.store import Store
from tests.screen.conftest import PRODUCTS, tiny_flows, write_baci


@pytest.fixture(scope="module")
def result(world):
    with Store(world[0], read_only=True) as st:
        return screen(st)


def test_finds_the_embargo_both_ways_and_marks_it_known(result, world) -> None:
    table = result.to_frame()
    known = table[table.status == "known embargo"]
    assert {("TUR", "ISR"), ("ISR", "TUR")} <= set(zip(known.exporter, known.importer, strict=True))
    assert set(known.case) == {"turkey-israel-2024"}
    tur = known[known.exporter == "TUR"].iloc[0]
    assert tur.date in ("2024", "2025") and tur.drop_pct > 0.5 and tur.q_value < 1e-6
    truth = {r["country"] for r in world[1]["directions"][0]["intermediaries"]}
    found = set(tur.intermediaries.split(", "))
    assert found and found <= truth  # every flagged intermediary is a planted route
    assert tur.rerouted_value_usd > 0 and "p " in tur.evidence
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table.drop_usd.is_monotonic_decreasing


def test_the_reduced_flows_give_the_scan_of_the_whole_store(result, world) -> None:
    """The scan on a collapse's reduced flows is the scan on the whole store, to the last digit."""
    c = result.collapses[result.collapses.exporter == "TUR"].iloc[0]
    with Store(world[0], read_only=True) as st:
        full = scan(st, "TUR", "ISR", event_date(int(c.tau), int(c.gap), "A"))
    mine = result.routes[result.routes.cid == c.cid].set_index("country")
    theirs = full.candidates.set_index("country").loc[mine.index]
    for col in ("rerouted_value_usd", "p_value", "ci_low", "ci_high", "placebo_p"):
        np.testing.assert_allclose(mine[col].to_numpy(float), theirs[col].to_numpy(float), rtol=1e-9, atol=1e-6)
    assert (mine.significant == theirs.significant).all()


def test_pairs_are_tested_once_with_fdr_control(result) -> None:
    pairs = result.pairs
    assert not pairs.duplicated(["exporter", "importer", "section"]).any()
    assert (pairs.q_value >= pairs.p_value - 1e-15).all() and pairs.p_value.between(0, 1).all()
    assert result.settings["pairs_tested"] == len(pairs) > 500
    assert result.provenance.sources == ("baci",) and result.provenance.batches.rows.sum() > 10_000
    assert result.provenance.batches.path.str.contains("BACI_HS17").all()
    assert set(result.collapses.cid) >= set(result.routes.cid)


def test_bh_matches_the_textbook_procedure() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # sorted: .005 .01 .03 .04 .5 -> *5/rank: .025 .025 .05 .05 .5 -> running min from the top
    np.testing.assert_allclose(bh(p), [0.025, 0.05, 0.05, 0.025, 0.5])


def test_outputs_round_trip(result, tmp_path) -> None:
    table = result.to_frame()
    pd.testing.assert_frame_equal(pd.read_parquet(result.write(tmp_path / "s.parquet")), table)
    back = pd.read_csv(result.write(tmp_path / "s.csv"))
    assert list(back.columns) == list(table.columns) and len(back) == len(table)
    doc = json.loads(result.write(tmp_path / "s.json").read_text())
    assert doc["settings"]["engine"] == "duckdb" and doc["provenance"]["batches"]
    assert doc["collapses"][0]["candidates"] and len(doc["collapses"]) == len(table)
    with pytest.raises(InputError, match="suffix"):
        result.write(tmp_path / "s.xlsx")
    assert not list(tmp_path.glob("*.part"))
    assert result.summary().startswith(f"{len(result.pairs):,} pairs tested") and str(result) == result.summary()
    assert len(result.plot().data) > 3 and list(table.columns) == list(result.COLUMNS)
    with pytest.raises(AttributeError):
        result.pairs = None  # frozen, as every result


def test_parquet_export_gives_the_same_screen(result, world, tmp_path) -> None:
    with Store(world[0], read_only=True) as st:
        st.export_parquet(tmp_path)
    again = screen(tmp_path)
    pd.testing.assert_frame_equal(again.to_frame(), result.to_frame())
    pd.testing.assert_frame_equal(again.provenance.batches, result.provenance.batches, check_dtype=False)


def test_by_section_finds_the_embargo_in_sections(world) -> None:
    with Store(world[0], read_only=True) as st:
        res = screen(st, by_section=True, top=2)
    t = res.to_frame()
    assert (t.section != "ALL").all() and ((t.exporter == "TUR") & (t.importer == "ISR")).any()
    assert res.routes.cid.nunique() <= 2


def test_cli_prints_writes_and_refuses_bad_input(world, cli, tmp_path) -> None:
    from typer.testing import CliRunner

    from entrepot.cli import app

    run = lambda *a: CliRunner().invoke(app, ["screen", "--store", str(world[0]), *a])  # noqa: E731
    out = run("--out", str(tmp_path / "s.csv"), "--report", str(tmp_path / "s.html"))
    assert out.exit_code == 0, out.output
    assert "known embargo" in out.output and (tmp_path / "s.csv").exists() and (tmp_path / "s.html").exists()
    for args, message in ((("--engine", "polars"), "--engine: must be one of"), (("--master", "local[2]"), "--master: is for"),
                          (("--min-drop", "2"), "--min-drop: must be a share"),
                          (("--side", "mirror"), "--side: must be one of"), (("--out", str(tmp_path / "s.txt")), "suffix"),
                          (("--out", str(tmp_path / "no" / "s.csv")), "no such directory")):
        bad = run(*args)
        assert bad.exit_code == 2 and bad.output.count("\n") == 1 and message in bad.output, (args, bad.output)
    assert not (tmp_path / "s.txt").exists()
    missing = CliRunner().invoke(app, ["screen", "--input", str(tmp_path / "nothing")])
    assert missing.exit_code == 2 and "no Parquet flows" in missing.output


def test_a_world_price_fall_of_a_pairs_main_product_is_no_collapse(tmp_path) -> None:
    """DEU -> FRA lives on one product whose value falls by 60% everywhere in 2024 (a price shock): its own product
    mix explains the fall, so it is no collapse and its counterfactual in USD is what it traded; the embargo still is."""
    rows = tiny_flows(heavy=("DEU", "FRA", 0))
    rows.loc[(rows["product"] == PRODUCTS[0]) & (rows.year == 2024), "value"] *= 0.4
    deu = rows[(rows.reporter == "DEU") & (rows.partner == "FRA")]
    fall = deu[deu.year == 2024].value.sum() / deu[deu.year < 2024].groupby("year").value.sum().mean()
    assert fall < 0.7  # in value, the pair fell by more than the 30% that counts
    res = screen(write_baci(tmp_path / "s.duckdb", rows), top=1)
    pair = res.pairs.set_index(["exporter", "importer"]).loc[("DEU", "FRA")]
    assert not pair.collapse and abs(pair.drop_pct) < 0.1 and abs(pair.z) < 2
    assert pair.cf_post == pytest.approx(pair.v_post, rel=0.1)
    t = res.to_frame()
    assert (t.exporter.iloc[0], t.importer.iloc[0], t.intermediaries.iloc[0]) == ("TUR", "ISR", "GRC")
    assert not ((t.exporter == "DEU") & (t.importer == "FRA")).any()


def test_a_pair_repriced_is_a_price_change_and_no_lead(tmp_path) -> None:
    """DEU -> FRA's values fall by 60% in 2024 and its tonnes do not: the value test passes, the volume test does not,
    so it is shown as prices, not scanned, and no lead; the same fall in tonnes too is a collapse (a lead); without
    quantities the volume is the value, and the screen cannot tell (a lead). The embargo is found in all three."""
    repriced = tiny_flows(repriced=("DEU", "FRA"))
    goods = repriced.assign(tonnes=tiny_flows().tonnes.where(~((repriced.reporter == "DEU") & (repriced.partner == "FRA")),
                                                               repriced.value / 2000))
    runs = {name: screen(write_baci(tmp_path / f"{name}.duckdb", rows), top=2)
            for name, rows in (("prices", repriced), ("goods", goods), ("no quantities", repriced.assign(tonnes=np.nan)))}
    pair = {name: res.pairs.set_index(["exporter", "importer"]).loc[("DEU", "FRA")] for name, res in runs.items()}
    for p in pair.values():
        assert p.drop_pct > 0.55 and p.q_value < 1e-6  # in value, every run sees the same collapse
    assert pair["prices"].prices and not pair["prices"].collapse and abs(pair["prices"].volume_drop_pct) < 0.1
    assert pair["prices"].cover == 1 and pair["prices"].q_volume > 0.5
    assert pair["goods"].collapse and not pair["goods"].prices and pair["goods"].volume_drop_pct > 0.55
    nq = pair["no quantities"]
    assert nq.cover == 0 and nq.collapse and (nq.z_v, nq.q_volume, nq.volume_drop_pct) == pytest.approx((nq.z, nq.q_value, nq.drop_pct))
    for name, res in runs.items():
        t = res.to_frame().set_index(["exporter", "importer"])
        assert t.status[("TUR", "ISR")] == "known embargo" and t.intermediaries[("TUR", "ISR")] == "GRC"
        assert t.status[("DEU", "FRA")] == ("prices" if name == "prices" else "lead")
    t = runs["prices"].to_frame().set_index(["exporter", "importer"]).loc[("DEU", "FRA")]
    assert t.evidence.startswith("prices: value -61%") and "100% of its value with quantities" in t.evidence
    assert runs["prices"].routes.cid.nunique() == 1 and runs["prices"].settings["prices"] == 1  # only the embargo scanned
    assert "1 price changes" in runs["prices"].summary()
