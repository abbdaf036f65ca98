"""CEPII BACI: a release's zip downloaded (resumable), checked, and handed whole to `entrepot ingest`.

CEPII publishes each release at `https://www.cepii.fr/DATA_DOWNLOAD/baci/data/BACI_{HS}_{release}.zip`
(e.g. `BACI_HS17_V202501.zip`, about 2 GB): one `BACI_HS17_Y{year}_V202501.csv` per year, the release's
`country_codes_V202501.csv`, `product_codes_HS17_V202501.csv` and `Readme.txt`. CEPII publishes no
checksum, so the zip's own CRC-32 of every member is verified after the download (and the SHA-256 when
the user gives one); the size must be the one the server announced.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Any

from entrepot.errors import InputError
from entrepot.fetch import _query
from entrepot.fetch._http import FetchError, Http, byte_bar, cache_dir, error_message, sha256_file
from entrepot.fetch._result import FetchResult

URL_ENV = "ENTREPOT_BACI_URL"
BASE_URL = "https://www.cepii.fr/DATA_DOWNLOAD/baci/data"
REVISIONS = ("HS92", "HS96", "HS02", "HS07", "HS12", "HS17", "HS22")
_YEAR = re.compile(r"BACI_HS\d\d_Y(\d{4})_V\w+\.csv$", re.I)


def baci(
    release: str = "V202501",
    hs: str = "HS17",
    *,
    years: str | list[int] | None = None,
    sha256: str | None = None,
    store: Any = None,
    ingest: bool = True,
    cache: str | Path | None = None,
    refresh: bool = False,
    base_url: str | None = None,
    backoff: float = 1.0,
    progress: bool = False,
) -> FetchResult:
    """Download BACI release `release` in HS revision `hs`, verify it, and ingest it from the zip.

    An interrupted download resumes from where it stopped (HTTP Range). `years` ('2022:2023' or a list)
    keeps only those years: a smaller zip with their files and the release's code tables is written
    beside the download and ingested instead.
    """
    hs, release = hs.upper(), release.upper()
    if hs not in REVISIONS:
        raise InputError(f"--hs must be one of {', '.join(REVISIONS)}, not {hs!r}")
    if not re.fullmatch(r"V\d{6}[a-z]?", release, re.I):
        raise InputError(f"--release looks like V202501 (CEPII's release name), not {release!r}")
    name = f"BACI_{hs}_{release}.zip"
    url = f"{(base_url or os.environ.get(URL_ENV) or BASE_URL).rstrip('/')}/{name}"
    wanted = [int(y) for y in _query.periods(years, "A")] if years else []
    result = FetchResult("baci", {"release": release, "hs": hs, "years": wanted, "url": url})
    dest = cache_dir(cache) / "baci" / name
    checked = dest.with_name(dest.name + ".checked.json")
    whole_cached = dest.exists() and checked.exists() and not refresh and _still_checked(dest, checked)
    if wanted and not sha256 and not whole_cached:  # a SHA-256 is of the whole zip: it needs the whole zip
        with Http(backoff=backoff) as http:
            part = years_by_range(http, url, dest, wanted, refresh=refresh, progress=progress, result=result)
            result.requests = http.requests
        if part is not None:
            result.files = result.releases = [part]
            result.records = len(wanted)
            if ingest:
                result.ingested = _query.ingest(store, result.releases, "auto")
            return result
    if whole_cached:
        result.cached = 1
    else:
        dest.unlink(missing_ok=True)
        checked.unlink(missing_ok=True)
        with Http(backoff=backoff) as http:
            http.download(url, dest, sha256=sha256, progress=progress, label=name)
            result.requests = http.requests
        checked.write_text(json.dumps({"size": dest.stat().st_size, "sha256": sha256_file(dest),
                                       "members": verify_zip(dest, url)}))
        result.downloaded = 1
    result.files = [dest]
    members = json.loads(checked.read_text())["members"]
    available = sorted(int(m.group(1)) for n in members if (m := _YEAR.search(n)))
    missing = sorted(set(wanted) - set(available))
    if missing:
        raise InputError(f"{name} has no year {', '.join(map(str, missing))}; it holds {available[0]}-{available[-1]}")
    result.releases = [subset(dest, wanted) if wanted and set(wanted) != set(available) else dest]
    result.records = len(wanted or available)
    if ingest:
        result.ingested = _query.ingest(store, result.releases, "auto")
    return result


def verify_zip(path: Path, url: str) -> list[str]:
    """Every member's CRC-32 checked; a corrupt download is deleted so the next run downloads it again."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except zlib.error:
        bad = "a member that does not inflate"
    except (zipfile.BadZipFile, OSError) as exc:
        path.unlink(missing_ok=True)
        raise FetchError(f"GET {url}: the download is not a readable zip ({exc}); it was discarded, rerun to download again") from None
    if bad is not None:
        path.unlink(missing_ok=True)
        raise FetchError(f"GET {url}: checksum mismatch (CRC-32 of {bad}); the download was discarded, rerun to download again")
    return names


