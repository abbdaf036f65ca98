"""Ingest speed and memory: `entrepot ingest` of a BACI-year-sized CSV beside bare DuckDB `read_csv`.

Writes an 11-million-row BACI file (`t,i,j,k,v,q`, real country and HS6-shaped codes, each
observation once) and a Comtrade+ download of `--comtrade-mb` MB (47 columns, as the website writes
them) under benchmarks/_work/, then runs each contender REPS times in a fresh process (so peak
memory is that process's own), interleaved, and writes medians and ratios to docs/performance.md:
the BACI file into an empty store, bare DuckDB's read of it, the same observations again as a newer
release into a store holding the older one (the supersede path), and the Comtrade file; beside them the
BACI adapter's INSERT alone (what the store's own work adds is the difference), the same INSERT into the
one flat table of schema 4 (what the segments layout of schema 5 took away), and the ingest's steps one by
one with the CPU seconds of each (where the time goes), beside what two other adopted levers took away
(pandas and coco no longer loaded; the DISTINCT count of the identity hashes that a sort replaced). Then
bare DuckDB and entrepot on smaller files (`--sizes`: how the ratio moves with the file), and
reroute_speed.py's stores read in both layouts (`--read-rows`).

    python benchmarks/ingest.py [--rows 11000000] [--reps 3] [--comtrade-mb 141] [--read-rows 11000000]
                                [--sizes 1000000,3000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import PEAK, machine, median, write_section  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"
SRC = Path(__file__).resolve().parents[1] / "src"

# Each script starts its clock before its imports (duckdb's own for the bare read, entrepot's, which
# include duckdb and pandas, for entrepot) and reports its peak memory as its own VmHWM (`_docs.PEAK`).
BARE = PEAK + """
import sys, time, json
t = time.perf_counter()
import duckdb
con = duckdb.connect(sys.argv[2])
con.execute(f"CREATE TABLE baci AS SELECT * FROM read_csv('{sys.argv[1]}')")
n = con.execute("SELECT count(*) FROM baci").fetchone()[0]
con.close()
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t, "peak_mib": peak_mib()}))
"""

ENTREPOT = PEAK + """
import sys, time, json
t = time.perf_counter()
from entrepot.store import Store
from entrepot.store.ingest import ingest_file
with Store(sys.argv[2]) as st:
    res = ingest_file(st, sys.argv[1])
print(json.dumps({"rows": res.rows, "superseded": res.superseded_rows, "seconds": time.perf_counter() - t,
                  "peak_mib": peak_mib()}))
"""

# The ingest with DuckDB's own memory limit (80% of RAM) instead of `ingest.INGEST_MEMORY`: what bounding it costs.
UNBOUNDED = ENTREPOT.replace("from entrepot.store.ingest import ingest_file", "from entrepot.store import ingest\n"
                             "from entrepot.store.ingest import ingest_file\ningest.INGEST_MEMORY = '80%'")

# The adapter's own INSERT alone, in the store's transaction: what entrepot's ingest adds on top of it
# (hash, checks, duplicates, supersede) is the difference between this row and the full ingest.
ADAPTER_ONLY = PEAK + """
import sys, time, json
from pathlib import Path
t = time.perf_counter()
from entrepot import io
from entrepot.store import Store
with Store(sys.argv[2]) as st, st.transaction() as con:
    n = io.adapter_for(Path(sys.argv[1])).write(con, Path(sys.argv[1]), "bench", {})
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t,
                  "peak_mib": peak_mib()}))
"""

# The same INSERT as schema 4 stored its rows: every column of `schema.FLOWS` in one table, each row
# holding the file's per-file values itself. The adapter's own SQL for each column (`baci.columns`).
FLAT_ADAPTER = PEAK + """
import sys, time, json
from pathlib import Path
t = time.perf_counter()
from entrepot import schema
from entrepot.io import baci
from entrepot.io._csvsql import read_csv_sql
from entrepot.store import Store
path = Path(sys.argv[1])
with Store(sys.argv[2]) as st, st.transaction() as con:
    con.execute(schema._ddl("flows_flat", schema.FLOWS))
    rows, segment = baci.columns(path, "bench", {})
    n = con.execute(f"INSERT INTO flows_flat BY NAME SELECT {baci._named(rows | segment)} FROM {read_csv_sql(path, baci.COLUMNS)}").fetchone()[0]
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t, "peak_mib": peak_mib()}))
"""

# A store in schema 4's layout, for the reads: `flows` one table again, its rows in their order.
TO_FLAT = """
from entrepot import schema
def to_flat(con):
    con.execute("DROP VIEW flow_versions")
    con.execute(f"CREATE TABLE flows_flat AS SELECT {schema.select_list()} FROM {schema.FLOWS_WITH_ROWID} ORDER BY row_id")
    con.execute("DROP VIEW flows")
    con.execute("DROP TABLE flow_rows")
    con.execute("DROP TABLE segments")
    con.execute("ALTER TABLE flows_flat RENAME TO flows")
