"""HS codes across revisions, through the UN Statistics Division's correspondence tables.

UNSD publishes, for each pair of revisions, `HS2022toHS2017ConversionAndCorrelationTables.xlsx` and
the like: a `Correlations` sheet listing every pair of 6-digit codes (newer, older) that share goods,
with UNSD's relationship label (1:1, n:1, 1:n, n:n). `load_table` reads one from a path the user gives
(the file, or a folder holding it), else from entrepot's cache, else downloads it from UNSD once into
the cache (`entrepot.concordance.URL`, through the fetchers' HTTP client: retries, a cut download
resumed); a download is cached only once it reads as a correlation table.

Converting values from the newer revision to the older one (`Concordance.to_older`), per newer code:

- **one older code** (UNSD's 1:1, or n:1 where several newer codes merge back into one older code):
  the whole value goes to it, and values of several newer codes add up;
- **several older codes** (1:n, n:n: the newer code took goods from several older ones): the value is
  split by **weights**, the older codes' shares of the same flow in a base period (the last year before
  the change, given as `weights`); where the base period has none of those codes (or no weights are
  given) the split is in **equal shares**. The rule used is kept per row.

A value in an older code is **concorded** when any of it came through a link other than 1:1 with the
same code: analyses show that flag beside the product. `families()` gives the exact alternative with no
weights: the connected groups of codes (all newer and older codes linked together), so a series summed
by family is the same goods before and after the change. Families can be large: HS 2022's e-waste
(8549) links to 1,019 HS 2017 codes and ties 2,258 codes into one family; for such a code the split
spreads its value thinly over all of them, and `method="conversion"` (UNSD's one conversion code per
newer code) is the alternative.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from entrepot.errors import InputError

YEARS = {"HS92": 1992, "HS96": 1996, "HS02": 2002, "HS07": 2007, "HS12": 2012, "HS17": 2017, "HS22": 2022}
URL = "https://unstats.un.org/unsd/classifications/Econ/tables/{name}"
RETRIES, BACKOFF = 3, 1.0  # the download's retries on a cut connection or 5xx, and the first wait (s), doubling


def table_name(newer: str, older: str) -> str:
    """UNSD's file name for the table between two revisions ('HS22', 'HS17')."""
    return f"HS{YEARS[newer]}toHS{YEARS[older]}ConversionAndCorrelationTables.xlsx"


def cache_dir() -> Path:
    """Where downloaded tables are kept: $ENTREPOT_CACHE/concordance, else the user's cache folder."""
    if os.environ.get("ENTREPOT_CACHE"):
        return Path(os.environ["ENTREPOT_CACHE"]) / "concordance"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("entrepot")) / "concordance"


def locate(newer: str, older: str, source: str | Path | None = None, *, download: bool = True) -> Path:
    """The table's file: `source` (the file, or a folder holding it), else the cache, else UNSD."""
    for rev in (newer, older):
        if rev not in YEARS:
            raise InputError(f"unknown HS revision {rev!r}; one of {', '.join(YEARS)}")
    if YEARS[newer] <= YEARS[older]:
        raise InputError(f"{newer} is not newer than {older}")
    name = table_name(newer, older)
    if source is not None:
        path = Path(source)
        path = path / name if path.is_dir() else path
        if not path.is_file():
            raise InputError(f"no UNSD correspondence table {name} here", path=path)
        return path
    cached = cache_dir() / name
    if cached.is_file():
        return cached
    if not download:
        raise InputError(f"{name} is not in the cache ({cached.parent}); give its path or allow the download")
    return _download(URL.format(name=name), cached)


def _download(url: str, cached: Path) -> Path:
    """`url` into the cache at `cached`, whole or not at all, and only if it reads as a correlation table."""
    from entrepot.fetch._http import FetchError, Http

    staged = cached.with_name(f".download-{cached.name}")
    try:
        with Http(retries=RETRIES, backoff=BACKOFF) as http:
            http.download(url, staged, progress=True, label=cached.name)
        _correlations(staged)
    except (FetchError, InputError) as exc:
        for left in (staged, staged.with_name(staged.name + ".part"), staged.with_name(staged.name + ".part.json")):
            left.unlink(missing_ok=True)  # nothing half-written stays in the cache
        reason = exc.reason if isinstance(exc, InputError) else str(exc).removeprefix(f"GET {url}: ")
        raise InputError(f"cannot download {url} ({reason}); download it and give its path") from None
    os.replace(staged, cached)
    return cached


