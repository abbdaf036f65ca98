"""Ingest: a file goes into the store whole or not at all, and the same file twice is a no-op."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io.baci import product_table
from entrepot.io.release import Member, Release, releases
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


def ingest_file(
    store: Store, path: str | Path, fmt: str = "auto", options: dict[str, Any] | None = None, *, label: str | None = None
) -> IngestResult:
    """Read one file with its adapter into `store` in a single transaction."""
    options = io.check_options(options or {})
    with store.transaction() as con:
        return _write_file(store, con, Path(path), fmt, options, label)


def _write_file(store: Store, con, path: Path, fmt: str, options: dict[str, Any], label: str | None) -> IngestResult:
    """One file into the open transaction; `label` names it in the batch table (an archive member)."""
    if not path.is_file():
        raise InputError("no such file", path=path)
    if path.stat().st_size == 0:
        raise InputError("empty file", path=path)
    sha = sha256_file(path)
    adapter = io.adapter_for(path, fmt)
    existing = store.batch_for_sha(sha)
    if existing:
        return IngestResult(path, existing, adapter.name, 0, skipped=True)
    batch_id = sha[:16]
    rows = adapter.write(con, path, batch_id, options)
    if rows == 0:
        raise InputError("no data rows", path=path)
    check_batch(con, path, batch_id)
    recorded = {k: v for k, v in options.items() if k != "country_codes_label"}
    if "country_codes_label" in options:
        recorded["country_codes"] = options["country_codes_label"]
    con.execute(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?, now(), ?)",
        [batch_id, sha, label or str(path.resolve()), adapter.name, rows, json.dumps(recorded, default=str, sort_keys=True)],
    )
    return IngestResult(path, batch_id, adapter.name, int(rows), skipped=False, notes=getattr(rows, "notes", ()))


def ingest_paths(
    store: Store,
    paths: list[str | Path],
    fmt: str = "auto",
    options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[IngestResult]:
    """Files, folders and archives (.zip, .gz, .7z) as `entrepot ingest` takes them: each release (a
    folder, an archive, or the files of one folder) goes in whole, in one transaction, read through
    its own country table; its product descriptions go into `products`. `progress(label)` is called
    before each file."""
    return [res for rel in releases([Path(p) for p in paths]) for res in ingest_release(store, rel, fmt, options, progress)]


def ingest_release(store: Store, rel: Release, fmt: str = "auto", options: dict[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None) -> list[IngestResult]:
    """One release in one transaction (see `ingest_paths`)."""
    options = io.check_options(options or {})
    tables = rel.of_kind("country_codes")
    if len(tables) > 1 and "country_codes" not in options:
        raise InputError(f"{len(tables)} country tables in one release ({', '.join(m.name for m in tables)}): keep one", path=rel.label)
    if rel.version and "release" not in options and any(m.kind == "trade" for m in rel.members):
        options["release"] = rel.version
    results: list[IngestResult] = []
    with store.transaction() as con, ExitStack() as stack:
        for member in rel.members:
            if progress:
                progress(member.label)
            if member.kind == "country_codes":
                if "country_codes" not in options:
                    options["country_codes"] = stack.enter_context(member.local())
                    options["country_codes_label"] = member.label
                results.append(_companion(member, "country table: read for this release's BACI files"))
            elif member.kind == "readme":
                results.append(_companion(member, "readme: recognised, nothing to store"))
            elif member.kind == "product_codes":
                with member.local() as path, _named(path, member.label):
                    table = product_table(path, member.label)
                con.register("_products", table.assign(source=f"BACI {rel.version or ''}".strip()))
                con.execute(f"INSERT OR REPLACE INTO products SELECT {', '.join(c.name for c in schema.PRODUCTS)} FROM _products")
                con.unregister("_products")
                results.append(IngestResult(Path(member.label), "", member.kind, len(table), skipped=False,
                                            notes=(f"product table: {len(table):,} descriptions kept for reports",)))
        for member in rel.of_kind("trade"):
            if progress:
                progress(member.label)
            with member.local() as path, _named(path, member.label):
                res = _write_file(store, con, path, fmt, options, None if member.inner is None else member.label)
            results.append(IngestResult(Path(member.label), res.batch_id, res.format, res.rows, res.skipped, res.notes))
    return results


def _companion(member: Member, what: str) -> IngestResult:
    return IngestResult(Path(member.label), "", member.kind, 0, skipped=True, notes=(what,))


@contextmanager
def _named(path: Path, label: str) -> Iterator[None]:
    """Errors about an extracted copy name the member as the user knows it (`release.zip!file.csv`)."""
    try:
        yield
    except InputError as exc:
        if exc.path is not None and exc.path != str(path):
            raise
        raise InputError(exc.reason, path=label, line=exc.line, column=exc.column) from None


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
