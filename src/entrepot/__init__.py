"""entrepot: measure what an embargo did to trade, where the trade went, and what it cost.

The public API, one function per command (docs/python-api.md walks through it)::

    import entrepot
    store = entrepot.open("trade.duckdb")          # or entrepot.open() in memory
    entrepot.ingest(store, "BACI_HS17_Y2023_V202501.csv", my_dataframe)
    res = entrepot.reroute(store, "TUR", "ISR", event="2024-05-02")
    res.to_frame(); res.summary(); res.plot(); res.provenance

Every analysis takes the store first (a `Store` or the path of a store file), then the pair as
`exporter` and `importer`, `freq` for a frequency and `event` for the event's date; every result has
`to_frame()`, `to_dict()`, `summary()`, `plot()` and `provenance` (`entrepot.results`). Names are
imported on first use, so `import entrepot` (and the command line) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute); an empty attribute exports the module itself
_EXPORTS: dict[str, tuple[str, str]] = {
    "open": ("entrepot.api", "open"),
    "Store": ("entrepot.store.warehouse", "Store"),
    "ingest": ("entrepot.api", "ingest"),
    "flows": ("entrepot.analysis.flows", "flows"),
    "effect": ("entrepot.analysis.effect", "effect"),
    "mirror": ("entrepot.analysis.mirror", "mirror"),
    "reroute": ("entrepot.analysis.reroute", "reroute"),
    "cost": ("entrepot.analysis.cost", "cost"),
    "estimate": ("entrepot.api", "estimate"),
    "scenario": ("entrepot.api", "scenario"),
    "load_case": ("entrepot.case", "load_case"),
    "check_claims": ("entrepot.case", "check_claims"),
    "report": ("entrepot.api", "report"),
    "fetch": ("entrepot.fetch", ""),  # a module: entrepot.fetch.comtrade(...), .baci(...), .comext(...)
    "screen": ("entrepot.screening", "screen"),
    "Provenance": ("entrepot.results", "Provenance"),
    "InputError": ("entrepot.errors", "InputError"),
    "EntrepotError": ("entrepot.errors", "EntrepotError"),
}

__all__ = [  # the names of _EXPORTS (tests/test_api.py checks they agree)
    "EntrepotError", "InputError", "Provenance", "Store", "__version__", "check_claims", "cost", "effect", "estimate", "fetch",
    "flows", "ingest", "load_case", "mirror", "open", "report", "reroute", "scenario", "screen",
]

if TYPE_CHECKING:
    from entrepot import fetch
    from entrepot.analysis.cost import cost
    from entrepot.analysis.effect import effect
    from entrepot.analysis.flows import flows
    from entrepot.analysis.mirror import mirror
    from entrepot.analysis.reroute import reroute
    from entrepot.api import estimate, ingest, open, report, scenario
    from entrepot.case import check_claims, load_case
    from entrepot.errors import EntrepotError, InputError
    from entrepot.results import Provenance
    from entrepot.screening import screen
    from entrepot.store.warehouse import Store


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'entrepot' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = importlib.import_module(module)
    if attribute:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
