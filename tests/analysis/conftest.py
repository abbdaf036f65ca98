"""A hand-made embargo panel for the analysis tests (the synthetic worlds are in tests/conftest.py)."""

from __future__ import annotations

import numpy as np

from entrepot.store import Store
from tests.conftest import insert


def embargo_panel(store: Store, drop: float = 0.9, transition_drop: float = 0.5, cif_fob: float = 1.06) -> None:
    """TUR's HS2 exports to three controls and to ISR, 2018-2025, growing 5% a year with 5% noise;
    ISR's trade with TUR falls by `drop` from 2025 (`transition_drop` in 2024); ISR reports CIF."""
    rng = np.random.default_rng(1)
    rows = []
    for year in range(2018, 2026):
        for g in range(1, 21):
            base = 1e6 * g * 1.05 ** (year - 2018)
            product = f"{g:02d}"
            for partner, scale in (("DEU", 1.0), ("FRA", 0.8), ("USA", 1.5)):
                rows.append({"year": year, "reporter": "TUR", "partner": partner, "flow": "export", "product": product,
                             "value_usd": base * scale * np.exp(rng.normal(0, 0.05))})
            kept = 1.0 if year < 2024 else (1 - transition_drop if year == 2024 else 1 - drop)
            value = base * 0.5 * np.exp(rng.normal(0, 0.05)) * kept
            rows.append({"year": year, "reporter": "TUR", "partner": "ISR", "flow": "export", "product": product, "value_usd": value})
            rows.append({"year": year, "reporter": "ISR", "partner": "TUR", "flow": "import", "product": product,
                         "value_usd": value * cif_fob})
    insert(store, rows)
