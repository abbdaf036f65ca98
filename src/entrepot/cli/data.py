"""Commands that move data in and out of the store: ingest, batches, export, import."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, open_store, outputs, print_basis, print_frame, print_json, print_table, read_store
from entrepot.errors import Interrupted
from entrepot.io.release import releases
from entrepot.results import Result
from entrepot.store.ingest import IngestResult, ingest_release


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives (.zip, .gz, .7z) to ingest.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="auto, baci, comtrade, comext, comext-bulk, comext-xlsx, wits, stata or csv.")] = "auto",
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
    keep_both: Annotated[
        bool,
        typer.Option(
            "--keep-both",
            help="Keep the rows a newer file supersedes (in flows_superseded) instead of deleting them: "
            "both releases side by side in the flow_versions view, analyses still read the newer one only.",
        ),
    ] = False,
    store: StoreOpt = None,
) -> None:
    """Read trade files, release folders and archives (.zip, .gz, .7z) into the store.

    Each file goes in whole or not at all; a release (a folder or archive, such as a BACI release with
    its country and product tables and Readme) goes in whole, read through its own country table. A
    file that holds observations the store already has (a newer release, a re-download) replaces
    those rows rather than adding to them, and says how many it replaced.
    """
    given = {"hs_rev": hs_rev, "country_codes": country_codes, "country_names": country_names, "rates": rates,
             "map": mapping, "value_scale": value_scale}
    options = {k: v for k, v in given.items() if v is not None}
    rels = releases(paths)
    with open_store(store) as st, _progress(sum(len(r.members) for r in rels)) as step:
        for done, rel in enumerate(rels):
            try:
                results = ingest_release(st, rel, fmt, options, step, keep_both=keep_both)
            except (Interrupted, KeyboardInterrupt) as exc:
                trade = [m.label for m in rel.of_kind("trade")]
                what = ", ".join(trade) if 0 < len(trade) <= 3 else rel.label
                if getattr(exc, "committed", False):
                    raise Interrupted(f"interrupted during the commit, which finished: {what} is in the store; nothing after it") from None
                earlier = f"; the {done} release(s) before it are in" if done else ""
                raise Interrupted(f"interrupted: {what} was not ingested (the store is as it was before it){earlier}") from None
            for res in results:
                if res.format in ("country_codes", "product_codes", "readme"):
                    typer.echo(f"{res.path}: {res.notes[0]}")
                    continue
                typer.echo(_describe(res))
                for note in res.notes:
                    typer.echo(f"  note: {note}")


def _describe(res: IngestResult) -> str:
    if res.skipped and res.stored_as:
        return (f"{res.path}: {res.format}, already in the store as {res.stored_as} (batch {res.batch_id}): "
                "the same content under another name, nothing changed")
    if res.skipped:
        return f"{res.path}: {res.format}, already in the store (batch {res.batch_id})"
    release = f", release {res.release}" if res.release else ""
    text = f"{res.path}: {res.format}{release}, {res.rows:,} rows (batch {res.batch_id})"
    if res.superseded:
        olds = ", ".join(f"{n:,} of batch {b}" for b, n in res.superseded.items())
        text += f"; superseded {res.superseded_rows:,} rows ({olds}){', kept in flows_superseded' if res.kept else ''}"
    return text


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
def batches(
    remove: Annotated[
        str | None, typer.Option("--remove", help="Remove this batch (its id or a unique prefix), restoring what it superseded.")
    ] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """What is in the store: one line per ingested file, with its rows still active and those superseded."""
    if remove:
        with open_store(store) as st:
            res = st.remove_batch(remove)
        back = ", ".join(f"{n:,} rows of batch {b}" for b, n in res.restored.items())
        typer.echo(f"removed batch {res.batch_id} ({res.path}): {res.rows_removed:,} rows" + (f"; restored {back}" if back else ""))
        return
    with open_store(store, read_only=True) as st:
        table = st.batches()
    if as_json:
        print_json(table.to_dict(orient="records"))
        return
    table["file"] = table["path"].map(lambda p: Path(p).name)
    table["ingested_at"] = table["ingested_at"].dt.strftime("%Y-%m-%d %H:%M")
    table["keep_both"] = table["keep_both"].map({True: "yes", False: ""})
    shown = table[["batch_id", "file", "format", "release", "rows", "active", "superseded", "replaced", "keep_both", "ingested_at"]]
    print_table(
        shown.rename(columns={"replaced": "replaced (older)", "keep_both": "kept", "ingested_at": "when"}),
        title=f"{len(table)} batch(es); 'superseded': rows of the batch a newer one replaced",
    )


@app.command()
@outputs
def flows(
    exporter: Annotated[str, typer.Option("--exporter", "--reporter", help="Country A (ISO3).", show_default=False)],
    importer: Annotated[str, typer.Option("--importer", "--partner", help="Country B (ISO3).", show_default=False)],
    product: Annotated[str | None, typer.Option("--product", help="HS2/4/6 code; all products if omitted.")] = None,
    by: Annotated[str, typer.Option("--by", help="year or month.")] = "year",
    basket: Annotated[Path | None, typer.Option("--basket", help="Only these products: a code list (CN8/HS, one a line"
                                                " or a `code` column).")] = None,
    currency: Annotated[str, typer.Option("--currency", help="USD or EUR (exact where the source reported in EUR).")] = "USD",
    case_file: Annotated[Path | None, typer.Option("--case", help="A case file whose groups the sides may name.")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> Result:
    """Both sides' reports, side by side: what A says it exported to B beside what B says it imported.

    A side may be EU27 or a group of the case file: the sum of its members, membership by date."""
    from entrepot.analysis.flows import flows as run
    from entrepot.basket import load_basket
    from entrepot.case import load_case
    from entrepot.errors import InputError

    if by not in ("year", "month"):
        raise InputError(f"must be year or month, not {by!r}", parameter="by")
    groups = load_case(case_file).groups if case_file else None
    with read_store(store) as st:
        res = run(st, exporter, importer, product, "A" if by == "year" else "M", basket=load_basket(basket) if basket else None,
                  currency=currency, groups=groups)
    if as_json:
        print_json(res)
        return res
    print_frame(res.table, money={k: (label, res.currency) for k, label in res.labels().items()},
                title=f"{res.exporter}–{res.importer}, {res.currency} million" + (f", basket {res.basket}" if res.basket else ""))
    print_basis(res)
    return res


@app.command("export")
def export_parquet(
    directory: Annotated[Path, typer.Argument(help="Directory for the Parquet files (flows, batches, their history, product descriptions).")],
    store: StoreOpt = None,
) -> None:
    """Write the store's tables as Parquet files: the flows, their batches, superseded rows and product descriptions."""
    with read_store(store) as st:
        for path in st.export_parquet(directory):
            typer.echo(str(path))


@app.command("import")
def import_parquet(
    directory: Annotated[Path, typer.Argument(help="Directory written by `entrepot export`.")],
    store: StoreOpt = None,
) -> None:
    """Add the batches of an exported store (those not already here), with their history and product descriptions."""
    with open_store(store) as st:
        typer.echo(f"{st.import_parquet(directory):,} rows added")
