"""Commands that move data in and out of the store: ingest, export, import."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, print_json, print_table, store_path
from entrepot.io.release import releases
from entrepot.store import Store
from entrepot.store.ingest import ingest_release


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives (.zip, .gz, .7z) to ingest.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="auto, baci, comtrade, comext, comext-bulk, wits, stata or csv.")] = "auto",
    hs_rev: Annotated[
        str | None, typer.Option("--hs-rev", help="HS revision (HS92 ... HS22) when the file name does not say.")
    ] = None,
    country_codes: Annotated[
        Path | None, typer.Option("--country-codes", help="BACI's country_codes_V*.csv (a release folder or zip brings its own).")
    ] = None,
    country_names: Annotated[
        Path | None,
        typer.Option("--countries", help="CSV of name,code for country names no rule resolves (the error lists them)."),
    ] = None,
    rates: Annotated[
        Path | None, typer.Option("--rates", help="Monthly EUR/USD rates CSV (period,usd_per_eur) for Comext.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="Generic CSV: a TOML mapping file, or 'canonical=column,...' pairs."),
    ] = None,
    value_scale: Annotated[
        float | None, typer.Option("--value-scale", help="Multiply values by this (Stata/CSV in thousands: 1000).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Read trade files, release folders and archives (.zip, .gz, .7z) into the store.

    Each file goes in whole or not at all; a release (a folder or archive, such as a BACI release with
    its country and product tables and Readme) goes in whole, read through its own country table.
    """
    given = {"hs_rev": hs_rev, "country_codes": country_codes, "country_names": country_names, "rates": rates,
             "map": mapping, "value_scale": value_scale}
    options = {k: v for k, v in given.items() if v is not None}
    rels = releases(paths)
    with Store(store_path(store)) as st, _progress(sum(len(r.members) for r in rels)) as step:
        for rel in rels:
            for res in ingest_release(st, rel, fmt, options, step):
                if res.format in ("country_codes", "product_codes", "readme"):
                    typer.echo(f"{res.path}: {res.notes[0]}")
                    continue
                state = "already in the store" if res.skipped else f"{res.rows:,} rows"
                batch = f" (batch {res.batch_id})" if res.batch_id else ""
                typer.echo(f"{res.path}: {res.format}, {state}{batch}")
                for note in res.notes:
                    typer.echo(f"  note: {note}")


@contextmanager
def _progress(total: int) -> Iterator[Callable[[str], None]]:
    """A callback advancing a progress bar (files done of all, the file being read, time) on stderr
    when it is a terminal; a no-op otherwise (pipes, --json, tests)."""
    if not sys.stderr.isatty():
        yield lambda label: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("ingesting", total=total)
        started = False

        def step(label: str) -> None:
            nonlocal started
            if started:
                bar.advance(task)
            started = True
            bar.update(task, description=Path(label.split("!")[-1]).name)

        yield step
        bar.update(task, completed=total)


@app.command()
def flows(
    exporter: Annotated[str, typer.Option("--exporter", "--reporter", help="Country A (ISO3).", show_default=False)],
    importer: Annotated[str, typer.Option("--importer", "--partner", help="Country B (ISO3).", show_default=False)],
    product: Annotated[str | None, typer.Option("--product", help="HS2/4/6 code; all products if omitted.")] = None,
    by: Annotated[str, typer.Option("--by", help="year or month.")] = "year",
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    store: StoreOpt = None,
) -> None:
    """Both sides' reports, side by side: what A says it exported to B beside what B says it imported."""
    from entrepot.analysis.flows import flows as run
    from entrepot.errors import InputError

    if by not in ("year", "month"):
        raise InputError(f"must be year or month, not {by!r}", parameter="by")
    with Store(store_path(store), read_only=True) as st:
        res = run(st, exporter, importer, product, "A" if by == "year" else "M")
    if as_json:
        print_json(res.to_dict())
    elif as_csv:
        typer.echo(res.table.rename(columns=res.labels()).to_csv(index=False), nl=False)
    else:
        print_table(res.table.rename(columns=res.labels()), title=f"{res.exporter}–{res.importer}, USD")


@app.command("export")
def export_parquet(
    directory: Annotated[Path, typer.Argument(help="Directory for flows.parquet and batches.parquet.")],
    store: StoreOpt = None,
) -> None:
    """Write the store's tables as Parquet files."""
    with Store(store_path(store), read_only=True) as st:
        for path in st.export_parquet(directory):
            typer.echo(str(path))


@app.command("import")
def import_parquet(
    directory: Annotated[Path, typer.Argument(help="Directory written by `entrepot export`.")],
    store: StoreOpt = None,
) -> None:
    """Add the batches of an exported store (those not already here)."""
    with Store(store_path(store)) as st:
        typer.echo(f"{st.import_parquet(directory):,} rows added")
