from pathlib import Path

import pytest

from entrepot import schema
from entrepot.errors import InputError
from entrepot.store import Store
from entrepot.store.warehouse import write_flows


def test_new_store_has_canonical_tables(store: Store) -> None:
    cols = store.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'flows'")
    assert tuple(cols.column_name) == schema.FLOW_COLUMNS
    assert store.row_count() == 0


def test_every_adapter_writes_a_source_the_store_knows() -> None:
    from entrepot import io

    assert set(io.formats()) <= set(schema.SOURCES)  # `source` is an ENUM of them: a new adapter adds its name there


def test_closed_lists_read_as_text_in_sql_and_pandas(store: Store) -> None:
    write_flows(store.con, "VALUES ('2024', 'A', 2024, NULL, 'TUR', true, 'ISR', true, 'export', NULL, "
                           "'010121', 6, 5.0, NULL, NULL, 'baci', 'b1', NULL, 'USD')")
    assert store.con.execute("SELECT flow || '/' || source, flow = 'nothing', hs_rev IS NULL FROM flows").fetchone() == ("export/baci", False, True)
    frame = store.query("SELECT freq, flow, hs_rev, source FROM flows")
    assert frame.to_dict("records") == [{"freq": "A", "flow": "export", "hs_rev": None, "source": "baci"}]
    assert frame.groupby("flow").size().to_dict() == {"export": 1}  # a categorical would list every kind


def test_rows_are_written_in_their_order_and_their_combinations_once(store: Store) -> None:
    months = ", ".join(f"('2024-{m:02d}', 'M', 2024, {m}, 'TUR', true, 'ISR', true, 'export', 'HS17', '0101', 4, {m}.0, NULL, "
                       f"NULL, 'comtrade', 'b1', NULL, 'USD')" for m in (3, 1, 2, 1))
    assert write_flows(store.con, f"VALUES {months}") == 4
    rows = store.con.execute(f"SELECT value_usd FROM {schema.FLOWS_WITH_ROWID} ORDER BY row_id").fetchall()
    assert [v for (v,) in rows] == [3.0, 1.0, 2.0, 1.0]
    assert store.con.execute("SELECT count(*) FROM segments").fetchone()[0] == 3
    write_flows(store.con, "SELECT * REPLACE (value_usd * 10 AS value_usd) FROM flows")  # the same combinations: no new segment
    assert store.con.execute("SELECT count(*) FROM segments").fetchone()[0] == 3
    assert store.row_count() == 8


def test_store_made_before_the_currency_columns_gets_them(tmp_path: Path) -> None:
    import dataclasses

    import duckdb

    path = tmp_path / "old.duckdb"
    text = tuple(dataclasses.replace(c, sql_type="VARCHAR") if c.sql_type in schema.ENUMS else c for c in schema.FLOWS
                 if c.name not in ("value_native", "currency"))
    with duckdb.connect(str(path)) as con:  # as schema version 2 left it: the closed lists as text, no currency columns
        for ddl in (schema._ddl("flows", text), schema._ddl("flows_superseded", (*text, schema.Column("superseded_by", "VARCHAR"))),
                    schema._ddl("batches", schema.BATCHES, ", PRIMARY KEY (batch_id), UNIQUE (sha256)"),
                    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)", "INSERT INTO meta VALUES ('schema_version', '2')"):
            con.execute(ddl)
        con.execute("INSERT INTO flows VALUES ('2024', 'A', 2024, NULL, 'TUR', true, 'ISR', true, 'export', 'HS17', "
                    "'010121', 6, 5.0, NULL, NULL, 'baci', 'b1')")
    with Store(path) as st:
        cols = st.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'flows'")
        assert set(cols.column_name) == set(schema.FLOW_COLUMNS)
        assert st.query("SELECT currency FROM flows").currency.tolist() == ["USD"]
        assert "currency" in st.query("SELECT * FROM flow_versions").columns


def test_read_only_store_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no store here"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as con:
        con.execute("INSERT INTO meta VALUES ('x', 'y')")
        raise RuntimeError("boom")
    assert store.query("SELECT * FROM meta WHERE key = 'x'").empty


def test_input_error_is_one_line_with_place() -> None:
    err = InputError("not a number\n'abc'", path="f.csv", line=3, column="v")
    assert str(err) == "f.csv:3: column v: not a number 'abc'"


def test_cli_reports_user_errors_with_exit_code_2(cli, tmp_path: Path) -> None:
    result = cli("ingest", tmp_path / "nope.csv")
    assert result.exit_code == 2
    assert "nope.csv: no such file" in result.output


def test_an_ingest_bounds_duckdbs_memory_and_gives_it_back(store: Store, monkeypatch) -> None:
    """Beyond `INGEST_MEMORY` DuckDB spills the supersede's join and the checks' sort to disk (a newer BACI
    year over the older one peaked at 1.5 GiB); analyses after it get DuckDB's default again."""
    from entrepot.store import ingest

    default = store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    seen = []
    supersede = Store.supersede
    monkeypatch.setattr(Store, "supersede", lambda self, *a, **k: (
        seen.append(self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]), supersede(self, *a, **k))[1])
    ingest.ingest_file(store, Path(__file__).parent / "data" / "baci" / "BACI_HS17_Y2022_V202401.csv")
    assert seen == ["572.2 MiB"] and ingest.INGEST_MEMORY == "600MB"  # DuckDB shows 600 MB in MiB
    assert store.con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == default
