"""Adapters from the real trade-data formats to the canonical flow table.

An adapter is a module-level object with a `name`, a `sniff(path, head)` that says whether a file
looks like its format (from its name and first bytes), and a `write(con, path, batch_id, options)`
that inserts the file's rows into `flows` (inside the transaction the store opened) and returns how
many it wrote. A bad row raises `InputError` naming the file, line and column; the store rolls back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import duckdb

from entrepot.errors import InputError


class Written(int):
    """The rows an adapter wrote, with notes for the user on what it left out and why.

    An adapter may return a plain int; `Written(n, ["left out 12 breakdown rows: ..."])` adds notes
    that `entrepot ingest` prints beside the row count (nothing is left out without a word).
    """

    notes: tuple[str, ...]

    def __new__(cls, rows: int, notes: list[str] | tuple[str, ...] = ()) -> Written:
        self = super().__new__(cls, rows)
        self.notes = tuple(notes)
        return self


class Check(NamedTuple):
    """A condition no row of the batch may meet, tested on the inserted rows in the store's one check scan.

    `reason` may hold `{v}`, the first bad row's `shown` (an SQL expression); `column` names the file's column.
    """

    reason: str
    column: str
    condition: str
    shown: str = "NULL"


class Adapter(Protocol):
    """`checks(path, options) -> list[Check]` is optional: the adapter's own row checks (`store.ingest.check_batch`)."""

    name: str

    def sniff(self, path: Path, head: str) -> bool: ...

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int: ...


_REGISTRY: dict[str, Adapter] = {}


def register(adapter: Adapter) -> Adapter:
    _REGISTRY[adapter.name] = adapter
    return adapter


def formats() -> list[str]:
    return sorted(adapter.name for adapter in _adapters())


def adapter_for(path: Path, fmt: str = "auto") -> Adapter:
    """The adapter named by `fmt`, or the first whose `sniff` accepts the file.

    The adapter modules are imported one at a time, in the order of detection, until one answers: a
    BACI file (the first format) never loads the modules built on pandas, which alone cost a BACI
    ingest a tenth of its time.
    """
    head = read_head(path) if fmt == "auto" else ""
    for adapter in _adapters():
        if (adapter.sniff(path, head) if fmt == "auto" else adapter.name == fmt):
            return adapter
    if fmt != "auto":
        raise InputError(f"unknown format {fmt!r}; choose from auto, {', '.join(formats())}")
    raise InputError("cannot tell the format from the header; pass --format", path=path, line=1)


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """Adapter options checked before anything is read: an impossible value is one line, never used."""
    import math

    from entrepot import schema

    out = dict(options)
    if out.get("hs_rev") is not None:
        rev = str(out["hs_rev"]).strip().upper()
        if rev not in schema.HS_REVISIONS:
            raise InputError(f"--hs-rev {out['hs_rev']!r}: choose from {', '.join(schema.HS_REVISIONS)}")
        out["hs_rev"] = rev
    if out.get("value_scale") is not None:
        scale = float(out["value_scale"])
        if not math.isfinite(scale) or scale <= 0:
            raise InputError(f"--value-scale {out['value_scale']}: must be a positive finite number (1000 for thousands)")
    for key, flag in (("country_codes", "--country-codes"), ("country_names", "--countries"), ("rates", "--rates")):
        if out.get(key) is not None and not Path(out[key]).is_file():
            raise InputError(f"{flag}: no such file", path=out[key])
    return out


def read_head(path: Path, size: int = 64 * 1024) -> str:
    """The first bytes of a file as text (UTF-8 with a BOM stripped, else Latin-1)."""
    raw = path.read_bytes()[:size] if path.stat().st_size <= size else _read_prefix(path, size)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.removeprefix(b"\xef\xbb\xbf").decode("latin-1")  # a BOM on a Latin-1 file (an editor's)


def physical_line(path: Path, row: int) -> int:
    """The line of data row `row` (0-based, after a one-line header) in a CSV read by DuckDB, whose reader
    skips blank lines: row + 2 when none comes before it. Read only to name the line of an error."""
    seen = -1
    with path.open("rb") as fh:
        next(fh, None)
        for line, text in enumerate(fh, start=2):
            if text.strip(b"\r\n"):
                seen += 1
                if seen == row:
                    return line
    return row + 2


def _read_prefix(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


# The adapter modules in the order of detection; each registers its adapters when imported.
MODULES = ("baci", "comtrade", "comext", "comext_bulk", "comext_xlsx", "wits", "stata", "csv")


def _adapters() -> Iterator[Adapter]:
    """Every registered adapter in the order of registration, importing the modules of `MODULES` only as
    far as the caller reads."""
    import importlib

    seen: set[str] = set()
    for module in MODULES:
        importlib.import_module(f"entrepot.io.{module}")
        for adapter in list(_REGISTRY.values()):
            if adapter.name not in seen:
                seen.add(adapter.name)
                yield adapter
