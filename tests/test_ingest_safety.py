"""An ingest goes in whole or not at all: bad files, the same file twice, and a killed process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from entrepot.errors import InputError
from entrepot.store import Store
from entrepot.store.ingest import ingest_file
from tests.conftest import DATA, ROOT

BACI = DATA / "baci" / "BACI_HS17_Y2022_V202401.csv"
COMTRADE = DATA / "comtrade" / "TUR_2023_2024_M_H5.csv"


def state(store: Store) -> tuple[int, int]:
    return store.row_count(), len(store.batches())


def test_same_file_twice_is_a_no_op(store) -> None:
    first = ingest_file(store, BACI)
    again = ingest_file(store, BACI)
    assert again.skipped and again.batch_id == first.batch_id
    assert state(store) == (6, 1)


def test_empty_file_and_header_only(store, tmp_path: Path) -> None:
    empty = tmp_path / "BACI_HS17_Y2022.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        ingest_file(store, empty)
    empty.write_text("t,i,j,k,v,q\n")
    with pytest.raises(InputError, match="no data rows"):
        ingest_file(store, empty)
    assert state(store) == (0, 0)


def test_format_detection(store, tmp_path: Path) -> None:
    assert ingest_file(store, BACI).format == "baci"
    assert ingest_file(store, COMTRADE).format == "comtrade"
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=":1: cannot tell the format"):
        ingest_file(store, odd)


def test_cli_bad_file_one_line_exit_2_store_unchanged(cli, store_path: Path, tmp_path: Path) -> None:
    assert cli("ingest", BACI).exit_code == 0
    bad = tmp_path / "BACI_HS17_Y2023_V202401.csv"
    bad.write_text("t,i,j,k,v,q\n2023,792,376,010121,1,1\n2023,792,376,010121,oops,1\n")
    result = cli("ingest", bad)
    assert result.exit_code == 2
    assert result.output.strip() == f'error: {bad}:3: column v: cannot read string "oops" to \'DOUBLE\''
    with Store(store_path, read_only=True) as st:
        assert state(st) == (6, 1)


def test_parquet_export_import_round_trip(cli, store, tmp_path: Path) -> None:
    ingest_file(store, BACI)
    ingest_file(store, COMTRADE)
    store.export_parquet(tmp_path / "out")
    with Store(tmp_path / "copy.duckdb") as copy:
        assert copy.import_parquet(tmp_path / "out") == 11
        assert copy.import_parquet(tmp_path / "out") == 0  # batches already there
        cols = "period, reporter, partner, product, value_usd"
        assert copy.query(f"SELECT {cols} FROM flows ORDER BY ALL").equals(store.query(f"SELECT {cols} FROM flows ORDER BY ALL"))


def test_killed_ingest_leaves_store_as_it_was(tmp_path: Path) -> None:
    store_path = tmp_path / "store.duckdb"
    with Store(store_path) as st:
        ingest_file(st, BACI)
        before = state(st)
    big = tmp_path / "BACI_HS17_Y2021_V202401.csv"
    duckdb.sql(
        "COPY (SELECT 2021 AS t, 792 AS i, 376 AS j, lpad((100000 + r % 800000)::VARCHAR, 6, '0') AS k, "
        f"r * 0.001 AS v, 1.5 AS q FROM range(6000000) t(r)) TO '{big}' (HEADER)"
    )
    size = store_path.stat().st_size
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "entrepot", "ingest", str(big), "--store", str(store_path)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    wal = store_path.with_name(store_path.name + ".wal")
    deadline = time.monotonic() + 60
    # Mid-ingest: the insert has started writing row groups (the file or its WAL grows).
    while proc.poll() is None and time.monotonic() < deadline:
        if store_path.stat().st_size > size or (wal.exists() and wal.stat().st_size > 0):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    assert proc.poll() is None, "ingest finished before it could be killed; use a bigger file"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(store_path, read_only=True) as st:
        assert state(st) == before
        assert st.query("SELECT DISTINCT year FROM flows").year.tolist() == [2022]
