"""The documentation runs: docs/python-api.md's code blocks, in order, in one namespace (as a notebook)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

API = ROOT / "docs" / "python-api.md"


def code_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_python_api_walkthrough_runs(capsys) -> None:
    blocks = code_blocks(API.read_text(encoding="utf-8"))
    assert len(blocks) >= 10
    namespace: dict = {}
    for k, block in enumerate(blocks):
        try:
            exec(compile(block, f"{API.name}, block {k + 1}", "exec"), namespace)  # noqa: S102 - our own documentation
        except Exception as exc:  # the block's number and the error, not the harness's traceback
            pytest.fail(f"{API.name} block {k + 1} fails: {exc!r}")
    printed = capsys.readouterr().out
    assert "min_share: must be a share between 0 and 1, not 2" in printed and "typo.csv:3: column partner" in printed


def test_readme_points_to_the_python_api() -> None:
    assert "docs/python-api.md" in (ROOT / "README.md").read_text(encoding="utf-8")