"""

# Where a first ingest's time goes: `store.ingest._write_file`'s steps one by one in a fresh process, CPU
# seconds of each (all threads). The steps are the library's own functions, called in its order.
STAGES = PEAK + """
import sys, time, json, resource
from pathlib import Path
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, stages, c = time.perf_counter(), {}, cpu()
def lap(name):
    global c
    stages[name] = cpu() - c
    c = cpu()
from entrepot import io, schema
from entrepot.store import Store
from entrepot.store.ingest import check_batch, sha256_file
lap("imports (entrepot, duckdb)")
path = Path(sys.argv[1])
with Store(sys.argv[2]) as st:
    lap("opening the store")
    sha = sha256_file(path)
    lap("content hash (sha256)")
    with st.transaction() as con:
        adapter = io.adapter_for(path)
        n = adapter.write(con, path, sha[:16], {})
        lap("the adapter's INSERT ... SELECT from read_csv")
        constants = check_batch(con, path, sha[:16], adapter.name, extra=adapter.checks(path, {}))
        lap("checks: one scan of the batch + one sort of its identity hashes")
        # What the adopted levers took away, timed beside the steps and not counted in them: the DISTINCT count of
        # the same hashes that the sort replaced (here, in the transaction), and pandas with coco (after the ingest).
        varying = ", ".join(k for k in schema.IDENTITY if k not in constants)
        con.execute(f"SELECT count(*) FROM (SELECT DISTINCT hash({varying}) FROM flows WHERE batch_id = ?)", [sha[:16]]).fetchone()
        levers = {"distinct": cpu() - c}
        c = cpu()
        st.supersede(sha[:16], keep=False, constants=constants)
    lap("supersede (nothing older here) and commit")
