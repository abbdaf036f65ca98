"""Observations, not files: a newer file supersedes the same observations, never adds to them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pytest

from entrepot import schema
from entrepot.errors import InputError, StoreError
from entrepot.store import Store
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA, shared_file

COMTRADE = DATA / "comtrade" / "TUR_2023_2024_M_H5.csv"
HEADER = "t,i,j,k,v,q\n"


def baci(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


OLD = ["2022,792,376,010121,10,1", "2022,792,376,010129,20,2", "2022,376,792,720810,30,3"]
NEW = ["2022,792,376,010121,11,1", "2022,792,376,010129,21,2", "2022,792,275,720810,5,1"]


def totals(store: Store) -> list[tuple]:
    return store.con.execute(
        "SELECT reporter, partner, product, value_usd, batch_id FROM flows ORDER BY ALL"
    ).fetchall()


def test_newer_release_supersedes_instead_of_doubling(store: Store, tmp_path: Path) -> None:
    old = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    new = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW))
    assert (old.release, new.release) == ("V202401", "V202501")
    assert new.superseded == {old.batch_id: 2}
    rows = totals(store)
    assert len(rows) == 4  # 3 + 3 - 2 replaced: each observation once
    assert ("TUR", "ISR", "010121", 11_000.0, new.batch_id) in rows
    assert ("ISR", "TUR", "720810", 30_000.0, old.batch_id) in rows  # not in the new release: stays
    assert store.query("SELECT count(*) AS n FROM flows_superseded").n[0] == 0  # deleted, not kept
    listing = store.batches().set_index("batch_id")
    assert listing.loc[old.batch_id, ["rows", "active", "superseded"]].tolist() == [3, 1, 2]
    assert listing.loc[new.batch_id, ["rows", "active", "replaced"]].tolist() == [3, 3, 2]


def test_other_sources_and_revisions_are_other_observations(store: Store, tmp_path: Path) -> None:
    ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    res = ingest_file(store, baci(tmp_path, "BACI_HS22_Y2022_V202401.csv", NEW))
    assert res.superseded == {} and store.row_count() == 6  # HS22 codes are not HS17 codes
    res = ingest_file(store, COMTRADE)
    assert res.superseded == {} and store.row_count() == 11


def test_redownload_supersedes_comtrade_rows(store: Store, tmp_path: Path) -> None:
    first = ingest_file(store, COMTRADE)
    again = tmp_path / "TUR_redownload.csv"
    lines = COMTRADE.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace('"460300000"', '"460300001"')  # a revised figure
    again.write_text("".join(lines), encoding="utf-8")
    res = ingest_file(store, again)
    assert res.superseded == {first.batch_id: first.rows}
    assert store.row_count() == first.rows
    assert store.query("SELECT max(value_usd) AS v FROM flows WHERE period = '2023-09'").v[0] == 460_300_001


def test_keep_both_keeps_history_and_remove_restores(store: Store, tmp_path: Path) -> None:
    old = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    before = totals(store)
    new = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW), keep_both=True)
    assert new.superseded == {old.batch_id: 2} and new.kept
    assert store.row_count() == 4  # analyses read flows: still each observation once
    versions = store.query("SELECT release, count(*) AS n FROM flow_versions GROUP BY ALL ORDER BY 1")
    assert versions.values.tolist() == [["V202401", 3], ["V202501", 3]]  # both releases side by side
    removed = store.remove_batch(new.batch_id[:6])  # a unique prefix is enough
    assert removed.rows_removed == 3 and removed.restored == {old.batch_id: 2}
    assert totals(store) == before
    assert store.query("SELECT count(*) AS n FROM flows_superseded").n[0] == 0
    assert store.query("SELECT count(*) AS n FROM supersessions").n[0] == 0


def test_remove_a_middle_release_leaves_the_newest_active(store: Store, tmp_path: Path) -> None:
    a = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202301.csv", OLD))
    b = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", [r.replace(",10,", ",12,") for r in OLD]), keep_both=True)
    c = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW), keep_both=True)
    assert b.superseded == {a.batch_id: 3} and c.superseded == {b.batch_id: 2}
    res = store.remove_batch(b.batch_id)
    # a's two rows that c also holds stay superseded (now by c); the third comes back.
    assert res.restored == {a.batch_id: 1}
    assert [r[4] for r in totals(store)].count(c.batch_id) == 3 and store.row_count() == 4
    res = store.remove_batch(c.batch_id)
    assert res.restored == {a.batch_id: 2}
    assert {r[4] for r in totals(store)} == {a.batch_id} and store.row_count() == 3


def test_remove_refuses_when_superseded_rows_were_not_kept(store: Store, tmp_path: Path) -> None:
    old = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD))
    new = ingest_file(store, baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW))
    with pytest.raises(InputError, match=f"replaced 2 rows of batch {old.batch_id} .* without keeping them"):
        store.remove_batch(new.batch_id)
    assert store.row_count() == 4
    store.remove_batch(old.batch_id)  # the way out the message gives: old first, then new
    assert store.remove_batch(new.batch_id).rows_removed == 3
    assert store.row_count() == 0 and store.batches().empty
    with pytest.raises(InputError, match="no batch 'zz'"):
        store.remove_batch("zz")


def test_same_observation_twice_in_one_file_names_both_lines(store: Store, tmp_path: Path) -> None:
    path = baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", [*OLD, "2022,792,376,10121,3,1"])  # k padded: = line 2
    with pytest.raises(InputError) as err:
        ingest_file(store, path)
    assert str(err.value) == (
        f"{path}:2: the same observation twice (2022, TUR, ISR, export, 010121), again on line 5; "
        "a file must hold each observation once"
    )
    assert store.row_count() == 0 and store.batches().empty


@pytest.mark.parametrize("rows, lines", [
    (["2022,792,376,010121,1,1"], None),  # one row: every identity column is constant, no neighbour to repeat
    (["2022,792,376,010121,1,1", "2022,792,376,010121,2,1"], (2, 3)),  # the one observation twice
    ([f"2022,792,376,{k},1,1" for k in range(100000, 100400)] + ["2022,792,376,100007,2,1"], (9, 402)),  # far apart
    ([f"2022,792,376,{k},1,1" for k in range(100000, 100400)], None),
])
def test_an_observation_twice_is_found_wherever_it_is(store: Store, tmp_path: Path, rows: list[str], lines) -> None:
    path = baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", rows)
    if lines is None:
        assert ingest_file(store, path).rows == len(rows)
        return
    with pytest.raises(InputError, match=rf":{lines[0]}: the same observation twice .*, again on line {lines[1]}; "):
        ingest_file(store, path)


def test_duplicate_in_a_comtrade_csv(store: Store, tmp_path: Path) -> None:
    lines = COMTRADE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "dup.csv"
    path.write_text("".join([*lines, lines[2]]), encoding="utf-8")
    with pytest.raises(InputError, match=rf"dup.csv:3: the same observation twice .* again on line {len(lines) + 1};"):
        ingest_file(store, path)


def test_same_file_with_other_options_says_so(store: Store, tmp_path: Path) -> None:
    path = baci(tmp_path, "BACI_Y2022.csv", OLD)
    first = ingest_file(store, path, options={"hs_rev": "HS17"})
    assert ingest_file(store, path, options={"hs_rev": "HS17"}).skipped
    with pytest.raises(InputError, match=f"already in the store as batch {first.batch_id}, read with options .*HS17.*HS12"):
        ingest_file(store, path, options={"hs_rev": "HS12"})


def test_the_same_content_under_another_name_is_already_in_the_store(cli, tmp_path: Path) -> None:
    # A re-downloaded Comext export saved by the browser as "Relational_View(1).csv": the same bytes are
    # the same observations, so nothing changes and `entrepot batches` still lists the first file, once.
    first = tmp_path / "armenia.csv"
    first.write_bytes(shared_file("real/comext/marylev_armenia_export_labels_Relational_View_2024-11-16T06_38_12.719Z.csv").read_bytes())
    again = tmp_path / "downloads" / "Relational_View(1).csv"
    again.parent.mkdir()
    again.write_bytes(first.read_bytes())
    assert cli("ingest", first).exit_code == 0
    before = cli("batches", "--json").output
    out = cli("ingest", again)
    assert out.exit_code == 0
    batch = json.loads(before)[0]["batch_id"]
    assert out.output.strip() == (f"{again}: comext, already in the store as {first} (batch {batch}): "
                                  "the same content under another name, nothing changed")
    after = json.loads(cli("batches", "--json").output)
    assert cli("batches", "--json").output == before and [(b["path"], b["rows"], b["active"]) for b in after] == [
        (str(first), 30, 30)]
    with Store(tmp_path / "store.duckdb", read_only=True) as st:
        assert st.row_count() == 30
    # read with other options under the new name, it says which file it is
    (tmp_path / "rates.csv").write_text("period,usd_per_eur\n2024-08,1.5\n")
    other = cli("ingest", again, "--rates", str(tmp_path / "rates.csv"))
    assert other.exit_code == 2 and f"already in the store as batch {batch} ({first}, the same content), read with options {{}}" in other.output


def test_open_version_1_store_migrates_and_resolves_double_counting(tmp_path: Path) -> None:
    """A store written before identities existed, with two releases of one year added up."""
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    v1_batches = [c for c in schema.BATCHES if c.name not in ("release", "keep_both")]
    text = tuple(dataclasses.replace(c, sql_type="VARCHAR") if c.sql_type in schema.ENUMS else c for c in schema.FLOWS)
    con.execute(schema._ddl("flows", tuple(c for c in text if c.name not in ("value_native", "currency"))))
    con.execute(schema._ddl("batches", tuple(v1_batches), ", PRIMARY KEY (batch_id), UNIQUE (sha256)"))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    for n, (release, value) in enumerate([("V202401", 1.0), ("V202501", 2.0)]):
        batch = f"b{n}"
        con.execute(
            f"INSERT INTO batches VALUES (?, ?, ?, 'baci', 1, TIMESTAMP '2024-01-0{n + 1}', '{{}}')",
            [batch, f"sha{n}", f"/d/BACI_HS17_Y2022_{release}.csv"],
        )
        con.execute(
            "INSERT INTO flows VALUES ('2022', 'A', 2022, NULL, 'TUR', true, 'ISR', true, 'export', 'HS17', '010121', 6, "
            "?, NULL, NULL, 'baci', ?)",
            [value, batch],
        )
    con.close()
    with Store(path, read_only=True) as st:  # even a read-only open upgrades it first
        assert st.query("SELECT value_usd, batch_id FROM flows").values.tolist() == [[2.0, "b1"]]
        assert st.batches().release.tolist() == ["V202401", "V202501"]
        assert st.query("SELECT superseded_by FROM flows_superseded").superseded_by.tolist() == ["b1"]
        assert st.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(schema.SCHEMA_VERSION)


def test_newer_schema_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="written by a newer entrepot .schema version 99; this one reads"):
        Store(path)


def comtrade_rows(n: int) -> str:
    """A Comtrade+ CSV of n monthly rows (one observation each), in the shape of tests/data's file."""
    header, row = COMTRADE.read_text(encoding="utf-8").splitlines()[:2]
    fields = row.split(",")  # the template's quoted value "460,300,000.00" spans fields 42-44
    out = [header]
    for r in range(n):
        f = list(fields)
        year, month = 2015 + r // 12 % 10, r % 12 + 1
        f[5] = f"{year}{month:02d}"
        f[20] = f"{10000 + r // 120 * 7:06d}"
        f[-4] = str(r + 1)  # primaryValue
        out.append(",".join(f))
    return "\n".join(out) + "\n"


