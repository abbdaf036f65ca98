"""Stata `.dta` gravity datasets: `exporter, importer, year, trade` (and covariates, left in the file).

Stored as the exporter's exports of all products (`product = TOTAL`, no HS revision), intra-national
flows (exporter == importer) included, because structural gravity needs them. `trade` is taken as US
dollars times `--value-scale` (default 1). The AGTPA files in the Yotov et al. (2016) guide label it
"current US dollars" but hold millions: ingest them with `--value-scale 1e6`. Gravity covariates
(distance, contiguity...) stay in the file: `entrepot estimate --data FILE.dta` reads them there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from entrepot import io, schema
from entrepot.errors import InputError
from entrepot.io._frame import Raw, insert, periods

REQUIRED = ("exporter", "importer", "year", "trade")


class Stata:
    name = "stata"

    def sniff(self, path: Path, head: str) -> bool:
        return path.suffix.lower() == ".dta"

    def write(self, con: duckdb.DuckDBPyConnection, path: Path, batch_id: str, options: dict[str, Any]) -> int:
        try:
            frame = pd.read_stata(path, convert_categoricals=False)
        except Exception as exc:  # pandas raises ValueError, struct.error, UnicodeDecodeError... on bad files
            raise InputError(f"not a readable Stata file: {' '.join(str(exc).split())}", path=path) from None
        frame.columns = [c.lower() for c in frame.columns]
        # Observation numbers stand in for lines, as Stata counts them: obs[1] is the first row (`list in 1`).
        raw = Raw(frame.astype("string"), path, record_key="obs", first=1)
        raw.require(list(REQUIRED))
        year = raw.numbers("year", required=True)
        raw.where(year != year.round(), "year", lambda v: f"year is not a whole number: {v}")
        scale = float(options.get("value_scale", 1.0))
        return insert(
            con,
            {
                **periods(year.astype("int64"), None),
                "reporter": raw.country("exporter", "iso3"),
                "partner": raw.country("importer", "iso3"),
                "flow": "export",
                "product": schema.TOTAL,
                "value_usd": raw.numbers("trade", scale=scale),
            },
            "stata",
            batch_id,
        )


io.register(Stata())
