"""What `entrepot ingest` is given, as files: folders, zips, .gz and .7z archives, grouped into releases.

A BACI release comes as one folder or zip holding its trade files (`BACI_HS22_Y2022_V202501.csv`),
its own country and product tables (`country_codes_V202501.csv`, `product_codes_HS22_V202501.csv`)
and a `Readme.txt`. Each folder or archive given is one release: its trade files go in together,
read through its own country table, and its product descriptions are kept. Files given one by one
are grouped by their folder, so `BACI_HS22_V202501/*` is the same release as the folder itself.
Companion files (tables, Readmes) are recognised by name and never mistaken for trade data.

Archive members are extracted one at a time into a temporary directory, read, and deleted, so a
release zip never needs its full unpacked size on disk.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from entrepot.errors import InputError

_VERSION = re.compile(r"_V(\d{6}[a-z]?)(?=[._]|$)", re.I)
_BACI = re.compile(r"^BACI_HS\d\d_Y\d{4}", re.I)
_COUNTRY_TABLE = re.compile(r"^country_codes.*\.csv$", re.I)
_PRODUCT_TABLE = re.compile(r"^product_codes.*\.csv$", re.I)
# Readmes, notes and documentation: recognised and left alone. A `.txt` is a readme unless an adapter
# knows its header (Comtrade+ bulk files are tab-separated `.txt`; Comext's FLOW.txt is metadata).
_README = re.compile(r"^(readme|read_me|notes?|licen[cs]e)\b.*|.*\.(pdf|md|html?|docx?|rtf)$", re.I)
# Hidden files, OS clutter and DuckDB stores (a store kept in the data folder) are not ingested.
_SKIP = re.compile(r"^(\.|__MACOSX|Thumbs\.db$|desktop\.ini$)|.*\.duckdb(\.wal)?$", re.I)


@dataclass
class Member:
    """One file of what was given: where it is (or which archive holds it) and what kind it is."""

    label: str  # how messages and the batch table name it: 'release.zip!dir/file.csv'
    kind: str  # 'trade', 'country_codes', 'product_codes' or 'readme'
    source: Path  # the file on disk, or the archive holding it
    inner: str | None = None  # the member's name inside `source`, for archives

    @property
    def name(self) -> str:
        return Path(self.inner or self.source.name).name

    @contextmanager
    def local(self) -> Iterator[Path]:
        """A path to read the member from: the file itself, or a temporary extracted copy."""
        if self.inner is None:
            yield self.source
            return
        with tempfile.TemporaryDirectory(prefix="entrepot-") as tmp:
            target = Path(tmp) / self.name
            _extract(self.source, self.inner, target)
            yield target


@dataclass
class Release:
    """Files that go in together: a folder, an archive, or the files of one folder given one by one."""

    label: str
    members: list[Member] = field(default_factory=list)

    @property
    def version(self) -> str | None:
        """BACI's release version ('V202501') from the folder/archive name or its files' names."""
        for text in [self.label, *(m.name for m in self.members)]:
            if m := _VERSION.search(Path(text).name):
                return "V" + m.group(1)
        return None

    def of_kind(self, kind: str) -> list[Member]:
        return [m for m in self.members if m.kind == kind]


def kind_of(name: str, head: str | None = None) -> str:
    """What a file is, from its name (and, for a `.txt`, its first line `head` if known)."""
    base = Path(name).name
    if _COUNTRY_TABLE.match(base):
        return "country_codes"
    if _PRODUCT_TABLE.match(base):
        return "product_codes"
    if _README.match(base):
        return "readme"
    if base.lower().endswith(".txt") and not _is_data(head):
        return "readme"
    return "trade"


def _is_data(head: str | None) -> bool:
    """Whether an adapter knows this header (`None`: not looked at yet, assume data)."""
    if head is None:
        return True
    from entrepot import io

    return any(a.sniff(Path("x.txt"), head) for a in io._adapters())


def releases(paths: list[Path]) -> list[Release]:
    """Group what was given into releases, in the order given; a path that does not exist is an error."""
    out: list[Release] = []
    loose: dict[Path, Release] = {}
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise InputError("no such file or folder", path=path)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not any(_SKIP.match(part) for part in p.relative_to(path).parts))
            if not files:
                raise InputError("empty folder: no files to ingest", path=path)
            out.append(Release(str(path), [Member(str(f), kind_of(f.name, _head(f)), f) for f in files]))
        elif is_archive(path):
            out.append(Release(str(path), archive_members(path)))
        else:
            parent = path.resolve().parent
            if parent not in loose:
                loose[parent] = Release(str(path.parent))
                out.append(loose[parent])
            loose[parent].members.append(Member(str(path), kind_of(path.name, _head(path)), path))
    for rel in loose.values():
        _add_sibling_country_table(Path(rel.label), rel)
    return out


def _add_sibling_country_table(folder: Path, rel: Release) -> None:
    """BACI files given one by one use their folder's country table of the same release, when there
    is exactly one (`BACI_HS22_V202501/BACI_HS22_Y2023_V202501.csv` beside `country_codes_V202501.csv`)."""
    if rel.of_kind("country_codes") or not any(_BACI.match(m.name) for m in rel.of_kind("trade")):
        return
    version = rel.version
    tables = [p for p in folder.glob("*") if _COUNTRY_TABLE.match(p.name)
              and (version is None or (m := _VERSION.search(p.name)) is None or "v" + m.group(1).lower() == version.lower())]
    if len(tables) == 1:
        rel.members.insert(0, Member(str(tables[0]), "country_codes", tables[0]))


def _head(path: Path) -> str | None:
    """The first bytes of a `.txt` (to tell data from a readme); None for other files."""
    if not path.name.lower().endswith(".txt"):
        return None
    from entrepot.io import read_head

    return read_head(path, 4096)


def is_archive(path: Path) -> bool:
    return path.suffix.lower() in (".zip", ".gz", ".7z")


def archive_members(path: Path) -> list[Member]:
    """The files inside a .zip or .7z (each a member), or the one file a .gz compresses."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        inner = path.name[: -len(path.suffix)]
        return [Member(str(path), kind_of(inner, _peek(path, inner)), path, inner)]
    try:
        if suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                names = [i.filename for i in zf.infolist() if not i.is_dir()]
        else:
            import py7zr

            with py7zr.SevenZipFile(path) as z7:
                names = [i.filename for i in z7.list() if not i.is_directory]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(f"not a readable {suffix[1:]} archive: {exc}", path=path) from None
    except Exception as exc:  # py7zr raises its own Bad7zFile and friends
        if type(exc).__module__.startswith("py7zr"):
            raise InputError(f"not a readable 7z archive: {exc}", path=path) from None
        raise
    names = [n for n in names if not any(_SKIP.match(part) for part in Path(n).parts)]
    if not names:
        raise InputError("empty archive: no files to ingest", path=path)
    return [Member(f"{path}!{n}", kind_of(n, _peek(path, n)), path, n) for n in sorted(names)]


def _peek(archive: Path, inner: str) -> str | None:
    """The first bytes of a `.txt` member of a .gz or .zip, as text (None for other members and .7z)."""
    if not inner.lower().endswith(".txt") or archive.suffix.lower() == ".7z":
        return None
    try:
        if archive.suffix.lower() == ".gz":
            with gzip.open(archive, "rb") as fh:
                raw = fh.read(4096)
        else:
            with zipfile.ZipFile(archive) as zf, zf.open(inner) as fh:
                raw = fh.read(4096)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable {archive.suffix[1:]} archive: {exc}", path=archive) from None
    return raw.decode("utf-8", "replace").lstrip("\ufeff")


def _extract(archive: Path, inner: str, target: Path) -> None:
    suffix = archive.suffix.lower()
    try:
        if suffix == ".gz":
            with gzip.open(archive, "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        elif suffix == ".zip":
            with zipfile.ZipFile(archive) as zf, zf.open(inner) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            import py7zr

            with py7zr.SevenZipFile(archive) as z7:
                z7.extract(path=target.parent, targets=[inner])
            extracted = target.parent / inner
            if extracted != target:
                extracted.replace(target)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot extract {inner}: {exc}", path=archive) from None
