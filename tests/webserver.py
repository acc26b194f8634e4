"""A small threaded web server on 127.0.0.1 for the fetching tests and the fetch benchmark.

Routes are set per test (:meth:`TestSite.route`): status, headers, body (``{BASE}`` in it becomes the
server's own address), ETag / Last-Modified with real 304 handling, a delay before answering, or a
body produced by a generator (endless bodies, a byte at a time). The server records what it saw:
the requests per path with their headers, how many requests were in flight at once (overall and per
Host header), and how many body bytes each path actually sent before the client hung up.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

SITE = Path(__file__).resolve().parent / "site"


@dataclass
class Route:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answers If-None-Match with 304 when it matches
    last_modified: str | None = None  # answers If-Modified-Since with 304 when equal
    delay_s: float = 0.0  # before the status line
    stream: Callable[[], Iterator[bytes]] | None = None  # body without Content-Length, connection closed after


class TestSite:
    """The server and its routes; use as a context manager (``with TestSite() as site``)."""

    __test__ = False  # not a pytest test class

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: (certificate, key) files to serve https instead of http."""
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent: Counter[str] = Counter()  # body bytes written per path
        self.finished: dict[str, threading.Event] = defaultdict(threading.Event)
        self.max_active = 0
        self.max_active_per_host: Counter[str] = Counter()
        self._active = 0
        self._active_per_host: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "TestSite":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, body: bytes | str = b"", **options) -> Route:
        route = Route(body=body, **options)
        self.routes[path] = route
        return route

    def serve_file(self, path: str, file: str, content_type: str, **options) -> Route:
        """Serve ``tests/site/<file>`` at ``path``, with ``{BASE}`` replaced by this server's address."""
        return self.route(path, (SITE / file).read_text(encoding="utf-8"), content_type=content_type, **options)

    def hits(self, path: str) -> list[dict[str, str]]:
        """Headers of every request for ``path``, in order."""
        return [headers for seen, headers in self.requests if seen == path]

    # -- bookkeeping called by the handler
    def _enter(self, path: str, headers: dict[str, str]) -> None:
        host = headers.get("host", "")
        with self._lock:
            self.requests.append((path, headers))
            self._active += 1
            self._active_per_host[host] += 1
            self.max_active = max(self.max_active, self._active)
            self.max_active_per_host[host] = max(self.max_active_per_host[host], self._active_per_host[host])

    def _leave(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._active -= 1
            self._active_per_host[headers.get("host", "")] -= 1
        self.finished[path].set()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping in a slow route does not hold up shutdown

    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up mid-answer is what many tests do on purpose


def _handler(site: TestSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
        # client's delayed ACK (~40 ms a response), which would swamp any timing.
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path
            site._enter(path, headers)
            try:
                self._answer(site.routes.get(path), path, headers)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client hung up (a cap or a timeout on its side)
            finally:
                site._leave(path, headers)

        def _answer(self, route: Route | None, path: str, headers: dict[str, str]) -> None:
            if route is None:
                route = Route(status=404, body="<html><body><h1>Page not found</h1></body></html>")
            if route.delay_s:
                time.sleep(route.delay_s)
            body = route.body.replace("{BASE}", site.base).encode("utf-8") if isinstance(route.body, str) else route.body
            not_modified = (route.etag is not None and headers.get("if-none-match") == route.etag) or (
                route.last_modified is not None and headers.get("if-modified-since") == route.last_modified
            )
            self.send_response(304 if not_modified else route.status)
            if route.content_type:
                self.send_header("Content-Type", route.content_type)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not_modified:
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.stream is not None:
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                # A small send buffer, so "bytes sent" is close to what the client actually read.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
                for chunk in route.stream():
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    site.sent[path] += len(chunk)
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            site.sent[path] += len(body)

    return Handler


def endless(chunk: bytes = b"<p>" + b"more " * 2000 + b"</p>\n", every_s: float = 0.0) -> Callable[[], Iterator[bytes]]:
    """A body that never ends (the client has to stop reading)."""

    def generate() -> Iterator[bytes]:
        while True:
            yield chunk
            if every_s:
                time.sleep(every_s)

    return generate


# The sample sites under tests/site/: URL path -> (file, content type).
SAMPLE_SITES = {
    "/saltmarsh/": ("saltmarsh-sentinel/index.html", "text/html; charset=utf-8"),
    "/saltmarsh/rss.xml": ("saltmarsh-sentinel/rss.xml", "application/rss+xml; charset=utf-8"),
    "/saltmarsh/sitemap.xml": ("saltmarsh-sentinel/sitemap.xml", "application/xml"),
    "/saltmarsh/2026/03/gull-point-ferry-terminal.html": ("saltmarsh-sentinel/ferry-terminal.html", "text/html; charset=utf-8"),
    "/saltmarsh/2026/03/fish-market-afternoon-auctions.html": ("saltmarsh-sentinel/fish-market.html", "text/html; charset=utf-8"),
    "/saltmarsh/2026/03/skerry-head-lighthouse-volunteers.html": ("saltmarsh-sentinel/lighthouse.html", "text/html"),
    "/observer/atom.xml": ("granite-observer/atom.xml", "application/atom+xml"),
    "/observer/sitemap-news.xml": ("granite-observer/sitemap-news.xml", "text/xml; charset=utf-8"),
    "/observer/local/millrace-bridge-repairs": ("granite-observer/bridge-repairs.html", "text/html; charset=utf-8"),
    "/observer/politics/school-board-budget": ("granite-observer/school-budget.html", "text/html; charset=utf-8"),
    "/observer/outdoors/bald-ridge-ski-season": ("granite-observer/ski-season.html", "text/html; charset=utf-8"),
    "/sitemap-index.xml": ("sitemap-index.xml", "application/xml"),
}


def publish_sample_sites(site: TestSite) -> None:
    """Serve every page, feed and sitemap of tests/site/ at its path (see ``SAMPLE_SITES``), with an ETag and a Last-Modified."""
    for number, (path, (file, content_type)) in enumerate(SAMPLE_SITES.items()):
        # Validators as a real server sends them, so conditional requests can be answered with 304.
        site.serve_file(path, file, content_type, etag=f'"v1-{number}"', last_modified="Tue, 05 May 2026 08:00:00 GMT")


# The Saltmarsh Sentinel's feed and the three story pages it links to: what the sync and API tests serve.
SALTMARSH_FEED = "/saltmarsh/rss.xml"
SALTMARSH_STORIES = [p for p, (file, _t) in SAMPLE_SITES.items() if p.startswith("/saltmarsh/2026/")]


def serve_saltmarsh_feed(site: TestSite) -> None:
    """The feed and its story pages, each with its own ETag (a test changes one to edit a story)."""
    site.serve_file(SALTMARSH_FEED, *SAMPLE_SITES[SALTMARSH_FEED], etag='"feed-1"')
    for n, path in enumerate(SALTMARSH_STORIES):
        site.serve_file(path, SAMPLE_SITES[path][0], "text/html; charset=utf-8", etag=f'"page-{n}-1"')
