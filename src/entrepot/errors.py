"""One exception family: user mistakes are `InputError` (exit code 2, one line); anything else is a bug."""

from __future__ import annotations

from pathlib import Path


class EntrepotError(Exception):
    """Base of every error entrepot raises on purpose."""

    exit_code = 2


class InputError(EntrepotError, ValueError):
    """Bad input from the user: a file, a code, an argument. The message is one line.

    Build it with what is known: `InputError("unknown reporter code 999", path=p, line=12, column="i")`
    renders as `p:12: column i: unknown reporter code 999`; `InputError("must be A or M", parameter="freq")`
    as `freq: must be A or M`. The library names its parameters; the CLI renders the same error with
    its flag instead (`--freq: must be A or M`, see `for_flag`). A `ValueError` too, so Python callers
    can catch it as one.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        parameter: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.parameter = parameter
        super().__init__(self._render(parameter))

    def for_flag(self, flag: str) -> str:
        """The message with the command-line flag that set the parameter in its place."""
        return self._render(flag)

    def _render(self, parameter: str | None) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        field = f"column {self.column}: " if self.column else ""
        named = f"{parameter}: " if parameter else ""
        return " ".join(f"{where}{field}{named}{self.reason}".split())


class StoreError(EntrepotError):
    """The store cannot be used: not a DuckDB file, a directory, no permission, a newer schema.

    One line naming the store's path: `StoreError("is a directory", path=p)` -> `p: is a directory`.
    """

    def __init__(self, reason: str, *, path: str | Path) -> None:
        self.reason = reason
        self.path = str(path)
        super().__init__(" ".join(f"{self.path}: {reason}".split()))


class StoreBusy(StoreError):
    """Another process holds the store's lock (an ingest is running); try again when it finishes."""


class Interrupted(EntrepotError):
    """Ctrl-C (SIGINT) stopped the work; the open transaction was rolled back.

    Exit code 130 = 128 + SIGINT, the shell's convention for "stopped by Ctrl-C", so a script can tell an
    interruption from bad input (2). `committed`: the Ctrl-C came during the commit, which finished, so
    the work is in the store.
    """

    exit_code = 130

    def __init__(self, message: str, committed: bool = False) -> None:
        self.committed = committed
        super().__init__(message)
