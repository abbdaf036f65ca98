"""Case files and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, print_basis, print_frame, print_json, read_store, store_path

case_app = typer.Typer(help="Case files: check one, and its claims against the store.", no_args_is_help=True)
app.add_typer(case_app, name="case")


@case_app.command("check")
def case_check(
    path: Annotated[Path, typer.Argument(help="Case TOML file.")],
    claims: Annotated[bool, typer.Option("--claims", help="Also hold the case's claims against the store.")] = False,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Validate a case file (errors name the entry); with --claims, check its public claims against the store."""
    from entrepot.case import check_claims, load_case

    case = load_case(path)
    if not claims:
        typer.echo(f"{path}: ok — {case.title}: {len(case.events)} events, {len(case.claims)} claims,"
                   f" {len(case.intermediaries)} suspected intermediaries, {len(case.scenarios)} scenarios")
        return
    with read_store(store) as st:
        res = check_claims(st, case)
    if as_json:
        print_json(res)
        return
    print_frame(res.to_frame().drop(columns=["claim", "source"]), title=f"Claims of {case.id}, checked against the store")
    typer.echo(res.summary())
    print_basis(res)


@app.command()
def report(
    case_file: Annotated[Path, typer.Argument(help="Case TOML file.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    gravity: Annotated[Path | None, typer.Option("--gravity", help="Gravity dataset with intra-national flows"
                                                 " (.dta, .csv, .parquet) for the case's scenarios.")] = None,
    basket: Annotated[Path | None, typer.Option("--basket", help="Product codes replacing the case's basket.")] = None,
    concordance: Annotated[Path | None, typer.Option("--concordance", help="UNSD HS correlation table, or its folder, for a"
                                                     " window across an HS revision [default: cached or downloaded].")] = None,
    store: StoreOpt = None,
) -> None:
    """Write a self-contained HTML report of the case from the store."""
    from entrepot.case import load_case
    from entrepot.reporting import write_report

    case = load_case(case_file)
    with read_store(store) as st:
        typer.echo(str(write_report(case, st, out, gravity, basket, concordance)))


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind (local only by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port.")] = 8765,
) -> None:
    """A local dashboard over the store (read-only), with a JSON API described at /openapi.json."""
    from entrepot.web import serve as run

    read_store(store).close()  # no store: the one-line error, before any banner
    typer.echo(f"entrepot dashboard on http://{host}:{port}/ (API: /docs, /openapi.json); Ctrl-C stops it")
    run(store_path(store), host, port)
