"""The query layer (store/query.py): the one rule of which rows are read, and where the three
readers it replaced (flows, the analysis panels, reroute's trade relation) used to differ."""

from __future__ import annotations

import pytest

from entrepot.errors import InputError
from entrepot.store import Store
from entrepot.store import query as q
from tests.conftest import insert


@pytest.fixture
def layered(store: Store) -> Store:
    """TUR's exports to ISR in 2023 three ways (TOTAL, HS2, HS6) from Comtrade, and as BACI."""
    insert(store, [{"product": "TOTAL", "value_usd": 100.0}, {"product": "72", "value_usd": 60.0},
                   {"product": "720810", "value_usd": 50.0}, {"product": "720810", "value_usd": 999.0, "source": "baci"}],
           year=2023, reporter="TUR", partner="ISR", flow="export")
    return store


@pytest.mark.parametrize(("level", "expected"), [("total", 0), ("groups", 2), ("products", 6)])
def test_one_product_level_by_what_the_analysis_needs(layered, level, expected) -> None:
    picked = q.choose(layered, "TUR", "export", "A", level)
    assert (picked.source, picked.level, picked.rows_freq) == ("comtrade", expected, "A")


def test_declared_reports_before_baci_and_baci_only_when_alone(layered) -> None:
    assert q.choose(layered, "TUR", "export", "A", "products").source == "comtrade"
    insert(layered, [{"year": 2023, "reporter": "GRC", "partner": "ISR", "flow": "export", "product": "720810", "value_usd": 1.0,
                      "source": "baci"}])
    assert q.choose(layered, "GRC", "export", "A", "products").source == "baci"
    assert q.choose(layered, "GRC", "export", "A", "products", source="reported") is None
    assert q.choose(layered, "TUR", "export", "A", "products", source="baci").source == "baci"


def test_annual_rows_before_months_and_months_only_in_complete_years(store) -> None:
    """Before the query layer, flows and claim checks summed whatever months a year had (a partial
    year); the panels kept complete years only. Now every reader keeps complete years only."""
    months = [{"period": f"2023-{m:02d}"} for m in range(1, 13)] + [{"period": f"2024-{m:02d}"} for m in range(1, 7)]
    insert(store, months, reporter="TUR", partner="ISR", flow="export", value_usd=1.0)
    picked = q.choose(store, "TUR", "export", "A", "total")
    assert picked.summed and picked.rows_freq == "M"
    assert q.series(store, picked, "ISR", None).to_dict("records") == [{"period": "2023", "value": 12.0}]
    insert(store, [{"year": 2024, "value_usd": 7.0}], reporter="TUR", partner="ISR", flow="export")
    assert q.choose(store, "TUR", "export", "A", "total").rows_freq == "A"  # annual rows, when the source has them
    assert q.choose(store, "TUR", "export", "auto", "total").rows_freq == "M"  # "auto": monthly where there are months


def test_a_pairs_choice_can_differ_from_the_reporters(store) -> None:
    """`partners` makes the choice on the pair's own rows (flows, claims); panels choose over all
    partners so a pair and its controls are measured alike."""
    insert(store, [{"partner": "ISR", "source": "comext"}, {"partner": "DEU", "source": "comtrade"}],
           year=2023, reporter="TUR", flow="export", value_usd=1.0)
    assert q.choose(store, "TUR", "export", "A", "total").source == "comtrade"
    assert q.choose(store, "TUR", "export", "A", "total", partners=["ISR"]).source == "comext"
    panel = q.panel(store, "TUR", "export", "A", 0, ["ISR"])
    assert panel.frame.empty and panel.sources == ("comtrade",)


def test_binding_quoting_and_provenance(layered) -> None:
    assert q.quote("O'Brien") == "'O''Brien'"
    assert q.bind("SELECT $a", {"a": 1, "b": 2}) == ("SELECT $a", {"a": 1})
    prov = q.provenance(layered, {"comtrade"})
    assert prov.sources == ("comtrade",) and list(prov.batches.columns) == ["batch_id", "source", "path", "rows", "ingested_at"]


def test_reads_store_takes_a_path_and_refuses_anything_else(tmp_path) -> None:
    calls = q.reads_store(lambda st, x: (st.read_only, x))
    Store(tmp_path / "s.duckdb").close()
    assert calls(tmp_path / "s.duckdb", 1) == (True, 1)
    with pytest.raises(InputError, match="store: expected a Store or the path"):
        calls(42, 1)


def test_wits_is_a_declaring_source_after_comtrade_and_comext_before_baci(layered) -> None:
    """WITS redistributes Comtrade's declarations: read before BACI, after the original (comtrade) or Eurostat."""
    assert q.SOURCE_PRIORITY.index("comext") < q.SOURCE_PRIORITY.index("wits") < q.SOURCE_PRIORITY.index("csv")
    insert(layered, [{"reporter": "GRC", "source": "wits"}, {"reporter": "GRC", "source": "baci"}],
           year=2023, partner="ISR", flow="export", product="TOTAL", value_usd=1.0)
    assert q.choose(layered, "GRC", "export", "A", "total").source == "wits"
    assert q.choose(layered, "GRC", "export", "A", "total", source="reported").source == "wits"
    insert(layered, [{"reporter": "GRC", "source": "comext"}], year=2023, partner="ISR", flow="export", value_usd=1.0)
    assert q.choose(layered, "GRC", "export", "A", "total").source == "comext"
    insert(layered, [{"reporter": "TUR", "source": "wits"}], year=2023, partner="ISR", flow="export", value_usd=1.0)
    assert q.choose(layered, "TUR", "export", "A", "total").source == "comtrade"


def test_provenance_cites_the_batches_whose_rows_were_read(store, tmp_path) -> None:
    """Not every batch of a source: a pair's series cites the files holding that pair's rows, a panel the
    files of its reporter and flow, a whole source all of them; a batch superseded whole is not cited, and a
    batch's adapter (comext-bulk) need not be its source's name (comext)."""
    from entrepot.analysis.flows import flows
    from entrepot.store.ingest import ingest_file
    from tests.ingest.test_comext_bulk import ROWS, dat

    spec = {"map": "reporter=r,partner=p,period=y,flow=f,value_usd=v"}
    for name, line in (("a.csv", "TUR,ISR,2023,export,10"), ("b.csv", "TUR,DEU,2023,export,20"), ("c.csv", "GRC,ISR,2023,export,5")):
        (tmp_path / name).write_text(f"r,p,y,f,v\n{line}\n")
        ingest_file(store, tmp_path / name, "csv", spec)
    assert flows(store, "TUR", "ISR").provenance.files == ("a.csv",)
    assert q.provenance(store, [q.choose(store, "TUR", "export", "A", "total")]).files == ("a.csv", "b.csv")
    assert q.provenance(store, ["csv"]).files == ("a.csv", "b.csv", "c.csv")
    (tmp_path / "a2.csv").write_text("r,p,y,f,v\nTUR,ISR,2023,export,11\n")  # the same observation: supersedes a.csv
    ingest_file(store, tmp_path / "a2.csv", "csv", spec)
    assert flows(store, "TUR", "ISR").provenance.files == ("a2.csv",)
    (tmp_path / "full_v2_202401.dat").write_text(dat(ROWS[:1]))
    ingest_file(store, tmp_path / "full_v2_202401.dat")
    prov = flows(store, "DEU", "RUS", freq="M").provenance
    assert prov.sources == ("comext",) and prov.files == ("full_v2_202401.dat",) and list(prov.batches.source) == ["comext-bulk"]
