"""The canonical tables. This is the only module that names the flow table's columns.

Every adapter in `entrepot.io` produces rows of `FLOWS`; every analysis reads them. Conventions:

- `period` is text: ``"2024"`` for a year (``freq = "A"``) or ``"2024-05"`` for a month (``freq = "M"``);
  `year` and `month` repeat it as numbers so queries need not parse text (`month` is NULL for years).
- `reporter` and `partner` are ISO 3166 alpha-3, upper case, for countries. Partners (and reporters)
  that are not countries keep codes of their own from `entrepot.countries.AREAS` (``WLD``, ``XNS``,
  ``EU27``...) and `*_is_country` is false, so they are never merged into a country.
- `flow` is one of `FLOW_KINDS`: the reporter's exports to, or imports from, the partner. Exports are
  valued FOB and imports CIF, as customs report them. Reconciled sources (BACI) are stored as the
  exporter's exports.
- `product` is an HS code as text with its leading zeros (``"0101"``, ``"720810"``) or ``"TOTAL"``;
  `product_level` is its number of digits (0 for TOTAL); `hs_rev` names the revision (``"HS17"``),
  NULL when the source does not say (aggregate gravity data).
- `value_usd` is in US dollars (not thousands); `quantity` is in `unit` (``"kg"``, ``"t"``, ``"u"``...).
  A source that reports in another currency also keeps its own amount: `value_native` in
  `currency` (Comext: EUR), so an analysis in that currency stays exact; for USD sources
  `currency` is ``"USD"`` and `value_native` is NULL (it would repeat `value_usd`).
- `source` names the adapter (``"baci"``, ``"comtrade"``...); `batch_id` the ingest that wrote the row.
"""

from __future__ import annotations

from dataclasses import dataclass

FLOW_KINDS = ("export", "import", "re-export", "re-import")
FREQUENCIES = ("A", "M")
HS_REVISIONS = ("HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22")
SOURCES = ("baci", "comext", "comext-bulk", "comext-xlsx", "comtrade", "csv", "stata", "wits")
CURRENCIES = ("USD", "EUR")
TOTAL = "TOTAL"
TONNES_SQL = "CASE unit WHEN 't' THEN quantity WHEN 'kg' THEN quantity / 1000 END"  # quantity in tonnes, else NULL


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool = False
    doc: str = ""


FLOWS: tuple[Column, ...] = (
    Column("period", "VARCHAR", doc="'2024' or '2024-05'"),
    Column("freq", "freq_code", doc="'A' annual or 'M' monthly"),
    Column("year", "SMALLINT"),
    Column("month", "TINYINT", nullable=True, doc="1-12; NULL for annual rows"),
    Column("reporter", "VARCHAR", doc="ISO3 or an area code"),
    Column("reporter_is_country", "BOOLEAN"),
    Column("partner", "VARCHAR", doc="ISO3 or an area code"),
    Column("partner_is_country", "BOOLEAN"),
    Column("flow", "flow_kind", doc="export, import, re-export or re-import"),
    Column("hs_rev", "hs_revision", nullable=True, doc="HS92 ... HS22; NULL when unknown"),
    Column("product", "VARCHAR", doc="HS code with leading zeros, or TOTAL"),
    Column("product_level", "TINYINT", doc="digits of the code; 0 for TOTAL"),
    Column("value_usd", "DOUBLE", nullable=True, doc="US dollars; NULL when the source left it blank"),
    Column("quantity", "DOUBLE", nullable=True),
    Column("unit", "VARCHAR", nullable=True),
    Column("source", "source_name", doc="adapter that read it"),
    Column("batch_id", "VARCHAR", doc="ingest that wrote it"),
    Column("value_native", "DOUBLE", nullable=True, doc="the amount in `currency` as the source gave it; NULL when USD"),
    Column("currency", "currency_code", nullable=True, doc="ISO 4217 code of the source's amounts: 'EUR' (Comext), 'USD'"),
)

FLOW_COLUMNS: tuple[str, ...] = tuple(c.name for c in FLOWS)

# What makes two rows the same observation: a newer file holding it (a new release, a re-download)
# replaces the older row instead of adding to it. `period` implies `year` and `month`; `source`
# keeps BACI's reconciled figure apart from the Comtrade report of the same flow. No adapter keeps
# sub-totals (Comtrade's customs procedure or mode of transport, Comext's procedure), so none of
# those is part of it; an adapter that ever keeps them must add them here.
IDENTITY: tuple[str, ...] = ("source", "freq", "period", "reporter", "partner", "flow", "hs_rev", "product")

