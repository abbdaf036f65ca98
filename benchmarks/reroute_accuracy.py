"""Detection accuracy of `entrepot reroute` on synthetic worlds with known truth.

For each seed and scenario strength (total rerouted share of the stopped flow: 0, 5, 10, 20, 35, 50%),
2 to 6 true intermediaries are drawn among all countries and the total is split among them at
random (Dirichlet), so a route can carry well under 1% of the stopped flow. Small flows come and go
from year to year (`churn` 0.3 for cells below the median). Each world is written in the real
formats, ingested, and scanned twice: on BACI (annual) and on the Comtrade reports (monthly). The
flags are compared with the truth: precision and recall of the intermediaries flagged
significant, by world strength and by each route's own share; the error of the total rerouted
value over the post-event window; and in worlds without rerouting whether anything was flagged.
A quarter of the seeds each also declare 0, 5, 10 or 20% of the stopped flow to another country
(relabelling, landing in the importer): the relabelling test is scored on them, and in every world
on whether it flags anyone else. Writes docs/accuracy.md.

    python benchmarks/reroute_accuracy.py [--seeds 20] [--countries 90] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import machine, write_section  # noqa: E402

from entrepot.analysis.reroute import scan  # noqa: E402
from entrepot.geo import all_countries  # noqa: E402
from entrepot.store import Store  # noqa: E402
from entrepot.synth import Route, Scenario, generate, ingest_world  # noqa: E402

SHARES = (0.0, 0.05, 0.10, 0.20, 0.35, 0.50)
RELABEL = (0.0, 0.05, 0.10, 0.20)  # by seed, cyclically
PRODUCTS, CHURN = 40, 0.3
SOURCES = {"baci": "annual (BACI)", "reported": "monthly (Comtrade reports)"}


def build(seed: int, share: float, countries: int, cache: Path) -> Path:
    """Generate and ingest one world (kept in `cache`, reused when there)."""
    path = cache / f"w{seed}_{round(share * 100)}_{countries}.duckdb"
    if path.exists():
        return path
    rng = np.random.default_rng(1000 + seed)
    pool = [c.iso3 for c in all_countries()[:countries] if c.iso3 not in ("TUR", "ISR")]
    k = int(rng.integers(2, 7))
    vias = list(rng.choice(pool, k, replace=False)) if share > 0 else []
    split = rng.dirichlet(np.ones(k)) * share if share > 0 else []
    routes = tuple(Route(str(c), float(s), int(rng.integers(0, 3)), float(rng.uniform(0, 0.1))) for c, s in zip(vias, split))
    relabel = RELABEL[seed % len(RELABEL)]
    into = str(rng.choice([c for c in pool if c not in vias])) if relabel else None
    scn = Scenario.default().replace(seed=seed, n_countries=countries, n_products=PRODUCTS, controls=2, routes=routes,
                                     relabel_country=into, relabel_share=relabel, churn=CHURN)
    world = generate(scn)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Store(partial) as st:
        ingest_world(st, world, tmp, comtrade=True)
    path.with_suffix(".json").write_text(json.dumps(world.truth))
    partial.rename(path)
    return path


def evaluate(path: Path, seed: int, share: float) -> list[dict]:
    """One row per true route and per false flag, for each source."""
    truth = json.loads(path.with_suffix(".json").read_text())["directions"][0]
    rows = []
    for source in SOURCES:
        with Store(path, read_only=True) as st:
            t0 = time.perf_counter()
            res = scan(st, truth["exporter"], truth["importer"], "2024-05-02", source=source)
            seconds = time.perf_counter() - t0
        post = set(res.window.post)
        in_post = (lambda p: p[:4] in post) if res.window.freq == "A" else (lambda p: p in post)
        true = {x["country"]: (x["share"], sum(v for p, v in x["by_period"].items() if in_post(p))) for x in truth["intermediaries"]}
        table = res.candidates.set_index("country")
        flagged = set(table.index[table.significant])
        base = {"seed": seed, "world_share": share, "source": source, "seconds": seconds,
                "true_total": sum(v for _, v in true.values()), "est_total": res.rerouted_value_usd}
        base["kind"] = "route"
        rows += [base | {"country": c, "route_share": s, "true": True, "flagged": c in flagged} for c, (s, _) in true.items()]
        rows += [base | {"country": c, "route_share": 0.0, "true": False, "flagged": True} for c in flagged - set(true)]
        if not true and not flagged:
            rows.append(base | {"country": None, "route_share": 0.0, "true": False, "flagged": False})
    # Relabelling comes from the monthly reports whatever the source: scored once, on the last scan.
    relabel = truth["relabelled"] or {}
    found = res.relabelling
    marked = set(table.index[table.relabelling])
    rows.append({"kind": "relabel", "seed": seed, "world_share": share, "relabel_share": relabel.get("share", 0.0),
                 "hit": relabel.get("country") in marked, "false_flags": len(marked - {relabel.get("country")}),
                 "routes_marked": len(marked & set(true)),
                 "true_value": sum(v for p, v in relabel.get("by_period", {}).items() if p in found.window.post),
                 "est_value": found.relabelled_value_usd, "importer_excess": found.importer_excess_usd})
    return rows


def _run(args: tuple) -> list[dict]:
    seed, share, countries, cache = args
    return evaluate(build(seed, share, countries, cache), seed, share)


def tables(df: pd.DataFrame) -> list[str]:
    """The markdown tables, one block per source."""
    df = df[df.kind == "route"]
    lines = []
    for source, label in SOURCES.items():
        d = df[df.source == source]
        worlds = d.groupby(["seed", "world_share"]).first()
        lines += [f"**{label}**", "",
                  "| rerouted share of the stopped flow (world) | worlds | precision | recall | total value within ±20% | median error of total | worlds with any flag |",
                  "|---|---|---|---|---|---|---|"]
        for share, g in d.groupby("world_share"):
            w = worlds.loc[(slice(None), share), :]
            anyflag = g.groupby("seed").flagged.any().mean()
            if share == 0:
                lines.append(f"| none | {len(w)} | - | - | - | - | {anyflag:.0%} (goal: at most 5%) |")
                continue
            err = (w.est_total / w.true_total - 1).abs()
            prec = (g.true & g.flagged).sum() / max(g.flagged.sum(), 1)
            lines.append(f"| {share:.0%} | {len(w)} | {prec:.2f} | {g[g.true].flagged.mean():.2f} | {(err <= 0.2).mean():.0%} | {err.median():.0%} | {anyflag:.0%} |")
        routes = d[d.true]
        bins = pd.cut(routes.route_share, [0, 0.01, 0.02, 0.05, 0.10, 1.0], labels=["under 1%", "1-2%", "2-5%", "5-10%", "10% or more"])
        lines += ["", "| one route's share of the stopped flow | routes | recall |", "|---|---|---|"]
        for name, g in routes.groupby(bins, observed=False):
            lines.append(f"| {name} | {len(g)} | {g.flagged.mean():.2f} |" if len(g) else f"| {name} | 0 | - |")
        lines.append("")
    return lines


def relabel_table(df: pd.DataFrame) -> list[str]:
    """Relabelling: found or not, its value, and anyone else marked, by the relabelled share."""
    d = df[df.kind == "relabel"]
    lines = ["| relabelled share of the stopped flow | worlds | relabelling country found | value within ±20% |"
             " median error of value | worlds marking another country | true routes marked |", "|---|---|---|---|---|---|---|"]
    for share, g in d.groupby("relabel_share"):
        err = (g.est_value / g.true_value - 1).abs() if share else None
        lines.append(f"| {'none' if not share else f'{share:.0%}'} | {len(g)} | {'-' if not share else f'{g.hit.mean():.2f}'} |"
                     f" {'-' if not share else f'{(err <= 0.2).mean():.0%}'} | {'-' if not share else f'{err.median():.0%}'} |"
                     f" {(g.false_flags > 0).mean():.0%} | {int(g.routes_marked.sum())} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--countries", type=int, default=90)
    ap.add_argument("--cache", type=Path, help="keep the generated worlds here (reused on the next run)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        jobs = [(seed, share, args.countries, cache) for seed in range(args.seeds) for share in SHARES]
        with ProcessPoolExecutor(args.jobs) as pool:
            df = pd.DataFrame([row for rows in pool.map(_run, jobs) for row in rows])
    relabel = relabel_table(df)
    df = df[df.kind == "route"]
    strong = df[df.true & (df.route_share >= 0.10)]
    world10 = df[df.world_share >= 0.10]
    worlds = world10.groupby(["source", "seed", "world_share"]).first()
    err = (worlds.est_total / worlds.true_total - 1).abs()
    nulls = df[df.world_share == 0].groupby(["source", "seed"]).flagged.any()
    lines = [
        "## Rerouting detection on synthetic worlds",
        "",
        f"`python benchmarks/reroute_accuracy.py --seeds {args.seeds} --countries {args.countries}`: {len(jobs)} worlds"
        f" ({args.seeds} seeds x {len(SHARES)} strengths), each with 2-6 true intermediaries drawn among {args.countries}"
        f" countries, {PRODUCTS} products, small flows churning ({CHURN:.0%} a year), 2022-2025, embargo 2 May 2024,"
        f" alpha 0.05, each scanned on the annual BACI file and on the monthly Comtrade reports. Seeds cycle through"
        f" relabelling {', '.join(f'{r:.0%}' for r in RELABEL)} of the stopped flow (declared to another country, landing in"
        f" the importer). Machine: {machine()}.",
        "",
        *tables(df),
        "Against the goals, both sources together:",
        "",
        f"- worlds without rerouting with any country flagged: {nulls.mean():.0%} (goal: at most 5%);",
        f"- routes carrying 10% or more of the stopped flow: recall {strong.flagged.mean():.2f} ({len(strong)} routes);"
        f" precision over all flags in worlds of 10% or more: {(world10.true & world10.flagged).sum() / max(world10.flagged.sum(), 1):.2f}"
        f" (goals 0.9 each);",
        f"- worlds of 10% or more, recall over every true route however small: {world10[world10.true].flagged.mean():.2f};",
        f"- total rerouted value within ±20% of the truth in {(err <= 0.2).mean():.0%} of worlds of 10% or more.",
        "",
        f"Median scan time {df.seconds.median():.2f} s per world and source.",
        "",
        "A world's total is split among its routes at random, so many routes carry under 2% of the stopped flow;",
        "those are what the world-level recall misses. They are small against the year-to-year noise of the",
        "intermediary's own trade, and the estimated total counts only the routes flagged, so missed routes make it run low.",
        "",
        "History: the previous run valued each route by the fit that tests it, whose relative weights make a share",
        "a mean of per-product ratios; products whose drop is under-measured (an A->B flow absent in one pre-event",
        "year) inflated it, and only 73% of totals fell within ±20% (seed 11 +109%), relabelled values 73-80%.",
        "The value now has its own fit, whose weights match sums (docs/methods.md). The same run missed all six",
        "routes of seed 18 on the monthly reports: a product worth $85 set the pair's own growth alone; products",
        "now weigh as if worth at least 1% of the leg's mean product.",
        "",
        "**Relabelling** (always from the monthly reports: the relabelling country must report its imports; in these",
        "worlds the reporters are the case's countries, the routes and two controls):",
        "",
        *relabel,
    ]
    write_section("accuracy.md", "reroute", "\n".join(lines), title="Accuracy")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
