"""Every trade file in ../shared/real goes in as a user would give it (the rows are checked file by
file in the other test_real_* modules); the services file, which must not go in, says why in one line."""

import pytest

from entrepot.errors import InputError
from entrepot.store.ingest import ingest_paths
from tests.conftest import SHARED, shared_file
from tests.ingest.conftest import snapshot

REFUSED = {
    "nikolovska_TradeData_Services.csv": "entrepot reads goods trade only",
}
FILES = sorted(p.relative_to(SHARED).as_posix() for d in ("real/comtrade", "real/comext", "real/wits", "real/baci/dersblog_excerpt")
               for p in (SHARED / d).glob("*") if p.is_file()) if (SHARED / "real").is_dir() else ["real/(missing)"]


@pytest.mark.parametrize("relative", FILES)
def test_real_file_as_given(store, relative: str) -> None:
    path = shared_file(relative)
    if path.name in REFUSED:
        with pytest.raises(InputError, match=REFUSED[path.name]):
            ingest_paths(store, [path])
        assert snapshot(store) == (0, 0)
    else:
        results = ingest_paths(store, [path])
        assert sum(r.rows for r in results) == store.row_count() > 0