BATCHES: tuple[Column, ...] = (
    Column("batch_id", "VARCHAR"),
    Column("sha256", "VARCHAR", doc="content hash: the same file twice is one batch"),
    Column("path", "VARCHAR"),
    Column("format", "VARCHAR"),
    Column("rows", "BIGINT", doc="rows the file gave; some may since have been superseded"),
    Column("ingested_at", "TIMESTAMP"),
    Column("options", "VARCHAR", doc="JSON of the adapter options used"),
    Column("release", "VARCHAR", nullable=True, doc="the source's release, e.g. BACI 'V202501'; NULL when unnamed"),
    Column("keep_both", "BOOLEAN", nullable=True, doc="rows it superseded were kept in flows_superseded"),
)

# One row per (newer batch, older batch) pair: how many of the older batch's rows the newer one
# replaced, and whether they were kept (in `flows_superseded`, so removing the newer batch restores them).
SUPERSESSIONS: tuple[Column, ...] = (
    Column("batch_id", "VARCHAR", doc="the newer batch"),
    Column("superseded_batch", "VARCHAR", doc="the older batch whose rows it replaced"),
    Column("rows", "BIGINT"),
    Column("kept", "BOOLEAN"),
)

# Rows replaced by a newer batch that was ingested with keep_both: the flow columns as they were, and
# the batch that replaced them. No analysis reads this table; `flow_versions` shows it beside `flows`.
SUPERSEDED: tuple[Column, ...] = (*FLOWS, Column("superseded_by", "VARCHAR", doc="the batch that replaced the row"))

PRODUCTS: tuple[Column, ...] = (
    Column("hs_rev", "VARCHAR", doc="HS92 ... HS22"),
    Column("product", "VARCHAR", doc="HS6 code with leading zeros"),
    Column("description", "VARCHAR"),
    Column("source", "VARCHAR", doc="the table it came from, e.g. 'BACI V202501'"),
)

SCHEMA_VERSION = 5


def _ddl(table: str, columns: tuple[Column, ...], extra: str = "") -> str:
    cols = ",\n  ".join(f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}{extra}\n)"


# The flow table's closed lists are DuckDB ENUMs, one byte a row: a string column costs the ingest and
# every scan its per-row string handling even when it holds one value (a BACI year's freq, flow, hs_rev,
# source and currency). SQL reads them as text (`flow = 'export'`, `||`, LIKE); pandas readers get plain
# strings from `warehouse.frame`. Values are in text order, so ORDER BY, min and max are as for VARCHAR.
# A new value (an adapter, an HS revision) is a new schema version: its migration makes the type anew
# (CREATE TYPE ..._v2, ALTER COLUMN ... TYPE, DROP TYPE) for both flow tables.
ENUMS: dict[str, tuple[str, ...]] = {
    "freq_code": FREQUENCIES, "flow_kind": FLOW_KINDS, "hs_revision": HS_REVISIONS, "source_name": SOURCES,
    "currency_code": CURRENCIES,
}
ENUM_DDL: tuple[str, ...] = tuple(
    f"CREATE TYPE IF NOT EXISTS {name} AS ENUM ({', '.join(repr(v) for v in sorted(values))})" for name, values in ENUMS.items())
ENUM_COLUMNS: dict[str, str] = {c.name: c.sql_type for c in FLOWS if c.sql_type in ENUMS}

# How `flows` is stored: the columns that hold one value in a file's rows, or a few (a BACI year's period,
# frequency, flow, revision, unit, source, batch and currency), once per combination in `segments`; each
# row in `flow_rows` with the key of its combination (`segment`); `flows` a view joining the two, with
# `FLOWS`'s columns in order. Every column written costs each row its append and compression analysis,
# even a one-byte ENUM: a BACI year written this way costs about two thirds of the flat table's CPU time.
# Readers read `flows`; rows are written with `warehouse.write_flows` (a view takes no INSERT) and
# deleted from `flow_rows`, whose rowid is the row's position in its file (the checks' error lines).
SEGMENT: tuple[str, ...] = ("period", "freq", "year", "month", "flow", "hs_rev", "unit", "source", "batch_id", "currency")
SEGMENTS: tuple[Column, ...] = (Column("segment", "BIGINT"), *(next(c for c in FLOWS if c.name == n) for n in SEGMENT))
FLOW_ROWS: tuple[Column, ...] = (Column("segment", "BIGINT"), *(c for c in FLOWS if c.name not in SEGMENT))
# `flows` with each row's rowid in `flow_rows` (`row_id`): for the store's own deletes and error lines.
FLOWS_WITH_ROWID = (f"(SELECT r.rowid AS row_id, {', '.join(('s.' if c in SEGMENT else 'r.') + c for c in FLOW_COLUMNS)}"
                    " FROM flow_rows r JOIN segments s USING (segment))")
