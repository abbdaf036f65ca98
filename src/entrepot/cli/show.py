"""Case files and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import StoreOpt, store_path

case_app = typer.Typer(help="Case files: check one.", no_args_is_help=True)
app.add_typer(case_app, name="case")


@case_app.command("check")
def case_check(path: Annotated[Path, typer.Argument(help="Case TOML file.")]) -> None:
    """Validate a case file; errors name the entry."""
    from entrepot.case import load_case

    case = load_case(path)
    typer.echo(f"{path}: ok — {case.title}: {len(case.events)} events, {len(case.claims)} claims,"
               f" {len(case.intermediaries)} suspected intermediaries, {len(case.scenarios)} scenarios")


@app.command()
def report(
    case_file: Annotated[Path, typer.Argument(help="Case TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    gravity: Annotated[Path | None, typer.Option("--gravity", help="Gravity dataset with intra-national flows"
                                                 " (.dta, .csv, .parquet) for the case's scenarios.")] = None,
    store: StoreOpt = None,
) -> None:
    """Write a self-contained HTML report of the case from the store."""
    from entrepot.case import load_case
    from entrepot.reporting import write_report
    from entrepot.store import Store

    case = load_case(case_file)
    with Store(store_path(store), read_only=True) as st:
        typer.echo(str(write_report(case, st, out, gravity)))


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind (local only by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8765,
) -> None:
    """A local dashboard over the store (read-only), with a JSON API described at /openapi.json."""
    from entrepot.web import serve as run

    typer.echo(f"entrepot dashboard on http://{host}:{port}/ (API description: /openapi.json); Ctrl-C stops it")
    run(store_path(store), host, port)
