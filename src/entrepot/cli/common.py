"""Options and printing helpers shared by the command modules."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from entrepot.errors import InputError
from entrepot.store import Store, default_store_path

if TYPE_CHECKING:
    import pandas as pd

    from entrepot.results import Result

StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="ENTREPOT_STORE",
        help="DuckDB store file [default: entrepot.duckdb in the user data directory].",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table (with the basis and how to cite).")]
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the result's table as CSV to FILE ('-': standard output).",
                                             show_default=False, metavar="FILE")]
ParquetOpt = Annotated[Path | None, typer.Option("--parquet", help="Also write the result's table as Parquet to FILE.",
                                                 show_default=False, metavar="FILE")]
FigureOpt = Annotated[Path | None, typer.Option("--figure", help="Also write the result's chart to FILE: .png, .svg, .pdf or .html.",
                                                show_default=False, metavar="FILE")]
DEMO_STORE = Path("entrepot-demo/demo.duckdb")


def store_path(store: Path | None) -> Path:
    return store if store is not None else default_store_path()


def open_store(store: Path | None, read_only: bool = False) -> Store:
    """The store, saying on stderr that it waits when another process holds it."""
    return Store(store_path(store), read_only=read_only, on_wait=lambda msg: typer.echo(msg, err=True))


def read_store(store: Path | None) -> Store:
    """The store opened read-only; with no --store and none at the default path, the demo's store
    (`make demo`) is named in the error, since that is the store a newcomer has."""
    path = store_path(store)
    if store is None and not path.exists() and DEMO_STORE.exists():
        raise InputError(f"no store at {path}; the demo's is {DEMO_STORE}: pass --store {DEMO_STORE}"
                         f" or export ENTREPOT_STORE={DEMO_STORE.resolve()}")
    return open_store(path, read_only=True)


def outputs(command: Callable[..., Result | None]) -> Callable[..., None]:
    """Give an analysis command --csv, --parquet and --figure, written from the result it returns
    (`to_frame()` rounded as its units warrant, `plot()` with the basis and how to cite in its footer):
    one place for every command's exports."""
    extra = {"csv": CsvOpt, "parquet": ParquetOpt, "figure": FigureOpt}

    @functools.wraps(command)
    def run(*args: Any, csv: Path | None = None, parquet: Path | None = None, figure: Path | None = None, **kwargs: Any) -> None:
        if figure is not None and figure.suffix.lower() not in (".png", ".svg", ".pdf", ".html"):
            raise InputError(f"{figure}: the chart is written as .png, .svg, .pdf or .html", parameter="figure")
        if csv is not None and str(csv) == "-":  # standard output is the CSV's alone
            with contextlib.redirect_stdout(io.StringIO()):
                res = command(*args, **kwargs)
        else:
            res = command(*args, **kwargs)
        if res is None:
            return
        write_exports(res, csv, parquet, figure)

    import inspect

    sig = inspect.signature(command, eval_str=True)  # typer reads the Annotated options from the signature
    params = list(sig.parameters.values())
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=v) for k, v in extra.items()]
    run.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {**command.__annotations__, **extra}
    return run


def write_exports(res: Result, csv: Path | None, parquet: Path | None, figure: Path | None) -> None:
    """The result's table to CSV/Parquet and its chart to an image, each path echoed on stderr."""
    from entrepot.results import rounded

    frame = rounded(res.to_frame(), res.COEFFICIENTS) if csv is not None or parquet is not None else None
    if csv is not None:
        if str(csv) == "-":
            sys.stdout.write(frame.to_csv(index=False))  # type: ignore[union-attr]
        else:
            frame.to_csv(csv, index=False)  # type: ignore[union-attr]
            typer.echo(f"wrote {csv}", err=True)
    if parquet is not None:
        frame.to_parquet(parquet, index=False)  # type: ignore[union-attr]
        typer.echo(f"wrote {parquet}", err=True)
    if figure is not None:
        from entrepot.figures import save

        save(res, figure)
        typer.echo(f"wrote {figure}", err=True)


def split_codes(text: str | None) -> list[str]:
    """'grc, BGR' -> ['GRC', 'BGR']: country lists given on the command line."""
    return [c.strip().upper() for c in text.split(",") if c.strip()] if text else []


def print_json(payload: Any) -> None:
    """A result as its `to_dict()` with its `basis()` (what the numbers are), or any JSON-ready value."""
    from entrepot.results import Result

    if isinstance(payload, Result):
        payload = payload.to_dict() | {"basis": payload.basis()}
    typer.echo(json.dumps(payload, indent=2, default=str, ensure_ascii=False))


def print_basis(res: Result) -> None:
    """What the numbers are (`Result.basis`) and how to cite them, under the tables."""
    for key, text in res.basis().items():
        typer.echo(f"{key}: {text}")
    typer.echo(f"cite: {res.provenance.cite()}")


def print_frame(frame: pd.DataFrame, columns: list[str] | None = None, title: str | None = None, coefficients: bool = False,
                money: dict[str, tuple[str, str]] | None = None) -> None:
    """A result's table as `reporting.present` shows it (the one place that decides headings with their
    units and the rounding that fits each unit), numbers right-aligned; exports keep the frame's names."""
    from entrepot.reporting import present

    columns = columns or list(frame.columns)
    shown = present(frame, columns, coefficients=coefficients, money=money)
    numeric = [h for c, h in zip(columns, shown.columns, strict=True) if frame[c].dtype.kind in "fiu"]
    print_table(shown, title, right=numeric)


def print_table(frame: pd.DataFrame, title: str | None = None, right: list[str] | None = None) -> None:
    """A frame as a terminal table: numbers with thousands separators, blanks for missing; numbers and the
    `right` columns (numbers already formatted as text) right-aligned."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))  # columns two spaces apart
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    for k, col in enumerate(frame.columns):
        width = max((len(r[k]) for r in rows), default=0)
        numeric = frame[col].dtype.kind in "fi" or col in (right or [])
        heading = _heading(str(col), width)
        longest = max(len(w) for w in heading.split()) if heading.strip() else 0
        table.add_column(heading, justify="right" if numeric else "left",
                         min_width=max(width, longest) if numeric else longest)  # neither a number nor a heading's word is cut; text wraps
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:  # a file or a pipe: no reason to squeeze into 80 columns
        console.width = max(console.width, 160)
    console.print(table)


def _heading(text: str, width: int) -> str:
    """A heading no wider than its column's values (10 at least), broken at its commas first
    ("exporter's report,\nUSD m": the unit on a line of its own), so the table fits a terminal."""
    import textwrap

    if len(text) <= max(width, 10):
        return text
    parts = text.split(", ")
    return "\n".join(textwrap.fill(p + ("," if k < len(parts) - 1 else ""), max(width, 10), break_long_words=False)
                     for k, p in enumerate(parts))


def _cell(value: Any) -> str:
    """A cell: thousands separators, never 1e-05 (a number that small shows as 0.000), never True/False."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"
    return str(value)