_LAYOUT: tuple[str, ...] = (
    _ddl("segments", SEGMENTS, ",\n  PRIMARY KEY (segment)"),
    _ddl("flow_rows", FLOW_ROWS),
    f"CREATE VIEW IF NOT EXISTS flows AS SELECT {', '.join(FLOW_COLUMNS)} FROM {FLOWS_WITH_ROWID}",
)

DDL: tuple[str, ...] = (
    *ENUM_DDL,
    *_LAYOUT,
    _ddl("batches", BATCHES, ",\n  PRIMARY KEY (batch_id),\n  UNIQUE (sha256)"),
    _ddl("supersessions", SUPERSESSIONS),
    _ddl("flows_superseded", SUPERSEDED),
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    # Every version of every observation, the active one with superseded_by NULL, and its batch's release:
    # for comparing two releases side by side. Analyses read `flows` (active rows only).
    f"""CREATE VIEW IF NOT EXISTS flow_versions AS
    SELECT v.*, b.release FROM (
      SELECT {", ".join(c.name for c in FLOWS)}, NULL::VARCHAR AS superseded_by FROM flows
      UNION ALL SELECT {", ".join(c.name for c in SUPERSEDED)} FROM flows_superseded
    ) v JOIN batches b USING (batch_id)""",
    _ddl("products", PRODUCTS, ",\n  PRIMARY KEY (hs_rev, product)"),  # descriptions for reports (BACI's product_codes)
)

# Schema version 1 -> 2: the batch table's new columns (its other tables come from DDL).
# 2 -> 3: the currency columns, last (the rows were all read in USD), and the view over both flow tables made again.
# 3 -> 4: the closed lists become ENUMs. A version 1 store has no flows_superseded yet: DDL makes it after these.
# 4 -> 5: the flow table becomes `segments` and `flow_rows` (rows in their order), and `flows` the view over them.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE batches ADD COLUMN release VARCHAR",
        "ALTER TABLE batches ADD COLUMN keep_both BOOLEAN",
    ),
    2: (
        "DROP VIEW IF EXISTS flow_versions",
        *(f"ALTER TABLE IF EXISTS {t} ADD COLUMN IF NOT EXISTS {c}" for t in ("flows", "flows_superseded")
          for c in ("value_native DOUBLE", "currency VARCHAR DEFAULT 'USD'")),
    ),
    3: (
        "DROP VIEW IF EXISTS flow_versions",
        *ENUM_DDL,
        *(f"ALTER TABLE IF EXISTS {t} ALTER COLUMN {c} TYPE {kind}" for t in ("flows", "flows_superseded")
          for c, kind in ENUM_COLUMNS.items()),
    ),
    4: (
        "DROP VIEW IF EXISTS flow_versions",
        "ALTER TABLE flows RENAME TO flows_v4",
        *_LAYOUT[:2],
        f"INSERT INTO segments SELECT row_number() OVER (ORDER BY {', '.join(SEGMENT)}), * FROM (SELECT DISTINCT {', '.join(SEGMENT)} FROM flows_v4)",
        f"INSERT INTO flow_rows SELECT s.segment, {', '.join('f.' + c.name for c in FLOW_ROWS[1:])} FROM flows_v4 f"
        f" JOIN segments s ON {' AND '.join(f'f.{c} IS NOT DISTINCT FROM s.{c}' for c in SEGMENT)} ORDER BY f.rowid",
        "DROP TABLE flows_v4",
    ),
}


def select_list(prefix: str = "") -> str:
    """The canonical column list for INSERT/SELECT statements, optionally qualified."""
    return ", ".join(prefix + c for c in FLOW_COLUMNS)


def identity_match(a: str, b: str) -> str:
    """SQL that holds when rows `a` and `b` are the same observation (NULL matches NULL where nullable)."""
    nullable = {c.name for c in FLOWS if c.nullable}
    return " AND ".join(f"{a}.{c} {'IS NOT DISTINCT FROM' if c in nullable else '='} {b}.{c}" for c in IDENTITY)
