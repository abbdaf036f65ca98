"""Accuracy and speed of `effect`, `mirror` and `cost` on synthetic worlds with known truth.

For each seed, generates the default synth world (100 countries, 120 products, monthly 2022-2025),
ingests it through the real adapters, and compares: the direct effect on each side with the truth
(exporter side: the embargo stops all but the leak; importer side: relabelled goods still arrive
and are recorded from their origin), the mirror gap with the relabelled value, and the cost
module's markups and tonnage with the rerouted shipments'. Writes medians to docs/accuracy.md and
timings to docs/performance.md.

    python benchmarks/analysis.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "src")]
from _docs import machine, median, write_section  # noqa: E402

import entrepot  # noqa: E402
from entrepot.store import Store  # noqa: E402
from entrepot.synth import Scenario, generate, ingest_world  # noqa: E402


def one(seed: int) -> dict[str, float]:
    world = generate(Scenario.default().replace(seed=seed))
    truth, scn = world.truth["directions"][0], world.truth["scenario"]
    out = Path(tempfile.mkdtemp(prefix="entrepot-bench-"))
    with Store(out / "store.duckdb") as st:
        ingest_world(st, world, out / "files")
        rows = st.row_count()
        suspects = [r["via"] for r in scn["routes"]] + [scn["relabel_country"]]
        t = time.perf_counter()
        eff = entrepot.effect(st, "TUR", "ISR", world.truth["event"], freq="M", exclude=suspects)
        t_effect = time.perf_counter() - t
        # What a user gets without knowing the routes: all destinations as controls, or reroute's flags left out.
        plain = {s.side: s for s in entrepot.effect(st, "TUR", "ISR", world.truth["event"], freq="M").sides}
        flagged = {s.side: s for s in entrepot.effect(st, "TUR", "ISR", world.truth["event"], freq="M", exclude_flagged=True).sides}
        t = time.perf_counter()
        mir = entrepot.mirror(st, "TUR", "ISR", event=world.truth["event"], freq="M")
        t_mirror = time.perf_counter() - t
        t = time.perf_counter()
        cost = entrepot.cost(st, "TUR", "ISR", truth["intermediaries"])
        t_cost = time.perf_counter() - t
    sides = {s.side: s for s in eff.sides}
    exp_truth = -(1 - scn["leak_share"])
    imp_truth = -(1 - scn["leak_share"] - scn["relabel_share"])
    totals = mir.totals[(mir.totals.direction == "TUR->ISR") & (mir.totals.phase == "post")]
    relabelled = pd.Series(truth["relabelled"]["by_period"])[totals.period].sum()
    got = cost.routes.set_index("country")
    markup_err = max(abs(got.loc[i["country"], "observed_markup_pct"] - 100 * i["markup"]) for i in truth["intermediaries"])
    tonnes_ratio = [got.loc[i["country"], "rerouted_t"] / i["rerouted_tonnes"] for i in truth["intermediaries"]]
    return {
        "exporter_err_pts": 100 * abs(sides["exporter"].change_pct - exp_truth),
        "exporter_covered": float(sides["exporter"].change_pct_ci_low < exp_truth < sides["exporter"].change_pct_ci_high),
        "importer_err_pts": 100 * abs(sides["importer"].change_pct - imp_truth),
        **{f"{name}_err_pts": 100 * abs(got["exporter"].change_pct - exp_truth) for name, got in (("plain", plain), ("flagged", flagged))},
        **{f"{name}_usd_ratio": got["exporter"].change_usd / sides["exporter"].change_usd for name, got in (("plain", plain), ("flagged", flagged))},
        "importer_covered": float(sides["importer"].change_pct_ci_low < imp_truth < sides["importer"].change_pct_ci_high),
        "gap_over_relabelled": totals.gap_usd.sum() / relabelled,
        "markup_max_err_pts": markup_err,
        "tonnes_ratio_min": min(tonnes_ratio), "tonnes_ratio_max": max(tonnes_ratio),
        "rows": rows, "effect_s": t_effect, "mirror_s": t_mirror, "cost_s": t_cost,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    runs = [one(seed) for seed in range(1, args.seeds + 1)]
    med = {k: median([r[k] for r in runs]) for k in runs[0]}

    def as_run(name: str) -> str:
        return f"{med[name + '_err_pts']:.2f} points; USD change {med[name + '_usd_ratio']:.3f} x the routes-excluded one"

    def covers(side: str) -> str:
        return f"95% CI covers the truth in {sum(r[side + '_covered'] for r in runs):.0f} of {len(runs)}"

    accuracy = f"""
### Analysis: effect, mirror and cost against a synth world's truth

Default synth world, seeds 1-{args.seeds} (median over seeds; {machine()}).

| check | result |
| --- | --- |
| effect, exporter side: error of the % change (truth: -(1 - leak)) | {med['exporter_err_pts']:.2f} points; {covers('exporter')} |
| effect, importer side: error of the % change (truth: -(1 - leak - relabelled share)) | {med['importer_err_pts']:.2f} points; {covers('importer')} |
| effect, exporter side, every destination a control (the default) | {as_run('plain')} |
| effect, exporter side, `--exclude-flagged` | {as_run('flagged')} |
| mirror: post-event gap (importer at FOB - exporter) / relabelled value | {med['gap_over_relabelled']:.3f} |
| cost: largest error of an intermediary's observed markup | {med['markup_max_err_pts']:.2f} points |
| cost: estimated / true rerouted tonnes, range over intermediaries | {med['tonnes_ratio_min']:.2f} to {med['tonnes_ratio_max']:.2f} |

The effect's truth is the scenario's share. The first two rows leave the true intermediaries and the
relabelling country out of the control group (their imports from the exporter grew with the rerouted
goods); the next two are what a user gets without knowing them. The world's embargo falls on 2 May,
so May 2024 is the transition month, left out: every post-event month is fully treated.
"""
    speed = f"""
### Analysis commands on a default synth world

Median over {args.seeds} worlds ({med['rows']:,.0f} rows in the store), {machine()}:
`effect` (monthly, 999 bootstrap draws) {med['effect_s']:.2f} s, `mirror` (monthly) {med['mirror_s']:.2f} s,
`cost` (5 intermediaries, sea routes) {med['cost_s']:.2f} s.
"""
    print(accuracy, speed)
    write_section("accuracy.md", "analysis", accuracy, title="Accuracy")
    write_section("performance.md", "analysis", speed, title="Performance")


if __name__ == "__main__":
    main()
