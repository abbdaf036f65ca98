"""Ingest: a file goes into the store whole or not at all, and the same file twice is a no-op."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.store.warehouse import Store


@dataclass(frozen=True)
class IngestResult:
    path: Path
    batch_id: str
    format: str
    rows: int
    skipped: bool  # already in the store (same content hash)
    notes: tuple[str, ...] = ()  # what the adapter left out and why (breakdown rows...)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def ingest_file(store: Store, path: str | Path, fmt: str = "auto", options: dict[str, Any] | None = None) -> IngestResult:
    """Read one file with its adapter into `store` in a single transaction."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=path)
    if path.stat().st_size == 0:
        raise InputError("empty file", path=path)
    options = dict(options or {})
    sha = sha256_file(path)
    adapter = io.adapter_for(path, fmt)
    existing = store.batch_for_sha(sha)
    if existing:
        return IngestResult(path, existing, adapter.name, 0, skipped=True)
    batch_id = sha[:16]
    with store.transaction() as con:
        rows = adapter.write(con, path, batch_id, options)
        if rows == 0:
            raise InputError("no data rows", path=path)
        check_batch(con, path, batch_id)
        con.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, now(), ?)",
            [batch_id, sha, str(path.resolve()), adapter.name, rows, json.dumps(options, default=str, sort_keys=True)],
        )
    return IngestResult(path, batch_id, adapter.name, int(rows), skipped=False, notes=getattr(rows, "notes", ()))


def check_batch(con, path: Path, batch_id: str) -> None:
    """Invariants every adapter's rows must meet, checked in SQL on the batch before commit."""
    kinds = ", ".join(f"'{k}'" for k in schema.FLOW_KINDS)
    revs = ", ".join(f"'{r}'" for r in schema.HS_REVISIONS)
    checks = {
        "flow must be one of " + ", ".join(schema.FLOW_KINDS): f"flow NOT IN ({kinds})",
        "unknown HS revision": f"hs_rev IS NOT NULL AND hs_rev NOT IN ({revs})",
        "negative trade value": "value_usd < 0",
        "period does not match its frequency": (
            "NOT ((freq = 'A' AND month IS NULL AND period = CAST(year AS VARCHAR)) OR "
            "(freq = 'M' AND month BETWEEN 1 AND 12 AND period = printf('%04d-%02d', year, month)))"
        ),
    }
    for reason, condition in checks.items():
        bad = con.execute(
            f"SELECT period, reporter, partner, product FROM flows WHERE batch_id = ? AND ({condition}) LIMIT 1",
            [batch_id],
        ).fetchone()
        if bad:
            raise InputError(f"{reason} (row {bad})", path=path)
