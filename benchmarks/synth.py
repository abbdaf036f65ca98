"""Time the synthetic world: the demo world (generate, write, ingest) and a BACI-sized world (generate, write).

Run: PYTHONPATH=src python benchmarks/synth.py [--repeat 3] [--big]
Writes medians into docs/performance.md (section `synth`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]

from _docs import machine, median, write_section

from entrepot.store import Store
from entrepot.synth import Scenario, generate, ingest_world


def demo_world(repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"generate": [], "write + ingest": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            world = generate(Scenario.default())
            t1 = time.perf_counter()
            with Store(Path(tmp) / "s.duckdb") as st:
                ingest_world(st, world, Path(tmp) / "w")
                rows = st.row_count()
            times["generate"].append(t1 - t0)
            times["write + ingest"].append(time.perf_counter() - t1)
    return {k: median(v) for k, v in times.items()} | {"rows": rows}


def big_world() -> dict[str, float]:
    scn = dataclasses.replace(
        Scenario.default(), n_countries=200, n_products=5000, first_year=2022, last_year=2024,
        include_at_usd=2e5, frequency="A", detail_from=2024,
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        world = generate(scn)
        t1 = time.perf_counter()
        world.write(tmp)
        t2 = time.perf_counter()
    return {"generate": t1 - t0, "write": t2 - t1, "rows_per_year": len(world.annual) / 3}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="also time a BACI-sized world (3 years)")
    args = ap.parse_args()
    demo = demo_world(args.repeat)
    lines = [
        f"Synthetic worlds ({machine()}), median of {args.repeat}:",
        "",
        "| world | generate (s) | write + ingest (s) | rows in store |",
        "|---|---|---|---|",
        f"| default demo world (150 economies, 300 HS6, 2015-2025) | {demo['generate']:.1f} | {demo['write + ingest']:.1f} | {demo['rows']:,} |",
    ]
    if args.big:
        big = big_world()
        lines += [
            "",
            f"BACI-sized world (200 economies, 5,000 HS6, 3 years, {big['rows_per_year'] / 1e6:.1f} M rows a year): "
            f"generate {big['generate']:.0f} s, write {big['write']:.0f} s (one run).",
        ]
    print("\n".join(lines))
    write_section("performance.md", "synth", "## Synthetic worlds\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
