"""Fetch trade data from its source into the store: UN Comtrade+, CEPII BACI releases, Eurostat Comext.

Each fetcher caches every raw answer on disk (`entrepot.fetch.cache_dir()`), so a rerun reads the
cache and an interrupted fetch resumes where it stopped; each returns a `FetchResult`.
"""

from entrepot.fetch._comtrade import comtrade
from entrepot.fetch._http import FetchError, cache_dir
from entrepot.fetch._result import FetchResult

__all__ = ["FetchError", "FetchResult", "cache_dir", "comtrade"]
