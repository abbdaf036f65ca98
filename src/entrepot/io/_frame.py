"""Validate raw text columns read with pandas and insert them as canonical flows.

For the formats small enough to read whole (Comtrade, Comext, Stata, generic CSV): each helper checks
a column at once and, on the first bad value, raises an `InputError` naming the file, the line (or
record) and the column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from entrepot import countries, schema
from entrepot.errors import InputError
from entrepot.store.warehouse import write_flows

BLANKS = {"", "NA", "N/A", "nan", "NaN", "None", "null"}
# Where a source marks a value confidential or not available (Comext ':', Comtrade 'c').
ARROW_STR = pd.StringDtype("pyarrow")  # vectorised string functions (the default runs Python per value)
SUPPRESSED = {":", "c", "C", "x", "X", "..", "-"}
# A number as trade files write it: '.' decimal point, groups of three split by ',', space or "'".
NUMBER = r"[-+]?(?:\d{1,3}(?:[,\s\xa0']\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
DECIMAL_COMMA = r"[-+]?\d{1,3}(?:[.\s\xa0']\d{3})*,\d+"


class Raw:
    """A frame of raw text fields plus where each row came from, for error messages.

    CSV rows know their physical line (header is line 1); records of a format without lines are named
    `{record_key}[n]`, n counted from `first` (JSON's index from 0, Stata's observation from 1).
    """

    def __init__(self, frame: pd.DataFrame, path: Path, *, lines: list[int] | None = None, record_key: str | None = None,
                 first: int = 0):
        self.df = frame.reset_index(drop=True)
        self.path = path
        self.lines = lines
        self.record_key = record_key
        self.labels: dict[str, str] = {}  # internal column name -> the file's own, for messages
        self.records = list(range(first, first + len(self.df)))  # each row's record number (JSON, Stata), kept by `keep`
        self.notes: list[str] = []  # what a rule settled that the user should hear of (a name read by the file's language)

    def rename(self, columns: dict[str, str]) -> None:
        """Use internal names for the file's columns; messages keep naming the file's columns."""
        self.df = self.df.rename(columns=columns)
        self.labels.update({new: old for old, new in columns.items()})

    def fail(self, position: int, column: str | None, reason: str) -> InputError:
        column = self.labels.get(column, column)
        if self.lines is None:
            field = f".{column}" if column else ""
            return InputError(reason, path=self.path, column=f"{self.record(position)}{field}")
        return InputError(reason, path=self.path, line=self.lines[position], column=column)

    def record(self, position: int) -> str:
        """The record at row `position`, as messages name it: `data[3]` (JSON), `obs[4]` (Stata)."""
        return f"{self.record_key}[{self.records[position]}]"

    def place_of(self, position: int) -> str:
        """Where row `position` is, in words: its line, or its record."""
        return f"line {self.lines[position]}" if self.lines is not None else self.record(position)

    def where(self, mask: pd.Series, column: str, reason: Callable[[str], str]) -> None:
        """Fail on the first row where `mask` holds, showing that row's raw value of `column`."""
        if mask.any():
            i = int(np.argmax(mask.to_numpy(dtype=bool)))
            raise self.fail(i, column, reason(str(self.df[column].iloc[i])))

    def keep(self, mask: pd.Series) -> None:
        """Keep only the rows where `mask` holds; messages still name their original line or record."""
        kept = mask.to_numpy(dtype=bool)
        self.df = self.df[kept].reset_index(drop=True)
        self.records = [r for r, k in zip(self.records, kept, strict=True) if k]
        if self.lines is not None:
            self.lines = [n for n, k in zip(self.lines, kept, strict=True) if k]

    def text(self, column: str) -> pd.Series:
        return self.df[column].astype(ARROW_STR).str.strip()

    def require(self, columns: list[str]) -> None:
        missing = [self.labels.get(c, c) for c in columns if c not in self.df.columns]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", path=self.path, line=1 if self.lines is not None else None)

    def numbers(self, column: str, *, required: bool = False, scale: float = 1.0) -> pd.Series:
        """Numbers, blanks and suppressed values (blank) handled, by one stated rule: `.` is the decimal
        point; `,`, spaces and `'` only separate groups of three digits ("1,234,567.5"). Anything else,
        such as a decimal comma ("1.234,56", "12,5"), is rejected rather than guessed."""
        raw = self.text(column)
        blank = raw.isna() | raw.isin(BLANKS) | raw.isin(SUPPRESSED)
        cleaned = raw.str.replace("[,\\s\u00a0']", "", regex=True)
        num = pd.to_numeric(cleaned.where(~blank), errors="coerce")
        # Only values with separators, or that did not read as finite numbers, need the shape check.
        suspect = ~blank & (num.isna() | ~np.isfinite(num.fillna(0)) | cleaned.str.len().ne(raw.str.len()))
        bad = suspect & ~raw.where(suspect, "0").str.fullmatch(NUMBER).fillna(False)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            comma = re.fullmatch(DECIMAL_COMMA, str(raw.iloc[i])) is not None
            reason = (f"ambiguous decimal separator in {raw.iloc[i]!r}: entrepot reads '.' as the decimal point and ','"
                      " only between groups of three digits") if comma else f"not a number: {raw.iloc[i]!r}"
            raise self.fail(i, column, reason)
        if required and blank.any():
            i = int(np.argmax(blank.to_numpy()))
            raise self.fail(i, column, "blank value")
        if (num < 0).any():
            i = int(np.argmax((num < 0).to_numpy()))
            raise self.fail(i, column, f"negative value {raw.iloc[i]!r}")
        return num.astype("float64") * scale

    def country(self, column: str, kind: str = "auto", options: dict | None = None) -> pd.Series:
        """Country codes from numeric M49/Comtrade codes, ISO3, or names (`kind` = numeric|iso3|name|auto)."""
        return self.countries([column], kind, options)[column]

    def countries(self, columns: list[str], kind: str = "auto", options: dict | None = None) -> dict[str, pd.Series]:
        """Codes for several country columns; every value no rule resolves, in any of them, is listed
        in one error (with its first line), so one `--countries FILE` can supply them all."""
        extra = countries.read_mapping(options["country_names"]) if options and options.get("country_names") else None
        out, unknown = {}, []
        for column in columns:
            raw = self.text(column)
            blank = raw.isna() | (raw == "")
            if blank.any():
                raise self.fail(int(np.argmax(blank.to_numpy())), column, "blank country")
            codes = raw.map(country_map(list(raw.unique()), kind, extra, self.notes))
            bad = codes.isna().to_numpy()
            seen = {v for v, _, _ in unknown}
            for i in np.flatnonzero(bad):
                if raw.iloc[i] not in seen:
                    seen.add(raw.iloc[i])
                    unknown.append((raw.iloc[i], int(i), column))
            out[column] = codes.astype(str)
        if unknown:
            value, i, column = unknown[0]
            listed = ", ".join(f"{v!r}" + ("" if self.lines is None else f" (line {self.lines[j]})") for v, j, _ in unknown[:40])
            more = f" and {len(unknown) - 40} more" if len(unknown) > 40 else ""
            hint = "" if kind in ("numeric", "iso3") else "; give their codes with --countries FILE (CSV name,code)"
            raise self.fail(i, column, f"unknown country code {listed}{more}{hint}")
        return out


    @property
    def rows_are_lines(self) -> bool:
        """Row i is line i + 2 (no blank line skipped, no row left out): `check_batch` can name lines itself."""
        return self.lines is not None and (not self.lines or self.lines[-1] == len(self.lines) + 1)

    def place(self, columns: dict[str, str], rows: pd.Series | None = None, lines: pd.Series | None = None) -> Place:
        """Where a canonical row came from, for `insert`: `columns` maps canonical columns to the file's;
        `rows` gives each canonical row's first raw row (rows summed into one), `lines` how many were summed."""
        def where(i: int, column: str, reason: str) -> InputError:
            n = 1 if lines is None else int(lines.iloc[i])
            return self.fail(i if rows is None else int(rows.iloc[i]), columns.get(column, column), summed(reason, n))
        return where

    def once(self, keys: pd.DataFrame) -> None:
        """The same observation twice (equal `keys`, one row per raw row) is an error naming both lines:
        summed or stored, it would be counted twice."""
        group = keys.reset_index(drop=True).groupby(list(keys.columns), dropna=False, sort=False).ngroup()
        again = group.duplicated()
        if again.any():
            j = int(np.argmax(again.to_numpy()))
            i = int(np.argmax((group == group.iloc[j]).to_numpy()))
            what = ", ".join(str(v) for v in keys.iloc[i] if not pd.isna(v) and str(v) != "")
            raise self.fail(i, None, f"the same observation twice ({what}), again on {self.place_of(j)}; a file must hold each observation once")

    def one_name_per_code(self, keys: pd.DataFrame, columns: list[str]) -> None:
        """Two different names never silently become one observation: rows with the same canonical
        key (period, flow, product, codes) must have the same names in `columns` ('Guinea' and
        'Guinée' both GIN would add two partners' trade together). The error names both, to settle
        with --countries. Spellings of one country in different periods or pairs are fine."""
        frame = keys.reset_index(drop=True).astype(str)
        group = list(frame.columns)
        for column in columns:
            name = self.df[column].astype(str).str.strip()
            spread = frame.assign(_n=name.to_numpy()).groupby(group, dropna=False)["_n"].transform("nunique")
            if not (spread > 1).any():
                continue
            i = int(np.argmax((spread > 1).to_numpy()))
            same = frame.eq(frame.iloc[i]).all(axis=1) & name.ne(name.iloc[i])
            j = int(np.argmax(same.to_numpy()))
            where = [self.place_of(k) for k in (i, j)]
            raise self.fail(i, column, f"{name.iloc[i]!r} ({where[0]}) and {name.iloc[j]!r} ({where[1]}) would be the same "
                            "country in the same flow: give the right code of each with --countries FILE (CSV name,code)")


