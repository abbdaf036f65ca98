"""Time and memory of `entrepot screen` against the size of the store, on DuckDB and on Spark (local mode).

The stores are filled straight in SQL (the canonical table, BACI-shaped: annual HS6 exports):
`--countries` countries, `--products` HS6 products, 2022-2024, random flows, and TUR -> ISR falling
by 90% in 2024 while GEO, GRC and BGR each carry a tenth of its earlier flow, so the screen runs
whole (the collapse found, its routes scanned). Each screen runs in a fresh process; peak memory
is the process's and its children's (Spark's JVM) maximum resident set. Writes the screen section
of docs/performance.md.

    python benchmarks/screen_scale.py [--rows 1000000,3000000] [--spark-rows 1000000] [--full]

`--full` adds the BACI-year-sized store (11M rows a year, 3 years) on DuckDB; `--grid` the runs
over countries and products at a fixed number of rows. Each invocation keeps its runs in
_work/screen_scale.json (while the screen's code is unchanged) and writes the section from all of
them, so that a long plan can be run in parts of a few minutes each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import PEAK, machine, write_section

WORK = Path(__file__).resolve().parent / "_work"
RESULTS = WORK / "screen_scale.json"  # the runs of every invocation, for the code they measured
SRC = Path(__file__).resolve().parents[1] / "src"
YEARS = (2022, 2023, 2024)
COLUMNS = ("(period, freq, year, month, reporter, reporter_is_country, partner, partner_is_country, flow, hs_rev, product,"
           " product_level, value_usd, quantity, unit, source, batch_id)")  # by name: the table has more (value_native, currency)
RUN = PEAK + """
import glob, json, os, resource, sys, time
from entrepot.screening import screen

def cpu():  # CPU seconds of this process and all its descendants, running (Spark's JVM, its Python workers) or reaped
    kids = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            f = open(stat).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(f[1], []).append((stat.split("/")[2], f))
    total, todo = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), [str(os.getpid())]
    while todo:
        for pid, f in kids.get(todo.pop(), []):
            total += sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")
            todo.append(pid)
    return total

marks = []
t = time.perf_counter()
res = screen(sys.argv[1], engine=sys.argv[2], master="local[2]" if sys.argv[2] == "spark" else None, top=5,
             progress=lambda stage: marks.append(time.perf_counter()))
