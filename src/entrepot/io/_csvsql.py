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
    if line is None and (mixed := _mixed_line_end(path)):
        return InputError(mixed[1], path=path, line=mixed[0])
    first = text.split("\n", 1)[0]
    return InputError(f"unreadable CSV: {first}", path=path, line=line)


def _mixed_line_end(path: Path) -> tuple[int, str] | None:
    """The first line ending otherwise than the header (CRLF among LF, or the reverse), which DuckDB's reader
    refuses without a line number (a file edited on another system). Read only to explain an error."""
    with path.open("rb") as fh:
        header = fh.readline()
        crlf = header.endswith(b"\r\n")
        for number, text in enumerate(fh, start=2):
            if text.endswith(b"\n") and text.endswith(b"\r\n") != crlf:
                ends = ("LF", "CRLF") if crlf else ("CRLF", "LF")
                return number, (f"this line ends with {ends[0]} where the header ends with {ends[1]} (mixed line endings); "
                                "save the file with one kind of line ending")
    return None
