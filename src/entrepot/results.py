"""The result protocol every analysis and model result follows.

A result answers the same five questions, whatever computed it:

- `to_frame()`: the main table, tidy (one row per observation), with the columns its class
  documents in `COLUMNS`;
- `to_dict()`: what the command's ``--json`` prints, JSON-ready, using the frame's column names;
- `summary()`: the sentence a reader needs;
- `plot()`: the figure the report and the dashboard show (`entrepot.figures`, a plotly figure);
- `provenance`: which sources and ingest batches fed it (`Provenance`).

Results are frozen dataclasses: nothing changes them after they are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready rows, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


@dataclass(frozen=True)
class Provenance:
    """Where a result's numbers come from: the sources read and the ingest batches that wrote them.

    `batches` has one row per batch: batch_id, source (the adapter), path (the file ingested),
    rows and ingested_at.
    """

    sources: tuple[str, ...]
    batches: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the sources and the batches as rows."""
        return {"sources": list(self.sources), "batches": records(self.batches.astype({"ingested_at": str}))}

    def __add__(self, other: Provenance) -> Provenance:
        """Both results' provenance, each batch once."""
        batches = pd.concat([self.batches, other.batches]).drop_duplicates("batch_id").reset_index(drop=True)
        return Provenance(tuple(sorted(set(self.sources) | set(other.sources))), batches)

    @staticmethod
    def empty() -> Provenance:
        """No data read (a result computed from arguments alone)."""
        return Provenance((), pd.DataFrame(columns=["batch_id", "source", "path", "rows", "ingested_at"]))


class Result:
    """Base of every result: the protocol's methods, over what each subclass defines.

    Subclasses set `COLUMNS` (the frame's columns and what each holds), `FIGURE` (the name of its
    function in `entrepot.figures`), and implement `to_frame`, `to_dict` and `summary`.
    """

    COLUMNS: ClassVar[dict[str, str]] = {}
    FIGURE: ClassVar[str] = ""
    provenance: Provenance

    def to_frame(self) -> pd.DataFrame:
        """The main table, tidy, with the columns in `COLUMNS`."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """What the command's --json prints."""
        raise NotImplementedError

    def summary(self) -> str:
        """The sentence a reader needs."""
        raise NotImplementedError

    def plot(self) -> go.Figure:
        """The figure the report and the dashboard show for this result."""
        from entrepot import figures

        return getattr(figures, self.FIGURE)(self)

    def __str__(self) -> str:
        return self.summary()
