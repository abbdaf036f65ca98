"""Eurostat Comext, the "relational view" CSV of its data browser, converted from EUR to USD.

Header `REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR` (and `QUANTITY_IN_100KG`
when asked for). Reporters come as names (`Germany`, `EU27_2020`), partners as names or ISO 2
codes (`IL`, `TR`; Eurostat's `EL` is Greece); periods as `Aug. 2024` (a month) or `2024`/
`Jan.-Dec. 2024` (a year); products as `Total` or HS/CN codes. CN8 codes are summed to their HS6
heading (the CN subdivides the HS); the HS revision is the one the CN followed that year.
Values marked `:` (confidential or not available) are kept as blank values. The EUR amounts are kept
beside the USD ones (`value_native`, `currency` = EUR).

EUR become USD through a monthly table (`usd_per_eur` by `YYYY-MM`): the one shipped with the package
(`entrepot/data/eur_usd_monthly.csv`, ECB reference rates) or `--rates FILE`. A year uses the mean of
its twelve monthly rates (a year the table lacks a month of has no rate). A period missing from the table is an error, never a guess.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io import Written
from entrepot.io._frame import insert, periods, read_csv_rows

HEADER = ["REPORTER", "PARTNER", "PRODUCT", "FLOW", "STAT_PROCEDURE", "PERIOD", "VALUE_IN_EUR"]
# Flow codes and labels in the browser's three languages.
FLOWS = {"1": "import", "2": "export", "IMPORT": "import", "EXPORT": "export", "IMPORTATION": "import",
         "EXPORTATION": "export", "EINFUHR": "import", "AUSFUHR": "export", "IMPORTE": "import", "EXPORTE": "export"}
TOTALS = {"TOTAL", "INSGESAMT", "GESAMT"}  # the product and procedure total in English, French, German
# Month abbreviations (without accents or dots) in English, French and German.
MONTHS = {m: i for names in (
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    ["JANV", "FEVR", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"],
    ["JAN", "FEB", "MARZ", "APR", "MAI", "JUNI", "JULI", "AUG", "SEPT", "OKT", "NOV", "DEZ"],
) for i, m in enumerate(names, 1)} | {"SEPT": 9, "JUNE": 6, "JULY": 7, "MAERZ": 3}
TOTAL_PROCEDURES = {"TOTAL", "TOTAL_PROCEDURE", "TOTAL PROCEDURE", "ALL", "9", "T", "", "INSGESAMT"}
# The browser's code-label display writes "CODE-Label" (`2-EXPORT`, `TOTAL-Total`, `202408-Aug. 2024`,
# `DE-Germany`): the code is what is read, when every value of the column has one.
CODE_LABEL = {
    "PRODUCT": r"(TOTAL|\d{2}(?:\d{2}){0,3})-.*",
    "FLOW": r"([12])-.*",
    "STAT_PROCEDURE": r"([0-9A-Z_]+)-.*",
    "PERIOD": r"(\d{6})-.*",
    "REPORTER": r"([A-Z][A-Z0-9_]*)-.*",
    "PARTNER": r"([A-Z][A-Z0-9_]*)-.*",
}
# The file's column that each canonical column comes from, for messages.
SOURCE_COLUMNS = {"value_usd": "VALUE_IN_EUR", "value_native": "VALUE_IN_EUR", "quantity": "QUANTITY_IN_100KG",
                  "unit": "QUANTITY_IN_100KG", "period": "PERIOD", "year": "PERIOD", "month": "PERIOD", "freq": "PERIOD",
                  "reporter": "REPORTER", "partner": "PARTNER", "flow": "FLOW", "product": "PRODUCT",
                  "product_level": "PRODUCT", "hs_rev": "PRODUCT"}
# The HS revision in force each year (the CN follows it): first year -> revision.
HS_BY_YEAR = [(2022, "HS22"), (2017, "HS17"), (2012, "HS12"), (2007, "HS07"), (2002, "HS02"), (1996, "HS96"), (1988, "HS92")]


def hs_revision_for(year: int) -> str | None:
    """The HS revision the CN followed in `year`; None before the HS (1988)."""
    return next((rev for first, rev in HS_BY_YEAR if year >= first), None)


def load_rates(path: Path | None = None) -> pd.Series:
    """USD per EUR by 'YYYY-MM'; the shipped ECB table unless `path` is given."""
    source = path or resources.files("entrepot.data").joinpath("eur_usd_monthly.csv")
    try:
        with source.open("r", encoding="utf-8") if path is None else open(path, encoding="utf-8") as fh:
            table = pd.read_csv(fh, comment="#", dtype={"period": str})
        rates = table.set_index("period")["usd_per_eur"].astype(float)
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read the EUR/USD rates table (period,usd_per_eur): {exc}", path=path or str(source)) from None
    return rates


def usd_per_eur(year: pd.Series, month: pd.Series, options: dict[str, Any]) -> pd.Series:
    """The rate for each period (NA where the table has none): the month's, or for a year (month NA)
    the mean of its twelve months; a year the table covers only in part has none."""
    rates = load_rates(Path(options["rates"]) if options.get("rates") else None)
    by_year = rates.groupby(rates.index.str[:4])
    annual = by_year.mean()[by_year.count() == 12]
    key = year.astype(str) + "-" + month.astype("string").str.zfill(2)
    return key.map(rates).where(month.notna(), year.astype(str).map(annual))


def _plain(text: pd.Series) -> pd.Series:
    """Upper case without accents or dots: 'août 2024' -> 'AOUT 2024', 'Jan.-Dec. 2016' -> 'JAN-DEC 2016'."""
    import unicodedata

    def fold(v: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", v) if not unicodedata.combining(c))

    return text.map(fold, na_action="ignore").astype("string").str.upper().str.replace(".", "", regex=False) \
        .str.replace(r"\s+", " ", regex=True).str.strip()


def parse_period(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Year and month (NA for annual) from Comext period labels and codes; NA year where unreadable.

    Months: `Aug. 2024`, `août 2024`, `Okt. 2024`, `2024-08`, `2024M08`, `202408`. Years: `2024`,
    `Jan.-Dec. 2024` (in any of the three languages) and the code `202452` (Comext's annual period).
    """
    t = _plain(text)
    year = pd.Series(pd.NA, index=t.index, dtype="Int64")
    month = pd.Series(pd.NA, index=t.index, dtype="Int64")
    patterns = [  # (regex, month group or None)
        (r"(?P<m>[A-Z]{3,5}) (?P<y>\d{4})", "name"),
        (r"(?P<y>\d{4})52", None),
        (r"(?P<y>\d{4})(?:-|M)(?P<m>\d{2})", "num"),
        (r"(?P<y>\d{4})(?P<m>\d{2})", "num"),
        (r"(?:(?:JAN|JANV)-(?:DEC|DEZ) )?(?P<y>\d{4})", None),
    ]
    for regex, kind in patterns:
        found = t.str.extract(f"^{regex}$")
        hit = found["y"].notna() & year.isna()
        if kind == "name":
            hit &= found["m"].isin(list(MONTHS))
            month = month.where(~hit, found["m"].map(MONTHS))
        elif kind == "num":
            m = pd.to_numeric(found["m"], errors="coerce")
            hit &= m.between(1, 12)
            month = month.where(~hit, m)
        year = year.where(~hit, pd.to_numeric(found["y"], errors="coerce"))
    return year, month.astype("Int64")


