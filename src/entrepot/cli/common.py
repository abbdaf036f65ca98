"""Options and printing helpers shared by the command modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from entrepot.store import default_store_path

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


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str, ensure_ascii=False))
