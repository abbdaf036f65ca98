"""Synthetic trade worlds with known truth: `generate(Scenario.default())`, then `world.write(dir)`."""

from entrepot.synth.scenario import Decoys, Embargo, Route, Scenario, load_scenario, random_embargoes
from entrepot.synth.world import World, generate
from entrepot.synth.writers import ingest_world

__all__ = ["Decoys", "Embargo", "Route", "Scenario", "World", "generate", "ingest_world", "load_scenario", "random_embargoes"]
