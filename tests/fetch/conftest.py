"""A real HTTP server on 127.0.0.1 playing the sources, and a guard that refuses every other connection.

Every test here runs with `no_network` (autouse): a socket may connect only to the loopback address,
and a name lookup of anything but localhost fails, so a fetcher that tried the real comtradeapi.un.org,
cepii.fr or ec.europa.eu would fail its test rather than reach the network.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any connection or lookup that is not to this machine; yield the list of refused attempts."""
    refused: list[str] = []
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
            refused.append(str(address))
            raise OSError(f"test tried to reach the network: {address}")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            refused.append(str(host))
            raise socket.gaierror(f"test tried to look up {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield refused
    assert not refused, f"a test tried to reach the network: {refused}"


@dataclass
class Hit:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # announce the whole body, send this many bytes, drop the connection


Responder = Callable[[Hit], Reply]


class Server:
    """Routes a path to a responder (a Reply, a list of Replies served in turn, or a function of the Hit)."""

    def __init__(self) -> None:
        self.routes: dict[str, Responder] = {}
        self.hits: list[Hit] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:  # noqa: N802 (http.server's name)
                self.do_GET("HEAD")

            def do_GET(self, method: str = "GET") -> None:  # noqa: N802
                parts = urlsplit(self.path)
                hit = Hit(method, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                          {k.lower(): v for k, v in self.headers.items()})
                outer.hits.append(hit)
                responder = outer.routes.get(parts.path)
                reply = responder(hit) if responder else Reply(404, b'{"message": "no such route"}')
                body = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", "Content-Length": str(len(reply.body)), **reply.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                if reply.cut_after is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if method == "HEAD":
                    return
                self.wfile.write(body)
                self.wfile.flush()
                if reply.cut_after is not None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def route(self, path: str, responder: Reply | list[Reply] | Responder) -> None:
        if isinstance(responder, list):
            queue = list(responder)
            self.routes[path] = lambda hit: queue.pop(0) if len(queue) > 1 else queue[0]
        elif callable(responder):
            self.routes[path] = responder
        else:  # one Reply, always (duck-typed: tests import this module under another name than pytest does)
            self.routes[path] = lambda hit, r=responder: r

    def hits_to(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory for the test (also through $ENTREPOT_CACHE, for the CLI)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("ENTREPOT_CACHE", str(path))
    return path


def ranged(body: bytes, etag: str = '"v1"', cut_first: int | None = None) -> Responder:
    """A static file served like a real web server: HEAD, Content-Length, ETag, Range (a-b, a-) and If-Range.

    With `cut_first`, the first answer drops the connection after that many bytes.
    """
    state = {"cut": cut_first}

    def respond(hit: Hit) -> Reply:
        headers = {"Content-Type": "application/zip", "ETag": etag, "Accept-Ranges": "bytes"}
        wanted = hit.headers.get("range")
        if wanted and hit.headers.get("if-range", etag) == etag:
            first, _, last = wanted.removeprefix("bytes=").partition("-")
            start, end = int(first), min(int(last) if last else len(body) - 1, len(body) - 1)
            if start >= len(body):
                return Reply(416, b"", {**headers, "Content-Range": f"bytes */{len(body)}"})
            return Reply(206, body[start:end + 1], {**headers, "Content-Range": f"bytes {start}-{end}/{len(body)}"})
        cut, state["cut"] = state["cut"], None
        return Reply(200, body, headers, cut_after=cut)

    return respond
