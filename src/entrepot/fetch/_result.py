"""What a fetch returns: the files it read or downloaded, how many requests it sent, what it ingested.

It follows the result protocol (`entrepot.results.Result`): its `provenance` is a `Provenance` of the
batches it ingested, so `cite()` works on a fetch as on an analysis. It is filled in while the fetch
runs, so unlike an analysis result it is not frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from entrepot.results import Provenance, Result

if TYPE_CHECKING:
    import pandas as pd

    from entrepot.store.ingest import IngestResult


@dataclass
class FetchResult(Result):
    """One fetch: `files` are the raw answers on disk (cached or new), `releases` the files ingested.

    `cached` answers were read from disk without a request; `downloaded` ones were fetched now;
    `requests` counts every HTTP request sent, retries included; `records` counts the answers' records
    (for BACI: the yearly trade files).
    """

    source: str
    query: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    releases: list[Path] = field(default_factory=list)
    requests: int = 0
    cached: int = 0
    downloaded: int = 0
    records: int = 0
    ingested: list[IngestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def provenance(self) -> Provenance:  # type: ignore[override]
        """The batches this fetch ingested (none with --no-ingest or --dry-run)."""
        import pandas as pd

        rows = [{"batch_id": r.batch_id, "source": r.format, "path": str(r.path), "rows": r.rows, "ingested_at": None}
                for r in self.ingested if r.batch_id]
        if not rows:
            return Provenance.empty()
        return Provenance((self.source,), pd.DataFrame(rows, columns=["batch_id", "source", "path", "rows", "ingested_at"]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "query": self.query,
            "files": [str(p) for p in self.files],
            "batches": [r.batch_id for r in self.ingested],
            "releases": [str(p) for p in self.releases],
            "requests": self.requests,
            "cached": self.cached,
            "downloaded": self.downloaded,
            "records": self.records,
            "ingested": [
                {"path": str(r.path), "batch_id": r.batch_id, "format": r.format, "rows": r.rows, "skipped": r.skipped}
                for r in self.ingested
            ],
            "notes": list(self.notes),
            "provenance": self.provenance.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per release ingested (or per answer file when nothing was ingested)."""
        import pandas as pd

        if self.ingested:
            return pd.DataFrame([
                {"file": str(r.path), "batch_id": r.batch_id, "rows": r.rows, "already_in_store": r.skipped}
                for r in self.ingested
            ])
        return pd.DataFrame({"file": [str(p) for p in self.files]})

    def summary(self) -> str:
        lines = [
            f"{self.source}: {len(self.files)} answer file(s), {self.cached} from the cache, "
            f"{self.downloaded} downloaded ({self.requests} HTTP request(s)), {self.records:,} records"
        ]
        for r in self.ingested:
            if not r.batch_id:  # a release's companion file (code table, Readme): what was done with it
                lines.append(f"  {r.path.name}: {'; '.join(getattr(r, 'notes', ()))}")
                continue
            state = "already in the store" if r.skipped else f"{r.rows:,} rows"
            lines.append(f"  {r.path.name}: {state} (batch {r.batch_id})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
