"""World Bank WITS exports ("Partner" and "Product" views of its trade-summary pages).

Header `Reporter Name,Partner Name,Year,Trade Flow,...,Export (US$ Thousand),...` (or `Import (US$
Thousand)`, and `Product Group` / `Product code` columns in the product view). Countries are WITS's
English names, resolved by entrepot's country rules (WITS abbreviations such as `Occ.Pal.Terr`, its
retired entities such as `Netherlands Antilles`, and World Bank regions are listed in
`entrepot.countries`; WITS's `Serbia, FR(Serbia/Montenegro)` is SCG before 2006 and SRB from then).
Values are **thousands** of US dollars; a row with a blank value (WITS has no
figure, as for countries that no longer exist) is kept with a blank value. Products: all products
(TOTAL) unless the file has an HS `Product code` column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io import Written
from entrepot.io._frame import insert, periods, read_csv_rows

FLOWS = {"EXPORT": "export", "IMPORT": "import", "GROSS EXP.": "export", "GROSS IMP.": "import",
         "RE-EXPORT": "re-export", "RE-IMPORT": "re-import"}
_VALUE = re.compile(r"^(Export|Import|Re-Export|Re-Import|Trade Value)s? \(US\$ ?(Thousand|Mil)?\)$", re.I)


def value_column(columns: list[str]) -> tuple[str, float] | None:
    """The value column and its scale (thousand or million USD)."""
    for c in columns:
        if m := _VALUE.match(c.strip()):
            unit = (m.group(2) or "").lower()
            return c, {"thousand": 1e3, "mil": 1e6}.get(unit, 1.0)
    return None


class Wits:
    name = "wits"

    def sniff(self, path: Path, head: str) -> bool:
        first = [h.strip() for h in head.split("\n", 1)[0].split(",")]
        return {"Reporter Name", "Partner Name", "Year", "Trade Flow"} <= set(first) and value_column(first) is not None

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        raw = read_csv_rows(path)
        raw.require(["Reporter Name", "Partner Name", "Year", "Trade Flow"])
        found = value_column(list(raw.df.columns))
        if found is None:
            raise InputError("no value column such as 'Export (US$ Thousand)'", path=path, line=1)
        column, scale = found
        year = raw.numbers("Year", required=True)
        raw.where(year != year.round(), "Year", lambda v: f"year is not a whole number: {v}")
        flow = raw.text("Trade Flow").str.upper().map(FLOWS)
        raw.where(flow.isna(), "Trade Flow", lambda v: f"trade flow {v!r} is not Export or Import")
        if "Product code" in raw.df.columns:
            product = raw.text("Product code").str.upper()
            ok = product.str.fullmatch(r"\d{2}|\d{4}|\d{6}").fillna(False) | product.isin(["TOTAL", "ALL", "TOTAL TRADE"])
            raw.where(~ok, "Product code", lambda v: f"not an HS code (2, 4 or 6 digits) or Total: {v!r}")
            product = product.where(product.str.fullmatch(r"\d+").fillna(False), schema.TOTAL)
        else:
            product = pd.Series(schema.TOTAL, index=raw.df.index)
        who = raw.countries(["Reporter Name", "Partner Name"], "name", options)
        for side in who:  # WITS's one label for its code SER: Serbia and Montenegro until 2005, Serbia after
            scg = raw.text(side).str.fullmatch(r"Serbia, FR\s*\(Serbia/Montenegro\)").fillna(False) & (year < 2006)
            who[side] = who[side].where(~scg, "SCG")
        keys = pd.DataFrame({"r": who["Reporter Name"], "p": who["Partner Name"], "y": year, "f": flow, "k": product})
        raw.one_name_per_code(keys, ["Reporter Name", "Partner Name"])
        raw.once(keys)
        fields = {"value_usd": column, "year": "Year", "period": "Year", "freq": "Year", "month": "Year", "flow": "Trade Flow",
                  "product": "Product code", "product_level": "Product code", "reporter": "Reporter Name", "partner": "Partner Name"}
        return Written(insert(con, {
            **periods(year.astype("int64"), None),
            "reporter": who["Reporter Name"],
            "partner": who["Partner Name"],
            "flow": flow,
            "product": product,
            "value_usd": raw.numbers(column, scale=scale),
        }, "wits", batch_id, raw.place(fields)), raw.notes)


io.register(Wits())