def read_csv_rows(path: Path, delimiter: str | None = None) -> Raw:
    """Read a whole CSV as text with each row's physical line; a row with a wrong field count is an error.

    The csv module is used rather than pandas because pandas pads short (truncated) rows silently.
    Encoding: UTF-8 (with or without BOM), else Latin-1 (a BOM before it dropped), as Comtrade and Eurostat downloads come.
    The delimiter is the header line's commonest of `,`, tab, `;` and `|` unless given (Comtrade+
    bulk files are tab-separated).
    """
    data = path.read_bytes()
    if delimiter is None:
        first = data.split(b"\n", 1)[0]
        delimiter = max((",", "\t", ";", "|"), key=lambda d: first.count(d.encode()))
    fast = _read_with_duckdb(path, data, delimiter)
    if fast is not None:
        return fast
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise InputError("no header line", path=path, line=1)
    header = [h.strip() for h in header]
    rows, lines = [], []
    for row in reader:
        if not any(field.strip() for field in row):
            continue
        if len(row) == len(header) + 1 and not row[-1].strip():
            row = row[:-1]  # Comtrade+ website CSVs end every data row with a comma
        if len(row) != len(header):
            raise InputError(
                f"expected {len(header)} fields, found {len(row)} (truncated or malformed row)",
                path=path,
                line=reader.line_num,
            )
        rows.append(row)
        lines.append(reader.line_num)
    return Raw(pd.DataFrame(rows, columns=header, dtype=ARROW_STR), path, lines=lines)


