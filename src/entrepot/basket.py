"""A basket of products given as a list of codes (`--basket FILE`, or `basket = "FILE"` in a case file).

The file is a CSV with a `code` column (also `cn8`, `hs`, `hs6`, `product`; else its first column),
or plain text with one code per line; other columns (a description) are ignored. Codes are HS2, HS4,
HS6 or CN8, with or without dots or spaces (`8471.30.00`, `8471 30 00`). A code with an odd number of
digits is an error, not padded: it is most often a code whose leading zero a spreadsheet dropped
(`1012100` for `01012100`), and guessing would put another product in the basket.

Matching rows of a store at one product level (`Basket.condition`): a row is in the basket when its
code is listed, lies under a listed coarser code (row `21069092` under `2106`), or contains a listed
finer code (row `210690` holds the listed `21069092`). The last is the usual convention for a basket
of CN8 lines read at HS6 (a heading counts whole when any of its lines is listed), and is reported:
`partial(level)` names the coarser codes that count whole.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from entrepot.errors import InputError

CODE_COLUMNS = ("code", "cn8", "hs", "hs6", "hs8", "product", "product_code")
SEPARATORS = re.compile(r"[.\s\u00a0]")


@dataclass(frozen=True)
class Basket:
    """Product codes (HS2/4/6, CN8) without repeats, in the file's order; `name` for tables and titles."""

    codes: tuple[str, ...]
    name: str = "basket"
    path: Path | None = None

    def at_level(self, level: int) -> tuple[str, ...]:
        """The basket's codes as rows of `level` digits see them (finer codes cut, coarser kept)."""
        return tuple(sorted({c[:level] if len(c) > level else c for c in self.codes}))

    def partial(self, level: int) -> tuple[str, ...]:
        """Codes of `level` digits that count whole although only some of their lines are listed."""
        whole = [c for c in self.codes if len(c) <= level]
        cut = {c[:level] for c in self.codes if len(c) > level}
        return tuple(sorted(h for h in cut if not any(h.startswith(w) for w in whole)))

    def condition(self, level: int, column: str = "product") -> str:
        """SQL: a row of `level` digits is in the basket (see the module's matching rule)."""
        codes = self.at_level(level)
        exact = [c for c in codes if len(c) == level]
        coarser = [c for c in codes if len(c) < level]
        parts = []
        if exact:
            parts.append(f"{column} IN ({', '.join(repr(c) for c in exact)})")
        parts += [f"starts_with({column}, '{c}')" for c in coarser]
        return "(" + " OR ".join(parts) + ")" if parts else "FALSE"

    def contains(self, products: list[str]) -> list[bool]:
        """Whether each code (all of one length) is in the basket, by the rule of `condition`."""
        if not products:
            return []
        level = len(products[0])
        codes = self.at_level(level)
        exact, coarser = {c for c in codes if len(c) == level}, tuple(c for c in codes if len(c) < level)
        return [p in exact or p.startswith(coarser) for p in products]

    def within(self, code: str) -> Basket:
        """The basket's products under the HS code `code` (a listed coarser code stands for `code`); an
        `InputError` naming `product` when none is."""
        codes = [c if c.startswith(code) else code for c in self.codes if c.startswith(code) or code.startswith(c)]
        if not codes:
            raise InputError(f"no code of basket {self.name} lies under {code}", parameter="product")
        return Basket(tuple(dict.fromkeys(codes)), f"{self.name}, under HS {code}", self.path)

    def __len__(self) -> int:
        return len(self.codes)


def normalise(raw: str) -> str:
    """A code as written (quotes, dots, spaces) as bare digits."""
    return SEPARATORS.sub("", raw.strip().strip('"').strip("'"))


def parse_basket(text: str, path: Path | None = None, name: str | None = None) -> Basket:
    """A basket from a file's text; every bad code is an `InputError` naming the line."""
    lines = text.lstrip("\ufeff").splitlines()
    rows = list(csv.reader(io.StringIO("\n".join(lines)))) if lines else []
    header = [h.strip().lower() for h in rows[0]] if rows else []
    has_header = bool(header) and not normalise(header[0]).isdigit()
    col = next((header.index(c) for c in CODE_COLUMNS if c in header), 0) if has_header else 0
    codes: list[str] = []
    for number, row in enumerate(rows[1:] if has_header else rows, start=2 if has_header else 1):
        if not row or not any(f.strip() for f in row):
            continue
        if col >= len(row):
            raise InputError(f"no code in column {col + 1}", path=path, line=number)
        code = normalise(row[col])
        if not code.isdigit():
            raise InputError(f"not a product code: {row[col]!r} (HS2/4/6 or CN8 digits)", path=path, line=number)
        if len(code) % 2:
            raise InputError(f"code {row[col]!r} has {len(code)} digits: a code that lost its leading zero? "
                             f"write '0{code}' if so", path=path, line=number)
        if len(code) not in (2, 4, 6, 8):
            raise InputError(f"code {row[col]!r} has {len(code)} digits (HS2/4/6 or CN8)", path=path, line=number)
        codes.append(code)
    if not codes:
        raise InputError("no product codes in the basket file", path=path)
    return Basket(tuple(dict.fromkeys(codes)), name or (path.stem if path else "basket"), path)


def load_basket(path: str | Path, name: str | None = None) -> Basket:
    """The basket in a file (UTF-8, else Latin-1); `name` defaults to the file's stem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such basket file", path=path) from None
    except IsADirectoryError:
        raise InputError("a directory, not a basket file", path=path) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return parse_basket(text, path, name)