def _still_checked(path: Path, checked: Path) -> bool:
    """The cached zip is the one verified (same size); a truncated or replaced file is downloaded again."""
    try:
        return json.loads(checked.read_text())["size"] == path.stat().st_size
    except (ValueError, KeyError, OSError):
        return False


def subset(path: Path, years: list[int]) -> Path:
    """A zip of the chosen years' trade files plus every non-trade member (code tables, Readme)."""
    out = _subset_name(path, years)
    if out.exists() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            m = _YEAR.search(info.filename)
            if m and int(m.group(1)) not in years:
                continue
            member = zipfile.ZipInfo(info.filename, info.date_time)
            member.compress_type = zipfile.ZIP_DEFLATED
            with zin.open(info) as src, zout.open(member, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(tmp, out)
    return out


def _subset_name(path: Path, years: list[int]) -> Path:
    return path.with_name(f"{path.stem}_Y{'-'.join(str(y) for y in sorted(years))}.zip")


def years_by_range(http: Http, url: str, dest: Path, years: list[int], *, refresh: bool, progress: bool,
                   result: FetchResult) -> Path | None:
    """The chosen years' members read out of the remote zip with Range requests, as a zip of their own.

    Each member is written whole (its CRC-32 checked) before the next is read, so a rerun after an
    interruption reads only the members still missing; the blocks of a member are retried one by one.
    Returns None when the server does not take Range requests (the caller downloads the whole zip).
    """
    out = _subset_name(dest, years)
    checked = out.with_name(out.name + ".checked.json")
    if out.exists() and checked.exists() and not refresh and _still_checked(out, checked):
        result.cached = 1
        return out
    head = http.request("HEAD", url)
    if head.status_code != 200:
        raise FetchError(f"HEAD {url}: HTTP {head.status_code} {error_message(head)}")
    size = head.headers.get("Content-Length", "")
    if head.headers.get("Accept-Ranges", "").lower() != "bytes" or not size.isdigit():
        return None
    remote = RangeFile(http, url, int(size), head.headers.get("ETag") or head.headers.get("Last-Modified"))
    parts = out.with_name(out.name + ".parts")
    if refresh:
        shutil.rmtree(parts, ignore_errors=True)
    try:
        with zipfile.ZipFile(remote) as zin:
            chosen = [i for i in zin.infolist() if not (m := _YEAR.search(i.filename)) or int(m.group(1)) in years]
            found = {int(m.group(1)) for i in zin.infolist() if (m := _YEAR.search(i.filename))}
            if missing := sorted(set(years) - found):
                raise InputError(f"{dest.name} has no year {', '.join(map(str, missing))}; it holds {min(found)}-{max(found)}")
            parts.mkdir(parents=True, exist_ok=True)
            with byte_bar(progress, out.name) as bar:
                bar(0, sum(i.compress_size for i in chosen))
                for info in chosen:
                    target = parts / Path(info.filename).name
                    if not target.exists():
                        with zin.open(info) as src, target.with_name(target.name + ".tmp").open("wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)  # zipfile checks the CRC-32 at the end
                        os.replace(target.with_name(target.name + ".tmp"), target)
                        result.downloaded += 1
                    else:
                        result.cached += 1
                    bar(info.compress_size, None)
    except (zipfile.BadZipFile, zlib.error) as exc:
        shutil.rmtree(parts, ignore_errors=True)
        raise FetchError(f"GET {url}: checksum mismatch or corrupt zip ({exc}); the members read were discarded, rerun") from None
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in chosen:
            zout.write(parts / Path(info.filename).name, info.filename)
    os.replace(tmp, out)
    checked.write_text(json.dumps({"size": out.stat().st_size, "members": [i.filename for i in chosen], "from": url}))
    shutil.rmtree(parts)
    return out


class RangeFile(io.RawIOBase):
    """A remote file read through HTTP Range requests in blocks, seekable, for `zipfile` to read members from.

    `If-Range` with the validator seen at the start makes a file replaced meanwhile an error, never a splice.
    """

    BLOCK = 8 << 20

    def __init__(self, http: Http, url: str, size: int, validator: str | None) -> None:
        self.http, self.url, self.size, self.validator = http, url, size, validator
        self.pos = 0
        self._start, self._data = 0, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def read(self, n: int | None = -1) -> bytes:
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        out = bytearray()
        while n > 0:
            if not self._start <= self.pos < self._start + len(self._data):
                end = min(self.size, self.pos + self.BLOCK) - 1
                headers = {"Range": f"bytes={self.pos}-{end}", "Accept-Encoding": "identity"}
                if self.validator:
                    headers["If-Range"] = self.validator
                response = self.http.request("GET", self.url, headers=headers, partial=True)
                if response.status_code != 206 or len(response.content) != end - self.pos + 1:
                    raise FetchError(f"GET {self.url}: bytes {self.pos}-{end} came back as HTTP {response.status_code}, "
                                     f"{len(response.content):,} bytes; rerun")
                self._start, self._data = self.pos, response.content
            chunk = self._data[self.pos - self._start:][:n]
            out += chunk
            self.pos += len(chunk)
            n -= len(chunk)
        return bytes(out)
