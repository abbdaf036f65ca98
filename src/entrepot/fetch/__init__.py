"""Fetch trade data from its source into the store: UN Comtrade+, CEPII BACI releases, Eurostat Comext.

Each fetcher caches every raw answer on disk (`cache_dir()`: the user cache directory, or
`$ENTREPOT_CACHE`), so a rerun reads the cache and an interrupted fetch resumes where it stopped;
each returns a `FetchResult` with the files it read or downloaded and what it ingested.
"""

from entrepot.fetch._baci import baci
from entrepot.fetch._comext import comext
from entrepot.fetch._comtrade import comtrade
from entrepot.fetch._http import FetchError, cache_dir
from entrepot.fetch._result import FetchResult

__all__ = ["FetchError", "FetchResult", "baci", "cache_dir", "comext", "comtrade"]
