"""Commands that move data in and out of the store: ingest, export, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import StoreOpt, store_path
from entrepot.store import Store
from entrepot.store.ingest import ingest_file


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files to ingest.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="auto, baci, comtrade, comext, stata or csv.")] = "auto",
    store: StoreOpt = None,
) -> None:
    """Read trade files into the store; each file goes in whole or not at all."""
    with Store(store_path(store)) as st:
        for path in paths:
            res = ingest_file(st, path, fmt)
            state = "already in the store" if res.skipped else f"{res.rows:,} rows"
            typer.echo(f"{path}: {res.format}, {state} (batch {res.batch_id})")
