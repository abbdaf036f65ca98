"""Amounts in USD or EUR: exact in the source's own currency, converted once otherwise.

Every flow has `value_usd`; a source that reports in EUR (Comext) also keeps its own amount in
`value_native` with `currency = 'EUR'`. An amount in EUR is that exact figure where there is one, and
otherwise `value_usd` divided by the period's rate from the shipped monthly table
(`entrepot/data/eur_usd_monthly.csv`, ECB reference rates; a year by the mean of its twelve months),
the same table the Comext adapters convert with, so a EUR source read in USD and back is unchanged.
"""

from __future__ import annotations

from functools import cache

import duckdb
import pandas as pd

from entrepot.errors import InputError

CURRENCIES = ("USD", "EUR")
RATES_VIEW = "entrepot_usd_per_eur"


@cache
def rates_by_period() -> pd.DataFrame:
    """rate_period ('2024-05' or '2024'), usd_per_eur: the months of the shipped table and the years it covers whole."""
    from entrepot.io.comext import load_rates, usd_per_eur

    monthly = load_rates()
    years = pd.Series(sorted(set(monthly.index.str[:4])))
    annual = usd_per_eur(years.astype(int), pd.Series(pd.NA, index=years.index, dtype="Int64"), {})
    table = pd.concat([pd.DataFrame({"rate_period": monthly.index, "usd_per_eur": monthly.to_numpy()}),
                       pd.DataFrame({"rate_period": years, "usd_per_eur": annual.to_numpy()}).dropna()], ignore_index=True)
    return table


def check(currency: str) -> str:
    """The currency's code, upper case, or an `InputError`."""
    up = str(currency).upper()
    if up not in CURRENCIES:
        raise InputError(f"--currency must be USD or EUR, not {currency!r}")
    return up


def amount(con: duckdb.DuckDBPyConnection, currency: str, alias: str = "flows") -> tuple[str, str]:
    """(SQL of the amount in `currency`, the JOIN it needs) for a query on the flows table as `alias`.

    USD is `value_usd`; EUR the source's own EUR, else value_usd over the period's rate (NULL where
    the table has no rate for the period).
    """
    if check(currency) == "USD":
        return f"{alias}.value_usd", ""
    con.register(RATES_VIEW, rates_by_period())
    expr = (f"CASE WHEN {alias}.currency = 'EUR' AND {alias}.value_native IS NOT NULL THEN {alias}.value_native "
            f"ELSE {alias}.value_usd / {RATES_VIEW}.usd_per_eur END")
    return expr, f"LEFT JOIN {RATES_VIEW} ON {RATES_VIEW}.rate_period = {alias}.period"
