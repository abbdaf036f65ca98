"""HTTP for the fetchers: retries with backoff, a polite pace, resumable downloads, an on-disk cache.

httpx is used directly (not a source's own client) so that every source shares one retry rule, one
cache and one error style, and so that tests can point any fetcher at a local server.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from entrepot.errors import EntrepotError
from entrepot.store.ingest import sha256_file

CACHE_ENV = "ENTREPOT_CACHE"
USER_AGENT = "entrepot (https://github.com/entrepot; trade-data fetcher)"
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_WAIT = 120.0  # longer Retry-After waits (a daily quota) are reported, not slept through


class FetchError(EntrepotError):
    """A source refused or garbled an answer: one line naming the request and the reason (exit code 2)."""


def cache_dir(override: str | Path | None = None) -> Path:
    """Where raw responses and downloads are kept: `override`, `$ENTREPOT_CACHE`, else the user cache dir."""
    if override is not None:
        return Path(override)
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("entrepot"))


def query_key(*parts: Any) -> str:
    """A short stable name for a query: the hash of its canonical JSON (never including an API key)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def write_atomic(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: an interrupted fetch never leaves half a response in the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), else from the body's
    'Try again in N seconds' (Azure API Management, which fronts Comtrade, writes both)."""
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    found = re.search(r"try again in (\d+) seconds?", response.text[:500], re.I)
    return float(found.group(1)) if found else None


class Http:
    """One client per fetch: a minimum interval between requests and retries on 429, 5xx and cut connections.

    The n-th retry waits the server's Retry-After if it gave one, else `backoff * 2**n` seconds.
    """

    def __init__(
        self,
        *,
        headers: dict[str, str] | None = None,
        min_interval: float = 0.0,
        retries: int = 5,
        backoff: float = 1.0,
        timeout: float = 120.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = httpx.Client(
            headers={"User-Agent": USER_AGENT, **(headers or {})}, timeout=timeout, follow_redirects=True
        )
        self.min_interval = min_interval
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep or time.sleep
        self.requests = 0  # requests sent, retries included
        self._last = 0.0

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _pace(self) -> None:
        wait = self._last + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last = time.monotonic()

    def _wait(self, attempt: int, response: httpx.Response | None, what: str) -> None:
        delay = retry_after(response) if response is not None else None
        delay = self.backoff * 2**attempt if delay is None else delay
        if delay > MAX_WAIT:
            raise FetchError(f"{what}: the server asks to wait {delay:,.0f} s; rerun later (what is cached is kept)")
        self.sleep(delay)

    def get(self, url: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """GET with retries; returns the final response (any status the caller must judge) with its body read."""
        return self.request("GET", url, params=params, headers=headers)

    def request(self, method: str, url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                partial: bool = False) -> httpx.Response:
        """One request with retries. With `partial`, an answer other than 206 is refused before its body is
        read: a server that ignores Range would otherwise send the whole file where a block was asked for."""
        what = f"{method} {url}"
        for attempt in range(self.retries + 1):
            self._pace()
            self.requests += 1
            try:
                with self.client.stream(method, url, params=params, headers=headers) as response:
                    if partial and response.status_code not in (206, *RETRY_STATUS):
                        raise FetchError(f"{what}: HTTP {response.status_code} to a Range request (expected 206); rerun")
                    response.read()
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise FetchError(f"{what}: {type(exc).__name__}: {exc} (after {attempt + 1} tries)") from None
                self._wait(attempt, None, what)
                continue
            if response.status_code in RETRY_STATUS and attempt < self.retries:
                self._wait(attempt, response, what)
                continue
            return response
        raise AssertionError("unreachable")

    def download(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        progress: bool = False,
        label: str | None = None,
    ) -> Path:
        """Download `url` to `dest`, resuming a partial `dest.part` with an HTTP Range request.

        `If-Range` (the ETag or Last-Modified seen when the download began) makes the server send the
        whole file again if it changed meanwhile, so two versions are never spliced. The finished file
        must have the size the server announced and, when given, the SHA-256; else it is deleted.
        """
        part = dest.with_name(dest.name + ".part")
        meta_path = dest.with_name(dest.name + ".part.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() and part.exists() else {}
        dest.parent.mkdir(parents=True, exist_ok=True)
        what = f"GET {url}"
        with byte_bar(progress, label or dest.name) as bar:
            for attempt in range(self.retries + 1):
                have = part.stat().st_size if part.exists() else 0
                headers = {"Accept-Encoding": "identity"}  # the file's own bytes, so ranges are offsets into it
                if have and meta.get("validator"):
                    headers |= {"Range": f"bytes={have}-", "If-Range": meta["validator"]}
                self._pace()
                self.requests += 1
                try:
                    with self.client.stream("GET", url, headers=headers) as response:
                        if response.status_code in RETRY_STATUS and attempt < self.retries:
                            response.read()
                            self._wait(attempt, response, what)
                            continue
                        if response.status_code == 416 and have:  # nothing left to send: the part is whole
                            total = have
                        else:
                            if response.status_code not in (200, 206):
                                raise FetchError(f"{what}: HTTP {response.status_code} {_snippet(response.read())}")
                            resumed = response.status_code == 206
                            total = _total_size(response, have if resumed else 0)
                            meta = {"validator": response.headers.get("ETag") or response.headers.get("Last-Modified"),
                                    "total": total}
                            meta_path.write_text(json.dumps(meta))
                            bar(have if resumed else 0, total)
                            with part.open("ab" if resumed else "wb") as fh:
                                for block in response.iter_raw():  # as received: a cut keeps every byte that came
                                    fh.write(block)
                                    bar(len(block), None)
                except httpx.TransportError as exc:  # a cut connection: keep the part, resume from it
                    if attempt == self.retries:
                        raise FetchError(f"{what}: {type(exc).__name__} (after {attempt + 1} tries; rerun to resume)") from None
                    self._wait(attempt, None, what)
                    continue
                size = part.stat().st_size
                if total is not None and size < total:  # the body ended early without an error
                    if attempt == self.retries:
                        raise FetchError(f"{what}: got {size:,} of {total:,} bytes (rerun to resume)")
                    self._wait(attempt, None, what)
                    continue
                if total is not None and size != total:
                    part.unlink()
                    meta_path.unlink(missing_ok=True)
                    raise FetchError(f"{what}: size {size:,} bytes, the server announced {total:,}; the download was discarded")
                break
        if sha256 and (actual := sha256_file(part)) != sha256.lower():
            part.unlink()
            meta_path.unlink(missing_ok=True)
            raise FetchError(f"{what}: SHA-256 {actual} does not match the expected {sha256.lower()}; the download was discarded")
        os.replace(part, dest)
        meta_path.unlink(missing_ok=True)
        return dest


def _total_size(response: httpx.Response, offset: int) -> int | None:
    """The whole file's size: from Content-Range on a 206, else offset + Content-Length (None if unknown)."""
    content_range = response.headers.get("Content-Range", "")
    if m := re.match(r"bytes \d+-\d+/(\d+)", content_range):
        return int(m.group(1))
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() and "gzip" not in response.headers.get("Content-Encoding", "") else None


