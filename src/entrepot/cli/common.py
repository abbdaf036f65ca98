"""Options and printing helpers shared by the command modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entrepot.store import Store, default_store_path

if TYPE_CHECKING:
    import pandas as pd

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="ENTREPOT_STORE",
        help="DuckDB store file [default: entrepot.duckdb in the user data directory].",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def store_path(store: Path | None) -> Path:
    return store if store is not None else default_store_path()


def open_store(store: Path | None, read_only: bool = False) -> Store:
    """The store, saying on stderr that it waits when another process holds it."""
    return Store(store_path(store), read_only=read_only, on_wait=lambda msg: typer.echo(msg, err=True))


def split_codes(text: str | None) -> list[str]:
    """'grc, BGR' -> ['GRC', 'BGR']: country lists given on the command line."""
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else []


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, ensure_ascii=False))


def print_table(frame: pd.DataFrame, title: str | None = None, right: list[str] | None = None) -> None:
    """A frame as a terminal table: numbers with thousands separators, blanks for missing; numbers and the
    `right` columns (numbers already formatted as text) right-aligned."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if frame[col].dtype.kind in "fi" or col in (right or []) else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console = Console()
    if not console.is_terminal:  # a file or a pipe: no reason to squeeze the table into 80 columns
        console.width = max(console.width, 160)
    console.print(table)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return str(value)