@dataclass(frozen=True)
class Concordance:
    """The links between two revisions' HS6 codes, and the conversions they allow."""

    newer: str
    older: str
    links: pd.DataFrame  # columns new, old, relationship (UNSD's label)
    conversion: pd.Series  # newer code -> the one older code UNSD converts it to (the Conversions sheet)
    path: Path | None = None

    def families(self) -> pd.DataFrame:
        """Columns rev, code, family: every code with the connected group it belongs to, named by
        the group's smallest older code (`HS17:570320` holds HS17 570320 and HS22 570321, 570329)."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for new, old in zip(self.links["new"], self.links["old"], strict=True):
            a, b = find("N" + new), find("O" + old)
            if a != b:
                parent[max(a, b)] = min(a, b)
        nodes = pd.DataFrame({"node": list(parent)})
        nodes["root"] = nodes["node"].map(find)
        older = nodes[nodes.node.str[0] == "O"].assign(code=lambda d: d.node.str[1:])
        name = older.groupby("root")["code"].min()
        nodes["family"] = f"{self.older}:" + nodes["root"].map(name)
        nodes["rev"] = np.where(nodes.node.str[0] == "N", self.newer, self.older)
        nodes["code"] = nodes.node.str[1:]
        return nodes[["rev", "code", "family"]].sort_values(["family", "rev", "code"]).reset_index(drop=True)

    def to_older(self, frame: pd.DataFrame, value: str = "value", weights: pd.Series | None = None,
                 method: str = "split") -> pd.DataFrame:
        """Rows of `frame` (a `product` column of newer HS6 codes, a `value` column, any key columns)
        in the older revision: columns as given plus `rule` (1:1, n:1, weights, equal, conversion,
        unmatched) and `concorded`. `weights`: base-period value by older code (e.g. 2021's trade of
        the same flow). `method="conversion"` sends each newer code whole to UNSD's one conversion
        code instead of splitting."""
        if method not in ("split", "conversion"):
            raise InputError(f"unknown concordance method {method!r}; split or conversion")
        links = self.links[["new", "old", "relationship"]]
        if method == "conversion":
            one = self.conversion.rename("old").rename_axis("new").reset_index()
            links = one.merge(links, on=["new", "old"], how="left").fillna({"relationship": "conversion"})
        targets = links.groupby("new")["old"].transform("size")
        links = links.assign(n_targets=targets)
        w = weights if weights is not None else pd.Series(dtype=float)
        links = links.assign(weight=links["old"].map(w).fillna(0.0).clip(lower=0))
        total = links.groupby("new")["weight"].transform("sum")
        split = links["n_targets"] > 1
        links["share"] = np.where(~split, 1.0, np.where(total > 0, links["weight"] / total.where(total > 0, 1), 1.0 / links["n_targets"]))
        single = np.where(links["relationship"] == "1:1", "1:1", "n:1" if method == "split" else "conversion")
        links["rule"] = np.where(~split, single,
                                 np.where(total > 0, "weights", "equal"))
        links["concorded"] = split | (links["relationship"] != "1:1") | (links["new"] != links["old"])
        out = frame.merge(links[["new", "old", "share", "rule", "concorded"]], left_on="product", right_on="new", how="left")
        unmatched = out["new"].isna()
        out["old"] = out["old"].where(~unmatched, out["product"])
        out["share"] = out["share"].fillna(1.0)
        out["rule"] = out["rule"].where(~unmatched, "unmatched")
        out["concorded"] = out["concorded"].where(~unmatched, False).astype(bool)
        out[value] = out[value] * out["share"]
        return out.drop(columns=["product", "new", "share"]).rename(columns={"old": "product"})


def _code(value: object) -> str:
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.zfill(6) if text.isdigit() else text


def _correlations(path: Path):  # noqa: ANN202 (calamine's workbook type)
    """The workbook at `path` and the name of its Correlations sheet, or an `InputError` naming the file."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine's own error types for a damaged file (or an HTML page)
        raise InputError(f"cannot read the workbook: {' '.join(str(exc).split())}", path=path) from None
    sheet = next((s for s in book.sheet_names if "correlation" in s.lower()), None)
    if sheet is None:
        raise InputError("no Correlations sheet (is this a UNSD HS conversion and correlation table?)", path=path)
    return book, sheet


def load_table(newer: str, older: str, source: str | Path | None = None, *, download: bool = True) -> Concordance:
    """The correspondence between two revisions (see `locate` for where the file comes from)."""
    path = locate(newer, older, source, download=download)
    book, sheet = _correlations(path)
    rows = book.get_sheet_by_name(sheet).to_python()
    head = next((k for k, r in enumerate(rows[:10]) if str(r[0]).strip().upper().startswith("HS")), None)
    if head is None or len(rows[head]) < 3:
        raise InputError(f"[{sheet}]: no header row 'HS{YEARS[newer]}, HS{YEARS[older]}, Relationship'", path=path)
    body = [r[:3] for r in rows[head + 1:] if str(r[0]).strip()]
    links = pd.DataFrame(body, columns=["new", "old", "relationship"])
    links["new"], links["old"] = links["new"].map(_code), links["old"].map(_code)
    links["relationship"] = links["relationship"].astype(str).str.strip()
    bad = ~links["new"].str.fullmatch(r"\d{6}") | ~links["old"].str.fullmatch(r"\d{6}")
    if bad.any():
        k = int(np.argmax(bad.to_numpy()))
        raise InputError(f"not a pair of HS6 codes: {body[k][:2]}", path=f"{path} [{sheet}]", line=head + 2 + k)
    links = links[links["new"] != "999999"].drop_duplicates(["new", "old"]).reset_index(drop=True)  # UNSD's end marker
    conv = next((s for s in book.sheet_names if "conversion" in s.lower()), None)
    pairs = [(_code(r[0]), _code(r[1])) for r in (book.get_sheet_by_name(conv).to_python()[1:] if conv else []) if str(r[0]).strip()]
    conversion = pd.Series(dict(p for p in pairs if p[0].isdigit() and p[0] != "999999"), dtype=object)
    return Concordance(newer, older, links, conversion, path)