end = time.perf_counter()
top = res.to_frame().head(3)
peak = max(peak_mib(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)  # its own, and its finished children's
print(json.dumps({"seconds": end - t, "start_s": marks[0] - t, "pairs_s": marks[1] - t, "routes_s": end - marks[1],
                  "cpu_s": cpu(), "scanned": res.settings["scanned"], "peak_mib": peak, "pairs": len(res.pairs), "collapses": len(res.collapses),
                  "first": f"{top.exporter.iloc[0]}->{top.importer.iloc[0]} via {top.intermediaries.iloc[0] or 'none'}" if len(top) else ""}))
"""


def build(directory: Path, rows: int, countries: int, products: int) -> Path:
    """A Parquet export (flows.parquet) of `rows` a year, filled in SQL; reused when it exists."""
    from entrepot import countries as cc
    from entrepot.store import Store
    from entrepot.store.warehouse import write_flows

    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "flows.parquet").exists():
        return directory
    isos = sorted({iso for iso in cc.numeric_table().values() if cc.is_country(iso)} - {"TUR", "ISR", "GEO", "GRC", "BGR"})
    isos = ["TUR", "ISR", "GEO", "GRC", "BGR"] + isos[: countries - 5]
    with Store(directory / "build.duckdb") as st:
        con = st.con
        con.execute("CREATE TEMP TABLE c AS SELECT iso, row_number() OVER () - 1 AS n FROM (SELECT unnest(?) AS iso)", [isos])
        # Filled in a plain table (its UPDATE and self-joins), then written as the store writes any rows.
        con.execute("CREATE TEMP TABLE staged AS SELECT * FROM flows LIMIT 0")
        for year in YEARS:
            con.execute(f"""
                INSERT INTO staged {COLUMNS}
                SELECT '{year}', 'A', {year}, NULL, ci.iso, true, cj.iso, true, 'export', 'HS17',
                       lpad((100000 + (r * 7919 + {year}) % {products} * 131 % 900000)::VARCHAR, 6, '0'), 6,
                       (random() * 1e6) * (1 + (ci.n = 0 AND cj.n = 1)::INT * 50), random() * 100, 't', 'baci', 'bench{year}'
                FROM range({rows}) t(r)
                JOIN c ci ON ci.n = r % {countries}
                JOIN c cj ON cj.n = (r // {countries} + 1 + r % 7) % {countries}
                WHERE ci.n <> cj.n""")
        con.execute("UPDATE staged SET value_usd = value_usd * 0.1, quantity = quantity * 0.1"  # goods stop: values and tonnes
                    " WHERE year = 2024 AND reporter = 'TUR' AND partner = 'ISR'")
        con.execute(f"""
            INSERT INTO staged {COLUMNS}
            SELECT '2024', 'A', 2024, NULL, leg.e, true, leg.m, true, 'export', 'HS17', basket.product, 6, basket.v * 0.1,
                   basket.q * 0.1, 't', 'baci', 'bench2024'
            FROM (SELECT product, sum(value_usd) / 2 AS v, sum(quantity) / 2 AS q FROM staged
                  WHERE reporter = 'TUR' AND partner = 'ISR' AND year < 2024 GROUP BY product) basket
            CROSS JOIN (VALUES ('TUR', 'GEO'), ('GEO', 'ISR'), ('TUR', 'GRC'), ('GRC', 'ISR'), ('TUR', 'BGR'), ('BGR', 'ISR')) leg(e, m)""")
        write_flows(con, "SELECT * FROM staged")
        st.export_parquet(directory)
    (directory / "build.duckdb").unlink()
    return directory


def run(directory: Path, engine: str) -> dict:
    """One screen in a fresh process, with the machine's load average (1 min) before and after it."""
    before = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", RUN, str(directory), engine], capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1]) | {"load": (before + os.getloadavg()[0]) / 2}


def rows_of(directory: Path) -> int:
    import duckdb

    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{directory / 'flows.parquet'}')").fetchone()[0]


def code_digest() -> str:
    """A digest of the code a screen runs (the screen and the route scan): runs of other code are not kept."""
    files = sorted((SRC / "entrepot" / "screening").glob("*.py")) + sorted((SRC / "entrepot" / "analysis" / "reroute").glob("*.py"))
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


def fit(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Least-squares (fixed seconds, seconds per million rows) of time against rows; None below two sizes."""
    if len({n for n, _ in points}) < 2:
        return None
    import numpy as np

    slope, fixed = np.polyfit([n / 1e6 for n, _ in points], [t for _, t in points], 1)
    return float(fixed), float(slope)


def route_fit(runs: list[dict]) -> tuple[float, float, float] | None:
    """Least-squares (fixed s, s per million rows, s per scan after the first) of the route scans' time; None if underdetermined."""
    import numpy as np

    x = np.array([[1.0, r["rows"] / 1e6, r["scanned"] - 1] for r in runs if r["scanned"]])
    if len(x) < 3 or np.linalg.matrix_rank(x) < 3:
        return None
    coef = np.linalg.lstsq(x, np.array([r["routes_s"] for r in runs if r["scanned"]]), rcond=None)[0]
    return float(coef[0]), float(coef[1]), float(coef[2])


def projection(runs: list[dict], countries: int, products: int) -> list[str]:
    """The all-pairs part of each engine on the standard stores fitted as fixed + rate x rows, and the route scans as
    seconds per scan; projected to a BACI history and monthly Comtrade; and where Spark would overtake DuckDB."""
    std = [r for r in runs if (r["countries"], r["products"]) == (countries, products)]
    fits = {e: fit([(r["rows"], r["pairs_s"]) for r in std if r["engine"] == e]) for e in ("duckdb", "spark")}
    out = ["The screen's time has two parts: the all-pairs part (the product-mix deflator, the pair panel, the breaks and"
           " their statistics), which reads every row, and the route scans, one per collapse scanned (`--top`, 20 by"
           " default, 5 here), each reading everyone's exports of the collapse's products. A store of random flows with"
           " few rows per pair has more (false) collapses, so more scans: compare the all-pairs column across sizes."]
    baci, comtrade = 11e6 * 25, 30e6 * 12 * 3  # rows: BACI ~11M a year over 25 years; Comtrade monthly, both flows, 3 years
    duck = fits["duckdb"]
    if duck:
        fixed, rate = duck
        big = max((r for r in std if r["engine"] == "duckdb"), key=lambda r: r["rows"])
        how = f"fitted over its {sum(r['engine'] == 'duckdb' for r in std)} runs on the standard stores: about {fixed:.0f} s fixed plus"
        if rate <= 0:  # the noise of a loaded machine is larger than the row work: the largest run's rate is an upper bound
            fixed, rate = 0.0, big["pairs_s"] / big["rows"] * 1e6
            how = "the fit's rate is not above the noise; as an upper bound, the largest run's time over its rows:"
        duck = fixed, rate  # what Spark is compared with below
        routes = route_fit([r for r in std if r["engine"] == "duckdb"])

        def total(rows: float) -> str:
            if routes is None:
                return f"{(fixed + rate * rows / 1e6) / 60:,.0f} min for the all-pairs part, and the route scans besides"
            a, b, c = routes
            return f"{(fixed + rate * rows / 1e6 + a + b * rows / 1e6 + 19 * c) / 60:,.0f} min"

        scans = ("" if routes is None else f" The route scans, fitted as fixed + rate x rows (the one query that reads every"
                 f" collapse's flows) + seconds per further scan: about {routes[0]:.0f} s + {routes[1]:.2f} s per million rows +"
                 f" {routes[2]:.0f} s per scan.")
        out.append(f"DuckDB's all-pairs part, {how} {rate:.2f} s per million rows (the largest store, {big['rows']:,} rows, took"
                   f" {big['seconds']:.0f} s in all and {big['peak_mib']:,.0f} MiB).{scans} Projected with 20 scans (the default"
                   f" --top): a full BACI history (about 200 countries x 5,000 products x 25 years, ~{baci / 1e6:,.0f}M rows) about"
                   f" {total(baci)}, three years of monthly Comtrade declarations (~{comtrade / 1e6:,.0f}M rows) about"
                   f" {total(comtrade)}. Linear in rows is the row work; the all-pairs statistics grow with pairs x breaks x"
                   " window besides (one annual break in these 3-year stores; 46, with the transition gaps, in a 25-year history:"
                   " 40,000 pairs x 46 x 6 periods, ~11M cells, small beside the rows). DuckDB spills to disk what does not fit"
                   " in memory (not measured beyond the largest store).")
    both = {}
    for r in std:
        both.setdefault(r["rows"], {})[r["engine"]] = r
    ratios = [f"{n:,} rows: Spark {v['spark']['seconds']:.0f} s (all pairs {v['spark']['pairs_s']:.0f} s, of which"
              f" {_num(v['spark'].get('start_s'))} s starting), DuckDB {v['duckdb']['seconds']:.0f} s (all pairs"
              f" {v['duckdb']['pairs_s']:.0f} s): Spark's all-pairs part {v['spark']['pairs_s'] / v['duckdb']['pairs_s']:.0f}x DuckDB's"
              + (f", its whole screen {v['spark']['cpu_s'] / v['duckdb']['cpu_s']:.1f}x the CPU seconds"
                 if v["spark"].get("cpu_s") and v["duckdb"].get("cpu_s") else "")
              for n, v in sorted(both.items()) if {"spark", "duckdb"} <= set(v)]
    if ratios:
        out.append("Spark in local mode on the same two cores: " + "; ".join(ratios) + ".")
    spark = fits["spark"]
    if duck and spark:
        (fd, rd), (fs, rs) = duck, spark
        cross = []
        for k in (1, 16, 64, 256):  # executors of this machine's size: the row work divides, the fixed part does not
            cross.append(f"{k} x 2 cores: " + (f"from ~{max((fs - fd) / (rd - rs / k), 0):,.0f}M rows" if rd > rs / k else "never"))
        sizes = len({r["rows"] for r in std if r["engine"] == "spark"})
        out.append(f"Spark's all-pairs part, fitted the same way over {sizes} sizes: about {fs:.0f} s fixed (starting the JVM, the"
                   " start column; then planning, compiling and running a query per materialised stage, nine for the all-pairs part) plus"
                   f" {rs:.2f} s per million rows ({rs / rd:.0f}x DuckDB's time per row; wall time on shared cores, an upper bound: its CPU"
                   " seconds grow less, see the profile below), against DuckDB's"
                   f" {fd:.0f} s and {rd:.2f} s"
                   " (its route scans: a grouped pandas UDF,"
                   " a task and a Python worker per scan, side by side on the executors' cores). Where"
                   " Spark would overtake DuckDB on the all-pairs part (Spark's fixed part + its rate / executors = DuckDB's time"
                   f" on this machine; a model fitted on {sizes} sizes on 2 shared cores, not a measurement of a cluster): "
                   + "; ".join(cross) + f". For scale: a BACI history is ~{baci / 1e6:,.0f}M rows, three years of monthly"
                   f" Comtrade ~{comtrade / 1e6:,.0f}M. Spark's case is a store that does not fit one machine, or a bank's data"
                   " already on its cluster, more than speed.")
    return out


def _num(x: float | None) -> str:
    """A figure of the table, or "-" for a run made before the column was measured."""
    return "-" if x is None else f"{x:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="333333,1000000,3666666", help="rows a year (comma-separated), DuckDB")
    ap.add_argument("--spark-rows", default="333333,1000000", help="rows a year, Spark local[2]")
    ap.add_argument("--countries", type=int, default=200)
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--full", action="store_true", help="also the BACI-year-sized store: 11M rows a year, DuckDB")
    ap.add_argument("--grid", action="store_true", help="also countries x products at 1M rows a year, DuckDB")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    sizes = [int(x) for x in args.rows.split(",") if x] + ([11_000_000] if args.full else [])
    spark = {int(x) for x in args.spark_rows.split(",") if x}
    plan = [(n, args.countries, args.products, e) for n in sorted(set(sizes) | spark) for e in ("duckdb", "spark")
            if (e == "duckdb" and n in sizes) or (e == "spark" and n in spark)]
    if args.grid:
        plan += [(1_000_000, c, p, "duckdb") for c, p in ((50, 5000), (100, 5000), (200, 1000), (200, 2500))]
    digest = code_digest()
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = saved.get("runs", []) if saved.get("code") == digest else []  # runs of this code, from earlier invocations
    for n, c, p, engine in plan:
        directory = build(WORK / f"screen_{c}x{p}_{n}", n, c, p)
        r = run(directory, engine) | {"rows": rows_of(directory), "countries": c, "products": p, "engine": engine,
                                      "command": " ".join(sys.argv[1:])}
        runs = [x for x in runs if (x["rows"], x["countries"], x["products"], x["engine"]) != (r["rows"], c, p, engine)] + [r]
        RESULTS.write_text(json.dumps({"code": digest, "runs": runs}, indent=1))
        print(f"{r['rows']:,} rows, {c} x {p}, {engine}: {r['seconds']:.1f} s, {r['peak_mib']:,.0f} MiB, load {r['load']:.1f}", flush=True)
    runs.sort(key=lambda x: (x["engine"] != "duckdb", (x["countries"], x["products"]) != (args.countries, args.products),
                             x["rows"], x["countries"], x["products"]))
    table = ["| rows (3 years) | countries | products | engine | pairs tested | screen (s) | CPU (s) | start (s) | all pairs (s) | route scans (s)"
             " | peak memory (MiB) | load (1 min) | collapses | first | run by |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['rows']:,} | {r['countries']} | {r['products']:,} | {r['engine']} | {r['pairs']:,} | {r['seconds']:.1f}"
              f" | {_num(r.get('cpu_s'))} | {_num(r.get('start_s'))} | {r['pairs_s']:.1f} | {r['routes_s']:.1f} ({r['scanned']})"
              f" | {r['peak_mib']:,.0f} | {r['load']:.1f} | {r['collapses']}"
              f" | {r['first']} | `{r['command'] or '(defaults)'}` |" for r in runs]
    grid = sorted((r for r in runs if r["engine"] == "duckdb" and 2.5e6 < r["rows"] < 3.5e6), key=lambda r: (r["countries"], r["products"]))
    shape = ("At about 3M rows (1M a year), by countries x products (DuckDB): " + "; ".join(
        f"{r['countries']} x {r['products']:,}: {r['pairs']:,} pairs, {r['pairs_s']:.1f} s all pairs ({r['seconds']:.0f} s in all)" for r in grid)
        + (f". From {lo['pairs']:,} to {hi['pairs']:,} pairs ({hi['pairs'] / lo['pairs']:.0f}x) the all-pairs part took"
           f" {hi['pairs_s'] / lo['pairs_s']:.1f}x as long; at 200 countries, from 1,000 to 5,000 products, "
           + ", ".join(f"{r['pairs_s']:.1f} s" for r in grid if r["countries"] == 200) + "."
           if (lo := min(grid, key=lambda r: r["pairs"])) and (hi := max(grid, key=lambda r: (r["pairs"], r["products"]))) else "")
        if len({(r["countries"], r["products"]) for r in grid}) > 1 else "")
    loads = [r["load"] for r in runs]
    text = "\n".join(["## Screen of the whole matrix: DuckDB and Spark", "",
                      "`python benchmarks/screen_scale.py` (the runs below, each with its arguments; a run is kept while the"
                      f" screen's and the route scan's code is the same, code {digest}) — BACI-shaped stores written straight as"
                      " Parquet (`entrepot export`'s layout), 3 years, random flows with TUR -> ISR falling by 90% and three routes; the"
                      " whole screen (product-mix deflator, all-pairs panel, breaks, the five largest collapses scanned for routes) in a"
                      f" fresh process; Spark in local mode on the same machine (local[2]). Machine: {machine()}, shared with other"
                      f" engineers' jobs while it ran: load average {min(loads):.1f}-{max(loads):.1f} on 2 cores (the load column:"
                      " timings are noisy, compare rows run at a similar load). Peak memory is the screen's process and its finished"
                      " children: for Spark, the Python driver only (its JVM is still running when it is read).", ""]
                     + table + ["", *filter(None, [shape]), *projection(runs, args.countries, args.products)])
    write_section("performance.md", "screen", text, title="Performance")
    print(text)


if __name__ == "__main__":
    main()
