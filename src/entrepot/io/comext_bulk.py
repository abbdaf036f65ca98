"""Eurostat Comext bulk files: `full_v2_YYYYMM.dat` (published as `.7z`; `YYYY52` is the year).

The documented v2 layout is a comma-separated file with a header:
`REPORTER,PARTNER,TRADE_TYPE,PRODUCT_NC,PRODUCT_SITC,PRODUCT_CPA21,PRODUCT_BEC,PRODUCT_BEC5,
PRODUCT_SECTION,FLOW,STAT_PROCEDURE,SUPPL_UNIT,PERIOD,VALUE_EUR,VALUE_NAC,QUANTITY_KG,QUANTITY_SUPPL_UNIT`
(the v1 files before 2025 name the same fields `DECLARANT_ISO`, `PARTNER_ISO`, `STAT_REGIME`,
`VALUE_IN_EUROS`, `QUANTITY_IN_KG`). Columns are found by name, so either layout reads.

Reporter and partner are Eurostat's alpha-2 codes (`GR` or `EL` Greece, `XI`/`XU` the UK's two parts
after Brexit, `Q*` special partners: see `entrepot.countries.AREAS`). FLOW 1 is imports, 2 exports.
Each row is one CN8 code, one statistical procedure (1 normal, 2 inward and 3 outward processing,
9 not from customs declarations) and one trade type (intra/extra-EU): their values are parts of one
flow and are summed to the HS6 heading (the first six digits of the CN8), as the relational view
adds them. Lines equal in every dimension (every column but the values and quantities) are the same
observation twice: an error naming both lines. Values may use exponent notation (`1.5E+07`). CN8
codes Eurostat hides (`8542XXXX`, confidential below the heading) keep the digits it publishes, cut
to an even length (HS4 `8542`), so no value is lost or put under the wrong heading; chapter 99
(special CN codes, not HS goods) is left out with a note. EUR become USD as for the browser files
(`entrepot.io.comext.load_rates`). The whole file is read and summed by DuckDB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import countries, io, schema
from entrepot.errors import InputError
from entrepot.io import Written
from entrepot.io._csvsql import csv_error, sql_str
from entrepot.io._frame import check_rows, country_map, summed
from entrepot.io.comext import hs_revision_for, parse_period, usd_per_eur
from entrepot.store.warehouse import write_flows

# canonical field -> the column names of the v2 and v1 layouts
FIELDS = {
    "reporter": ("DECLARANT_ISO", "REPORTER"),  # v1 also has a numeric DECLARANT and PARTNER
    "partner": ("PARTNER_ISO", "PARTNER"),
    "product": ("PRODUCT_NC",),
    "flow": ("FLOW",),
    "period": ("PERIOD",),
    "value": ("VALUE_EUR", "VALUE_IN_EUROS"),
    "quantity": ("QUANTITY_KG", "QUANTITY_IN_KG"),
}
OPTIONAL = ("quantity",)
# The measures (v2 and v1 names); every other column is a dimension of the line (`_dimensions`).
MEASURES = ("VALUE_EUR", "VALUE_NAC", "QUANTITY_KG", "QUANTITY_SUPPL_UNIT", "VALUE_IN_EUROS", "QUANTITY_IN_KG", "SUP_QUANTITY")
# A number as the bulk files write it: digits, an optional '.' decimal part and exponent ('1.5E+07').
NUMBER = "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?"
# The field of `FIELDS` each canonical column comes from, for messages.
SOURCE = {"value_usd": "value", "value_native": "value", "unit": "quantity", "year": "period", "month": "period",
          "freq": "period", "hs_rev": "product", "product_level": "product"}


def _header(head: str) -> tuple[list[str], str]:
    line = head.split("\n", 1)[0].strip()
    delim = max((",", ";", "|", "\t"), key=line.count)
    return [c.strip().strip('"').upper() for c in line.split(delim)], delim


def _columns(header: list[str]) -> dict[str, str] | None:
    found = {field: next((n for n in names if n in header), None) for field, names in FIELDS.items()}
    if any(v is None for k, v in found.items() if k not in OPTIONAL):
        return None
    return {k: v for k, v in found.items() if v is not None}


def _line(path: Path, line: int) -> int:
    """The physical line of `_bulk`'s `line` (DuckDB's reader skips blank lines, which the count does not see)."""
    return io.physical_line(path, int(line) - 2)


class ComextBulk:
    name = "comext-bulk"

    def sniff(self, path: Path, head: str) -> bool:
        return _columns(_header(head)[0]) is not None

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        header, delim = _header(io.read_head(path))
        cols = _columns(header)
        if cols is None:
            missing = [names[0] for f, names in FIELDS.items() if f not in OPTIONAL and not set(names) & set(header)]
            raise InputError(f"missing column(s) {', '.join(missing)}", path=path, line=1)
        types = ", ".join(f"{sql_str(h)}: 'VARCHAR'" for h in header)
        src = (f"read_csv({sql_str(path)}, header=true, auto_detect=false, delim={sql_str(delim)}, "
               f"quote='\"', escape='\"', columns={{{types}}})")
        fields = ", ".join(f'trim("{v}") AS {k}' for k, v in cols.items())
        # The dimensions the canonical row drops (trade type, procedure, supplementary unit...) as one hash,
        # for `_once`: two of the few lines of one flow that differ in them but hash alike would be refused,
        # never summed silently (a chance of about 1 in 1e18 per flow).
        dropped = [h for h in header if h not in MEASURES and h not in cols.values()]
        trimmed = ", ".join(f'trim("{h}")' for h in dropped)
        rest = f"hash({trimmed})" if dropped else "0"
        try:  # `line`: the row's number counting the header as 1; `_line` makes it the physical line
            con.execute(f"CREATE OR REPLACE TEMP TABLE _bulk AS SELECT {fields}, {rest} AS _rest, "
                        f"row_number() OVER () + 1 AS line FROM {src}")
        except duckdb.Error as exc:
            raise csv_error(exc, path) from None
        try:
            return self._insert(con, path, batch_id, options, cols)
        finally:
            con.execute("DROP TABLE IF EXISTS _bulk")

    @staticmethod
    def _once(con: duckdb.DuckDBPyConnection, path: Path, cols: dict[str, str]) -> None:
        """Lines that differ only in a dimension the canonical row drops (procedure, trade type, unit) are
        parts of one flow and are summed; two lines equal in every dimension are the same observation
        twice, an error naming both lines (summed, it would be counted twice)."""
        key = "reporter, partner, product, flow, period, _rest"
        lines, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({key})) FROM _bulk").fetchone()
        if lines == distinct:
            return
        again = con.execute(f"""SELECT first, line, reporter, partner, product, flow, period FROM
            (SELECT *, min(line) OVER (PARTITION BY {key}) AS first FROM _bulk) WHERE line > first ORDER BY line LIMIT 1""").fetchall()
        if again:
            first, line, *what = again[0]
            raise InputError(f"the same observation twice ({', '.join(what)}), again on line {_line(path, line)}; "
                             "a file must hold each observation once", path=path, line=_line(path, first))

    def _insert(self, con, path: Path, batch_id: str, options: dict[str, Any], cols: dict[str, str]) -> int:
        def fail(condition: str, field: str, reason: str) -> None:
            row = con.execute(f"SELECT * FROM _bulk WHERE {condition} ORDER BY line LIMIT 1").df()
            if len(row):
                raise InputError(reason.format(**row.iloc[0].to_dict()), path=path, line=_line(path, row["line"].iloc[0]), column=cols[field])

        fail(f"product IS NULL OR NOT (regexp_full_match(product, '[0-9]{{2}}[0-9X]{{6}}') OR product = '{schema.TOTAL}')", "product",
             "not a CN8 code (8 characters, digits or X, from two digits of HS chapter) or TOTAL: {product!r}")
        fail("flow IS NULL OR flow NOT IN ('1', '2')", "flow", "flow {flow!r} is not 1 (import) or 2 (export)")
        for field in ("value", "quantity") if "quantity" in cols else ("value",):
            fail(f"{field} NOT IN ('', ':') AND NOT regexp_full_match({field}, '{NUMBER}')", field,
                 f"not a non-negative number: {{{field}!r}}")
            fail(f"{field} NOT IN ('', ':') AND NOT coalesce(isfinite(TRY_CAST({field} AS DOUBLE)), false)", field,
                 f"number too large to be a trade figure: {{{field}!r}}")
        self._once(con, path, cols)

        periods = con.execute("SELECT DISTINCT period FROM _bulk").df()["period"]
        year, month = parse_period(periods.astype("string"))
        if year.isna().any():
            bad = periods[year.isna().to_numpy()].iloc[0]
            fail(f"period = {sql_str(bad)}", "period", "unreadable period {period!r} (YYYYMM, or YYYY52 for a year)")
        rate = usd_per_eur(year, month, options)
        if rate.isna().any():
            bad = periods[rate.isna().to_numpy()].iloc[0]
            fail(f"period = {sql_str(bad)}", "period", "no EUR/USD rate for {period!r} in the rates table")
        table = pd.DataFrame({"period": periods, "year": year.astype(int), "month": month, "rate": rate.astype(float)})
        text = table["year"].astype(str)
        table["text"] = text.where(table["month"].isna(), text + "-" + table["month"].astype("string").str.zfill(2))
        table["hs_rev"] = table["year"].map(hs_revision_for)
        con.register("_periods", table)

        names = con.execute("SELECT DISTINCT reporter AS v FROM _bulk UNION SELECT DISTINCT partner FROM _bulk").df()["v"].tolist()
        extra = countries.read_mapping(options["country_names"]) if options.get("country_names") else None
        codes = country_map(names, "auto", extra)
        unknown = sorted(v for v, code in codes.items() if code is None)
        if unknown:
            listed = ", ".join(repr(v) for v in unknown)
            side = "reporter" if con.execute("SELECT 1 FROM _bulk WHERE reporter = ? LIMIT 1", [unknown[0]]).fetchone() else "partner"
            fail(f"{side} = {sql_str(unknown[0])}", side,
                 f"unknown country code {listed}; give their codes with --countries FILE (CSV name,code)".replace("{", "{{").replace("}", "}}"))
        con.register("_codes", pd.DataFrame({"v": list(codes), "code": list(codes.values())}))

        special = con.execute("SELECT count(*) FROM _bulk WHERE product LIKE '99%'").fetchone()[0]
        hs = f"CASE WHEN product = '{schema.TOTAL}' THEN product WHEN regexp_full_match(product, '[0-9]{{8}}') THEN product[1:6] " \
             "ELSE regexp_extract(product, '^([0-9]*)')[1:2 * (length(regexp_extract(product, '^([0-9]*)')) // 2)] END"
        value = "sum(TRY_CAST(nullif(nullif(value, ''), ':') AS DOUBLE))"
        quantity = "sum(TRY_CAST(nullif(nullif(quantity, ''), ':') AS DOUBLE))" if "quantity" in cols else "NULL"
        area = ", ".join(sql_str(a) for a in countries.AREAS)
        try:  # the summed rows, each with its first line and how many lines it sums, checked before they go in
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _rows AS
                SELECT p.text AS period, CASE WHEN p.month IS NULL THEN 'A' ELSE 'M' END AS freq, p.year, p.month,
                       r.code AS reporter, r.code NOT IN ({area}) AS reporter_is_country,
                       q.code AS partner, q.code NOT IN ({area}) AS partner_is_country,
                       CASE b.flow WHEN '1' THEN 'import' ELSE 'export' END AS flow, p.hs_rev, b.hs AS product,
                       CASE WHEN b.hs = '{schema.TOTAL}' THEN 0 ELSE length(b.hs) END AS product_level, b.v * p.rate AS value_usd, b.q AS quantity,
                       CASE WHEN b.q IS NULL THEN NULL ELSE 'kg' END AS unit, 'comext' AS source, {sql_str(batch_id)} AS batch_id,
                       b.v AS value_native, 'EUR' AS currency, b.first_line AS _row, b.lines AS _lines
                FROM (SELECT reporter, partner, flow, period, {hs} AS hs, {value} AS v, {quantity} AS q,
                             min(line) AS first_line, count(*) AS lines
                      FROM _bulk WHERE product NOT LIKE '99%' GROUP BY reporter, partner, flow, period, hs) b
                JOIN _periods p ON p.period = b.period
                JOIN _codes r ON r.v = b.reporter
                JOIN _codes q ON q.v = b.partner
            """)
        finally:
            con.unregister("_periods")
            con.unregister("_codes")

        def place(line: int, column: str, reason: str) -> InputError:
            lines = con.execute("SELECT _lines FROM _rows WHERE _row = ?", [line]).fetchall()[0][0]
            return InputError(summed(reason, lines), path=path, line=_line(path, line), column=cols.get(SOURCE.get(column, column), column))

        try:
            check_rows(con, "_rows", place)
            n = write_flows(con, f"SELECT {schema.select_list()} FROM _rows")
        finally:
            con.execute("DROP TABLE IF EXISTS _rows")
        notes = [f"left out {special:,} rows of CN chapter 99 (special codes, not HS goods)"] if special else []
        return Written(n, notes)


io.register(ComextBulk())
