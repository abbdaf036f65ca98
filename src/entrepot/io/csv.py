"""Any other CSV, read through a column mapping given with `--map`.

The mapping names, for each canonical field, the file's column: on the command line as
`--map "reporter=Reporter ISO,partner=Partner,year=Year,value_usd=Value"`, or in a TOML file:

    [columns]            # canonical field = the file's column
    reporter = "Reporter ISO"
    partner = "Partner"
    year = "Year"        # or period = "Period" (YYYY, YYYY-MM or YYYYMM)
    value_usd = "Value"
    product = "HS6"      # optional: TOTAL when absent
    flow = "Flow"        # optional when [constants] gives it
    [constants]
    flow = "export"      # export, import, re-export, re-import
    value_scale = 1000   # values in thousands
    countries = "iso3"   # how the file writes countries: iso3, numeric (M49) or name
    hs_rev = "HS17"

This adapter is chosen only by `--format csv` (or when `--map` is given): it never guesses.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io._frame import insert, periods, read_csv_rows

FIELDS = ("reporter", "partner", "year", "month", "period", "flow", "product", "value_usd", "quantity", "unit", "hs_rev")
CONSTANTS = ("flow", "value_scale", "countries", "hs_rev", "unit", "product")
FLOW_WORDS = {k: k for k in schema.FLOW_KINDS} | {"exports": "export", "imports": "import", "x": "export", "m": "import"}


def parse_mapping(spec: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(columns, constants) from a TOML file path or `field=column,...` pairs."""
    path = Path(spec)
    if path.suffix.lower() == ".toml":
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"cannot read the mapping: {exc}", path=path) from None
        columns, constants = dict(doc.get("columns", {})), dict(doc.get("constants", {}))
    else:
        columns, constants = {}, {}
        for pair in filter(None, (p.strip() for p in spec.split(","))):
            field, sep, column = pair.partition("=")
            if not sep:
                raise InputError(f"--map: expected field=column, found {pair!r}")
            columns[field.strip()] = column.strip()
    unknown = [f for f in columns if f not in FIELDS] + [c for c in constants if c not in CONSTANTS]
    if unknown:
        raise InputError(f"mapping: unknown field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    return columns, constants


class Csv:
    name = "csv"

    def sniff(self, path: Path, head: str) -> bool:
        return False  # only by --format csv or --map

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        if not options.get("map"):
            raise InputError("the csv format needs a column mapping: --map FILE.toml or --map field=column,...")
        columns, constants = parse_mapping(str(options["map"]))
        needed = ["reporter", "partner", "value_usd"] + ([] if "flow" in constants else ["flow"])
        needed += [] if "period" in columns else ["year"]
        missing = [f for f in needed if f not in columns]
        if missing:
            raise InputError(f"mapping lacks {', '.join(missing)}")
        raw = read_csv_rows(path)
        raw.require(list(columns.values()))
        raw.rename({v: k for k, v in columns.items()})
        year, month = self._period(raw, columns)
        kind = constants.get("countries", "auto")
        flow = raw.text("flow").str.lower().map(FLOW_WORDS) if "flow" in columns else pd.Series(constants["flow"], index=raw.df.index)
        if "flow" in columns:
            raw.where(flow.isna(), "flow", lambda v: f"flow {v!r} is not one of {', '.join(schema.FLOW_KINDS)}")
        product = (raw.text("product").str.replace(".", "", regex=False) if "product" in columns
                   else pd.Series(constants.get("product", schema.TOTAL), index=raw.df.index))
        ok = product.str.upper().eq(schema.TOTAL) | product.str.fullmatch(r"\d{2}(\d{2})*").fillna(False)
        if "product" in columns:
            raw.where(~ok, "product", lambda v: f"not an HS code or TOTAL: {v!r}")
        return insert(
            con,
            {
                **periods(year, month),
                "reporter": raw.country("reporter", kind),
                "partner": raw.country("partner", kind),
                "flow": flow,
                "hs_rev": raw.text("hs_rev") if "hs_rev" in columns else constants.get("hs_rev"),
                "product": product.where(~product.str.upper().eq(schema.TOTAL), schema.TOTAL),
                "value_usd": raw.numbers("value_usd", scale=float(constants.get("value_scale", 1))),
                "quantity": raw.numbers("quantity") if "quantity" in columns else None,
                "unit": raw.text("unit") if "unit" in columns else constants.get("unit"),
            },
            "csv",
            batch_id,
            None if raw.rows_are_lines else raw.place(self._fields(columns)),
        )

    @staticmethod
    def _fields(columns: dict[str, str]) -> dict[str, str]:
        """The mapped field each canonical column comes from (messages then name the file's column)."""
        when = "period" if "period" in columns else "year"
        return {"year": when, "month": "month" if "month" in columns else when, "freq": when, "period": when,
                "product_level": "product"}

    def _period(self, raw, columns: dict[str, str]) -> tuple[pd.Series, pd.Series | None]:
        if "period" in columns:
            found = raw.text("period").str.extract(r"^(\d{4})(?:-?(0[1-9]|1[0-2]))?$")
            raw.where(found[0].isna(), "period", lambda v: f"unreadable period {v!r} (YYYY, YYYY-MM or YYYYMM)")
            return found[0].astype(int), pd.to_numeric(found[1]).astype("Int64")
        year = raw.numbers("year", required=True).astype("int64")
        month = raw.numbers("month").astype("Int64") if "month" in columns else None
        if month is not None:
            raw.where(~month.between(1, 12).fillna(True), "month", lambda v: f"month {v!r} not in 1-12")
        return year, month


io.register(Csv())
