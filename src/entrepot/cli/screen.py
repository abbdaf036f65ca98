"""`entrepot screen`: every pair of countries tested for a collapse of trade, and the detours of the largest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, print_frame, print_json, store_path
from entrepot.errors import InputError


@app.command()
def screen(
    parquet: Annotated[Path | None, typer.Option("--input", help="Read this Parquet instead of the store: `entrepot export DIR`'s"
                                                 " directory, a .parquet file, or a Parquet dataset directory (e.g. on shared storage).")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (this machine) or spark.")] = "duckdb",
    master: Annotated[str | None, typer.Option("--master", help="Spark master: local[N], spark://host:7077, yarn, k8s://...;"
                                               " [default: local[*]].", show_default=False)] = None,
    by_section: Annotated[bool, typer.Option("--by-section", help="Test every pair in each HS section apart.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="False-discovery rate of the collapses (Benjamini-Hochberg).")] = 0.05,
    min_drop: Annotated[float, typer.Option("--min-drop", help="Smallest drop against the counterfactual that counts (0.3 = 30%).")] = 0.3,
    min_usd: Annotated[float, typer.Option("--min-usd", help="Pairs trading less than this per period before a break are not tested.")] = 1e6,
    side: Annotated[str, typer.Option("--side", help="Without BACI (or instead of it): read the exporters' or the importers'"
                                      " declarations (exporter, importer); auto: BACI, else the exporters' when there.")] = "auto",
    top: Annotated[int, typer.Option("--top", help="The largest collapses scanned for their intermediaries.")] = 20,
    cases: Annotated[list[Path] | None, typer.Option("--case", help="A case file whose embargo counts as known (entrepot's own always do);"
                                                     " repeat for more.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the ranked table: .csv, .parquet, or .json (the whole result).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the report page (self-contained HTML with the map).")] = None,
    as_json: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Screen every ordered pair of countries for a collapse of trade and rank the third countries it went through."""
    from rich.console import Console

    from entrepot.screening import screen as run
    from entrepot.screening.result import FORMATS
    from entrepot.store import Store

    for path in (out, report):  # before the work, not after it
        if path is not None and not path.parent.exists():
            raise InputError("no such directory for the output", path=path.parent)
    if out is not None and out.suffix not in FORMATS:
        raise InputError(f"the output's suffix must be one of {', '.join(FORMATS)}", path=out)
    console = Console(stderr=True)
    with console.status("screening") as status:
        def progress(stage: str) -> None:
            status.update(stage)
            console.log(stage)

        if parquet is not None:
            res = run(parquet, by_section=by_section, alpha=alpha, min_drop=min_drop, min_usd=min_usd, top=top, engine=engine,
                      master=master, cases=cases, side=side, progress=progress)
        else:
            with Store(store_path(store), read_only=True) as st:
                res = run(st, by_section=by_section, alpha=alpha, min_drop=min_drop, min_usd=min_usd, top=top, engine=engine,
                          master=master, cases=cases, side=side, progress=progress)
    if out is not None:
        res.write(out)
    if report is not None:
        from entrepot.screening.report import write_screen_report

        write_screen_report(res, report)
    if as_json:
        print_json(res.to_dict())
        return
    typer.echo(res.summary())
    table = res.to_frame()
    if len(table):
        sections = ["section"] if table.section.nunique() > 1 else []  # in rank order (--out, --json: the rank and every column)
        print_frame(table.head(50), ["exporter", "importer", *sections, "date", "drop_usd", "drop_pct", "volume_drop_pct", "q_volume", "status",
                                     "intermediaries", "rerouted_value_usd"])
    for path in (out, report):
        if path is not None:
            typer.echo(f"wrote {path}")
