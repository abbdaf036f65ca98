"""One exception family: user mistakes are `InputError` (exit code 2, one line); anything else is a bug."""

from __future__ import annotations

from pathlib import Path


class EntrepotError(Exception):
    """Base of every error entrepot raises on purpose."""

    exit_code = 2


class InputError(EntrepotError):
    """Bad input from the user: a file, a code, an argument. The message is one line.

    Build it with what is known: `InputError("unknown reporter code 999", path=p, line=12, column="i")`
    renders as `p:12: column i: unknown reporter code 999`.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        field = f"column {self.column}: " if self.column else ""
        return " ".join(f"{where}{field}{self.reason}".split())
