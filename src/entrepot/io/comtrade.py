"""UN Comtrade: the Comtrade+ API's CSV and JSON (as `comtradeapicall` returns them) and the legacy bulk CSV.

Each row is one country's report: `reporter` reports its exports to (FOB) or imports from (CIF) the
partner. Numeric reporter/partner codes are preferred to the ISO column (Comtrade's ISO column holds
pseudo-codes for areas: `W00`, `_X`...). Files with breakdown rows (second partner, customs
procedure or mode of transport other than the total) are rejected: summing them with the totals
would double count; download with `breakdownMode="classic"`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io._frame import Raw, insert, periods, read_csv_rows

FLOW_CODES = {"X": "export", "M": "import", "RX": "re-export", "RM": "re-import"}
LEGACY_FLOW_CODES = {"1": "import", "2": "export", "3": "re-export", "4": "re-import"}
# Comtrade classification codes -> HS revision ("HS" in legacy files means "as reported": unknown).
CLASSIFICATIONS = {"H0": "HS92", "H1": "HS96", "H2": "HS02", "H3": "HS07", "H4": "HS12", "H5": "HS17", "H6": "HS22"}

# Comtrade+ field -> legacy bulk CSV field, for the fields entrepot reads.
PLUS = ["freqCode", "period", "reporterCode", "partnerCode", "flowCode", "classificationCode", "cmdCode", "primaryValue"]
LEGACY = {
    "period": "Period",
    "reporterCode": "Reporter Code",
    "partnerCode": "Partner Code",
    "flowCode": "Trade Flow Code",
    "classificationCode": "Classification",
    "cmdCode": "Commodity Code",
    "primaryValue": "Trade Value (US$)",
    "netWgt": "Netweight (kg)",
    "qty": "Qty",
    "qtyUnitAbbr": "Qty Unit",
    "partner2Code": "2nd Partner Code",
    "customsCode": "Customs Proc. Code",
    "motCode": "Mode of Transport Code",
}


class Comtrade:
    name = "comtrade"

    def sniff(self, path: Path, head: str) -> bool:
        first = head.lstrip()[:4096]
        if first.startswith(("{", "[")):
            return '"reporterCode"' in first or '"elements"' in first
        line = first.split("\n", 1)[0]
        return ("reporterCode" in line and "primaryValue" in line) or ("Trade Flow Code" in line and "Reporter" in line)

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        raw = read_json(path) if io.read_head(path, 64).lstrip().startswith(("{", "[")) else read_csv_rows(path)
        if "Trade Flow Code" in raw.df.columns:
            raw = legacy_to_plus(raw)
        return insert(con, canonical(raw), "comtrade", batch_id)


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
    frame = pd.DataFrame.from_records(records).astype("string")
    return Raw(frame, path, record_key=key if isinstance(payload, dict) else "")


def legacy_to_plus(raw: Raw) -> Raw:
    """Rename (in place) the legacy bulk CSV's fields to Comtrade+ names; derive freqCode and flow letters."""
    raw.rename({v: k for k, v in LEGACY.items()})
    raw.require([c for c in PLUS if c != "freqCode"])
    raw.df["freqCode"] = raw.text("period").str.len().map({6: "M"}).fillna("A")
    codes = raw.text("flowCode")
    raw.where(~codes.isin(list(LEGACY_FLOW_CODES)), "flowCode", lambda v: f"unknown trade flow code {v!r} (1-4)")
    letters = {word: letter for letter, word in FLOW_CODES.items()}
    raw.df["flowCode"] = codes.map({k: letters[v] for k, v in LEGACY_FLOW_CODES.items()})
    return raw


def canonical(raw: Raw) -> dict[str, object]:
    raw.require(PLUS)
    for field, total in (("partner2Code", "0"), ("customsCode", "C00"), ("motCode", "0")):
        if field in raw.df.columns:
            values = raw.text(field).fillna("")
            raw.where(
                ~values.isin(["", total]), field,
                lambda v, f=field, t=total: f"breakdown row ({f} = {v}, not the total {t}); download with breakdownMode='classic'",
            )
    freq = raw.text("freqCode").str.upper()
    raw.where(~freq.isin(["A", "M"]), "freqCode", lambda v: f"frequency must be A or M, found {v!r}")
    period = raw.text("period")
    good = (freq.eq("A") & period.str.fullmatch(r"\d{4}")) | (freq.eq("M") & period.str.fullmatch(r"\d{4}(0[1-9]|1[0-2])"))
    raw.where(~good.fillna(False), "period", lambda v: f"period {v!r} does not match its frequency (YYYY or YYYYMM)")
    year = period.str[:4].astype(int)
    month = period.str[4:6].where(freq.eq("M")).astype("Int64")

    flow_code = raw.text("flowCode").str.upper()
    raw.where(~flow_code.isin(list(FLOW_CODES)), "flowCode", lambda v: f"flow {v!r} not one of X, M, RX, RM")
    cls = raw.text("classificationCode").str.upper()
    known = cls.isin(list(CLASSIFICATIONS) + ["HS"])
    raw.where(~known, "classificationCode", lambda v: f"classification {v!r} is not an HS revision (H0-H6)")
    cmd = raw.text("cmdCode").str.upper()
    is_hs = cmd.str.fullmatch(r"\d{2}(\d{2})*").fillna(False)
    raw.where(~(is_hs | cmd.eq("TOTAL")), "cmdCode", lambda v: f"not an HS code or TOTAL: {v!r}")
    product = cmd.where(cmd.ne("TOTAL"), schema.TOTAL)

    weight = raw.numbers("netWgt") if "netWgt" in raw.df.columns else None
    quantity, unit = weight, pd.Series("kg", index=raw.df.index)
    if "qty" in raw.df.columns:
        qty = raw.numbers("qty")
        qty_unit = raw.text("qtyUnitAbbr") if "qtyUnitAbbr" in raw.df.columns else pd.Series(pd.NA, index=raw.df.index)
        use_qty = weight.isna() & qty.notna() if weight is not None else qty.notna()
        quantity = qty.where(use_qty, weight) if weight is not None else qty
        unit = unit.where(~use_qty, qty_unit)
    unit = unit.where(quantity.notna()) if quantity is not None else None
    return {
        **periods(year, month),
        "reporter": raw.country("reporterCode", "numeric"),
        "partner": raw.country("partnerCode", "numeric"),
        "flow": flow_code.map(FLOW_CODES),
        "hs_rev": cls.map(CLASSIFICATIONS),
        "product": product,
        "value_usd": raw.numbers("primaryValue"),
        "quantity": quantity,
        "unit": unit,
    }


io.register(Comtrade())