def _read_with_duckdb(path: Path, data: bytes, delimiter: str) -> Raw | None:
    """DuckDB's reader (about 20x faster) when each row is exactly one line, so line = row + 2.

    Returns None (use the careful path) when the file is not plain UTF-8, has blank lines, quoted
    line breaks or rows DuckDB rejects; the careful path then finds and names any bad row.
    """
    import duckdb

    try:
        data.decode("utf-8")
        con = duckdb.connect()
        rel = con.read_csv(str(path), header=True, all_varchar=True, sep=delimiter, quotechar='"', escapechar='"')
        table = rel.arrow() if not hasattr(rel, "to_arrow_table") else rel.to_arrow_table()
    except (UnicodeDecodeError, duckdb.Error):
        return None
    if table.num_columns < 2:
        return None
    newlines = data.count(b"\n") - (0 if data.endswith(b"\n") else -1)
    if newlines != table.num_rows + 1:
        return None
    frame = table.to_pandas(types_mapper=lambda t: ARROW_STR)
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    return Raw(frame, path, lines=list(range(2, table.num_rows + 2)))


def country_map(values: list[str], kind: str = "auto", extra: dict[str, str] | None = None,
                notes: list[str] | None = None) -> dict[str, str | None]:
    """Codes for distinct raw values of one column: numeric codes, ISO3 codes or names (`extra`: the
    user's names; `notes`: what the file's language settled, see `countries.from_name`)."""
    out: dict[str, str | None] = {}
    numeric = [v for v in values if v.isdigit()] if kind in ("auto", "numeric") else []
    if numeric:
        found = countries.from_numeric(int(v) for v in numeric)
        out.update({v: found[int(v)] for v in numeric})
    rest = [v for v in values if v not in out]
    if kind == "iso3":
        out.update(countries.from_iso3(rest))
    elif rest and kind in ("auto", "name"):
        out.update(countries.from_name(rest, extra, notes))
    return out


