"""Eurostat Comext data-browser spreadsheet exports (.xlsx): one product per sheet, months across.

A workbook has a `Summary` and a `Structure` sheet, then `Sheet 1`, `Sheet 2`, ... Each data sheet
is a metadata block (`Data extracted on ...`, `Dataset:`, then one line per fixed dimension: label in
column A, value in column C, e.g. `PRODUCT [PRODUCT]` / `... [21039090]`, `FLOW` / `EXPORT`,
`INDICATORS` / `VALUE_IN_EUROS`), a `TIME` row naming the periods across (`2020-01` ... or `2020`),
a `FREQ (Labels)` row, a header row naming the row dimensions (`REPORTER (Labels)`, `PARTNER
(Labels)`), one row per reporter and partner, a blank row and the special values' legend.

- The product is the code in the brackets at the end of the `PRODUCT` label: CN8 codes are kept as
  CN8 (`product_level` 8), HS2/HS4/HS6 and `TOTAL` as they come. Nothing is summed here: a workbook
  holds a selection of CN8 lines, so their sum is not the HS6 heading's total. Rolling up to HS6, HS4
  or HS2 is done on read (`entrepot.concordance.rollup`), where it is plain what was summed.
- The HS revision is the one the CN followed in each period's year (CN 2020-2021 on HS 2017, CN 2022
  on HS 2022), so one workbook spanning January 2022 holds two revisions.
- `:` is Eurostat's "not available" (Comext publishes no zeros): such a cell gives no row.
- `VALUE_IN_EUROS` becomes `value_native` in EUR and `value_usd` through the monthly rates of
  `entrepot.io.comext` (shipped ECB table, or `--rates FILE`); `QUANTITY_IN_100KG` becomes kg.

Read with python-calamine (Rust's calamine): the 22 workbooks of the EU-Russia case (2,342 sheets,
16 million cells) take about 20 s, openpyxl about 15 minutes.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from entrepot import countries, io, schema
from entrepot.errors import InputError
from entrepot.io import Written
from entrepot.io._frame import insert, periods
from entrepot.io.comext import hs_revision_for, parse_period, usd_per_eur

FLOWS = {"EXPORT": "export", "IMPORT": "import"}
INDICATORS = {"VALUE_IN_EUROS": ("value_native", 1.0), "VALUE_IN_EUR": ("value_native", 1.0),
              "QUANTITY_IN_100KG": ("quantity", 100.0)}
NOT_AVAILABLE = ":"
CODE = re.compile(r"\[([^\[\]]+)\]\s*$")
# Eurostat's reporter labels carry the territories' history: "France (incl. Saint Barthélemy 'BL' -> 2012; ...)".
INCL = re.compile(r"\s*\(incl\..*$")
SKIP_SHEETS = {"Summary", "Structure"}


def _letter(col: int) -> str:
    """Spreadsheet column letters of a 0-based index (0 -> A, 27 -> AB)."""
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class Sheet:
    """One data sheet's dimensions and values, with the place of each for error messages."""

    def __init__(self, path: Path, name: str, rows: list[list[Any]]) -> None:
        self.path, self.name = path, name
        self.where = f"{path} [{name}]"
        fixed: dict[str, tuple[str, int]] = {}
        i = 0
        while i < len(rows) and _text(rows[i][0]) != "TIME":
            label = _text(rows[i][0])
            if label and not label.startswith(("Data extracted", "Dataset", "Last updated")):
                value = next((_text(v) for v in rows[i][1:] if _text(v)), "")
                fixed[label.split(" [")[0].upper()] = (value, i + 1)
            i += 1
        if i == len(rows):
            raise InputError("no TIME row: not a Comext data-browser sheet", path=self.where)
        time_row, self.time_line = rows[i], i + 1
        self.first_col = next((k for k, v in enumerate(time_row) if _text(v) != "TIME"), len(time_row))
        self.period_labels = [_text(v) for v in time_row[self.first_col:]]
        header_at = next((k for k in range(i + 1, len(rows)) if _text(rows[k][0]).endswith("(Labels)")
                          and not _text(rows[k][0]).startswith("FREQ")), None)
        if header_at is None:
            raise InputError("no header row of row dimensions (e.g. 'REPORTER (Labels)')", path=self.where, line=i + 2)
        self.row_dims = [_text(v).replace("(Labels)", "").strip().upper() for v in rows[header_at][:self.first_col]]
        self.fixed = fixed
        end = next((k for k in range(header_at + 1, len(rows)) if not _text(rows[k][0])), len(rows))
        self.data_start = header_at + 1
        self.data = rows[self.data_start:end]
        for dim in ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "INDICATORS"):
            if dim not in fixed and dim not in self.row_dims:
                raise InputError(f"the sheet does not say its {dim} (neither in the header block nor as a row)", path=self.where)

    def fail(self, row: int, col: int, reason: str) -> InputError:
        return InputError(reason, path=self.where, line=row, column=_letter(col))

    def dimension(self, dim: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Each data row's value of `dim`, and the spreadsheet row and column (for messages) it came from."""
        if dim in self.fixed:
            value, line = self.fixed[dim]
            return np.full(len(self.data), value, dtype=object), np.full(len(self.data), line), 2
        k = self.row_dims.index(dim)
        lines = np.arange(self.data_start + 1, self.data_start + 1 + len(self.data))
        return np.array([_text(r[k]) for r in self.data], dtype=object), lines, k

    def long(self) -> pd.DataFrame:
        """One row per available cell: the row dimensions, the period label and the amount."""
        if not self.data:
            return pd.DataFrame()
        width = len(self.period_labels)
        cells = np.array([(list(r[self.first_col:]) + [None] * width)[:width] for r in self.data], dtype=object)
        flat = pd.Series(cells.ravel())
        amount = pd.to_numeric(flat, errors="coerce")
        missing = amount.isna() & (flat.isna() | flat.isin(["", NOT_AVAILABLE]))
        odd = amount.isna() & ~missing  # rare: text cells other than ':' (a padded ':' is still ':')
        missing[odd] = flat[odd].map(_text).isin(["", NOT_AVAILABLE]).to_numpy(dtype=bool)
        bad = amount.isna() & ~missing
        if bad.any():
            k = int(np.argmax(bad.to_numpy()))
            raise self.fail(self.data_start + 1 + k // width, self.first_col + k % width, f"not a number: {flat.iloc[k]!r}")
        negative = amount < 0
        if negative.any():
            k = int(np.argmax(negative.to_numpy()))
            raise self.fail(self.data_start + 1 + k // width, self.first_col + k % width, f"negative value {flat.iloc[k]!r}")
        keep = (~missing).to_numpy()
        row_of = np.repeat(np.arange(len(self.data)), width)[keep]
        col_of = np.tile(np.arange(width), len(self.data))[keep]
        out = {"amount": amount.to_numpy()[keep], "period_label": np.array(self.period_labels, dtype=object)[col_of],
               "line": self.data_start + 1 + row_of, "col": self.first_col + col_of}
        for dim in ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "INDICATORS"):
            values, lines, col = self.dimension(dim)
            out[dim] = values[row_of]
            out[f"{dim}_line"] = lines[row_of]
            out[f"{dim}_col"] = col
        frame = pd.DataFrame(out)
        frame["sheet"], frame["time_line"] = self.name, self.time_line
        return frame


def product_code(label: str) -> str | None:
    """The code in the brackets ending a Comext product label (`... [21039090]` -> `21039090`)."""
    found = CODE.search(label)
    code = (found.group(1) if found else label).replace(" ", "").upper()
    if code == "TOTAL":
        return schema.TOTAL
    return code if re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}", code) else None


def reporter_names(labels: list[str], notes: list[str] | None = None) -> dict[str, str | None]:
    """ISO3 codes of Eurostat's country labels, their `(incl. ...)` history notes set aside."""
    stripped = {label: INCL.sub("", label) for label in labels}
    found = countries.from_name(set(stripped.values()), notes=notes)
    return {label: found[s] for label, s in stripped.items()}


def read_workbook(path: Path) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for a damaged or foreign file
        raise InputError(f"cannot read the workbook: {exc}", path=path) from None
    sheets = []
    for name in book.sheet_names:
        if name in SKIP_SHEETS:
            continue
        sheets.append(Sheet(path, name, book.get_sheet_by_name(name).to_python()))
    if not sheets:
        raise InputError("no data sheets (only Summary/Structure)", path=path)
    return sheets


class ComextXlsx:
    name = "comext-xlsx"

    def sniff(self, path: Path, head: str) -> bool:
        if path.suffix.lower() != ".xlsx" or not head.startswith("PK"):
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                names = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
                names = names[:3] + [n for n in zf.namelist() if n == "xl/sharedStrings.xml"]  # inline or shared text
                sample = b"".join(zf.open(n).read(1 << 16) for n in names)
        except (zipfile.BadZipFile, OSError, KeyError):
            return False
        return b"from [ESTAT]" in sample and b"Dataset" in sample

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        frames = [s.long() for s in read_workbook(path)]
        frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
        if frame.empty:
            return 0

        def check(mask: pd.Series, dim: str, reason: str) -> None:
            if mask.any():
                row = frame[mask].iloc[0]
                raise InputError(reason.format(v=row[dim]), path=f"{path} [{row.sheet}]", line=int(row[f"{dim}_line"]),
                                 column=_letter(int(row[f"{dim}_col"])))

        notes: list[str] = []
        for dim in ("REPORTER", "PARTNER"):
            table = reporter_names(list(frame[dim].unique()), notes)
            frame[dim.lower()] = frame[dim].map(table)
            check(frame[dim.lower()].isna(), dim, "unknown country {v!r}")
        codes = {label: product_code(label) for label in frame["PRODUCT"].unique()}
        frame["product"] = frame["PRODUCT"].map(codes)
        check(frame["product"].isna(), "PRODUCT", "no CN/HS code or TOTAL in the product label {v!r}")
        frame["flow"] = frame["FLOW"].str.upper().map(FLOWS)
        check(frame["flow"].isna(), "FLOW", "flow {v!r} is not EXPORT or IMPORT")
        indicator = frame["INDICATORS"].str.upper()
        check(~indicator.isin(list(INDICATORS)), "INDICATORS", "indicator {v!r} is not one of " + ", ".join(INDICATORS))
        frame["measure"] = indicator.map(lambda v: INDICATORS[v][0])
        frame["amount"] = frame["amount"] * indicator.map(lambda v: INDICATORS[v][1])

        labels = pd.Series(frame["period_label"].unique())
        year, month = parse_period(labels.astype("string"))

        def time_cell(label: str, reason: str) -> InputError:
            row = frame[frame.period_label == label].iloc[0]
            return InputError(reason, path=f"{path} [{row.sheet}]", line=int(row.time_line), column=_letter(int(row.col)))

        if year.isna().any():
            label = labels[year.isna()].iloc[0]
            raise time_cell(label, f"unreadable period {label!r} in the TIME row")
        when = pd.DataFrame(periods(year, month)).assign(period_label=labels)
        when["rate"] = usd_per_eur(year, month, options).to_numpy()
        if when["rate"].isna().any():
            label = labels[when["rate"].isna()].iloc[0]
            raise time_cell(label, f"no EUR/USD rate for {label!r} in the rates table")
        when["hs_rev"] = when["year"].map(hs_revision_for)

        keys = ["period_label", "reporter", "partner", "flow", "product"]
        twice = frame.duplicated(keys + ["measure"], keep=False)
        if twice.any():
            a, b = frame[twice].sort_values(keys + ["sheet", "line"]).iloc[:2].itertuples()
            raise InputError(f"the same flow twice: {a.reporter}->{a.partner} {a.product} {a.period_label}, again in "
                             f"[{b.sheet}] row {b.line} (it would be counted twice)", path=f"{path} [{a.sheet}]",
                             line=int(a.line), column=_letter(int(a.col)))
        # Value and quantity sheets of one product become one row, named in messages by its first cell.
        wide = frame.set_index(keys + ["measure"])["amount"].unstack("measure").reset_index()
        for measure in ("value_native", "quantity"):
            if measure not in wide:
                wide[measure] = np.nan
        cell = frame.groupby(keys, sort=False)[["sheet", "line", "col"]].first().reset_index()
        wide = wide.merge(when, on="period_label", how="left", validate="many_to_one").merge(cell, on=keys, validate="one_to_one")
        total = wide["product"] == schema.TOTAL

        def place(i: int, column: str, reason: str) -> InputError:
            return InputError(reason, path=f"{path} [{wide['sheet'].iloc[i]}]", line=int(wide["line"].iloc[i]),
                              column=_letter(int(wide["col"].iloc[i])))

        return Written(insert(con, {
            **{c: wide[c] for c in ("period", "freq", "year", "month")},
            "reporter": wide["reporter"], "partner": wide["partner"], "flow": wide["flow"],
            "hs_rev": wide["hs_rev"].where(~total),
            "product": wide["product"],
            "value_usd": wide["value_native"] * wide["rate"], "value_native": wide["value_native"], "currency": "EUR",
            "quantity": wide["quantity"], "unit": np.where(wide["quantity"].notna(), "kg", None),
        }, "comext-xlsx", batch_id, place), notes)


io.register(ComextXlsx())
