"""Write a benchmark's figures into its own section of a docs page, leaving the other sections alone.

Each benchmark owns the text between `<!-- BEGIN name -->` and `<!-- END name -->` in the page;
the section is added at the end the first time.
"""

from __future__ import annotations

import platform
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"

# The start of a script a benchmark runs in a fresh process (`python -c`): `peak_mib()` is that process's own
# resident high-water mark. ru_maxrss is not: a child's starts at what its parent held when it forked (Linux
# carries the parent's peak over exec), so a benchmark that built its stores in-process over-reported.
PEAK = """
def peak_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def seed_sets(text: str, n: int) -> list[range]:
    """`--first-seed 1,7001` with `--seeds 3`: the worlds 1-3 and 7001-7003."""
    return [range(int(first), int(first) + n) for first in text.split(",") if first]


def write_section(page: str, name: str, markdown: str, title: str | None = None) -> Path:
    path = DOCS / page
    text = path.read_text() if path.exists() else f"# {title or page.removesuffix('.md').title()}\n"
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
