"""UN Comtrade: the Comtrade+ website and API downloads (CSV and JSON) and the legacy comtrade.un.org CSV.

Each row is one country's report: `reporter` reports its exports to (FOB) or imports from (CIF) the
partner. Numeric reporter/partner codes are preferred to the ISO column (Comtrade's ISO column holds
pseudo-codes for areas: `W00`, `_X`...). Each row keeps its own HS revision (the old site's "HS as
reported" mixes H0-H5 in one file).

Comtrade+ breaks totals down by second partner, customs procedure, mode of transport and sub-flows
(DX domestic exports, FM foreign imports, XOP/MIP processing...). entrepot stores the totals (second
partner World, customs C00, transport 0, flows X/M/RX/RM): a breakdown row is a part of a total, and
storing both would count it twice, so it is left out and the ingest says how many were.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io import Written
from entrepot.io._frame import Raw, insert, periods, read_csv_rows

FLOW_CODES = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
# Comtrade+ sub-flows: parts of an export or import total, not flows of their own.
SUB_FLOWS = {"DX": "X", "XOP": "X", "XIP": "X", "FM": "M", "MIP": "M", "MOP": "M"}
LEGACY_FLOW_CODES = {"1": "M", "2": "X", "3": "RX", "4": "RM"}
FLOW_WORDS = {"IMPORT": "M", "EXPORT": "X", "RE-EXPORT": "RX", "RE-IMPORT": "RM", "REEXPORT": "RX", "REIMPORT": "RM"}
# Comtrade classification codes -> HS revision ("HS" in legacy files means "as reported": unknown).
CLASSIFICATIONS = {"H0": "HS92", "H1": "HS96", "H2": "HS02", "H3": "HS07", "H4": "HS12", "H5": "HS17", "H6": "HS22"}
# A breakdown field's total: second partner World, all customs procedures, all modes of transport.
TOTALS = {"partner2Code": {"", "0"}, "customsCode": {"", "C00"}, "motCode": {"", "0"}}

PLUS = ["freqCode", "period", "reporterCode", "partnerCode", "flowCode", "classificationCode", "cmdCode", "primaryValue"]
# Comtrade+ field -> legacy CSV field, for the fields entrepot reads.
LEGACY = {
    "period": "Period",
    "refYear": "Year",
    "reporterCode": "Reporter Code",
    "reporterISO": "Reporter ISO",
    "reporterDesc": "Reporter",
    "partnerCode": "Partner Code",
    "partnerISO": "Partner ISO",
    "partnerDesc": "Partner",
    "flowCode": "Trade Flow Code",
    "flowDesc": "Trade Flow",
    "classificationCode": "Classification",
    "cmdCode": "Commodity Code",
    "aggrLevel": "Aggregate Level",
    "primaryValue": "Trade Value (US$)",
    "netWgt": "Netweight (kg)",
    "qty": "Qty",
    "qtyUnitAbbr": "Qty Unit",
    "partner2Code": "2nd Partner Code",
    "customsCode": "Customs Proc. Code",
    "motCode": "Mode of Transport Code",
}


# The Comtrade+ column each canonical column comes from, for messages (legacy files: their own names).
SOURCE_COLUMNS = {"value_usd": "primaryValue", "quantity": "netWgt", "unit": "netWgt", "period": "period", "year": "period",
                  "month": "period", "freq": "freqCode", "reporter": "reporterCode", "partner": "partnerCode",
                  "flow": "flowCode", "hs_rev": "classificationCode", "product": "cmdCode", "product_level": "cmdCode"}


# A Comtrade+ API response whose query matched nothing: `{"count": 0, "data": []}`, or a bare `[]`.
_NO_RECORDS = re.compile(r'^(\[\s*\]|\{.*"(data|elements)"\s*:\s*\[\s*\])', re.DOTALL)


class Comtrade:
    name = "comtrade"

    def sniff(self, path: Path, head: str) -> bool:
        first = head.lstrip()[:4096]
        if first.startswith(("{", "[")):
            return '"reporterCode"' in first or '"elements"' in first or bool(_NO_RECORDS.match(first))
        line = first.split("\n", 1)[0]
        return ("reporterCode" in line and "primaryValue" in line) or (
            "Reporter" in line and "Partner" in line and ("Trade Flow" in line) and "Trade Value (US$)" in line)

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        raw = read_json(path) if io.read_head(path, 64).lstrip().startswith(("{", "[")) else read_csv_rows(path)
        if "primaryValue" not in raw.df.columns:
            raw = legacy_to_plus(raw)
        goods_only(raw)
        columns, notes = canonical(raw, options)
        # Rows that are not lines (breakdown rows left out, blank lines) are checked here, naming their lines;
        # otherwise check_batch names them.
        place = None if raw.rows_are_lines else raw.place(SOURCE_COLUMNS)
        return Written(insert(con, columns, "comtrade", batch_id, place), notes)


def read_json(path: Path) -> Raw:
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not valid JSON: {exc.args[0] if exc.args else exc}", path=path, line=line) from None
    key = "elements" if isinstance(payload, dict) and "elements" in payload else "data"
    records = payload.get(key) if isinstance(payload, dict) else payload
    if not isinstance(records, list):
        raise InputError("expected a list of records under 'data' or 'elements'", path=path)
    if not records:
        raise InputError(f"no records{f' (its {key!r} list is empty)' if isinstance(payload, dict) else ''}: "
                         "the query matched nothing, so there is nothing to ingest", path=path)
    name = key if isinstance(payload, dict) else ""
    fields = {k for r in records if isinstance(r, dict) for k in r}
    needed = sorted(fields & set(SOURCE_COLUMNS.values()))  # a record lacking one the others have is cut, not blank
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise InputError(f"not a record (a JSON object): {json.dumps(record)[:40]}", path=path, column=f"{name}[{i}]")
        if lacking := [k for k in needed if k not in record]:
            raise InputError(f"the record lacks {', '.join(lacking)}, which the others have", path=path, column=f"{name}[{i}]")
    frame = pd.DataFrame.from_records(records).astype("string")
    return Raw(frame, path, record_key=name)


def goods_only(raw: Raw) -> None:
    """Refuse a services download (typeCode S, EBOPS codes) with one line."""
    kind = raw.text("typeCode").str.upper() if "typeCode" in raw.df.columns else None
    cls = raw.text("classificationCode").str.upper() if "classificationCode" in raw.df.columns else None
    services = (kind.eq("S") if kind is not None else False) | (cls.str.startswith("EB").fillna(False) if cls is not None else False)
    if isinstance(services, pd.Series) and services.any():
        i = int(services.to_numpy().argmax())
        raise raw.fail(i, "typeCode" if kind is not None else "classificationCode",
                       "this is trade in services (typeCode S, EBOPS codes): entrepot reads goods trade only")


def legacy_to_plus(raw: Raw) -> Raw:
    """Rename (in place) the legacy CSV's fields to Comtrade+ names and derive what a reduced file lacks.

    The old site let users drop columns: the period comes from `Period`, else `Year` (annual); the
    flow from `Trade Flow Code` (1-4), else from `Trade Flow` (words, or the Comtrade+ letters X, M,
    RX, RM, DX, FM... that newer extracts write under the legacy header with code 0).
    """
    raw.rename({v: k for k, v in LEGACY.items() if v in raw.df.columns})
    if "period" not in raw.df.columns and "refYear" in raw.df.columns:
        raw.df["period"], raw.labels["period"] = raw.df["refYear"], LEGACY["refYear"]
    raw.require(["period", "partnerCode", "cmdCode", "primaryValue"])
    raw.df["freqCode"] = raw.text("period").str.len().map({6: "M"}).fillna("A")
    codes = raw.text("flowCode") if "flowCode" in raw.df.columns else pd.Series(pd.NA, index=raw.df.index, dtype="string")
    letters = codes.map(LEGACY_FLOW_CODES)
    raw.where(letters.isna() & ~codes.fillna("").isin(["", "0"]), "flowCode", lambda v: f"unknown trade flow code {v!r} (1-4)")
    if "flowDesc" in raw.df.columns:
        desc = raw.text("flowDesc").str.upper().str.replace(" ", "", regex=False)
        from_desc = desc.map(FLOW_WORDS).fillna(desc.where(desc.isin(list(FLOW_CODES) + list(SUB_FLOWS))))
        letters = letters.fillna(from_desc)
        raw.where(letters.isna(), "flowDesc", lambda v: f"unknown trade flow {v!r}")
    elif "flowCode" in raw.df.columns:
        raw.where(letters.isna(), "flowCode", lambda v: f"unknown trade flow code {v!r} (1-4)")
    else:
        raw.require(["flowCode"])
    raw.df["flowCode"] = letters
    if "classificationCode" not in raw.df.columns:
        raw.df["classificationCode"] = "HS"
    return raw


def hs_codes(raw: Raw, column: str) -> pd.Series:
    """HS codes or TOTAL. Even lengths 2-6 as written; a code one digit short (1, 3, 5 digits) lost
    its leading zero to a spreadsheet (`1` is chapter 01, `10121` is 010121) and gets it back.
    Anything else (7 digits and more, letters) is an error, never truncated or padded further."""
    cmd = raw.text(column).str.upper()
    ok = cmd.str.fullmatch(r"\d{1,6}").fillna(False) | cmd.eq("TOTAL")
    raw.where(~ok, column, lambda v: f"not an HS code (2, 4 or 6 digits) or TOTAL: {v!r}")
    odd = cmd.str.len() % 2 == 1
    product = cmd.where(~odd, "0" + cmd)
    if "aggrLevel" in raw.df.columns:  # where the file states each code's level, the code must have it
        level = pd.to_numeric(raw.text("aggrLevel"), errors="coerce")
        wrong = level.isin([2, 4, 6]) & cmd.ne("TOTAL") & (product.str.len() != level)
        raw.where(wrong.fillna(False), column, lambda v: f"HS code {v!r} does not have the digits of its aggregate level")
    return product.where(cmd.ne("TOTAL"), schema.TOTAL)


def canonical(raw: Raw, options: dict[str, Any]) -> tuple[dict[str, object], list[str]]:
    raw.require(PLUS)
    notes: list[str] = []
    keep = breakdowns(raw, notes)
    freq = raw.text("freqCode").str.upper()
    raw.where(~freq.isin(["A", "M"]), "freqCode", lambda v: f"frequency must be A or M, found {v!r}")
    period = raw.text("period")
    good = (freq.eq("A") & period.str.fullmatch(r"\d{4}")) | (freq.eq("M") & period.str.fullmatch(r"\d{4}(0[1-9]|1[0-2])"))
    raw.where(~good.fillna(False), "period", lambda v: f"period {v!r} does not match its frequency (YYYY or YYYYMM)")
    raw.where(~raw.text("flowCode").str.upper().isin(list(FLOW_CODES) + list(SUB_FLOWS)), "flowCode",
              lambda v: f"flow {v!r} not one of X, M, RX, RM (or their parts {', '.join(SUB_FLOWS)})")
    cls = raw.text("classificationCode").str.upper()
    known = cls.isin(list(CLASSIFICATIONS) + ["HS"])
    raw.where(~known, "classificationCode", lambda v: f"classification {v!r} is not an HS revision (H0-H6)")
    product = hs_codes(raw, "cmdCode")
    raw.keep(keep)
    freq, period, cls, product = (s[keep.to_numpy()].reset_index(drop=True) for s in (freq, period, cls, product))
    year = period.str[:4].astype(int)
    month = period.str[4:6].where(freq.eq("M")).astype("Int64")

    weight = raw.numbers("netWgt") if "netWgt" in raw.df.columns else None
    quantity, unit = weight, pd.Series("kg", index=raw.df.index)
    if "qty" in raw.df.columns:
        qty = raw.numbers("qty")
        qty_unit = raw.text("qtyUnitAbbr") if "qtyUnitAbbr" in raw.df.columns else pd.Series(pd.NA, index=raw.df.index)
        use_qty = weight.isna() & qty.notna() if weight is not None else qty.notna()
        quantity = qty.where(use_qty, weight) if weight is not None else qty
        unit = unit.where(~use_qty, qty_unit)
    unit = unit.where(quantity.notna()) if quantity is not None else None
    who = raw.countries(["reporterCode", "partnerCode"], "numeric", options)
    return {
        **periods(year, month),
        "reporter": who["reporterCode"],
        "partner": who["partnerCode"],
        "flow": raw.text("flowCode").str.upper().map(FLOW_CODES),
        "hs_rev": cls.map(CLASSIFICATIONS),
        "product": product,
        "value_usd": raw.numbers("primaryValue"),
        "quantity": quantity,
        "unit": unit,
    }, notes


def breakdowns(raw: Raw, notes: list[str]) -> pd.Series:
    """Which rows are totals (True) rather than parts of one (second partner, customs procedure, mode of
    transport other than the total, or a sub-flow); a note says how many parts are left out, and how
    many of those have no total row in the file (a download cut short, or a query for parts only)."""
    index = raw.df.index
    total = pd.Series(True, index=index)
    for field, values in TOTALS.items():
        if field in raw.df.columns:
            total &= raw.text(field).fillna("").isin(values)
    flow = raw.text("flowCode").str.upper()
    total &= flow.isin(list(FLOW_CODES))
    if total.all():
        return total
    parent = flow.map(SUB_FLOWS).fillna(flow)
    key = [raw.text(c).fillna("") for c in ("period", "reporterCode", "partnerCode", "cmdCode", "classificationCode")]
    ident = key[0]
    for part in [*key[1:], parent]:
        ident = ident + "|" + part.fillna("")
    covered = ident.isin(set(ident[total]))
    parts = ~total
    note = (f"left out {int(parts.sum()):,} breakdown rows (by second partner, customs procedure, transport mode, "
            "or sub-flows such as DX, FM, XOP): entrepot stores the totals, and those rows are parts of them")
    orphans = parts & ~covered
    if orphans.any():
        first = raw.lines[int(orphans.to_numpy().argmax())] if raw.lines is not None else None
        n_obs = ident[orphans].nunique()
        note += (f"; {int(orphans.sum()):,} of them, for {n_obs:,} flows, have no total row in this file, so those flows "
                 f"are not stored" + (f" (first at line {first})" if first else ""))
    notes.append(note)
    return total


io.register(Comtrade())
