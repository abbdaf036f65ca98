"""CEPII BACI: `t,i,j,k,v,q` with `v` in thousands of USD and `q` in tonnes.

BACI is reconciled data (one figure per exporter, importer and product), stored as the exporter's
exports (`reporter = i`, `flow = 'export'`). Country codes are BACI's numeric codes: read through the
release's `country_codes_V*.csv` when given (`--country-codes`), else as UN M49 / Comtrade codes.
The HS revision comes from the file name (`BACI_HS17_Y2022_V202401.csv`) or `--hs-rev`. The whole
file is read by one DuckDB statement (no sniffing, no pandas), so a BACI year (11 million rows) goes
in at close to the speed of DuckDB's own CSV reader; its rows are checked afterwards in the store's
one scan of the batch (`checks`).
"""

from __future__ import annotations

import csv
import io as _io
import re
from pathlib import Path
from typing import Any

import duckdb

from entrepot import countries, io
from entrepot.errors import InputError
from entrepot.io._csvsql import csv_error, read_csv_sql, sql_str
from entrepot.store.warehouse import next_segment

HEADER = ["t", "i", "j", "k", "v", "q"]
COLUMNS = {"t": "INTEGER", "i": "INTEGER", "j": "INTEGER", "k": "VARCHAR", "v": "DOUBLE", "q": "VARCHAR"}
_REV = re.compile(r"BACI_HS(\d\d)", re.I)


def hs_revision(path: Path, options: dict[str, Any]) -> str:
    if options.get("hs_rev"):
        return str(options["hs_rev"]).upper()
    if m := _REV.search(path.name):
        return f"HS{m.group(1)}"
    raise InputError("cannot tell the HS revision from the file name; pass --hs-rev (e.g. HS17)", path=path)


# BACI codes whose ISO3 column names a member or successor instead of the entity itself: 58 Belgium-
# Luxembourg (written BEL), 711 the Southern African Customs Union (ZAF or ZA1), 697 Europe EFTA nes
# and 490 Other Asia nes (N/A or S19). They keep entrepot's own codes (`countries.TRADE_NUMERIC`).
ENTITY_CODES = (58, 490, 697, 711)
_YEAR = re.compile(r"_Y(\d{4})(?=[._]|$)", re.I)
_VERSION = re.compile(r"_V(\d{6}[a-z]?)(?=[._]|$)", re.I)
_DIGITS = re.compile(r"[0-9]+")
_HS6_CODE = re.compile(r"[0-9]{6}")