def periods(year: pd.Series, month: pd.Series | None) -> dict[str, pd.Series]:
    """The period columns of the schema from numeric year and (optional, NA for annual) month."""
    year = year.astype("int64")
    if month is None:
        month = pd.Series(pd.NA, index=year.index, dtype="Int64")
    month = month.astype("Int64")
    monthly = month.notna()
    text = year.astype(str).where(~monthly, year.astype(str) + "-" + month.astype(str).str.zfill(2))
    return {"period": text, "freq": monthly.map({True: "M", False: "A"}), "year": year, "month": month}


def product_level(product: pd.Series) -> pd.Series:
    return product.where(product != schema.TOTAL, "").str.len().astype("int64")


def summed(reason: str, lines: int) -> str:
    """An error's reason about a row that sums `lines` lines of the file (named by the first)."""
    return reason + (f" (this line and {lines - 1} more summed into one flow)" if lines > 1 else "")


# Where a bad row came from: (row position in the relation checked, canonical column, reason) -> the error.
Place = Callable[[int, str, str], InputError]


def check_rows(con: duckdb.DuckDBPyConnection, relation: str, place: Place) -> None:
    """The store's checks on every batch (`store.ingest.check_batch`: finite, plausible values, years,
    HS codes...) run on canonical rows before they are inserted, so an adapter whose rows are not one
    per line (sums of lines, spreadsheet cells) can name the line or cell and the field itself.
    `relation` has the canonical columns and `_row`, each row's position for `place`."""
    from entrepot.store.ingest import _checks  # the one list of checks; store.ingest imports the adapters

    present = {r[0] for r in con.execute(f"DESCRIBE {relation}").fetchall()}
    typed = ", ".join(f"CAST({c.name} AS {'VARCHAR' if c.sql_type in schema.ENUMS else c.sql_type}) AS {c.name}"
                     for c in schema.FLOWS if c.name in present)  # ENUMs as text: a value outside the list reaches its check
    rows = f"(SELECT {typed}, _row FROM {relation})"  # a pandas column of NULLs has no type of its own
    checks = {reason: (column, cond) for reason, (column, cond) in _checks().items() if column in present}
    flags = con.execute(f"SELECT {', '.join(f'coalesce(bool_or({c}), false)' for _, c in checks.values())} FROM {rows}").fetchall()[0]
    for (reason, (column, cond)), bad in zip(checks.items(), flags, strict=True):
        if bad:
            row, value = con.execute(f"SELECT _row, CAST({column} AS VARCHAR) FROM {rows} WHERE {cond} ORDER BY _row LIMIT 1").fetchall()[0]
            raise place(int(row), column, f"{reason}: {value}")


def insert(con: duckdb.DuckDBPyConnection, columns: dict[str, object], source: str, batch_id: str,
           place: Place | None = None) -> int:
    """Insert canonical columns (all but the flags, source and batch) into `flows`; returns rows.
    With `place` (row position, canonical column, reason -> error), the rows are checked first
    (`check_rows`), so errors name the line or cell rather than a row's position among those read."""
    frame = pd.DataFrame(columns)
    frame["reporter_is_country"] = frame["reporter"].map(countries.is_country).astype(bool)
    frame["partner_is_country"] = frame["partner"].map(countries.is_country).astype(bool)
    frame["source"] = source
    frame["batch_id"] = batch_id
    if "product_level" not in frame:
        frame["product_level"] = product_level(frame["product"])
    for optional in ("hs_rev", "quantity", "unit", "value_native"):
        if optional not in frame:
            frame[optional] = None
    if "currency" not in frame:
        frame["currency"] = "USD"
    rows = frame[list(schema.FLOW_COLUMNS)]
    if place is not None:
        rows = rows.assign(_row=np.arange(len(rows)))
    con.register("_frame", rows)
    try:
        if place is not None:
            check_rows(con, "_frame", place)
        write_flows(con, f"SELECT {schema.select_list()} FROM _frame")
    finally:
        con.unregister("_frame")
    return len(frame)
