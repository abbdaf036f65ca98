"""`entrepot fetch comtrade|baci|comext`: download from the source, cache every answer, ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from entrepot.cli import app
from entrepot.cli.common import JsonOpt, StoreOpt, print_json, store_path

fetch_app = typer.Typer(
    help="Download trade data from its source into the store (cached: a rerun reads the cache, an interrupted fetch resumes).",
    no_args_is_help=True,
)
app.add_typer(fetch_app, name="fetch")

CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", envvar="ENTREPOT_CACHE", help="Cache directory (default: entrepot in the user cache directory).",
                 show_default=False),
]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Download again even what is cached (revised figures).")]
NoIngestOpt = Annotated[bool, typer.Option("--no-ingest", help="Only download and cache; do not touch the store.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Only say how many requests the query needs and how many are cached.")]
PeriodOpt = Annotated[str, typer.Option("--period", help="YYYY or YYYY-MM, ranges with ':' (2022-01:2025-12), lists with ','.",
                                        show_default=False)]
HsOpt = Annotated[str, typer.Option("--hs", help="HS level (TOTAL, 2, 4, 6) or HS codes (8703,870323).")]
FlowOpt = Annotated[str, typer.Option("--flow", help="Flows: M (imports), X (exports); Comtrade also RM, RX.")]


def _report(result, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
    else:
        typer.echo(result.summary())


@fetch_app.command("comtrade")
def fetch_comtrade(
    reporter: Annotated[str, typer.Option("--reporter", help="Reporters (ISO3, comma-separated).", show_default=False)],
    period: PeriodOpt,
    partner: Annotated[str | None, typer.Option("--partner", help="Partners (ISO3; WLD for the world) (default: every partner).",
                                                show_default=False)] = None,
    freq: Annotated[str, typer.Option("--freq", help="A (annual) or M (monthly).")] = "A",
    hs: HsOpt = "TOTAL",
    flow: FlowOpt = "M,X",
    classification: Annotated[str, typer.Option("--classification", help="HS (as reported) or H0-H6 (converted).")] = "HS",
    max_records: Annotated[int | None, typer.Option("--max-records", help="Records a call allows (default: 100,000 with a key, 500 without).",
                                                    show_default=False)] = None,
    refresh: RefreshOpt = False,
    no_ingest: NoIngestOpt = False,
    dry_run: DryRunOpt = False,
    cache: CacheOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """UN Comtrade+ final data. The key comes from $COMTRADE_API_KEY (free at comtradedeveloper.un.org:
    500 calls a day, 100,000 records a call); without one, the preview endpoint (500 records a call)."""
    from entrepot.fetch import comtrade

    result = comtrade(reporter, partner, period, freq=freq, hs=hs, flow=flow, classification=classification,
                      max_records=max_records, store=store_path(store), ingest=not no_ingest, cache=cache,
                      refresh=refresh, progress=True, dry_run=dry_run)
    _report(result, as_json)


@fetch_app.command("baci")
def fetch_baci(
    release: Annotated[str, typer.Option("--release", help="CEPII release, e.g. V202501.")] = "V202501",
    hs: Annotated[str, typer.Option("--hs", help="HS revision of the release: HS92 ... HS22.")] = "HS17",
    years: Annotated[str | None, typer.Option("--years", help="Only these years (2022:2023 or 2021,2023) (default: all).",
                                              show_default=False)] = None,
    sha256: Annotated[str | None, typer.Option("--sha256", help="Expected SHA-256 of the zip, when you have one.")] = None,
    refresh: RefreshOpt = False,
    no_ingest: NoIngestOpt = False,
    cache: CacheOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A CEPII BACI release zip (about 2 GB): resumable download, size and CRC-32 checks, ingested from the zip."""
    from entrepot.fetch import baci

    result = baci(release, hs, years=years, sha256=sha256, store=store_path(store), ingest=not no_ingest, cache=cache,
                  refresh=refresh, progress=True)
    _report(result, as_json)


@fetch_app.command("comext")
def fetch_comext(
    partner: Annotated[str, typer.Option("--partner", help="Partners (ISO3, comma-separated; WLD for the world).", show_default=False)],
    period: PeriodOpt,
    reporter: Annotated[str | None, typer.Option("--reporter", help="EU reporters (ISO3) (default: all 27 member states).",
                                                 show_default=False)] = None,
    freq: Annotated[str, typer.Option("--freq", help="M (monthly) or A (annual).")] = "M",
    hs: HsOpt = "TOTAL",
    flow: FlowOpt = "M,X",
    max_cells: Annotated[int, typer.Option("--max-cells", help="Eurostat's cost budget per request (cells it could return).")] = 1_000_000,
    refresh: RefreshOpt = False,
    no_ingest: NoIngestOpt = False,
    dry_run: DryRunOpt = False,
    cache: CacheOpt = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Eurostat Comext (dataset DS-045409): EU member states' declarations, in EUR, by month or year."""
    from entrepot.fetch import comext

    result = comext(reporter, partner, period, freq=freq, hs=hs, flow=flow, max_cells=max_cells, store=store_path(store),
                    ingest=not no_ingest, cache=cache, refresh=refresh, progress=True, dry_run=dry_run)
    _report(result, as_json)
