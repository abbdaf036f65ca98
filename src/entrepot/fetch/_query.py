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
    """Ingest the release files (or a release zip) into `store` (a Store, a path, or None for the default).

    Through the store's `ingest_paths`: files, folders and release zips, each release in one transaction.
    """
    from entrepot.store import Store
    from entrepot.store.ingest import ingest_paths

    def run(st):
        return ingest_paths(st, paths, fmt)

    if isinstance(store, Store):
        return run(store)
    with Store(store) as st:
        return run(st)


class Spill:
    """A query's observations spilled, answer by answer, into one part file per release; each part is then
    sorted, checked for an observation given twice, and written whole.

    Memory stays that of one answer and one part, never the whole query, and each release stays small
    enough for its adapter (which reads a file whole). The same answers give the same bytes.
    """

    SEP = "\x1f"

    def __init__(self, folder: Path, stem: str) -> None:
        import shutil

        self.folder, self.stem = folder, stem
        self.parts = folder / f"{stem}.parts"
        shutil.rmtree(self.parts, ignore_errors=True)  # left by an interrupted run: rebuilt from the cache
        self.parts.mkdir(parents=True)
        self.count = 0

    def add(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """(part, identity, payload) triples; the payload is the row as it will be written, on one line."""
        by_part: dict[str, list[str]] = {}
        for part, ident, payload in rows:
            by_part.setdefault(part, []).append(f"{ident}{self.SEP}{payload}\n")
            self.count += 1
        for part, lines in by_part.items():
            with (self.parts / part).open("a", encoding="utf-8") as fh:
                fh.writelines(lines)

    def write(self, render, name) -> list[Path]:
        """Each part's payloads in identity order, through `render(part, payloads) -> text` into `name(part)`."""
        import shutil

        from entrepot.fetch._http import FetchError, write_atomic

        paths = []
        for part in sorted(p.name for p in self.parts.iterdir()):
            lines = sorted((self.parts / part).read_text(encoding="utf-8").splitlines())
            idents = [line.split(self.SEP, 1)[0] for line in lines]
            for a, b in zip(idents, idents[1:], strict=False):
                if a == b:
                    raise FetchError(f"the source answered the same observation twice: {a.replace('|', ', ')}")
            path = self.folder / name(part)
            write_atomic(path, render(part, [line.split(self.SEP, 1)[1] for line in lines]).encode("utf-8"))
            paths.append(path)
        shutil.rmtree(self.parts)
        return paths
