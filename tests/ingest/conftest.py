from pathlib import Path

import pytest

from entrepot.store import Store


@pytest.fixture
def write(tmp_path: Path):
    """Write text (or bytes) to a file in the test's directory and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


def snapshot(store: Store) -> tuple[int, int]:
    return store.row_count(), len(store.batches())
