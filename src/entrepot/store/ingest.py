"""Ingest: a file (or a release: a folder, an archive) goes into the store whole or not at all; it
supersedes what the store held of the same observations.

The same file twice (same content hash, same options) is a no-op, under another name too (a
re-download saved as `file(1).csv` holds the same observations; the result names the file the store
holds it as); with other options it is an error that says so. A file's rows are checked in SQL before commit (`check_batch`): schema invariants,
finite and plausible values, HS code lengths, years, and no observation twice in one file. Then the
rows of older batches that are the same observations (`schema.IDENTITY`) are replaced (`Store.supersede`).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io.baci import product_table
from entrepot.io.release import Member, Release, releases
from entrepot.store.warehouse import Store, batch_constants, constant_columns_sql, first_identity

FIRST_YEAR = 1948  # GATT: no trade statistics source entrepot reads starts earlier
MAX_VALUE_USD = 1e15  # one flow worth more than a quadrillion dollars (10x world GDP) is a unit error
# Formats whose adapters read a CSV row by row (no sum or check across rows): a big file goes to them in
# pieces of about CHUNK_BYTES, so their pandas frames never hold the whole file (a 141 MB Comtrade CSV
# peaked at 1.28 GB read whole). BACI is read by DuckDB in one statement; Comext sums CN8 lines across rows.
ROW_WISE = ("comtrade", "csv")
CHUNK_BYTES = 32 << 20
# DuckDB's memory while a file goes in: beyond it the supersede's join and the checks' sort spill to a
# temporary file beside the store. A newer BACI year superseding every row of the older one (11M rows)
# peaked at 1.5 GiB without it, about 0.8 GiB with it, for a tenth more time (docs/performance.md).
INGEST_MEMORY = "600MB"
_RELEASE = re.compile(r"(?:^|[_\-.])(V20\d{4}[A-Za-z]?)(?=$|[_\-.])")


@dataclass(frozen=True)
class IngestResult:
    path: Path
    batch_id: str
    format: str
    rows: int
    skipped: bool  # already in the store (same content hash, same options)
    release: str | None = None
    superseded: dict[str, int] = field(default_factory=dict)  # older batch -> its rows this file replaced
    kept: bool = False  # the replaced rows were kept (keep_both) rather than deleted
    notes: tuple[str, ...] = ()  # what the adapter left out and why (breakdown rows...)
    stored_as: str | None = None  # skipped: the file the store holds this content as, when it had another name

    @property
    def superseded_rows(self) -> int:
        return sum(self.superseded.values())


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def release_of(path: Path, options: dict[str, Any]) -> str | None:
    """The source's release: `options["release"]`, else a `V202501`-style tag in the file name (BACI's)."""
    if options.get("release"):
        return str(options["release"])
    m = _RELEASE.search(path.stem)
    return m.group(1).upper() if m else None


def ingest_file(
    store: Store,
    path: str | Path,
    fmt: str = "auto",
    options: dict[str, Any] | None = None,
    *,
    label: str | None = None,
    keep_both: bool = False,
) -> IngestResult:
    """Read one file with its adapter into `store` in a single transaction.

    Rows that are observations the store already holds (from another batch) replace them: the
    older rows are deleted, or with `keep_both` kept in `flows_superseded` (both releases side by
    side in `flow_versions`; analyses read `flows`, which holds the newer one only, so nothing is
    counted twice) and `Store.remove_batch` of the newer batch restores them.
    """
    options = io.check_options(options or {})
    with store.memory_limit(INGEST_MEMORY), store.transaction() as con:
        return _write_file(store, con, Path(path), fmt, options, label, keep_both)


def _write_file(
    store: Store, con, path: Path, fmt: str, options: dict[str, Any], label: str | None, keep_both: bool = False
) -> IngestResult:
    """One file into the open transaction; `label` names it in the batch table (an archive member)."""
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", path=path)
    if path.stat().st_size == 0:
        raise InputError("empty file", path=path)
    sha = sha256_file(path)
    adapter = io.adapter_for(path, fmt)
    release = release_of(Path(label or path), options)
    opts = options_json(options)
    existing = store.batch_for_sha(sha)
    if existing:  # the same bytes are the same observations, whatever the file is called now
        here = label or str(path.resolve())
        stored_as = existing["path"] if existing["path"] != here else None
        if _compared(existing["options"]) != _compared(opts):
            named = f" ({existing['path']}, the same content)" if stored_as else ""
            raise InputError(
                f"already in the store as batch {existing['batch_id']}{named}, read with options {existing['options']}; "
                f"to read it with {opts}, remove that batch first (entrepot batches --remove {existing['batch_id']})",
                path=label or path,
            )
        return IngestResult(path, existing["batch_id"], adapter.name, 0, skipped=True, release=release, stored_as=stored_as)
    batch_id = sha[:16]
    rows = _write(adapter, con, path, batch_id, options)
    if rows == 0:
        raise InputError("no data rows", path=path)
    notes = tuple(getattr(rows, "notes", ()))
    extra = adapter.checks(path, options) if hasattr(adapter, "checks") else ()
    constants = check_batch(con, path, batch_id, adapter.name, rows_are_lines=not notes, extra=extra)
    replaced = store.supersede(batch_id, keep=keep_both, constants=constants)
    con.execute(
        f"INSERT INTO batches ({', '.join(c.name for c in schema.BATCHES)}) VALUES (?, ?, ?, ?, ?, now(), ?, ?, ?)",
        [batch_id, sha, label or str(path.resolve()), adapter.name, int(rows), opts, release, keep_both],
    )
    store.record_supersessions(batch_id, replaced, kept=keep_both)
    return IngestResult(path, batch_id, adapter.name, int(rows), skipped=False, release=release, superseded=replaced,
                        kept=keep_both, notes=notes)


def ingest_paths(
    store: Store,
    paths: list[str | Path],
    fmt: str = "auto",
    options: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    *,
    keep_both: bool = False,
) -> list[IngestResult]:
    """Files, folders and archives (.zip, .gz, .7z) as `entrepot ingest` takes them: each release (a
    folder, an archive, or the files of one folder) goes in whole, in one transaction, read through
    its own country table; its product descriptions go into `products`. `progress(label)` is called
    before each file. Each file supersedes what the store held of its observations (`ingest_file`)."""
    rels = releases([Path(p) for p in paths])
    return [res for rel in rels for res in ingest_release(store, rel, fmt, options, progress, keep_both=keep_both)]


def ingest_release(store: Store, rel: Release, fmt: str = "auto", options: dict[str, Any] | None = None,
                   progress: Callable[[str], None] | None = None, *, keep_both: bool = False) -> list[IngestResult]:
    """One release in one transaction (see `ingest_paths`)."""
    options = io.check_options(options or {})
    tables = rel.of_kind("country_codes")
    if len(tables) > 1 and "country_codes" not in options:
        raise InputError(f"{len(tables)} country tables in one release ({', '.join(m.name for m in tables)}): keep one", path=rel.label)
    if rel.version and "release" not in options and any(m.kind == "trade" for m in rel.members):
        options["release"] = rel.version
    results: list[IngestResult] = []
    with store.memory_limit(INGEST_MEMORY), store.transaction() as con, ExitStack() as stack:
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
                con.execute(f"INSERT OR REPLACE INTO products ({', '.join(c.name for c in schema.PRODUCTS)}) "
                            "SELECT unnest($rev), unnest($code), unnest($text), $source",
                            {"rev": [r[0] for r in table], "code": [r[1] for r in table], "text": [r[2] for r in table],
                             "source": f"BACI {rel.version or ''}".strip()})
                results.append(IngestResult(Path(member.label), "", member.kind, len(table), skipped=False,
                                            notes=(f"product table: {len(table):,} descriptions kept for reports",)))
        for member in rel.of_kind("trade"):
            if progress:
                progress(member.label)
            with member.local() as path, _named(path, member.label):
                res = _write_file(store, con, path, fmt, options, None if member.inner is None else member.label, keep_both)
            results.append(replace(res, path=Path(member.label)))
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


def _write(adapter, con, path: Path, batch_id: str, options: dict[str, Any]) -> int:
    """The adapter's write, in pieces for a big CSV of a row-wise format; errors name the whole file's lines."""
    if adapter.name not in ROW_WISE or path.stat().st_size <= CHUNK_BYTES or io.read_head(path, 64).lstrip()[:1] in ("{", "["):
        return adapter.write(con, path, batch_id, options)
    rows, notes = 0, []
    for piece, lines_before in _pieces(path, CHUNK_BYTES):
        try:
            written = adapter.write(con, piece, batch_id, options)
        except InputError as exc:
            if exc.path != str(piece):
                raise
            line = exc.line + lines_before if exc.line is not None and exc.line > 1 else exc.line
            raise InputError(exc.reason, path=path, line=line, column=exc.column) from None
        rows += written
        notes += [f"from line {lines_before + 2}: {note}" for note in getattr(written, "notes", ())]
    return io.Written(rows, notes)


def _pieces(path: Path, size: int) -> Iterator[tuple[Path, int]]:
    """Copies of the file's header with about `size` bytes of its lines each, and the lines before each piece.

    A piece ends only where the quotes seen so far are balanced, so a quoted field holding a line break
    stays whole. Each piece keeps the file's name (adapters may read it) in a temporary directory.
    """
    with path.open("rb") as fh, tempfile.TemporaryDirectory(prefix="entrepot-") as tmp:
        header = fh.readline()
        piece = Path(tmp) / path.name
        done, lines, size_now, open_quote = 0, [], 0, False
        for line in fh:
            lines.append(line)
            size_now += len(line)
            open_quote ^= bool(line.count(b'"') & 1)
            if size_now >= size and not open_quote:
                piece.write_bytes(header + b"".join(lines))
                yield piece, done
                done, lines, size_now = done + len(lines), [], 0
        if lines:
            piece.write_bytes(header + b"".join(lines))
            yield piece, done


def options_json(options: dict[str, Any]) -> str:
    """The options as stored with the batch; an option naming a file (a mapping, a codes or rates table)
    is recorded with its content hash, so the same table at another path counts as the same option."""
    def describe(value: Any) -> Any:
        if isinstance(value, (str, Path)) and len(str(value)) < 4096 and Path(value).is_file():
            return {"file": str(value), "sha256": sha256_file(Path(value))}
        return value

    recorded = {k: describe(v) for k, v in options.items() if k != "country_codes_label"}
    if "country_codes_label" in options:  # a release's own table, extracted to a temporary file: name the member
        recorded["country_codes"]["file"] = options["country_codes_label"]
    return json.dumps(recorded, default=str, sort_keys=True)


def _compared(options: str) -> dict[str, Any]:
    """Stored options as they bear on the rows read: file options by content hash; the release tag
    (from a folder's name) is not one."""
    return {k: v["sha256"] if isinstance(v, dict) and "sha256" in v else v for k, v in json.loads(options).items()
            if k != "release"}


def _checks() -> dict[str, tuple[str, str]]:
    """reason -> (column, SQL condition that makes a row bad). One scan evaluates them all."""
    kinds = ", ".join(f"'{k}'" for k in schema.FLOW_KINDS)
    revs = ", ".join(f"'{r}'" for r in schema.HS_REVISIONS)
    last_year = date.today().year + 1
    return {
        "flow must be one of " + ", ".join(schema.FLOW_KINDS): ("flow", f"flow NOT IN ({kinds})"),
        "unknown HS revision": ("hs_rev", f"hs_rev IS NOT NULL AND hs_rev NOT IN ({revs})"),
        "negative trade value": ("value_usd", "value_usd < 0"),
        "trade value is not a finite number (inf, nan, or too large once scaled)": ("value_usd", "NOT isfinite(value_usd)"),
        f"trade value above {MAX_VALUE_USD:.0e} USD (a unit or scale error, or an overflow)": (
            "value_usd", f"value_usd > {MAX_VALUE_USD}"),
        "quantity is not a finite non-negative number": ("quantity", "NOT isfinite(quantity) OR quantity < 0"),
        f"implausible year (before {FIRST_YEAR} or after {last_year})": (
            "year", f"year < {FIRST_YEAR} OR year > {last_year}"),
        "period does not match its frequency": ("period", (
            "NOT ((freq = 'A' AND month IS NULL AND period = CAST(year AS VARCHAR)) OR "
            "(freq = 'M' AND month BETWEEN 1 AND 12 AND period = printf('%04d-%02d', year, month)))")),
        # CN8 (the EU's 8-digit subdivisions of the HS, as Comext's spreadsheets give them) is kept whole.
        "HS codes have 2, 4 or 6 digits (8 for CN), or are TOTAL": (  # ltrim of the digits: a third of a regex's time
            "product", f"NOT (product = '{schema.TOTAL}' OR (length(product) IN (2, 4, 6, 8) AND ltrim(product, '0123456789') = ''))"),
        "product_level does not match the code's length": (
            "product_level", f"product_level <> CASE WHEN product = '{schema.TOTAL}' THEN 0 ELSE length(product) END"),
    }


def check_batch(con, path: Path, batch_id: str, fmt: str | None = None, rows_are_lines: bool = True,
                extra: list[io.Check] | tuple[io.Check, ...] = ()) -> dict[str, str | None]:
    """Invariants every adapter's rows must meet, checked in SQL on the batch before commit.

    `extra` are the adapter's own checks (`io.Check`, its `checks(path, options)`), tested first and
    in the same scan. An error names the file, the line (from the row's position in the batch:
    adapters insert rows in file order), the column (the file's own when the adapter lists it in
    `source_columns`, canonical name -> file's column; else the canonical one) and the reason.
    Returns the identity columns that hold one value in the batch (`Store.supersede` filters on
    them), from the same scan. `rows_are_lines` is false when the adapter left rows out (its notes
    say which): errors then give the row's position among those kept instead of a line.
    """
    labels = _source_columns(fmt)
    checks = [*extra, *(io.Check(reason.replace("{", "{{").replace("}", "}}") + ": {v}", labels.get(column, column), cond,
                                 f"CAST({column} AS VARCHAR)") for reason, (column, cond) in _checks().items()
                        if column not in schema.ENUM_COLUMNS)]  # an ENUM holds only its list's values: the INSERT checked them
    flags = ", ".join(f"coalesce(bool_or({c.condition}), false)" for c in checks)
    first = first_identity(con, batch_id)
    row = con.execute(f"SELECT {flags}, {constant_columns_sql(first)} FROM flows WHERE batch_id = ?", [batch_id]).fetchone()
    failed, constants = row[:len(checks)], batch_constants(first, row[len(checks):])
    for check, bad in zip(checks, failed, strict=True):
        if bad:
            value, pos = con.execute(
                f"""SELECT {check.shown}, row_id - (SELECT min(row_id) FROM {schema.FLOWS_WITH_ROWID} WHERE batch_id = $b)
                    FROM {schema.FLOWS_WITH_ROWID} WHERE batch_id = $b AND ({check.condition}) ORDER BY row_id LIMIT 1""",
                {"b": batch_id},
            ).fetchone()
            line, record = _place(fmt, path, pos, rows_are_lines)
            raise InputError(check.reason.format(v=value) + record, path=path, line=line, column=check.column)
    # One hash per row of the columns that vary in the batch; two rows with one hash are neighbours once the
    # hashes are sorted. A sort of 8-byte keys costs half (and varies less than) the hash table of a
    # DISTINCT on them: 0.23 against 0.3 to 0.9 CPU s on a 3M-row BACI year.
    varying = [c for c in schema.IDENTITY if c not in constants] or ["1"]
    repeated = con.execute(
        f"""SELECT coalesce(bool_or(h = prev), false) FROM (
              SELECT h, lag(h) OVER (ORDER BY h) AS prev FROM (SELECT hash({', '.join(varying)}) AS h FROM flows WHERE batch_id = ?))""",
        [batch_id],
    ).fetchone()[0]
    if repeated:
        _find_duplicate(con, path, batch_id, fmt, rows_are_lines)
    return constants


def _find_duplicate(con, path: Path, batch_id: str, fmt: str | None, rows_are_lines: bool) -> None:
    """The same observation twice in one file is an error naming both lines.

    Called when two rows of the batch share a hash of their identity columns: the exact GROUP BY on
    the identity columns finds which (a hash collision finds none and passes).
    """
    key = ", ".join(schema.IDENTITY)
    dup = con.execute(
        f"""SELECT list(row_id ORDER BY row_id)[1:2], any_value(period), any_value(reporter), any_value(partner),
                   any_value(flow), any_value(product)
            FROM {schema.FLOWS_WITH_ROWID} WHERE batch_id = ? GROUP BY {key} HAVING count(*) > 1 ORDER BY min(row_id) LIMIT 1""",
        [batch_id],
    ).fetchone()
    if dup is None:
        return
    first_row = con.execute(f"SELECT min(row_id) FROM {schema.FLOWS_WITH_ROWID} WHERE batch_id = ?", [batch_id]).fetchone()[0]
    (a, b), *what = dup
    line_a, record_a = _place(fmt, path, a - first_row, rows_are_lines)
    line_b, record_b = _place(fmt, path, b - first_row, rows_are_lines)
    other = f"line {line_b}" if line_b is not None else record_b.strip(" ()")
    raise InputError(
        f"the same observation twice ({', '.join(map(str, what))}){record_a}, again on {other}; "
        "a file must hold each observation once",
        path=path, line=line_a,
    )


def _source_columns(fmt: str | None) -> dict[str, str]:
    if fmt is None:
        return {}
    return dict(getattr(io.adapter_for(Path(), fmt), "source_columns", {}))


# Adapters that insert one row per line of the file, in file order, after a one-line header.
ONE_ROW_PER_LINE = ("baci", "comtrade", "csv")


def _place(fmt: str | None, path: Path, position: int, rows_are_lines: bool = True) -> tuple[int | None, str]:
    """(line, '') for row `position` (0-based) of a file read one row per line after a header line;
    (None, ' (record N)') where rows are records (JSON, Stata), sums of lines (Comext's CN8), or some
    lines were left out (the adapter's notes say which)."""
    if fmt == "stata":
        return None, f" (observation {position + 1})"
    if io.read_head(path, 64).lstrip().startswith(("{", "[")):
        return None, f" (record {position})"
    if fmt not in ONE_ROW_PER_LINE or not rows_are_lines:
        return None, f" (row {position + 1} of the rows read)"
    return io.physical_line(path, position), ""