def test_big_row_wise_files_go_in_pieces_with_the_whole_files_lines(store: Store, tmp_path: Path, monkeypatch) -> None:
    """A Comtrade CSV read in pieces (bounded memory) gives the rows it gives whole, and errors name its lines."""
    from entrepot.store import ingest

    text = comtrade_rows(3000)
    path = tmp_path / "TradeData.csv"
    path.write_text(text, encoding="utf-8")
    whole = ingest_file(Store(tmp_path / "whole.duckdb"), path)
    monkeypatch.setattr(ingest, "CHUNK_BYTES", 50_000)
    assert len(list(ingest._pieces(path, ingest.CHUNK_BYTES))) > 10
    res = ingest_file(store, path)
    assert res.rows == whole.rows == 3000
    assert store.query("SELECT sum(value_usd) AS v FROM flows").v[0] == sum(range(1, 3001))
    lines = text.splitlines(keepends=True)
    lines[2500] = lines[2500].replace(",X,Export,", ",Q,Export,")
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / "TradeData.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{bad}:2501: column flowCode: flow 'Q' not one of"):
        ingest_file(store, bad)
    dup = tmp_path / "bad" / "dup.csv"
    dup.write_text("".join([*lines[:2500], lines[3]]), encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{dup}:4: the same observation twice .* again on line 2501;"):
        ingest_file(store, dup)


def test_pieces_never_split_a_quoted_line_break(tmp_path: Path) -> None:
    from entrepot.store.ingest import _pieces

    path = tmp_path / "q.csv"
    path.write_bytes(b'a,b\n1,"x\ny"\n2,z\n3,"p\nq\nr"\n4,w\n')
    pieces = [(p.read_bytes(), before) for p, before in _pieces(path, 1)]
    assert pieces == [(b'a,b\n1,"x\ny"\n', 0), (b"a,b\n2,z\n", 2), (b'a,b\n3,"p\nq\nr"\n', 3), (b"a,b\n4,w\n", 6)]


def test_cli_batches_lists_and_removes(cli, tmp_path: Path) -> None:
    old = baci(tmp_path, "BACI_HS17_Y2022_V202401.csv", OLD)
    new = baci(tmp_path, "BACI_HS17_Y2022_V202501.csv", NEW)
    assert cli("ingest", old).exit_code == 0
    out = cli("ingest", new, "--keep-both").output
    assert out.startswith(f"{new}: baci, release V202501, 3 rows (batch ")
    assert "; superseded 2 rows (2 of batch " in out and out.rstrip().endswith("), kept in flows_superseded")
    import json

    listed = json.loads(cli("batches", "--json").output)
    assert [(b["release"], b["rows"], b["active"], b["superseded"], b["replaced"]) for b in listed] == [
        ("V202401", 3, 1, 2, 0), ("V202501", 3, 3, 0, 2)]
    table = cli("batches").output
    assert "BACI_HS17_Y2022_V202401.csv" in table and "V202501" in table
    removed = cli("batches", "--remove", listed[1]["batch_id"])
    assert removed.exit_code == 0
    assert removed.output.strip() == (
        f"removed batch {listed[1]['batch_id']} ({new}): 3 rows; restored 2 rows of batch {listed[0]['batch_id']}")
    again = cli("batches", "--remove", "nope")
    assert again.exit_code == 2 and again.output.strip() == "error: no batch 'nope'; `entrepot batches` lists them"


def _version_3_store(path: Path, source: str = "baci") -> None:
    """A store as schema version 3 wrote it: the closed lists as text."""
    con = duckdb.connect(str(path))
    text = tuple(dataclasses.replace(c, sql_type="VARCHAR") if c.sql_type in schema.ENUMS else c for c in schema.FLOWS)
    superseded = (*text, schema.Column("superseded_by", "VARCHAR"))
    for ddl in (schema._ddl("flows", text), schema._ddl("flows_superseded", superseded),
                schema._ddl("batches", schema.BATCHES, ", PRIMARY KEY (batch_id), UNIQUE (sha256)"),
                "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)", "INSERT INTO meta VALUES ('schema_version', '3')"):
        con.execute(ddl)
    con.execute("INSERT INTO batches VALUES ('b0', 'sha0', '/d/f.csv', ?, 1, TIMESTAMP '2024-01-01', '{}', NULL, false)", [source])
    con.execute("INSERT INTO flows VALUES ('2022-03', 'M', 2022, 3, 'TUR', true, 'ISR', true, 're-export', NULL, '010121', 6, "
                "5.0, NULL, NULL, ?, 'b0', 4.5, 'EUR')", [source])
    con.close()


def test_open_version_3_store_turns_its_closed_lists_into_enums(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    _version_3_store(path)
    with Store(path, read_only=True) as st:
        types = dict(st.con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'flows'").fetchall())
        assert {c: types[c].startswith("ENUM") for c in schema.ENUM_COLUMNS} == dict.fromkeys(schema.ENUM_COLUMNS, True)
        rows = st.query("SELECT freq, flow, hs_rev, source, currency, value_native FROM flows")
        assert rows.values.tolist() == [["M", "re-export", None, "baci", "EUR", 4.5]]
        assert rows.dtypes.astype(str).tolist()[:5] == ["object"] * 5  # strings, not pandas categoricals
        assert st.con.execute("SELECT count(*) FROM flow_versions").fetchone()[0] == 1


def test_a_version_3_store_with_a_value_outside_a_closed_list_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "v3.duckdb"
    _version_3_store(path, source="handmade")
    with pytest.raises(StoreError, match="cannot upgrade this store to schema version 4: Could not convert string 'handmade'"):
        Store(path)
    con = duckdb.connect(str(path))  # unchanged
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    source = "SELECT data_type FROM information_schema.columns WHERE table_name = 'flows' AND column_name = 'source'"
    assert con.execute(source).fetchone()[0] == "VARCHAR"
    con.close()


def test_open_version_4_store_keeps_its_rows_in_order_as_segments(tmp_path: Path) -> None:
    """A store as schema version 4 wrote it (one flow table) becomes segments and rows, each row's place kept."""
    path = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(path))
    superseded = (*schema.FLOWS, schema.Column("superseded_by", "VARCHAR"))
    for ddl in (*schema.ENUM_DDL, schema._ddl("flows", schema.FLOWS), schema._ddl("flows_superseded", superseded),
                schema._ddl("batches", schema.BATCHES, ", PRIMARY KEY (batch_id), UNIQUE (sha256)"),
                "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)", "INSERT INTO meta VALUES ('schema_version', '4')"):
        con.execute(ddl)
    con.execute("INSERT INTO batches VALUES ('b0', 'sha0', '/d/f.csv', 'comtrade', 3, TIMESTAMP '2024-01-01', '{}', NULL, false)")
    for month, value in ((2, 20.0), (1, 10.0), (2, 21.0)):
        con.execute(f"INSERT INTO flows VALUES ('2022-0{month}', 'M', 2022, {month}, 'TUR', true, ?, true, 'export', NULL, "
                    "'010121', 6, ?, NULL, NULL, 'comtrade', 'b0', NULL, 'USD')", ["ISR" if value != 21.0 else "GRC", value])
    con.close()
    with Store(path) as st:
        rows = st.con.execute(f"SELECT period, partner, value_usd FROM {schema.FLOWS_WITH_ROWID} ORDER BY row_id").fetchall()
        assert rows == [("2022-02", "ISR", 20.0), ("2022-01", "ISR", 10.0), ("2022-02", "GRC", 21.0)]
        assert st.con.execute("SELECT count(*) FROM segments").fetchone()[0] == 2
        assert st.batches().active.tolist() == [3]
        assert st.con.execute("SELECT count(*) FROM flow_versions").fetchone()[0] == 3
