"""Helpers for adapters that read CSV with DuckDB's reader: SQL literals and error translation."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from entrepot.errors import InputError

_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CONVERT = re.compile(r'Error when converting column "([^"]+)"\. (Could not convert string "[^"]*" to \'?\w+\'?)')
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def sql_str(value: str | Path) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def read_csv_sql(path: Path, columns: dict[str, str]) -> str:
    """`read_csv(...)` with the header checked by the caller and every type set: no sniffing, no guessing."""
    cols = ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items())
    return (
        f"read_csv({sql_str(path)}, columns={{{cols}}}, header=true, auto_detect=false, "
        "delim=',', quote='\"', escape='\"', nullstr=['', 'NA'])"
    )


def csv_error(exc: duckdb.Error, path: Path) -> InputError:
    """Turn DuckDB's multi-line CSV error into one line naming file, line, column and reason."""
    text = str(exc)
    line = int(m.group(1)) if (m := _LINE.search(text)) else None
    if m := _CONVERT.search(text):
        return InputError(m.group(2).replace("Could not convert", "cannot read"), path=path, line=line, column=m.group(1))
    if m := _COLUMNS.search(text):
        return InputError(f"expected {m.group(1)} fields, found {m.group(2)} (truncated or malformed row)", path=path, line=line)
    first = text.split("\n", 1)[0]
    return InputError(f"unreadable CSV: {first}", path=path, line=line)
