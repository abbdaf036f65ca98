"""Fetch from the cache into a store: a Türkiye–Israel-sized Comtrade query, time and peak memory.

A local server (the tests' one) answers a monthly HS6 query of 2 reporters x 2 partners x 2 flows in
the real record shape (the recorded comtradr answer's fields), 2,500 import and 1,700 export lines a
month, so the first run fills the cache; then, each in a fresh process (so peak memory is its own),
the fetch is run again into a new store from the cache (no request), and the Comtrade adapter alone
reads the largest release file. Medians of REPS runs go to docs/fetch.md.

    python benchmarks/fetch.py [--months 48] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT / "src"), str(ROOT)]
from _docs import PEAK, machine, median, write_section  # noqa: E402

WORK = Path(__file__).resolve().parent / "_work" / "fetch"
SHARED = ROOT.parent / "shared" / "real" / "comtrade" / "comtradr_api_get_C_A_HS-60a6ad.json"
LINES = {"M": 2_500, "X": 1_700}

FROM_CACHE = PEAK + """
import json, sys, time
from entrepot.fetch import comtrade
t = time.perf_counter()
r = comtrade(**json.loads(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mib": peak_mib(),
                  "requests": r.requests, "rows": sum(i.rows for i in r.ingested),
                  "largest": max(str(p) for p in r.releases), "releases": [str(p) for p in r.releases]}))
"""

ADAPTER = PEAK + """
import json, sys, time
from entrepot.store import Store
from entrepot.store.ingest import ingest_file
t = time.perf_counter()
with Store(sys.argv[2]) as st:
    n = ingest_file(st, sys.argv[1], "comtrade").rows
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mib": peak_mib(),
                  "rows": n}))
"""


def fill_cache(months: int) -> dict:
    """Run the query once against a local server answering in the real shape; returns the query's arguments."""
    from entrepot.fetch import comtrade
    from tests.fetch.conftest import Reply, Server

    base = json.loads(SHARED.read_text())["data"][0]
    codes = [f"{100000 + i * 37 % 899999:06d}" for i in range(max(LINES.values()))]

    def respond(hit):
        q, data = hit.query, []
        for rep in q["reporterCode"].split(","):
            for par in q["partnerCode"].split(","):
                for flow in q["flowCode"].split(",") if par != rep else []:
                    for period in q["period"].split(","):
                        data += [{**base, "freqCode": "M", "period": period, "refYear": int(period[:4]),
                                  "refMonth": int(period[4:]), "reporterCode": int(rep), "partnerCode": int(par),
                                  "flowCode": flow, "cmdCode": c, "classificationCode": "H6", "aggrLevel": 6,
                                  "primaryValue": 1000.0 + n} for n, c in enumerate(codes[:LINES[flow]])]
        return Reply(200, json.dumps({"count": len(data), "data": data, "error": ""}).encode())

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    last = 2022 + (months - 1) // 12, (months - 1) % 12 + 1
    server = Server()
    server.route("/data/v1/get/C/M/HS", respond)
    args = dict(reporter="ISR,TUR", partner="TUR,ISR", period=f"2022-01:{last[0]}-{last[1]:02d}", freq="M", hs="6",
                key="benchmark", cache=str(WORK / "cache"), base_url=server.url, min_interval=0, ingest=False)
    try:
        comtrade(**args)
    finally:
        server.close()
    return {**args, "ingest": True, "base_url": "http://127.0.0.1:9"}  # a second run must not need the server


def run(script: str, *argv: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=48)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fill:  # in a process of its own: a child's peak memory on Linux starts at its parent's
        print(json.dumps(fill_cache(args.months)))
        return
    out = subprocess.run([sys.executable, __file__, "--fill", "--months", str(args.months)], capture_output=True, text=True,
                         check=True)
    query = json.loads(out.stdout.strip().splitlines()[-1])
    answers = sorted((WORK / "cache" / "comtrade").glob("*.json"))
    raw_mb = sum(p.stat().st_size for p in answers) / 1e6
    cache_runs, adapter_runs = [], []
    for rep in range(args.reps):  # interleaved, so machine noise hits both alike
        store = WORK / f"store{rep}.duckdb"
        cache_runs.append(run(FROM_CACHE, json.dumps({**query, "store": str(store)})))
        largest = max(cache_runs[-1]["releases"], key=lambda p: Path(p).stat().st_size)
        adapter_runs.append(run(ADAPTER, largest, str(WORK / f"adapter{rep}.duckdb")))
    first = cache_runs[0]
    sizes = [Path(p).stat().st_size / 1e6 for p in first["releases"]]
    lines = [
        "### Fetch from the cache: a Türkiye–Israel-sized Comtrade query",
        "",
        f"`python benchmarks/fetch.py` — {args.months} months of monthly HS6 trade, 2 reporters x 2 partners x 2 flows "
        f"(synthetic values in the real record shape), {first['rows']:,} records in {len(answers)} cached answers "
        f"({raw_mb:,.0f} MB of JSON); {args.reps} runs each, interleaved, each in a fresh process; medians. "
        f"Machine: {machine()}.",
        "",
        "| step | median seconds | peak memory (MiB) |",
        "|---|---|---|",
        f"| the fetch again into a new store, from the cache ({first['requests']} requests): {len(sizes)} release files, "
        f"largest {max(sizes):,.0f} MB | {median([r['seconds'] for r in cache_runs]):.1f} | "
        f"{median([r['peak_mib'] for r in cache_runs]):,.0f} |",
        f"| the Comtrade adapter alone on the largest release ({adapter_runs[0]['rows']:,} rows) | "
        f"{median([r['seconds'] for r in adapter_runs]):.1f} | {median([r['peak_mib'] for r in adapter_runs]):,.0f} |",
    ]
    path = write_section("fetch.md", "fetch", "\n".join(lines))
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
