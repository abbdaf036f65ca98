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


def code_table(options: dict[str, Any]) -> pd.DataFrame:
    """numeric code -> ISO3/area code, from BACI's country_codes file or the standard codes."""
    if options.get("country_codes"):
        path = Path(options["country_codes"])
        try:
            table = pd.read_csv(path, dtype=str, encoding_errors="replace")
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read country codes: {exc}", path=path) from exc
        code_col = "country_code"
        iso_col = next((c for c in ("country_iso3", "iso_3digit_alpha") if c in table.columns), None)
        if code_col not in table.columns or iso_col is None:
            raise InputError("expected columns country_code and country_iso3", path=path, line=1)
        numeric = table[code_col].astype(int)
        isos = table[iso_col].fillna("").str.strip().str.upper()
        # BACI writes Comtrade's pseudo-ISO codes for a few areas ("S19" is Other Asia, nes: Taiwan).
        fallback = countries.from_numeric(numeric)
        mapped = [iso if countries.is_known(iso) else fallback.get(n) for n, iso in zip(numeric, isos, strict=True)]
        return pd.DataFrame({"code": numeric, "iso": mapped}).dropna()
    known = countries.numeric_table()
    return pd.DataFrame({"code": list(known), "iso": list(known.values())})


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
        iso = iso_lookup(code_table(options))
        src = read_csv_sql(path, COLUMNS)
        area = ", ".join(sql_str(a) for a in countries.AREAS)
        try:
            n = con.execute(
                f"""
                INSERT INTO flows
                SELECT CAST(s.t AS VARCHAR), 'A', s.t, NULL,
                       coalesce(s.ri, '?' || s.i), coalesce(s.ri NOT IN ({area}), false),
                       coalesce(s.rj, '?' || s.j), coalesce(s.rj NOT IN ({area}), false),
                       'export', {sql_str(rev)}, lpad(trim(s.k), 6, '0'), 6,
                       s.v * 1000,
                       CASE WHEN s.q IS NULL OR trim(s.q) IN ('', 'NA') THEN NULL
                            ELSE coalesce(TRY_CAST(trim(s.q) AS DOUBLE), -1) END,  -- -1 flags a bad q
                       't', 'baci', {sql_str(batch_id)}
                FROM (SELECT *, {iso("i")} AS ri, {iso("j")} AS rj FROM {src}) s
                """
            ).fetchone()[0]
        except duckdb.Error as exc:
            raise csv_error(exc, path) from None
        self._check(con, path, batch_id, src)
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
    ("NOT regexp_full_match(product, '[0-9]{6}')", "product", "k", "not an HS6 code: {v}",
     "lpad(trim(k), 6, '0') = '{v}'"),
    ("value_usd IS NULL", "NULL", "v", "blank trade value", "v IS NULL"),
    ("value_usd < 0", "value_usd / 1000", "v", "negative trade value {v}", "v < 0"),
    ("quantity < 0", "NULL", "q", "quantity is not a non-negative number",
     f"{_Q} AND coalesce(TRY_CAST(trim(q) AS DOUBLE), -1) < 0"),
]


io.register(Baci())
