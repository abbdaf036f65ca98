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
- `source` names the adapter (``"baci"``, ``"comtrade"``...); `batch_id` the ingest that wrote the row.
"""

from __future__ import annotations

from dataclasses import dataclass

FLOW_KINDS = ("export", "import", "re-export", "re-import")
FREQUENCIES = ("A", "M")
HS_REVISIONS = ("HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22")
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
    Column("freq", "VARCHAR", doc="'A' annual or 'M' monthly"),
    Column("year", "SMALLINT"),
    Column("month", "TINYINT", nullable=True, doc="1-12; NULL for annual rows"),
    Column("reporter", "VARCHAR", doc="ISO3 or an area code"),
    Column("reporter_is_country", "BOOLEAN"),
    Column("partner", "VARCHAR", doc="ISO3 or an area code"),
    Column("partner_is_country", "BOOLEAN"),
    Column("flow", "VARCHAR", doc="export, import, re-export or re-import"),
    Column("hs_rev", "VARCHAR", nullable=True, doc="HS92 ... HS22; NULL when unknown"),
    Column("product", "VARCHAR", doc="HS code with leading zeros, or TOTAL"),
    Column("product_level", "TINYINT", doc="digits of the code; 0 for TOTAL"),
    Column("value_usd", "DOUBLE", nullable=True, doc="US dollars; NULL when the source left it blank"),
    Column("quantity", "DOUBLE", nullable=True),
    Column("unit", "VARCHAR", nullable=True),
    Column("source", "VARCHAR", doc="adapter that read it"),
    Column("batch_id", "VARCHAR", doc="ingest that wrote it"),
)

FLOW_COLUMNS: tuple[str, ...] = tuple(c.name for c in FLOWS)

BATCHES: tuple[Column, ...] = (
    Column("batch_id", "VARCHAR"),
    Column("sha256", "VARCHAR", doc="content hash: the same file twice is one batch"),
    Column("path", "VARCHAR"),
    Column("format", "VARCHAR"),
    Column("rows", "BIGINT"),
    Column("ingested_at", "TIMESTAMP"),
    Column("options", "VARCHAR", doc="JSON of the adapter options used"),
)

PRODUCTS: tuple[Column, ...] = (
    Column("hs_rev", "VARCHAR", doc="HS92 ... HS22"),
    Column("product", "VARCHAR", doc="HS6 code with leading zeros"),
    Column("description", "VARCHAR"),
    Column("source", "VARCHAR", doc="the table it came from, e.g. 'BACI V202501'"),
)

SCHEMA_VERSION = 1


def _ddl(table: str, columns: tuple[Column, ...], extra: str = "") -> str:
    cols = ",\n  ".join(f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}{extra}\n)"


DDL: tuple[str, ...] = (
    _ddl("flows", FLOWS),
    _ddl("batches", BATCHES, ",\n  PRIMARY KEY (batch_id),\n  UNIQUE (sha256)"),
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    _ddl("products", PRODUCTS, ",\n  PRIMARY KEY (hs_rev, product)"),  # descriptions for reports (BACI's product_codes)
)


def select_list(prefix: str = "") -> str:
    """The canonical column list for INSERT/SELECT statements, optionally qualified."""
    return ", ".join(prefix + c for c in FLOW_COLUMNS)
