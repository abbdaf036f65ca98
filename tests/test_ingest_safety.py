"""An ingest goes in whole or not at all: bad files, the same file twice, and a killed process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from entrepot import schema
from entrepot.errors import InputError, Interrupted
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


ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


@pytest.fixture(scope="module")
def big_baci(tmp_path_factory) -> Path:
    """4 million distinct rows: an ingest that takes a few seconds, long enough to interrupt."""
    big = tmp_path_factory.mktemp("big") / "BACI_HS17_Y2021_V202401.csv"
    duckdb.sql(
        "COPY (SELECT 2021 AS t, 792 AS i, [376, 275, 490, 8, 12, 32, 36, 40][r // 500000 + 1] AS j, "
        "lpad((100000 + r % 500000)::VARCHAR, 6, '0') AS k, "
        f"r * 0.001 AS v, 1.5 AS q FROM range(4000000) t(r)) TO '{big}' (HEADER)"
    )
    return big


def start_ingest(big: Path, store_path: Path) -> subprocess.Popen:
    """A real `entrepot ingest` process, returned once its insert has started writing (file or WAL grows)."""
    size = store_path.stat().st_size
    proc = subprocess.Popen(
        [sys.executable, "-m", "entrepot", "ingest", str(big), "--store", str(store_path)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wal = store_path.with_name(store_path.name + ".wal")
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if store_path.stat().st_size > size or (wal.exists() and wal.stat().st_size > 0):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    assert proc.poll() is None, "ingest finished before it could be stopped; use a bigger file"
    return proc


def stored(store_path: Path) -> tuple[int, int, list[int]]:
    with Store(store_path, read_only=True) as st:
        return (*state(st), st.query("SELECT DISTINCT year FROM flows").year.tolist())


@pytest.fixture
def one_batch(tmp_path: Path) -> Path:
    store_path = tmp_path / "store.duckdb"
    with Store(store_path) as st:
        ingest_file(st, BACI)
    return store_path


def test_killed_ingest_leaves_store_as_it_was(one_batch: Path, big_baci: Path) -> None:
    proc = start_ingest(big_baci, one_batch)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert stored(one_batch) == (6, 1, [2022])


def test_ctrl_c_mid_ingest_is_one_line_exit_130_store_unchanged(one_batch: Path, big_baci: Path) -> None:
    proc = start_ingest(big_baci, one_batch)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == f"error: interrupted: {big_baci} was not ingested (the store is as it was before it)"
    assert stored(one_batch) == (6, 1, [2022])


def test_locked_store_waits_then_names_the_holder(one_batch: Path, big_baci: Path) -> None:
    """A second ingest while one runs waits a bounded time, then says which process holds the store."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
         str(one_batch)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "entrepot", "ingest", str(COMTRADE), "--store", str(one_batch)],
                             env=ENV, capture_output=True, text=True, timeout=60)
        waited = time.monotonic() - t
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2 and len(lines) == 2, run.stderr
        assert lines[0].startswith(f"{one_batch}: in use by another process (PID {holder.pid}, ")
        assert lines[0].endswith("); waiting up to 5 s")
        assert lines[1].startswith(f"error: {one_batch}: in use by another process (PID {holder.pid}")
        assert lines[1].endswith("waited 5 s; try again when it finishes")
        assert 4.5 < waited < 30
    finally:
        holder.kill()
        holder.wait()
    assert stored(one_batch) == (6, 1, [2022])


def test_dashboard_answers_503_while_an_ingest_holds_the_store(one_batch: Path, big_baci: Path) -> None:
    from fastapi.testclient import TestClient

    from entrepot.web import create_app

    client = TestClient(create_app(one_batch), base_url="http://127.0.0.1:8765")  # a loopback Host: the dashboard answers no other
    assert client.get("/api/pairs?limit=3").status_code == 200
    proc = start_ingest(big_baci, one_batch)
    try:
        busy = client.get("/api/pairs?limit=3")
    finally:
        proc.send_signal(signal.SIGINT)  # no need to wait for it to finish
        proc.wait(timeout=120)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert busy.json()["error"].startswith(f"{one_batch}: in use by another process (PID {proc.pid}")
    assert client.get("/api/pairs?limit=3").status_code == 200  # the ingest is gone: served again


def entrepot_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "entrepot", *map(str, args)], env=ENV, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kind", ["not duckdb", "directory", "newer schema"])
def test_unusable_store_is_one_line_exit_2(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "store.duckdb"
    if kind == "not duckdb":
        target.write_text("period,reporter\n2022,TUR\n" * 100)
        expected = f"error: {target}: not a DuckDB store (the file exists but is not a DuckDB database)"
    elif kind == "directory":
        target.mkdir()
        expected = f"error: {target}: is a directory; give the store's file, e.g. DIR/entrepot.duckdb"
    else:
        Store(target).close()
        con = duckdb.connect(str(target))
        newer = schema.SCHEMA_VERSION + 1
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(newer)])
        con.close()
        expected = (f"error: {target}: written by a newer entrepot (schema version {newer}; this one reads {schema.SCHEMA_VERSION});"
                    " upgrade entrepot")
    for args in (("ingest", BACI), ("batches",)):
        run = entrepot_cli(*args, "--store", target)
        assert (run.returncode, run.stderr.strip(), run.stdout) == (2, expected, "")


