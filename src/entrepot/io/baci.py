"""CEPII BACI: `t,i,j,k,v,q` with `v` in thousands of USD and `q` in tonnes.

BACI is reconciled data (one figure per exporter, importer and product), stored as the exporter's
exports (`reporter = i`, `flow = 'export'`). Country codes are BACI's numeric codes: read through the
release's `country_codes_V*.csv` when given (`--country-codes`), else as UN M49 / Comtrade codes.
The HS revision comes from the file name (`BACI_HS17_Y2022_V202401.csv`) or `--hs-rev`. The whole
file is read by one DuckDB statement, so a BACI year (11 million rows) goes in at close to the speed
of DuckDB's own CSV reader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import countries, io
from entrepot.errors import InputError
from entrepot.io._csvsql import csv_error, first_line_where, read_csv_sql, sql_str

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


def read_table(path: Path) -> pd.DataFrame:
    """A BACI companion CSV as text: UTF-8 with or without BOM (else Latin-1), LF or CRLF."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    import io as _io

    try:
        return pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"not a readable CSV table: {exc}", path=path) from None


def code_table(options: dict[str, Any], trade_file: Path | None = None) -> pd.DataFrame:
    """numeric code -> ISO3/area code, from the release's country_codes file or the standard codes.

    Both header variants are read: `country_code,country_name,country_iso2,country_iso3` (V202401
    on) and `country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,
    iso_3digit_alpha` (V202301 and before). A table from another release than the trade file's
    (`_V202301` against `_V202501`) is an error: the numbering changes between releases (Italy is
    381 in V202201, 380 later).
    """
    if not options.get("country_codes"):
        known = countries.numeric_table()
        return pd.DataFrame({"code": list(known), "iso": list(known.values())})
    path = Path(options["country_codes"])
    label = options.get("country_codes_label", str(path))
    table = read_table(path)
    table.columns = [c.strip() for c in table.columns]
    iso_col = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in table.columns), None)
    if "country_code" not in table.columns or iso_col is None:
        raise InputError("expected columns country_code and country_iso3 (or iso_3digit_alpha)", path=label, line=1)
    ours, theirs = (_VERSION.search(Path(label).name), _VERSION.search(trade_file.name) if trade_file else None)
    if ours and theirs and ours.group(1).lower() != theirs.group(1).lower():
        raise InputError(f"country table of release V{ours.group(1)} given for a trade file of release V{theirs.group(1)}",
                         path=label)
    codes = table["country_code"].str.strip()
    bad = ~codes.str.fullmatch(r"\d+")
    if bad.any():
        raise InputError(f"not a numeric country code: {codes[bad].iloc[0]!r}", path=label,
                         line=int(bad.to_numpy().argmax()) + 2, column="country_code")
    numeric = codes.astype(int)
    isos = table[iso_col].str.strip().str.upper()
    fallback = countries.from_numeric(numeric)
    mapped = [fallback.get(n) if n in ENTITY_CODES or not countries.is_known(iso) else countries.RETIRED_ISO3.get(iso, iso)
              for n, iso in zip(numeric, isos, strict=True)]
    return pd.DataFrame({"code": numeric, "iso": mapped}).dropna()


def product_table(path: Path, label: str) -> pd.DataFrame:
    """(hs_rev, product, description) from a release's product_codes_HS22_V202501.csv.

    Codes one digit short (HS92 tables write `10111`) get their leading zero back; other lengths are
    an error naming the line."""
    rev = _REV.search(Path(label).name) or re.search(r"_HS(\d\d)", Path(label).name, re.I)
    if rev is None:
        raise InputError("cannot tell the HS revision from the product table's name (product_codes_HS22_V*.csv)", path=label)
    table = read_table(path)
    table.columns = [c.strip().lower() for c in table.columns]
    if not {"code", "description"} <= set(table.columns):
        raise InputError("expected columns code,description", path=label, line=1)
    code = table["code"].str.strip()
    code = code.where(code.str.len() != 5, "0" + code)
    bad = ~code.str.fullmatch(r"\d{6}")
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(f"not an HS6 code: {table['code'].iloc[i]!r}", path=label, line=i + 2, column="code")
    return pd.DataFrame({"hs_rev": f"HS{rev.group(1)}", "product": code, "description": table["description"].str.strip()})


