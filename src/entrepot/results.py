"""The result protocol every analysis and model result follows.

A result answers the same five questions, whatever computed it:

- `to_frame()`: the main table, tidy (one row per observation), with the columns its class
  documents in `COLUMNS`;
- `to_dict()`: what the command's ``--json`` prints, JSON-ready, using the frame's column names;
- `summary()`: the sentence a reader needs;
- `plot()`: the figure the report and the dashboard show (`entrepot.figures`, a plotly figure);
- `provenance`: which sources and ingest batches fed it (`Provenance`), and how to cite them;
- `basis()`: what the numbers are, in words (whose declarations or reconciled values, frequency,
  window, controls left out), the lines every output (CLI, JSON, report, dashboard) shows beside them.

Results are frozen dataclasses: nothing changes them after they are made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go


# What each source's figures are: a country's own declaration, or a reconciliation of both sides'.
SOURCE_KINDS = {
    "baci": "CEPII BACI: reconciled values (one figure per flow from both sides' reports), not a country's own declaration",
    "comtrade": "UN Comtrade: each country's own declarations",
    "comext": "Eurostat Comext: EU members' own declarations",
    "wits": "World Bank WITS: UN Comtrade's declarations as WITS redistributes them (thousand USD)",
    "csv": "a CSV file: as its reporter declares",
    "stata": "a Stata dataset",
    "gravity": "a gravity dataset (exporter, importer, year, trade and covariates), as its file has it",
}
# The references a publication cites for each source.
SOURCE_CITATIONS = {
    "baci": "CEPII BACI (Gaulier and Zignago 2010)",
    "comtrade": "UN Comtrade Database (United Nations Statistics Division)",
    "comext": "Eurostat Comext (DS-045409)",
    "wits": "World Integrated Trade Solution (World Bank), from UN Comtrade",
    "gravity": "a gravity dataset",
}


def rounded(frame: pd.DataFrame, coefficients: bool = False) -> pd.DataFrame:
    """A frame for export, rounded as its units warrant: US dollars (and their bounds) to the dollar, tonnes
    to the tonne, other numbers to 4 decimals, or 3 significant digits below 0.001 (p-values). With
    `coefficients` (a model's table) no column is money: `ci_low` is a coefficient's bound."""
    import numpy as np

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype.kind != "f":
            continue
        v = out[col]
        money = "_usd" in col or col.endswith(("_t", "tonnes")) or col.startswith(("ci_", "relabel_ci_", "leg1_ci", "leg2_ci"))
        if money and not coefficients:
            out[col] = v.round(0).astype("Int64")
        else:
            small = v.abs() < 1e-3
            digits = np.where(small & (v != 0), 2 - np.floor(np.log10(v.abs().where(small & (v != 0), 1.0))), 4).astype(int)
            out[col] = [x if x != x else round(x, int(d)) for x, d in zip(v, digits, strict=True)]
    return out


def currency_names(columns: Iterable[str], currency: str) -> dict[str, str]:
    """Renames for a result in `currency`: an amount column's `_usd` reads `_eur` when it is EUR."""
    return {k: k.replace("_usd", "_eur") for k in columns if "_usd" in k} if currency == "EUR" else {}


def records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready rows, missing values as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


@dataclass(frozen=True)
class Provenance:
    """Where a result's numbers come from: the sources read and the ingest batches whose rows were read
    (`store.query.provenance`: docs/methods.md says which).

    `batches` has one row per batch: batch_id, source (the adapter), path (the file ingested),
    rows and ingested_at.
    """

    sources: tuple[str, ...]
    batches: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the sources, what each is, the batches as rows, the version and how to cite."""
        from entrepot import __version__

        return {"sources": list(self.sources), "kinds": {s: SOURCE_KINDS.get(s, s) for s in self.sources},
                "batches": records(self.batches.astype({"ingested_at": str})), "entrepot_version": __version__,
                "cite": self.cite()}

    @property
    def files(self) -> tuple[str, ...]:
        """The names of the files ingested (their releases are in the names, e.g. BACI_HS17_Y2023_V202501.csv)."""
        return tuple(dict.fromkeys(PurePath(str(p)).name for p in self.batches["path"] if p))

    def cite(self, today: dt.date | None = None) -> str:
        """One line to paste under a table or chart: entrepot's version, the sources' references, the files."""
        from entrepot import __version__

        refs = [SOURCE_CITATIONS.get(s, s) for s in self.sources]
        files = self.files
        shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
        return (f"Computed with entrepot {__version__} on {(today or dt.date.today()).isoformat()}"
                + (f" from {'; '.join(refs)}" if refs else "") + (f" (files: {shown})" if files else "") + ".")

    def __add__(self, other: Provenance) -> Provenance:
        """Both results' provenance, each batch once."""
        parts = [b for b in (self.batches, other.batches) if len(b)] or [self.batches]
        batches = pd.concat(parts).drop_duplicates("batch_id").reset_index(drop=True)
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
    COEFFICIENTS: ClassVar[bool] = False  # the frame holds a model's estimates (no column is money)
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

    def basis(self) -> dict[str, str]:
        """What the numbers are, in words: the sources (declared by whom, or reconciled) and why they were
        chosen, the products, the frequency, the window and the controls left out, from the attributes the
        result has (`chosen`, `product`, `basket`, `window`, `freq`, `event`, `first_post`, `excluded`)."""
        from entrepot import hs

        out: dict[str, str] = {}
        sources = self.provenance.sources
        if sources:
            out["source"] = "; ".join(SOURCE_KINDS.get(s, s) for s in sources)
        chosen = getattr(self, "chosen", None)  # options.Data: the one rule's choice of source and frequency
        if chosen is not None:
            out["data"] = chosen.why
        basket = getattr(self, "basket", None)
        if hasattr(self, "product") or basket:
            product = getattr(self, "product", None)
            shown = [hs.label(product)] if product or not basket else []
            out["products"] = "; ".join(shown + ([f"basket {basket}"] if basket else []))
        window = getattr(self, "window", None)
        freq = getattr(self, "freq", None) or getattr(window, "freq", None)
        if freq in ("A", "M"):
            out["frequency"] = "annual" if freq == "A" else "monthly"
        event = getattr(self, "event", None) or getattr(window, "event", None)
        if window is not None and hasattr(window, "span"):
            out["window"] = f"event {event}; post-event periods {window.span}; before: {', '.join(window.pre)}"
        elif getattr(self, "first_post", None):
            last = getattr(self, "last_post", None)
            out["window"] = f"event {event}; post-event periods {self.first_post}{f' to {last}' if last else ' on'}"  # type: ignore[attr-defined]
        elif event is not None:
            out["window"] = f"event {event}"
        excluded = getattr(self, "excluded", None)
        if excluded is not None:
            out["controls"] = f"left out of the controls: {', '.join(excluded)}" if excluded else "no destination left out of the controls"
        return out

    def plot(self) -> go.Figure:
        """The figure the report and the dashboard show for this result."""
        from entrepot import figures

        return getattr(figures, self.FIGURE)(self)

    def __str__(self) -> str:
        return self.summary()