def _snippet(body: bytes, size: int = 200) -> str:
    return " ".join(body[:size].decode("utf-8", "replace").split())


@contextmanager
def byte_bar(show: bool, label: str) -> Iterator[Callable[[int, int | None], None]]:
    """A rich progress bar on stderr when asked and stderr is a terminal; `update(advance, total)`."""
    if not (show and sys.stderr.isatty()):
        yield lambda advance, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(advance: int, total: int | None) -> None:
            if total is not None:
                bar.update(task, total=total, completed=advance)
            else:
                bar.advance(task, advance)

        yield update


def error_message(response: httpx.Response) -> str:
    """The reason a JSON or XML error body gives (Comtrade's APIM `message`, `errorObject`, Eurostat's SOAP
    `faultstring`), else the start of the body."""
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for found in (body.get("message"), (body.get("errorObject") or {}).get("errorMessage"), body.get("error")):
            if isinstance(found, str) and found.strip():
                return found.strip()
    if m := re.search(r"<faultstring>(.*?)</faultstring>", text, re.S):
        return " ".join(m.group(1).split())
    return _snippet(response.content) or "(empty body)"


@contextmanager
def step_bar(show: bool, label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over requests on stderr (when asked and a terminal): `step(done, more_planned)`."""
    if not (show and sys.stderr.isatty()):
        yield lambda done, more: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def step(done: int, more: int) -> None:
            if more:
                bar.update(task, total=(bar.tasks[0].total or 0) + more)
            bar.advance(task, done)

        yield step