def open_as(uid: int | None, target: Path) -> str:
    """Open `target` for writing in a forked process running as `uid` (None: this user); its error line.

    Root may write a read-only file, so as root the child drops to `nobody` to meet the permission
    a user meets. The fork keeps this process's imports: no interpreter the other user cannot read.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        message = "opened"
        try:
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            Store(target).close()
        except Exception as exc:
            message = str(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        message = fh.read()
    os.waitpid(pid, 0)
    return message


def test_no_permission_is_one_line(tmp_path: Path) -> None:
    """A read-only store file and a read-only directory, opened by a user who may not write them."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="entrepot-perm-"))  # not under pytest's 0700 tmp dir: nobody must reach it
    try:
        base.chmod(0o755)
        ro_file = base / "file" / "store.duckdb"
        ro_file.parent.mkdir()
        ro_file.parent.chmod(0o777)
        Store(ro_file).close()
        ro_file.chmod(0o444)
        ro_dir = base / "dir"
        ro_dir.mkdir()
        ro_dir.chmod(0o555)
        uid = 65534 if os.geteuid() == 0 else None
        assert open_as(uid, ro_file) == f"{ro_file}: no permission to write the store (a read-only file)"
        assert open_as(uid, ro_dir / "s.duckdb") == (
            f"{ro_dir / 's.duckdb'}: no permission to write in {ro_dir} (DuckDB keeps a .wal file beside the store)")
        with Store(ro_file, read_only=True) as st:  # reading a read-only store still works
            assert st.row_count() == 0
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(base)], check=True)
        subprocess.run(["rm", "-rf", str(base)], check=True)


@pytest.mark.parametrize(
    ("v", "year", "k", "reason"),
    [
        ("inf", 2022, "010121", ":3: column v: trade value is not a finite number"),
        ("nan", 2022, "010121", ":3: column v: trade value is not a finite number"),
        ("Infinity", 2022, "010121", ":3: column v: trade value is not a finite number"),
        ("1e308", 2022, "010121", ":3: column v: trade value is not a finite number (inf, nan, or too large once scaled): inf"),
        ("1e14", 2022, "010121", ":3: column v: trade value above 1e+15 USD"),
        ("1", 1800, "010121", ":2: column t: implausible year (before 1948 or after"),
        ("1", 2200, "010121", ":2: column t: implausible year"),
    ],
)
def test_bad_values_are_rejected_with_line_and_column(store, tmp_path: Path, v: str, year: int, k: str, reason: str) -> None:
    path = tmp_path / "BACI_HS17_V202401.csv"  # no year in the name: the generic check, not the adapter's, sees it
    path.write_text(f"t,i,j,k,v,q\n{year},792,376,010129,1,1\n{year},792,376,{k},{v},1\n")
    with pytest.raises(InputError) as err:
        ingest_file(store, path)
    assert str(err.value).startswith(f"{path}{reason}")
    assert state(store) == (0, 0)


def test_generic_checks_cover_every_adapter(store, tmp_path: Path) -> None:
    """A Comtrade file (the pandas path) with a year no trade statistics have, on its third line."""
    lines = COMTRADE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "c.csv"
    path.write_text("".join([lines[0], lines[1], lines[2].replace(",202409,", ",180009,", 1)]), encoding="utf-8")
    with pytest.raises(InputError, match=r"c.csv:3: column year: implausible year \(before 1948 or after \d+\): 1800$"):
        ingest_file(store, path)


def _rows(st: Store) -> int:
    return st.con.execute("SELECT count(*) FROM meta WHERE key = 'ctrl-c'").fetchone()[0]


def test_ctrl_c_swallowed_inside_a_transaction_still_rolls_it_back(tmp_path: Path) -> None:
    """DuckDB's query loop can swallow a SIGINT's KeyboardInterrupt: the transaction's own handler remembers it."""
    before = signal.getsignal(signal.SIGINT)  # Python's, or Spark's once a Spark test has run
    with Store(tmp_path / "s.duckdb") as st:
        with pytest.raises(Interrupted, match="nothing was written") as caught, st.transaction() as con:
            con.execute("INSERT INTO meta VALUES ('ctrl-c', 'x')")
            with contextlib.suppress(KeyboardInterrupt):  # swallowed, as a C extension may
                signal.raise_signal(signal.SIGINT)
        assert not caught.value.committed and _rows(st) == 0
        assert signal.getsignal(signal.SIGINT) is before  # the handler is put back


class _SlowCommit:
    """A connection whose commit is hit by Ctrl-C while it runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def commit(self) -> None:
        signal.raise_signal(signal.SIGINT)
        self._con.commit()


def test_ctrl_c_during_the_commit_lets_it_finish_and_says_so(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as st:
        real, st.con = st.con, _SlowCommit(st.con)
        with pytest.raises(Interrupted, match="the work is in the store") as caught, st.transaction() as con:
            con.execute("INSERT INTO meta VALUES ('ctrl-c', 'x')")
        st.con = real
        assert caught.value.committed and _rows(st) == 1
