"""Does the reroute scan still give the same answers? Record its full output on a few worlds, then check
a changed scan against the record, number for number (relative 1e-9).

The worlds: the demo's (the default synthetic world), the tests' small routes world and their decoy zoo
(annual BACI and monthly declarations; a basket, a group as exporter, an HS2 code), and the smallest
store of benchmarks/reroute_speed.py (BACI and Comtrade monthly). Each scan's output is its `to_dict()`
(flags, values, p-values, evidence columns, the event study, relabelling, notes). For a change to the
scan's speed, not its statistics:

    python tools/reroute_same.py record    # before the change: benchmarks/_work/reroute_same.json
    python tools/reroute_same.py check     # after it: every difference, exit 1 if any
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks")]
WORK = ROOT / "benchmarks" / "_work"
RECORD = WORK / "reroute_same.json"
LARGEST = [0.0, 0.0]  # the largest relative difference seen beyond ABS, and the largest difference within ABS
REL, ABS = 1e-9, 1e-6  # relative tolerance; absolute for values near 0 (USD, where 1e-6 is a millionth of a dollar)


def _world(name: str, **changes) -> tuple[Path, dict]:  # noqa: ANN003 (Scenario fields)
    """A synthetic world ingested once into benchmarks/_work (reused when there)."""
    from entrepot.store import Store
    from entrepot.synth import Scenario, generate, ingest_world

    out = WORK / f"same-{name}"
    path = out / "store.duckdb"
    world = generate(Scenario.default().replace(**changes))
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        with Store(path) as st:
            ingest_world(st, world, out, comtrade=True)
    return path, world.truth


def cases() -> dict[str, tuple[Path, dict]]:
    """Each case: (store, the scan's arguments)."""
    from reroute_speed import build

    from entrepot.synth import Decoys

    demo, _ = _world("demo")
    routes, truth = _world("routes", n_countries=70, n_products=40, controls=2, seed=11)
    zoo, ztruth = _world("zoo", n_countries=30, n_products=30, controls=2,
                         decoys=Decoys(outside_boom=2, demand_boom=2, diversion=2, hubs=2, price_shock=2))
    half = "\n".join(truth["directions"][0]["basket"][::2])
    zhalf = "\n".join(ztruth["directions"][0]["basket"][1::2])
    chapter = Counter(code[:2] for code in truth["directions"][0]["basket"]).most_common(1)[0][0]
    speed = {}
    for kind in ("baci", "comtrade"):
        speed[kind] = WORK / f"reroute_{'routes' if kind == 'baci' else 'monthly'}_{int(11_000_000 * 0.25)}.duckdb"
        build(speed[kind], int(11_000_000 * 0.25), kind)
    ev = {"exporter": "TUR", "importer": "ISR", "event": "2024-05-02"}
    groups = {"TURX": ["TUR", {"code": "DEU", "until": "2018-12-31"}]}
    return {
        "demo auto both": (demo, ev | {"both": True}),
        "routes baci both": (routes, ev | {"source": "baci", "both": True}),
        "routes reported both": (routes, ev | {"source": "reported", "both": True}),
        "routes reported basket": (routes, ev | {"source": "reported", "basket": half}),
        "routes baci basket": (routes, ev | {"source": "baci", "basket": half}),
        "routes reported group": (routes, ev | {"source": "reported", "exporter": "TURX", "groups": groups}),
        "routes baci product": (routes, ev | {"source": "baci", "product": chapter}),
        "routes reported candidates": (routes, ev | {"source": "reported", "candidates": ["GEO", "GRC", "BGR", "USA", "DEU"]}),
        "zoo baci": (zoo, ev | {"source": "baci"}),
        "zoo reported": (zoo, ev | {"source": "reported"}),
        "zoo reported basket": (zoo, ev | {"source": "reported", "basket": zhalf}),
        "speed baci 8M": (speed["baci"], ev),
        "speed comtrade 8M": (speed["comtrade"], ev),
    }


def run(path: Path, args: dict) -> dict:
    """The scan's output as JSON-ready data, and its time."""
    from entrepot.analysis.reroute import scan
    from entrepot.basket import parse_basket
    from entrepot.groups import parse_groups
    from entrepot.store import Store

    kw = dict(args)
    if "basket" in kw:
        kw["basket"] = parse_basket(kw["basket"], name="half")
    if "groups" in kw:
        kw["groups"] = parse_groups(kw["groups"])
    with Store(path, read_only=True) as st:
        st.con.execute("SET threads TO 1")  # DuckDB's parallel sums add in any order: their last bits, and the ties they break, vary
        t = time.process_time()
        res = scan(st, **kw)
        seconds = time.process_time() - t
    out = res.to_dict()
    out.pop("provenance", None)  # the store's batches: the same store, the same batches
    return {"output": json.loads(json.dumps(out, default=str)), "cpu_seconds": seconds}


def differences(old: object, new: object, where: str = "") -> list[str]:
    """Every place where `new` differs from `old` beyond the tolerance (candidates matched by country: ties may
    rank in another order)."""
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(r, dict) and "country" in r for r in old + new):
        old, new = ({r["country"]: r for r in rows} for rows in (old, new))
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{where}.{k}: only in one" for k in set(old) ^ set(new)]
        return out + [d for k in old if k in new for d in differences(old[k], new[k], f"{where}.{k}")]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} items, now {len(new)}"]
        return [d for k, (a, b) in enumerate(zip(old, new, strict=True)) for d in differences(a, b, f"{where}[{k}]")]
    if isinstance(old, float) or isinstance(new, float):
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(old, bool):
            a, b = float(old), float(new)
            if not math.isnan(a) and a != b:
                LARGEST[0] = max(LARGEST[0], abs(a - b) / max(abs(a), abs(b)) if abs(a - b) > ABS else 0.0)
                LARGEST[1] = max(LARGEST[1], abs(a - b) if abs(a - b) <= ABS else 0.0)
                if abs(a - b) <= ABS and abs(a - b) / max(abs(a), abs(b)) > 1e-9:
                    print(f"    within {ABS:g} but not 1e-9 relative: {where}: {a!r} -> {b!r}")
            if (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL, abs_tol=ABS):
                return []
    elif old == new:
        return []
    return [f"{where}: {old!r} -> {new!r}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["record", "check"])
    ap.add_argument("--only", nargs="*", help="case names containing any of these words")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    chosen = {k: v for k, v in cases().items() if not args.only or any(w in k for w in args.only)}
    record = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    bad = 0
    for name, (path, kw) in chosen.items():
        got = run(path, kw)
        if args.mode == "record":
            record[name] = got
            print(f"{name}: recorded ({got['cpu_seconds']:.1f} s CPU)", flush=True)
            continue
        diff = differences(record[name]["output"], got["output"])
        bad += bool(diff)
        print(f"{name}: {'same' if not diff else f'{len(diff)} differences'} ({record[name]['cpu_seconds']:.1f} s CPU,"
              f" now {got['cpu_seconds']:.1f} s)", flush=True)
        for d in diff[:20]:
            print("   ", d)
    if args.mode == "check":
        print(f"largest relative difference: {LARGEST[0]:.1e}; largest difference within {ABS:g}: {LARGEST[1]:.1e}")
    if args.mode == "record":
        RECORD.write_text(json.dumps(record))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