def iso_lookup(codes: pd.DataFrame):
    """SQL mapping a numeric code column to ISO3 through a constant list indexed by code.

    A list lookup instead of a join: on a BACI year the join doubled the ingest time.
    """
    table: list[str | None] = [None] * (int(codes["code"].max()) + 1)
    for code, iso in zip(codes["code"], codes["iso"], strict=True):
        table[int(code)] = iso
    literal = "[" + ", ".join("NULL" if v is None else sql_str(v) for v in table) + "]"
    # Lists are 1-based and out-of-range indexes give NULL; greatest() keeps negative codes out of range.
    return lambda col: f"{literal}[greatest({col}, -1) + 1]"


class Baci:
    name = "baci"

    def sniff(self, path: Path, head: str) -> bool:
        return head.split("\n", 1)[0].strip().replace(" ", "").lower() == ",".join(HEADER)

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        header = io.read_head(path).split("\n", 1)[0].strip().replace(" ", "").split(",")
        if [h.lower() for h in header] != HEADER:
            raise InputError(f"expected header t,i,j,k,v,q, found {','.join(header)}", path=path, line=1)
        rev = hs_revision(path, options)
        iso = iso_lookup(code_table(options, path))
        src = read_csv_sql(path, COLUMNS)
        area = ", ".join(sql_str(a) for a in countries.AREAS)
        try:
            n = con.execute(
                f"""
                INSERT INTO flows
                SELECT CAST(s.t AS VARCHAR), 'A', s.t, NULL,
                       coalesce(s.ri, '?' || s.i), coalesce(s.ri NOT IN ({area}), false),
                       coalesce(s.rj, '?' || s.j), coalesce(s.rj NOT IN ({area}), false),
                       'export', {sql_str(rev)}, CASE length(trim(s.k)) WHEN 5 THEN '0' || trim(s.k) ELSE trim(s.k) END, 6,
                       s.v * 1000,
                       CASE WHEN s.q IS NULL OR trim(s.q) IN ('', 'NA') THEN NULL
                            ELSE coalesce(TRY_CAST(trim(s.q) AS DOUBLE), -1) END,  -- -1 flags a bad q
                       't', 'baci', {sql_str(batch_id)}, NULL, 'USD'
                FROM (SELECT *, {iso("i")} AS ri, {iso("j")} AS rj FROM {src}) s
                """
            ).fetchone()[0]
        except duckdb.Error as exc:
            raise csv_error(exc, path) from None
        self._check(con, path, batch_id, src)
        if named := _YEAR.search(path.name):
            other = con.execute("SELECT year FROM flows WHERE batch_id = ? AND year <> ? LIMIT 1", [batch_id, int(named.group(1))]).fetchone()
            if other is not None:
                line = first_line_where(con, src, f"t <> {int(named.group(1))}")
                raise InputError(f"a row of year {other[0]} in a file named for {named.group(1)}", path=path, line=line, column="t")
        return n

    def _check(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, src: str) -> None:
        """Row checks on the inserted batch (fast); the source line is looked up only when one fails."""
        for condition, shown, column, reason, raw in _CHECKS:
            bad = con.execute(
                f"SELECT {shown} FROM flows WHERE batch_id = ? AND {condition} LIMIT 1", [batch_id]
            ).fetchone()
            if bad is not None:
                line = first_line_where(con, src, raw.format(v=bad[0]))
                raise InputError(reason.format(v=bad[0]), path=path, line=line, column=column)


_Q = "trim(q) NOT IN ('', 'NA')"
# (condition on inserted rows, value to show, source column, reason, condition on the source rows)
_CHECKS = [
    ("reporter LIKE '?%'", "substr(reporter, 2)", "i", "unknown country code {v}", "i = {v}"),
    ("partner LIKE '?%'", "substr(partner, 2)", "j", "unknown country code {v}", "j = {v}"),
    ("NOT regexp_full_match(product, '[0-9]{6}')", "product", "k", "not an HS6 code (6 digits, or 5 without the leading zero): {v}",
     "(CASE length(trim(k)) WHEN 5 THEN '0' || trim(k) ELSE trim(k) END) = '{v}'"),
    ("value_usd IS NULL", "NULL", "v", "blank trade value", "v IS NULL"),
    ("value_usd < 0", "value_usd / 1000", "v", "negative trade value {v}", "v < 0"),
    ("quantity < 0", "NULL", "q", "quantity is not a non-negative number",
     f"{_Q} AND coalesce(TRY_CAST(trim(q) AS DOUBLE), -1) < 0"),
]


io.register(Baci())
