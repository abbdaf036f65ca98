"""Synthetic trade worlds with known truth, written in the real formats (see docs/synth.md)."""

from __future__ import annotations

from pathlib import Path

from entrepot.synth.scenario import Route, Scenario, load_scenario
from entrepot.synth.world import World, generate

__all__ = ["Route", "Scenario", "World", "generate", "ingest_world", "load_scenario"]


def ingest_world(store, world: World, out_dir) -> dict[str, Path]:
    """Write `world` into `out_dir` and ingest each trade file (not truth.json nor gravity.csv) into `store`."""
    from entrepot.store.ingest import ingest_file

    paths = world.write(out_dir)
    for name, path in paths.items():
        if name.startswith(("baci", "comtrade")):
            ingest_file(store, path)
    return paths