c = cpu()
import pandas, country_converter
country_converter.CountryConverter()
levers["pandas"] = cpu() - c
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t, "peak_mib": peak_mib(), "stages": stages, "levers": levers}))
"""

TEMPLATE = Path(__file__).resolve().parents[1] / "tests" / "data" / "comtrade" / "TUR_2023_2024_M_H5.csv"


def make_file(rows: int) -> Path:
    """A BACI-shaped year: 200 real numeric country codes, HS6-like products, each (i, j, k) once.

    Row r: exporter r % 200, m = r // 200; importer the (m % 199 + 1)-th next country (never itself);
    product number m // 199, spread over HS6-like codes (7919 is prime to 5,000: no two share one).
    """
    path = WORK / f"BACI_HS17_Y2022_bench{rows}_unique.csv"
    if path.exists():
        return path
    WORK.mkdir(exist_ok=True)
    from entrepot.countries import numeric_table

    by_iso = {iso: c for c, iso in sorted(numeric_table().items(), reverse=True) if len(iso) == 3 and c not in (0, 97)}
    codes = sorted(by_iso.values())[:200]  # one numeric code per ISO3, so no two rows are one observation
    duckdb.execute("CREATE OR REPLACE TABLE codes AS SELECT c, row_number() OVER () - 1 AS n FROM (SELECT unnest(?) AS c)", [codes])
    duckdb.execute(f"""
        COPY (
          SELECT 2022 AS t, ci.c AS i, cj.c AS j,
                 lpad((10000 + ((r // {len(codes)} // {len(codes) - 1}) * 7919) % 5000 * 137)::VARCHAR, 6, '0') AS k,
                 round(random() * 5000, 3) AS v,
                 CASE WHEN r % 20 = 0 THEN NULL ELSE round(random() * 900, 3) END AS q
          FROM range({rows}) t(r)
          JOIN codes ci ON ci.n = r % {len(codes)}
          JOIN codes cj ON cj.n = (r % {len(codes)} + 1 + (r // {len(codes)}) % {len(codes) - 1}) % {len(codes)}
        ) TO '{path}' (HEADER, NULLSTR 'NA')
    """)
    return path


def make_comtrade(mb: int) -> Path:
    """A Comtrade+ website download of about `mb` MB: Turkey's monthly exports by HS6 and partner.

    The 47 columns and constant fields are those of tests/data's real-shaped file; period, partner
    and product vary so that each row is another observation.
    """
    import csv

    path = WORK / f"TradeData_bench{mb}MB.csv"
    if path.exists():
        return path
    WORK.mkdir(exist_ok=True)
    header, row = list(csv.reader(TEMPLATE.open(encoding="utf-8")))[:2]
    rows = mb * 1_000_000 // 309  # bytes per row as written below
    partners = [4, 8, 12, 32, 36, 40, 56, 76, 124, 156, 250, 276, 356, 380, 392, 410, 484, 528, 643, 724, 756, 826, 840]
    varying = {
        "period": "(2015 + r % 10) * 100 + r // 10 % 12 + 1",
        "refYear": "2015 + r % 10", "refMonth": "r // 10 % 12 + 1",
        "refPeriodId": "((2015 + r % 10) * 100 + r // 10 % 12 + 1) * 100 + 1",
        "partnerCode": f"{partners}[r // 120 % 23 + 1]", "partnerISO": "'X'", "partnerDesc": "'Partner'",
        "cmdCode": "lpad((10000 + r // 2760 * 7)::VARCHAR, 6, '0')", "cmdDesc": "'A product'", "aggrLevel": "6",
        "primaryValue": "round(random() * 1e6, 2)", "fobvalue": "round(random() * 1e6, 2)", "netWgt": "round(random() * 1e4, 1)",
    }
    select = ", ".join(f"{varying.get(h, repr(v) if v else 'NULL')} AS \"{h}\"" for h, v in zip(header, row, strict=True))
    duckdb.execute(f"COPY (SELECT {select} FROM range({rows}) t(r)) TO '{path}' (HEADER, FORCE_QUOTE *)")
    return path


def run(script: str, csv: Path, store: Path, seed: Path | None = None) -> dict:
    """One contender in a fresh process on a fresh store (or a copy of `seed`: the store before it)."""
    store.unlink(missing_ok=True)
    Path(str(store) + ".wal").unlink(missing_ok=True)
    if seed is not None:
        shutil.copyfile(seed, store)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", script, str(csv), str(store)], capture_output=True, text=True, env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime  # the child's, all its threads
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "cpu": cpu, "load": max(load, os.getloadavg()[0])}


def reads(rows: int, reps: int) -> tuple[list[str], dict]:
    """Reading the segments layout against schema 4's flat table: reroute_speed.py's stores (its own builder,
    its `rows` a year) and a copy of each in the flat layout, the reroute scan and the naive screen of
    reroute_speed.py and, on the BACI store, the whole `entrepot screen` of screen_scale.py, each in a
    fresh process, interleaved; medians of the scripts' own CPU seconds, peak memory the largest."""
    import reroute_speed
    import screen_scale

    env = {"PYTHONPATH": f"{SRC}:{Path(__file__).resolve().parent}", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    table = ["| store | layout | reroute scan (s) | its CPU (s) | peak (MiB) | naive screen (s) | its CPU (s)"
             " | whole screen (s) | its CPU (s) | peak (MiB) |", "|---|---|---|---|---|---|---|---|---|---|"]
    ratios, loads = {}, []
    for kind, label in reroute_speed.KINDS.items():
        path = WORK / f"reroute_{'routes' if kind == 'baci' else 'monthly'}_{rows}.duckdb"
        reroute_speed.build(path, rows, kind)
        flat = path.with_name(f"{path.stem}_flat.duckdb")
        if not flat.exists():
            shutil.copyfile(path, flat)
            subprocess.run([sys.executable, "-c", "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\n" + TO_FLAT
                            + "to_flat(con)\ncon.execute('CHECKPOINT')", str(flat)], env=env, check=True)
        layouts = {"segments": path, "flat": flat}
        jobs = {"scan": [reroute_speed.SCAN, "entrepot", kind], "naive": [reroute_speed.SCAN, "naive", kind]}
        if kind == "baci":
            jobs["screen"] = [screen_scale.RUN, "duckdb"]
        runs = {(layout, job): [] for layout in layouts for job in jobs}
        for _ in range(reps):
            for layout, store in layouts.items():
                for job, (script, *argv) in jobs.items():
                    loads.append(os.getloadavg()[0])
                    out = subprocess.run([sys.executable, "-c", script, str(store), *argv], capture_output=True, text=True,
                                         env=env, check=True)
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    runs[layout, job].append({"seconds": r["seconds"], "cpu": r.get("cpu_seconds", r.get("cpu_s")),
                                              "peak": r["peak_mib"]})
        for layout in layouts:
            m = {job: {k: (max if k == "peak" else median)([r[k] for r in runs[layout, job]]) for k in ("seconds", "cpu", "peak")}
                 for job in jobs}
            ratios[kind, layout] = m
            scr = m.get("screen")
            table.append(f"| {label} | {layout} | {m['scan']['seconds']:.2f} | {m['scan']['cpu']:.2f} | {m['scan']['peak']:,.0f}"
                         f" | {m['naive']['seconds']:.2f} | {m['naive']['cpu']:.2f} | "
                         + (f"{scr['seconds']:.1f} | {scr['cpu']:.1f} | {scr['peak']:,.0f} |" if scr else "- | - | - |"))
    return table, {"ratios": ratios, "loads": (min(loads), max(loads))}


JOBS = (("baci", "scan", "the BACI reroute scan"), ("comtrade", "scan", "the monthly reroute scan"),
        ("baci", "naive", "the BACI naive screen"), ("comtrade", "naive", "the monthly naive screen"), ("baci", "screen", "the whole screen"))
PEAKS = (("baci", "scan", "BACI scan"), ("comtrade", "scan", "monthly scan"), ("baci", "screen", "screen"))


def change(ratios: dict, layout: str, against: str, key: str, jobs: tuple) -> str:
    """'the BACI reroute scan -7%; ...': `layout`'s medians against `against`'s, job by job."""
    return "; ".join(f"{what} {ratios[kind, layout][job][key] / ratios[kind, against][job][key] - 1:+.0%}" for kind, job, what in jobs)


def summary(runs: list[dict]) -> tuple[float, float, float]:
    """(median seconds, largest peak MiB, median CPU seconds) of one contender's runs."""
    return median([r["seconds"] for r in runs]), max(r["peak_mib"] for r in runs), median([r["cpu"] for r in runs])


def by_rows(rows: int, reps: int) -> tuple[tuple[float, float, float], ...]:
    """Bare DuckDB and entrepot's ingest on a BACI file of `rows` rows, interleaved."""
    csv = make_file(rows)
    scripts = (BARE, ENTREPOT)
    runs: list[list[dict]] = [[] for _ in scripts]
    for _ in range(reps):
        for script, out in zip(scripts, runs, strict=True):
            out.append(run(script, csv, WORK / "run.duckdb"))
    return tuple(summary(r) for r in runs)


def newer_release(csv: Path) -> Path:
    """The same observations as a newer release (its file name says V202501; values revised)."""
    path = csv.with_name(csv.name.replace("_bench", "_V202501_bench"))
    if not path.exists():
        duckdb.execute(f"COPY (SELECT t, i, j, k, round(CAST(v AS DOUBLE) * 1.01, 3) AS v, q FROM read_csv('{csv}', all_varchar=true, "
                       f"nullstr='NA')) TO '{path}' (HEADER, NULLSTR 'NA')")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=11_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--comtrade-mb", type=int, default=141)
    ap.add_argument("--read-rows", type=int, default=11_000_000,
                    help="rows a year of reroute_speed.py's stores, read in both layouts (0: not measured)")
    ap.add_argument("--sizes", default="1000000,3000000",
                    help="smaller BACI files (rows, comma-separated) to measure bare DuckDB and entrepot on too")
    args = ap.parse_args()
    csv = make_file(args.rows)
    newer = newer_release(csv)
    comtrade = make_comtrade(args.comtrade_mb)
    older_store = WORK / "older.duckdb"
    run(ENTREPOT, csv, older_store)  # the store holding the older release, copied before each supersede run
    contenders = {
        "bare DuckDB read_csv": (BARE, csv, None),
        "entrepot ingest": (ENTREPOT, csv, None),
        "BACI adapter's INSERT alone (no hash, checks or supersede)": (ADAPTER_ONLY, csv, None),
        "the same INSERT into one flat table of the 19 columns (schema 4's layout)": (FLAT_ADAPTER, csv, None),
        "entrepot ingest, newer release superseding every row": (ENTREPOT, newer, older_store),
        "the same, DuckDB's memory not bounded (its default, 80% of RAM)": (UNBOUNDED, newer, older_store),
        f"entrepot ingest, Comtrade+ CSV ({comtrade.stat().st_size / 1e6:,.0f} MB)": (ENTREPOT, comtrade, None),
        "entrepot ingest, step by step (the profile below), then the two levers' costs timed after it": (STAGES, csv, None),
    }
    results: dict[str, list[dict]] = {name: [] for name in contenders}
    for _ in range(args.reps):  # interleaved, so machine noise hits all alike
        for name, (script, path, seed) in contenders.items():
            results[name].append(run(script, path, WORK / "run.duckdb", seed))
    size_mb = csv.stat().st_size / 1e6
    lines = [
        "## Ingest: a BACI year",
        "",
        f"`python benchmarks/ingest.py --rows {args.rows} --reps {args.reps} --comtrade-mb {args.comtrade_mb}"
        f" --read-rows {args.read_rows} --sizes {args.sizes}` —"
        f" {args.rows:,} BACI rows ({size_mb:,.0f} MB CSV), {args.reps} runs each, interleaved, each in a fresh process;"
        f" medians. Each clock starts before the contender's imports (duckdb alone for the bare read). Machine: {machine()}.",
        "",
        "| contender | rows | rows superseded | median seconds | rows per second | median CPU seconds | peak memory (MiB) |",
        "|---|---|---|---|---|---|---|",
    ]
    med = {}
    for name, runs in results.items():
        med[name] = secs, peak, cpu = summary(runs)
        rows = runs[0]["rows"]
        lines.append(f"| {name} | {rows:,} | {runs[0].get('superseded', 0):,} | {secs:.2f} | {rows / secs:,.0f} | {cpu:.2f} | {peak:,.0f} |")
    bare, fresh, adapter, flat, supersede, unbounded, ct, _ = (med[n] for n in contenders)
    sizes = [int(n) for n in args.sizes.split(",") if n]
    by_size = {n: by_rows(n, args.reps) for n in sizes} | {args.rows: (bare, fresh)}
    stage_runs = list(results.values())[-1]
    stages = {k: median([r["stages"][k] for r in stage_runs]) for k in stage_runs[0]["stages"]}
    levers = {k: median([r["levers"][k] for r in stage_runs]) for k in stage_runs[0]["levers"]}
    checks, imports = (next(k for k in stages if k.startswith(w)) for w in ("checks", "imports"))
    loads = [r["load"] for runs in results.values() for r in runs]
    met = min(bare[0] / fresh[0], bare[2] / fresh[2]) >= 0.6
    lines += [
        "",
        f"entrepot's throughput is **{bare[0] / fresh[0]:.0%} of bare DuckDB's** (goal: at least 60%; by CPU time, user and"
        f" system of all the process's threads, less moved by other load on a shared machine: {bare[2] / fresh[2]:.0%});"
        f" the goal {'is met' if met else 'is not met'} at this size. Superseding a whole release costs"
        f" {supersede[0] / fresh[0] - 1:+.0%} over a first ingest ({bare[0] / supersede[0]:.0%} of bare DuckDB)."
        f" The BACI adapter's INSERT alone runs at {bare[0] / adapter[0]:.0%} of bare DuckDB; the store's own work on top"
        f" of it (hash, checks, duplicates, supersede, batch record) adds {fresh[0] / adapter[0] - 1:+.0%}."
        f" Peak memory (largest of the runs, each process's own VmHWM): **{fresh[1]:,.0f} MiB** for the BACI year"
        f" (**{supersede[1]:,.0f} MiB** superseding an older release of it),"
        f" **{ct[1]:,.0f} MiB** for the Comtrade+ CSV (goal: at most 1 GiB for any file). entrepot does more than the"
        " bare read: it hashes the file (duplicate check), maps numeric country codes to ISO3, pads HS codes, converts"
        " units, checks every row (values finite and plausible, years, HS code lengths, each observation once), replaces"
        " the rows of older batches holding the same observations, and commits the batch as one transaction. Comtrade+"
        " CSVs are read by pandas in pieces of 32 MB (`store/ingest.py`), so memory does not grow with the file. While a"
        " file goes in, DuckDB's memory is bounded (`ingest.INGEST_MEMORY`, 600 MB): beyond it the supersede's join and"
        f" the checks' sort spill to a temporary file beside the store. Unbounded, the supersede peaks at {unbounded[1]:,.0f}"
        f" MiB against {supersede[1]:,.0f} and takes {unbounded[0]:.2f} s against {supersede[0]:.2f}."
        f" 1-minute load average while the runs ran: {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores"
        " (wall times count the waits for a core; CPU seconds less so).",
        "",
        "The layout (schema 5, `schema.SEGMENT`): the ten columns that hold one value in a file's rows, or a few (a BACI"
        " year's period, freq, year, month, flow, hs_rev, unit, source, batch_id and currency), are stored once per"
        " combination in `segments`; each row goes into `flow_rows` with the key of its combination; `flows` is a view"
        " joining the two, with the same columns, types and values. Every column written costs each row its append and"
        " the row group's compression analysis, even a one-byte ENUM (a profile of schema 4's INSERT: appending and"
        " analysing its one-byte ENUM and BOOLEAN columns was about a tenth of its samples; disabling or forcing the text"
        " columns' compression changed its CPU time by under 5%), so a row of 10 columns costs less than a row of 19. The"
        f" adapter's INSERT into schema 4's one flat table takes {flat[2]:.2f} CPU s against {adapter[2]:.2f} for the"
        f" segments layout ({adapter[2] / flat[2] - 1:+.0%}).",
        "",
        f"Where a first ingest's CPU time goes (median of {args.reps} runs of its steps one by one, {sum(stages.values()):.2f} CPU s in all"
        f" against {fresh[2]:.2f} for the ingest in one call; bare DuckDB's whole read: {bare[2]:.2f}):",
        "",
        "| step | CPU seconds | share |",
        "|---|---|---|",
        *(f"| {k} | {v:.2f} | {v / sum(stages.values()):.0%} |" for k, v in stages.items()),
        "",
        "Two other levers are in the ingest above. A BACI file no longer loads pandas or coco (the adapter modules are imported"
        " in the order of detection until one takes the file, BACI's country and product tables are read with the csv"
        " module, ISO's codes come from pycountry): loading them, timed in the same process after the ingest, costs"
        f" {levers['pandas']:.2f} CPU s that the imports step ({stages[imports]:.2f}) no longer pays. An observation twice"
        " in the file is found by sorting one hash of each row's identity columns and comparing neighbours: the checks"
        f" step, scan and sort, takes {stages[checks]:.2f} CPU s, where the DISTINCT count of the same hashes that the sort"
        f" replaced takes {levers['distinct']:.2f} by itself on the same rows.",
        "",
        f"By file size, bare DuckDB and entrepot's ingest on BACI files of {', '.join(f'{n:,}' for n in by_size)} rows"
        f" ({args.reps} runs each, interleaved, fresh processes; medians; the last size is the runs above). The fixed costs"
        " (imports, opening the store, the commit) weigh less as the file grows, and what each row costs more:",
        "",
        "| rows | bare DuckDB (s) | entrepot (s) | entrepot / bare, throughput | by CPU |",
        "|---|---|---|---|---|",
        *(f"| {n:,} | {b[0]:.2f} | {e[0]:.2f} | {b[0] / e[0]:.0%} | {b[2] / e[2]:.0%} |" for n, (b, e) in by_size.items()),
    ]
    if args.read_rows:
        table, read = reads(args.read_rows, args.reps)
        r = read["ratios"]
        lines += [
            "",
            f"Reading the two layouts: `reroute_speed.py`'s two stores ({args.read_rows:,} rows a year, 3 years) as they are"
            " and copied into schema 4's flat table (`to_flat`), the reroute scan and naive screen of `reroute_speed.py`"
            " and, on the BACI store, the whole `entrepot screen` of `screen_scale.py` (DuckDB), each in a fresh process,"
            f" interleaved, {args.reps} runs each; medians, peak memory the largest run. 1-minute load average:"
            f" {read['loads'][0]:.1f} to {read['loads'][1]:.1f} on {os.cpu_count()} cores.",
            "",
            *table,
            "",
            "By CPU seconds the segments layout reads, against the flat table: " + change(r, "segments", "flat", "cpu", JOBS)
            + "; peak memory " + change(r, "segments", "flat", "peak", PEAKS)
            + " (the goal of the reroute scan: at most 10 s and 2 GB).",
        ]
    path = write_section("performance.md", "ingest", "\n".join(lines), title="Performance")
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