def read_table(path: Path) -> dict[str, list[str]]:
    """A BACI companion CSV as text columns (header name, stripped -> values): UTF-8 with or without BOM
    (else Latin-1), LF or CRLF, blank lines skipped. Read with the csv module: a few hundred lines need
    no dataframe (and a BACI ingest no pandas)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    reader = csv.reader(_io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader, [])]
        rows = [row for row in reader if row]
    except csv.Error as exc:
        raise InputError(f"not a readable CSV table: {exc}", path=path, line=reader.line_num) from None
    if not header:
        raise InputError("not a readable CSV table: no header", path=path, line=1)
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise InputError(f"not a readable CSV table: expected {len(header)} fields, found {len(row)}", path=path,
                             line=i + 2)
    return {name: [row[n] for row in rows] for n, name in enumerate(header)}


def code_table(options: dict[str, Any], trade_file: Path | None = None) -> dict[int, str]:
    """numeric code -> ISO3/area code, from the release's country_codes file or the standard codes.

    Both header variants are read: `country_code,country_name,country_iso2,country_iso3` (V202401
    on) and `country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,
    iso_3digit_alpha` (V202301 and before). A table from another release than the trade file's
    (`_V202301` against `_V202501`) is an error: the numbering changes between releases (Italy is
    381 in V202201, 380 later).
    """
    if not options.get("country_codes"):
        return countries.numeric_table()
    path = Path(options["country_codes"])
    label = options.get("country_codes_label", str(path))
    table = read_table(path)
    iso_col = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in table), None)
    if "country_code" not in table or iso_col is None:
        raise InputError("expected columns country_code and country_iso3 (or iso_3digit_alpha)", path=label, line=1)
    ours, theirs = (_VERSION.search(Path(label).name), _VERSION.search(trade_file.name) if trade_file else None)
    if ours and theirs and ours.group(1).lower() != theirs.group(1).lower():
        raise InputError(f"country table of release V{ours.group(1)} given for a trade file of release V{theirs.group(1)}",
                         path=label)
    codes = [c.strip() for c in table["country_code"]]
    for i, code in enumerate(codes):
        if not _DIGITS.fullmatch(code):
            raise InputError(f"not a numeric country code: {code!r}", path=label, line=i + 2, column="country_code")
    numeric = [int(c) for c in codes]
    isos = [v.strip().upper() for v in table[iso_col]]
    fallback = countries.from_numeric(numeric)
    mapped = ((n, fallback.get(n) if n in ENTITY_CODES or not countries.is_known(iso) else countries.RETIRED_ISO3.get(iso, iso))
              for n, iso in zip(numeric, isos, strict=True))
    return {n: iso for n, iso in mapped if iso is not None}


def product_table(path: Path, label: str) -> list[tuple[str, str, str]]:
    """(hs_rev, product, description) rows from a release's product_codes_HS22_V202501.csv.

    Codes one digit short (HS92 tables write `10111`) get their leading zero back; other lengths are
    an error naming the line."""
    rev = _REV.search(Path(label).name) or re.search(r"_HS(\d\d)", Path(label).name, re.I)
    if rev is None:
        raise InputError("cannot tell the HS revision from the product table's name (product_codes_HS22_V*.csv)", path=label)
    table = {name.lower(): values for name, values in read_table(path).items()}
    if not {"code", "description"} <= set(table):
        raise InputError("expected columns code,description", path=label, line=1)
    rows = []
    for i, (raw, description) in enumerate(zip(table["code"], table["description"], strict=True)):
        code = raw.strip()
        code = "0" + code if len(code) == 5 else code
        if not _HS6_CODE.fullmatch(code):
            raise InputError(f"not an HS6 code: {raw!r}", path=label, line=i + 2, column="code")
        rows.append((f"HS{rev.group(1)}", code, description.strip()))
    return rows


def code_lookups(codes: dict[int, str]):
    """SQL mapping a numeric code column to its ISO3 or area code, and to whether that is a country,
    through two constant lists indexed by code.

    Lists instead of a join: on a BACI year a join doubled the ingest time; the country flag from its
    own list costs a tenth of an `iso NOT IN (areas)` test per row.
    """
    size = max(codes) + 1
    isos: list[str | None] = [None] * size
    for code, iso in codes.items():
        isos[code] = iso
    iso_list = "[" + ", ".join("NULL" if v is None else sql_str(v) for v in isos) + "]"
    country_list = "[" + ", ".join("NULL" if v is None else str(v not in countries.AREAS).lower() for v in isos) + "]"
    # Lists are 1-based and out-of-range indexes give NULL; greatest() keeps negative codes out of range.
    return (lambda col: f"{iso_list}[greatest({col}, -1) + 1]"), (lambda col: f"{country_list}[greatest({col}, -1) + 1]")


# q as written: blank or NA (padded with spaces in some releases) is unknown; anything else not a number
# is -1, which `checks` rejects. The cast, which ignores the padding, runs first: trim only for the rest.
_QUANTITY = "coalesce(TRY_CAST(q AS DOUBLE), CASE WHEN q IS NULL OR trim(q) IN ('', 'NA') THEN NULL ELSE -1 END)"
_HS6 = "CASE length(trim(k)) WHEN 5 THEN '0' || trim(k) ELSE trim(k) END"
# A row's segment key from its year, one to one (blank 1, t >= 0 even, t < 0 odd), and the year back from
# the key: a blank or implausible year reaches the checks with its line, as any other value does.
_YEAR_KEY = "CASE WHEN t IS NULL THEN 1 WHEN t >= 0 THEN 2 + 2 * CAST(t AS BIGINT) ELSE 1 - 2 * CAST(t AS BIGINT) END"
_KEY_YEAR = "CASE WHEN k = 1 THEN NULL WHEN k % 2 = 0 THEN (k - 2) // 2 ELSE (1 - k) // 2 END"


def columns(path: Path, batch_id: str, options: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """SQL for each stored column from the file's `t,i,j,k,v,q`: those of `flow_rows`, then those of
    `segments` (from `t` alone). Blank fields are written '' (and year 0), so that they reach `checks`."""
    rev = hs_revision(path, options)
    iso, is_country = code_lookups(code_table(options, path))
    rows = {
        "reporter": f"coalesce({iso('i')}, '?' || coalesce(CAST(i AS VARCHAR), ''))", "reporter_is_country": f"coalesce({is_country('i')}, false)",
        "partner": f"coalesce({iso('j')}, '?' || coalesce(CAST(j AS VARCHAR), ''))", "partner_is_country": f"coalesce({is_country('j')}, false)",
        "product": f"coalesce({_HS6}, '')", "product_level": "6", "value_usd": "v * 1000", "quantity": _QUANTITY, "value_native": "NULL",
    }
    segment = {
        "period": "coalesce(CAST(t AS VARCHAR), '')", "freq": "'A'", "year": "coalesce(t, 0)", "month": "NULL", "flow": "'export'",
        "hs_rev": sql_str(rev), "unit": "'t'", "source": "'baci'", "batch_id": sql_str(batch_id), "currency": "'USD'",
    }
    return rows, segment


def _named(columns: dict[str, str]) -> str:
    return ", ".join(f"{sql} AS {name}" for name, sql in columns.items())


class Baci:
    name = "baci"
    # The file's column behind each canonical one, for the store's checks' messages (`check_batch`).
    source_columns = {"year": "t", "period": "t", "reporter": "i", "partner": "j", "product": "k", "value_usd": "v", "quantity": "q"}

    def sniff(self, path: Path, head: str) -> bool:
        return head.split("\n", 1)[0].strip().replace(" ", "").lower() == ",".join(HEADER)

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        """The whole file in one INSERT ... SELECT from DuckDB's reader; the rows are checked by `checks`.

        Of the columns stored once per combination (`schema.SEGMENT`), only the year varies in a BACI
        file: each row is keyed by its year (`_YEAR_KEY`), and the file's segments are made from the keys
        written, so the file is read once (the generic `write_flows` reads its rows twice)."""
        header = io.read_head(path).split("\n", 1)[0].strip().replace(" ", "").split(",")
        if [h.lower() for h in header] != HEADER:
            raise InputError(f"expected header t,i,j,k,v,q, found {','.join(header)}", path=path, line=1)
        rows, segment = columns(path, batch_id, options)
        base = next_segment(con)
        try:
            written = con.execute(f"INSERT INTO flow_rows BY NAME SELECT {base} + {_YEAR_KEY} AS segment, {_named(rows)}"
                                  f" FROM {read_csv_sql(path, COLUMNS)}").fetchone()[0]
            con.execute(f"""INSERT INTO segments BY NAME SELECT {base} + k AS segment, {_named(segment)} FROM (
                              SELECT k, {_KEY_YEAR} AS t FROM (SELECT DISTINCT segment - {base} AS k FROM flow_rows WHERE segment > {base}))""")
        except duckdb.Error as exc:
            raise csv_error(exc, path) from None
        return written

    def checks(self, path: Path, options: dict[str, Any]) -> list[io.Check]:
        """BACI's own row checks, on the inserted rows in the store's one check scan (`check_batch`)."""
        checks = [  # blank fields were written '' (and year 0) so that they reach these checks with their line
            io.Check("blank year", "t", "period = ''"),
            io.Check("unknown country code {v}", "i", "reporter LIKE '?%'", "if(reporter = '?', '(blank)', substr(reporter, 2))"),
            io.Check("unknown country code {v}", "j", "partner LIKE '?%'", "if(partner = '?', '(blank)', substr(partner, 2))"),
            io.Check("not an HS6 code (6 digits, or 5 without the leading zero): {v}", "k",
                     "length(product) <> 6 OR ltrim(product, '0123456789') <> ''", "if(product = '', '(blank)', product)"),
            io.Check("blank trade value", "v", "value_usd IS NULL"),
            io.Check("negative trade value {v}", "v", "value_usd < 0", "value_usd / 1000"),
            io.Check("quantity is not a non-negative number", "q", "quantity < 0"),
        ]
        if named := _YEAR.search(path.name):
            checks.append(io.Check(f"a row of year {{v}} in a file named for {named.group(1)}", "t",
                                   f"year <> {int(named.group(1))}", "year"))
        return checks


io.register(Baci())