def use_codes(raw) -> None:
    """Columns in the code-label display (every value `CODE-Label`) keep only their code, in place."""
    for column, pattern in CODE_LABEL.items():
        if column in raw.df.columns:
            values = raw.text(column)
            codes = values.str.extract(f"^{pattern}$")[0]
            if len(values) and codes.notna().all():
                raw.df[column] = codes


class Comext:
    name = "comext"

    def sniff(self, path: Path, head: str) -> bool:
        first = [h.strip().strip('"').upper() for h in head.split("\n", 1)[0].split(",")]
        return all(h in first for h in ("REPORTER", "PARTNER", "PRODUCT", "FLOW", "PERIOD", "VALUE_IN_EUR"))

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        raw = read_csv_rows(path)
        raw.df.columns = [c.strip('"').upper() for c in raw.df.columns]
        raw.require([h for h in HEADER if h != "STAT_PROCEDURE"])
        use_codes(raw)
        year, month = parse_period(raw.text("PERIOD"))
        raw.where(year.isna(), "PERIOD", lambda v: f"unreadable period {v!r} (expected e.g. 'Aug. 2024' or '2024')")
        flow = _plain(raw.text("FLOW"))
        raw.where(~flow.isin(list(FLOWS)), "FLOW", lambda v: f"flow {v!r} is not IMPORT or EXPORT")
        product = _plain(raw.text("PRODUCT")).str.replace(" ", "", regex=False)
        total = product.isin(list(TOTALS))
        ok = total | product.str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}").fillna(False)
        raw.where(~ok, "PRODUCT", lambda v: f"not an HS/CN code or Total: {v!r} (HS2, HS4, HS6 or CN8 digits)")
        product = product.where(~total, schema.TOTAL).where(product.str.len() != 8, product.str[:6])

        rate = usd_per_eur(year, month, options)
        raw.where(rate.isna(), "PERIOD", lambda v: f"no EUR/USD rate for {v!r} in the rates table")
        procedure = _plain(raw.text("STAT_PROCEDURE")).fillna("") if "STAT_PROCEDURE" in raw.df.columns else ""
        who = raw.countries(["REPORTER", "PARTNER"], options=options)

        frame = pd.DataFrame({
            **periods(year, month),
            "reporter": who["REPORTER"],
            "partner": who["PARTNER"],
            "flow": flow.map(FLOWS),
            "product": product,
            "value_native": raw.numbers("VALUE_IN_EUR"),
            "quantity": raw.numbers("QUANTITY_IN_100KG", scale=100.0) if "QUANTITY_IN_100KG" in raw.df.columns else None,
            "procedure": procedure,
        })
        procedures = set(frame["procedure"].unique())
        if len(procedures) > 1 and procedures & TOTAL_PROCEDURES:
            raise InputError(
                f"STAT_PROCEDURE mixes a total with its parts ({', '.join(sorted(procedures))}): summing would double count",
                path=path, column="STAT_PROCEDURE",
            )
        frame["hs_rev"] = frame["year"].map(hs_revision_for).where(frame["product"] != schema.TOTAL)
        frame["value_usd"] = frame["value_native"] * rate.astype(float)
        frame["unit"] = "kg"
        keys = ["period", "freq", "year", "month", "reporter", "partner", "flow", "hs_rev", "product", "unit"]
        raw.one_name_per_code(frame[keys + ["procedure"]], ["REPORTER", "PARTNER"])
        raw.once(frame[keys + ["procedure"]].assign(line_product=_plain(raw.text("PRODUCT"))))
        # CN8 lines of one HS6 heading, and the parts of a procedure split, add up to one flow.
        grouped = frame.assign(_first=np.arange(len(frame))).groupby(keys, dropna=False, sort=False)
        summed = grouped[["value_usd", "value_native", "quantity"]].sum(min_count=1)
        summed["_first"], summed["_lines"] = grouped["_first"].min(), grouped["_first"].size()
        summed = summed.reset_index().assign(currency="EUR")
        summed["unit"] = summed["unit"].where(summed["quantity"].notna())
        place = raw.place(SOURCE_COLUMNS, summed["_first"], summed["_lines"])
        return Written(insert(con, {c: summed[c] for c in summed.columns if not c.startswith("_")}, "comext", batch_id, place),
                       raw.notes)


io.register(Comext())
