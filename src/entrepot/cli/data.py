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
    hs_rev: Annotated[
        str | None, typer.Option("--hs-rev", help="HS revision (HS92 ... HS22) when the file name does not say.")
    ] = None,
    country_codes: Annotated[
        Path | None, typer.Option("--country-codes", help="BACI's country_codes_V*.csv, to read its numeric codes.")
    ] = None,
    rates: Annotated[
        Path | None, typer.Option("--rates", help="Monthly EUR/USD rates CSV (period,usd_per_eur) for Comext.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="Generic CSV: a TOML mapping file, or 'canonical=column,...' pairs."),
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Read trade files into the store; each file goes in whole or not at all."""
    given = {"hs_rev": hs_rev, "country_codes": country_codes, "rates": rates, "map": mapping}
    options = {k: v for k, v in given.items() if v is not None}
    with Store(store_path(store)) as st:
        for path in paths:
            res = ingest_file(st, path, fmt, options)
            state = "already in the store" if res.skipped else f"{res.rows:,} rows"
            typer.echo(f"{path}: {res.format}, {state} (batch {res.batch_id})")
