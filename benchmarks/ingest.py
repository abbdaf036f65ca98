"""Ingest speed and memory: `entrepot ingest` of a BACI-year-sized CSV beside bare DuckDB `read_csv`.

Writes an 11-million-row BACI file (`t,i,j,k,v,q`, real country and HS6-shaped codes) under
benchmarks/_work/, then runs each contender REPS times in a fresh process (so peak memory is that
process's own) and writes medians and ratios to docs/performance.md.

    python benchmarks/ingest.py [--rows 11000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import machine, median, write_section  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work"
SRC = Path(__file__).resolve().parents[1] / "src"

BARE = """
import duckdb, resource, sys, time, json
t = time.perf_counter()
con = duckdb.connect(sys.argv[2])
con.execute(f"CREATE TABLE baci AS SELECT * FROM read_csv('{sys.argv[1]}')")
n = con.execute("SELECT count(*) FROM baci").fetchone()[0]
con.close()
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

ENTREPOT = """
import resource, sys, time, json
t = time.perf_counter()
from entrepot.store import Store
from entrepot.store.ingest import ingest_file
with Store(sys.argv[2]) as st:
    n = ingest_file(st, sys.argv[1]).rows
print(json.dumps({"rows": n, "seconds": time.perf_counter() - t,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_file(rows: int) -> Path:
    """A BACI-shaped year: 200 real numeric country codes, 5,000 HS6-like products."""
    path = WORK / f"BACI_HS17_Y2022_bench{rows}.csv"
    if path.exists():
        return path
    WORK.mkdir(exist_ok=True)
    from entrepot.countries import numeric_table

    codes = [c for c, iso in numeric_table().items() if len(iso) == 3 and c not in (0, 97)][:200]
    duckdb.execute("CREATE TABLE codes AS SELECT c, row_number() OVER () - 1 AS n FROM (SELECT unnest(?) AS c)", [codes])
    duckdb.execute(f"""
        COPY (
          SELECT 2022 AS t, ci.c AS i, cj.c AS j,
                 lpad((10000 + (r * 7919) % 5000 * 137)::VARCHAR, 6, '0') AS k,
                 round(random() * 5000, 3) AS v,
                 CASE WHEN r % 20 = 0 THEN NULL ELSE round(random() * 900, 3) END AS q
          FROM range({rows}) t(r)
          JOIN codes ci ON ci.n = r % {len(codes)}
          JOIN codes cj ON cj.n = (r // {len(codes)} + 1 + r % 7) % {len(codes)}
        ) TO '{path}' (HEADER, NULLSTR 'NA')
    """)
    return path


def run(script: str, csv: Path, store: Path) -> dict:
    store.unlink(missing_ok=True)
    Path(str(store) + ".wal").unlink(missing_ok=True)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", script, str(csv), str(store)], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=11_000_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    csv = make_file(args.rows)
    results: dict[str, list[dict]] = {"bare DuckDB read_csv": [], "entrepot ingest": []}
    for _ in range(args.reps):  # interleaved, so machine noise hits both alike
        results["bare DuckDB read_csv"].append(run(BARE, csv, WORK / "bare.duckdb"))
        results["entrepot ingest"].append(run(ENTREPOT, csv, WORK / "entrepot.duckdb"))
    size_mb = csv.stat().st_size / 1e6
    lines = [
        "## Ingest: a BACI year",
        "",
        f"`python benchmarks/ingest.py` — {args.rows:,} rows ({size_mb:,.0f} MB CSV), {args.reps} runs each,"
        f" interleaved, each in a fresh process; medians. Machine: {machine()}.",
        "",
        "| contender | median seconds | rows per second | peak memory (MiB) |",
        "|---|---|---|---|",
    ]
    med = {}
    for name, runs in results.items():
        secs = median([r["seconds"] for r in runs])
        peak = median([r["peak_mib"] for r in runs])
        med[name] = (secs, peak)
        lines.append(f"| {name} | {secs:.2f} | {args.rows / secs:,.0f} | {peak:,.0f} |")
    ratio = med["bare DuckDB read_csv"][0] / med["entrepot ingest"][0]
    lines += [
        "",
        f"entrepot's throughput is **{ratio:.0%} of bare DuckDB's** (goal: at least 60%); its peak memory is "
        f"**{med['entrepot ingest'][1]:,.0f} MiB** (goal: under 1 GiB). entrepot does more than the bare read: it hashes"
        " the file (duplicate check), maps numeric country codes to ISO3, pads HS codes, converts units, checks every"
        " row, and commits the batch as one transaction.",
    ]
    path = write_section("performance.md", "ingest", "\n".join(lines), title="Performance")
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
