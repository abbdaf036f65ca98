"""The parts of a query every source shares: periods, country lists, HS levels, and ingesting the answer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from entrepot.errors import InputError

_MONTH = re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")


def codes(value: str | Iterable[str] | None) -> list[str]:
    """'ISR, tur' or ['ISR', 'TUR'] -> ['ISR', 'TUR']; None or '' -> []."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip().upper() for v in items if str(v).strip()]


def periods(spec: str | Sequence[str], freq: str) -> list[str]:
    """Expand '2022-01:2025-12', '2022:2024', '2022,2024' or a list into 'YYYY' or 'YYYY-MM' periods.

    Monthly queries given in years take every month of those years; annual queries refuse months.
    """
    freq = freq.upper()
    if freq not in ("A", "M"):
        raise InputError(f"--freq must be A (annual) or M (monthly), not {freq!r}")
    items = codes(spec) if isinstance(spec, str) else [str(s).strip() for s in spec]
    if not items:
        raise InputError("no period given (e.g. --period 2022-01:2025-12 or --period 2022:2024)")
    out: list[str] = []
    for item in items:
        first, _, last = item.partition(":")
        last = last or first
        a, b = _point(first, freq), _point(last, freq)
        if a > b:
            raise InputError(f"period {item!r} runs backwards")
        if freq == "A":
            out += [str(y) for y in range(a[0], b[0] + 1)]
        else:
            if len(first) == 4 and len(last) == 4:  # whole years
                a, b = (a[0], 1), (b[0], 12)
            out += [f"{y:04d}-{m:02d}" for y, m in _months(a, b)]
    if len(out) > 1200:
        raise InputError(f"{len(out)} periods asked; ask for at most 1,200")
    return sorted(set(out))


def _point(text: str, freq: str) -> tuple[int, int]:
    text = text.strip()
    if m := _MONTH.match(text):
        if freq == "A":
            raise InputError(f"period {text!r} is a month but --freq is A; give years (2022:2024) or --freq M")
        return int(m.group(1)), int(m.group(2))
    if _YEAR.match(text):
        year = int(text)
        if not 1962 <= year <= 2100:
            raise InputError(f"year {year} is outside 1962-2100")
        return year, 1
    raise InputError(f"cannot read period {text!r}; write YYYY or YYYY-MM, ranges with ':' (2022-01:2025-12)")


def _months(a: tuple[int, int], b: tuple[int, int]) -> Iterable[tuple[int, int]]:
    y, m = a
    while (y, m) <= b:
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def hs_level(spec: str | int | None) -> tuple[int | None, list[str]]:
    """'6' -> (6, []); 'TOTAL' or '0' -> (0, []); '8703,870323' -> (None, ['8703', '870323'])."""
    text = str(spec if spec is not None else "TOTAL").strip().upper()
    if text in ("TOTAL", "0"):
        return 0, []
    if text in ("2", "4", "6"):
        return int(text), []
    items = codes(text)
    bad = [c for c in items if not re.fullmatch(r"\d{2}(\d{2}){0,2}", c)]
    if bad or not items:
        raise InputError(f"--hs takes a level (TOTAL, 2, 4, 6) or HS codes of 2, 4 or 6 digits, not {', '.join(bad) or text!r}")
    return None, items


def ingest(store, paths: list[Path], fmt: str):
    """Ingest each release file into `store` (a Store, a path, or None for the default store)."""
    from entrepot.store import Store
    from entrepot.store.ingest import ingest_file

    if isinstance(store, Store):
        return [ingest_file(store, p, fmt) for p in paths]
    with Store(store) as st:
        return [ingest_file(st, p, fmt) for p in paths]
