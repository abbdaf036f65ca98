"""The `entrepot` command: argument parsing and printing only; the work is in the library.

Each module of this package adds the commands of one area to `app`.
"""

from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from entrepot.errors import EntrepotError, InputError, Interrupted


class _Group(TyperGroup):
    """Turns entrepot's own errors into one line on stderr and exit code 2, with no traceback.

    An error about a library parameter names the command's flag for it (`min_share` -> `--min-share`).
    Ctrl-C is one line too, with exit code 130 (128 + SIGINT, as a shell reports it); whatever
    transaction was open has been rolled back by then.
    """

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            ctx.exit(Interrupted.exit_code)
        except EntrepotError as exc:
            typer.echo(f"error: {printable(_message(exc, ctx))}", err=True)
            ctx.exit(exc.exit_code)


def printable(text: str) -> str:
    """`text` with control characters escaped (\\x1b...): a file's bytes quoted in an error cannot drive the terminal."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _message(exc: EntrepotError, ctx: typer.Context) -> str:
    if not isinstance(exc, InputError) or exc.parameter is None:
        return str(exc)
    sub = ctx.command.get_command(ctx, ctx.invoked_subcommand) if ctx.invoked_subcommand else None  # type: ignore[attr-defined]
    for param in getattr(sub, "params", []):
        if param.name == exc.parameter and param.opts:
            return exc.for_flag(param.opts[0])
    return str(exc)


app = typer.Typer(
    cls=_Group,
    name="entrepot",
    help="Measure what an embargo did to trade, where the trade went, and what the detour cost.",
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from entrepot import __version__

        typer.echo(f"entrepot {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


# Importing the command modules registers their commands on `app`.
from entrepot.cli import analysis, data, fetch, models, screen, show, synth  # noqa: E402,F401


def main(argv: list[str] | None = None) -> None:
    app(args=argv if argv is not None else sys.argv[1:], prog_name="entrepot")
