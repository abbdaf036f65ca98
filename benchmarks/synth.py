"""Time the default synthetic world: generate, then write and ingest (what `entrepot demo` does first).

Run: python benchmarks/synth.py [--repeat 3]
Writes medians into docs/performance.md (section `synth`).
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    demo = demo_world(args.repeat)
    lines = [
        f"Synthetic worlds ({machine()}), median of {args.repeat}:",
        "",
        "| world | generate (s) | write + ingest (s) | rows in store |",
        "|---|---|---|---|",
        f"| default world (`Scenario.default()`) | {demo['generate']:.1f} | {demo['write + ingest']:.1f} | {demo['rows']:,} |",
    ]
    print("\n".join(lines))
    write_section("performance.md", "synth", "## Synthetic worlds\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
