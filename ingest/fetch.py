"""Fetch one URL from the open web without trusting it.

A feed or a sitemap is a list of URLs written by someone else, so every fetch is bounded and checked:

* only ``http`` and ``https``; every hop of a redirect chain (followed here, at most
  ``fetch_max_redirects``) is checked again, and a chain that comes back to a URL it visited stops;
* the host is resolved once (``socket.getaddrinfo``), every address it resolves to must be public
  (not private, loopback, link-local, multicast, reserved or unspecified) unless
  ``fetch_allow_private`` is on, and the connection goes to one of those checked addresses — httpx
  never resolves the name again, so a DNS answer that changes between check and connect (DNS
  rebinding) cannot slip in a private address. TLS still verifies the certificate for the host name
  (sent as SNI), and connections are pooled per host name, never shared between names;
* connect/read timeouts, and a deadline for the whole fetch (a server dripping one byte a second
  never trips a read timeout);
* the body is read as a stream and decompressed here, in bounded steps, counting decoded bytes:
  past ``fetch_max_bytes`` the fetch stops, so an endless body or a gzip bomb costs at most the cap;
* the content type must be one the caller accepts (``html``, ``feed``, ``sitemap``), checked before
  the body is read;
* at most ``fetch_per_host`` requests in flight to one host at once (one semaphore per host name);
* conditional requests: given an ETag / Last-Modified, 304 comes back as ``not_modified``.

Every refusal is a :class:`FetchError` naming the URL and the reason.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterable, Mapping

import httpx

from ingest.encoding import NotText, bom_encoding, codec_name, declared_charset, detect_text

PROJECT_URL = "https://github.com/newsdesk/newsdesk"

HTML, FEED, SITEMAP = "html", "feed", "sitemap"
ANY_KIND = frozenset({HTML, FEED, SITEMAP})

# Media types per kind. Feeds and sitemaps are often served as plain XML, so both accept it, and any
# application/*+xml type counts as XML. A gzipped sitemap file (sitemap.xml.gz) is unpacked here.
_XML_TYPES = frozenset({"application/xml", "text/xml"})
_MEDIA_TYPES = {
    HTML: frozenset({"text/html", "application/xhtml+xml"}),
    FEED: frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/x-rss+xml"}) | _XML_TYPES,
    SITEMAP: frozenset({"application/gzip", "application/x-gzip"}) | _XML_TYPES,
}
_ACCEPT_HEADER = {
    HTML: "text/html,application/xhtml+xml;q=0.9",
    FEED: "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.8",
    SITEMAP: "application/xml;q=0.9,text/xml;q=0.8",
}
_GZIP_FILE_TYPES = frozenset({"application/gzip", "application/x-gzip"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """A URL that could not be fetched, or was refused; ``reason`` says why in words a person can act on."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class FetchResult:
    """What one fetch brought back: 200 with a body, or 304 (``not_modified``) with none."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    content_type: str = ""  # the media type only, lower-case ("text/html")
    charset: str = ""  # from the Content-Type header, when it names one
    etag: str = ""
    last_modified: str = ""
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # the final response's headers
    redirects: tuple[str, ...] = ()  # the URLs that redirected, in order

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @cached_property
    def text(self) -> str:
        """The body decoded: charset from the header, else a BOM or the document's own declaration, else detected."""
        return decode_body(self.body, self.charset)


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~20 ms; one verified context serves every client of the process.
    return httpx.create_ssl_context(trust_env=False)


@lru_cache(maxsize=1)
def default_user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own = version("newsdesk")
    except PackageNotFoundError:
        own = "dev"
    return f"Newsdesk/{own} (+{PROJECT_URL})"


# -------------------------------------------------------------------------------------- addresses


def check_url(url: str) -> httpx.URL:
    """The URL parsed, or :class:`FetchError` when it is not an absolute http(s) URL with a host."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(url, f"not a valid URL ({exc})") from None
    if not parsed.scheme:
        raise FetchError(url, "not an absolute URL (expected http:// or https://)")
    if parsed.scheme not in ("http", "https"):
        raise FetchError(url, f"only http and https URLs are fetched, not {parsed.scheme}")
    if not parsed.host:
        raise FetchError(url, "the URL has no host")
    return parsed


def address_problem(address: str) -> str:
    """Why ``address`` is not a public internet address ("" when it is)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    # Most specific first: Python counts link-local and unspecified addresses as private too.
    for name in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{name}"):
            label = name.replace("_", "-")
            return f"{'an' if label[0] in 'aeiou' else 'a'} {label} address ({ip})"
    if not ip.is_global:  # e.g. 100.64.0.0/10, shared (carrier-grade NAT) space
        return f"a non-public address ({ip})"
    return ""


def resolve(url: str, host: str, port: int, allow_private: bool) -> list[str]:
    """Every address ``host`` resolves to, each checked; :class:`FetchError` if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve host {host!r} ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchError(url, f"host {host!r} resolves to no address")
    refusal = "" if allow_private else _refusal(host, addresses)
    if refusal:
        raise FetchError(url, f"refused: {refusal}")
    return addresses


def _refusal(host: str, addresses: list[str]) -> str:
    # One bad address refuses the host: which address a connection ends up on is the resolver's choice.
    for address in addresses:
        problem = address_problem(address)
        if problem:
            what = f"host {host!r} is" if address == host else f"host {host!r} resolves to"
            return f"{what} {problem} (set NEWSDESK_FETCH_ALLOW_PRIVATE=true to allow)"
    return ""


def address_refusal(url: str, allow_private: bool) -> str:
    """Why every fetch of ``url`` would be refused for the addresses its host resolves to now ("" when
    it would not: a public host, private ones allowed, or a host that does not resolve, which a fetch
    reports itself). For saying so when a feed is added, not only at each sync."""
    if allow_private:
        return ""
    try:
        parsed = check_url(url)
        host = parsed.raw_host.decode("ascii")
        return _refusal(host, resolve(url, host, parsed.port or (443 if parsed.scheme == "https" else 80), True))
    except FetchError:
        return ""


# ----------------------------------------------------------------------------------------- bodies


class _Inflater:
    """Content-Encoding decoding in bounded steps.

    httpx's own decoders inflate a whole network chunk at once (64 KiB of gzip can be 64 MiB, and
    stacked encodings multiply), so the body is read raw and inflated here with ``max_length``.
    Only one layer of gzip or deflate is accepted (the Accept-Encoding sent asks for nothing else).
    """

    def __init__(self, url: str, encoding: str):
        self.url = url
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._z = None
        elif encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(zlib.MAX_WBITS)
            self._raw_deflate_tried = False
        else:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r} (only gzip or deflate, one layer)")

    def inflate(self, data: bytes, room: int) -> bytes:
        """Decode ``data``, producing at most ``room + 1`` bytes (one past the room means: over the cap)."""
        if self._z is None:
            return data
        out: list[bytes] = []
        produced = 0
        while produced <= room:
            if self._z.eof:  # the stream ended earlier; what follows is padding or a further gzip member
                data = self._z.unused_data + data
                if not data.strip(b"\0"):
                    break
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
            limit = room + 1 - produced  # never 0: that would mean unbounded
            try:
                piece = self._z.decompress(data, limit)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._raw_deflate_tried and not out:
                    # "deflate" is sometimes sent raw, without the zlib header it should have.
                    self._raw_deflate_tried = True
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(self.url, f"the {self.encoding} body is corrupt ({exc})") from None
            out.append(piece)
            produced += len(piece)
            data = self._z.unconsumed_tail
            if self._z.eof:
                data = b""  # unused_data is picked up at the top of the loop
                if not self._z.unused_data.strip(b"\0"):
                    break
                continue
            if not data and len(piece) < limit:
                break  # all input used, nothing held back
        return b"".join(out)

    def finish(self) -> None:
        if self._z is not None and not self._z.eof:
            raise FetchError(self.url, f"the {self.encoding} body ends early (truncated download)")


def decode_body(body: bytes, charset: str = "") -> str:
    """Text of a fetched document: a BOM, else the header's charset, else the document's declaration
    (``<meta charset>``, ``<?xml encoding>``), else UTF-8 if it decodes, else charset-normalizer's
    guess (:mod:`ingest.encoding`). Never raises: what does not decode is replaced."""
    bom = bom_encoding(body)
    if bom:
        return body.decode(bom, "replace")
    for name in (codec_name(charset), declared_charset(body)):
        if name:
            return body.decode(name, "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return detect_text(body)
    except NotText:
        return body.decode("utf-8", "replace")


def media_type(content_type: str) -> tuple[str, str]:
    """("text/html", "utf-8") from "text/html; charset=UTF-8"."""
    kind, _, params = content_type.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return kind.strip().lower(), charset


def accepts(media: str, kinds: Iterable[str]) -> bool:
    """Whether a response of type ``media`` is one of ``kinds``; a missing type is left to sniffing."""
    if not media:
        return True
    for kind in kinds:
        if media in _MEDIA_TYPES[kind] or (kind != HTML and media.startswith("application/") and media.endswith("+xml")):
            return True
    return False


# ---------------------------------------------------------------------------------------- fetcher


class Fetcher:
    """Fetches URLs under one settings object; share one across threads so the per-host limit holds.

    Use as a context manager (or call :meth:`close`) to close its connections.
    """

    def __init__(self, settings, tls_context: ssl.SSLContext | None = None):
        """``tls_context`` verifies servers' certificates (default: certifi's CA bundle, via httpx)."""
        self.settings = settings
        self.tls_context = tls_context or _tls_context()
        self.user_agent = settings.fetch_user_agent or default_user_agent()
        self._lock = threading.Lock()
        self._clients: dict[str, httpx.Client] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def fetch(
        self,
        url: str,
        accept: Iterable[str] = ANY_KIND,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET ``url`` within every limit; 200 -> body, 304 (when ``etag``/``last_modified`` were given)
        -> ``not_modified``. Anything else raises :class:`FetchError` naming ``url`` and the reason."""
        accept = frozenset(accept)
        headers = {
            "Accept": ",".join(_ACCEPT_HEADER[k] for k in sorted(accept)) + ",*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.settings.fetch_deadline_s
        visited: list[str] = []
        current = url
        while True:
            parsed = check_url(current)
            if current in visited:
                raise FetchError(url, "redirect loop: " + " -> ".join([*visited, current]))
            if len(visited) > self.settings.fetch_max_redirects:
                raise FetchError(url, f"more than {self.settings.fetch_max_redirects} redirects (last: {current})")
            visited.append(current)
            try:
                result = self._hop(url, current, parsed, headers, accept, deadline, tuple(visited[:-1]))
            except FetchError as exc:
                if current == url:
                    raise
                raise FetchError(url, f"{exc.reason} (at {current}, redirected from {url})") from None
            if isinstance(result, FetchResult):
                return result
            try:
                current = str(parsed.join(result))
            except (httpx.InvalidURL, ValueError) as exc:
                raise FetchError(url, f"redirect to an invalid URL {result!r} ({exc})") from None
            if not current.lower().startswith(("http://", "https://")):
                raise FetchError(url, f"redirect to a non-http(s) URL refused: {result}")

    # One request: a FetchResult, or the Location to follow.
    def _hop(self, asked: str, current: str, parsed: httpx.URL, headers: dict, accept: frozenset, deadline: float,
             redirects: tuple[str, ...]) -> FetchResult | str:
        host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as DNS and TLS want it
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        with self._slot(host):
            addresses = resolve(asked, host, port, self.settings.fetch_allow_private)
            response = self._connect(asked, parsed, addresses, headers, deadline)
            try:
                if response.status_code in _REDIRECTS and response.headers.get("location"):
                    return response.headers["location"]
                etag = response.headers.get("etag", "")
                last_modified = response.headers.get("last-modified", "")
                if response.status_code == 304:
                    if "If-None-Match" not in headers and "If-Modified-Since" not in headers:
                        raise FetchError(asked, "HTTP 304 Not Modified to a request that was not conditional")
                    return FetchResult(
                        asked, current, 304, etag=etag or headers.get("If-None-Match", ""),
                        last_modified=last_modified or headers.get("If-Modified-Since", ""),
                        headers=dict(response.headers), redirects=redirects,
                    )  # fmt: skip
                if response.status_code not in (200, 203):
                    raise FetchError(asked, _status_problem(response))
                media, charset = media_type(response.headers.get("content-type", ""))
                if not accepts(media, accept):
                    wanted = " or ".join(sorted(accept))
                    raise FetchError(asked, f"content type {media} is not {wanted}")
                body = self._read_body(asked, response, media, deadline)
                return FetchResult(
                    asked, current, response.status_code, media, charset, etag, last_modified, body,
                    dict(response.headers), redirects,
                )  # fmt: skip
            finally:
                response.close()

    def _connect(self, asked: str, parsed: httpx.URL, addresses: list[str], headers: dict, deadline: float) -> httpx.Response:
        """Send the request to the first checked address that accepts a connection."""
        client = self._client(parsed.raw_host.decode("ascii"))
        problem = ""
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(asked, f"took longer than {self.settings.fetch_deadline_s:g} s")
            timeout = min(self.settings.fetch_timeout_s, remaining)
            request = client.build_request(
                "GET",
                parsed.copy_with(host=address),
                headers={**headers, "Host": parsed.netloc.decode("ascii")},
                # TLS: SNI and certificate checked for the name, though the socket goes to the address.
                extensions={"sni_hostname": parsed.raw_host.decode("ascii")},
                timeout=httpx.Timeout(timeout),
            )
            try:
                return client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                problem = _transport_problem(exc, timeout)
                continue  # the next address the name resolves to
            except httpx.HTTPError as exc:
                raise FetchError(asked, _transport_problem(exc, timeout)) from None
        raise FetchError(asked, problem)

    def _read_body(self, asked: str, response: httpx.Response, media: str, deadline: float) -> bytes:
        cap = self.settings.fetch_max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(asked, f"body of {int(declared):,} bytes is over the {cap:,}-byte limit")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        inflater = _Inflater(asked, encoding)
        # A sitemap.xml.gz file: its bytes are gzip whatever the transfer said.
        file_inflater = _Inflater(asked, "gzip") if media in _GZIP_FILE_TYPES else None
        parts: list[bytes] = []
        raw_total = total = 0
        try:
            # No chunk size: httpx would hold pieces back until it has that many bytes, and a slow
            # drip would never reach the deadline check below.
            for raw in response.iter_raw():
                raw_total += len(raw)
                data = inflater.inflate(raw, cap - total)
                if file_inflater is not None:
                    data = file_inflater.inflate(data, cap - total)
                total += len(data)
                if total > cap or raw_total > cap:
                    raise FetchError(asked, f"body over the {cap:,}-byte limit (stopped reading at {max(total, raw_total):,} bytes)")
                parts.append(data)
                if time.monotonic() > deadline:
                    raise FetchError(asked, f"took longer than {self.settings.fetch_deadline_s:g} s (body still arriving)")
        except httpx.HTTPError as exc:
            raise FetchError(asked, _transport_problem(exc, self.settings.fetch_timeout_s)) from None
        inflater.finish()
        if file_inflater is not None:
            file_inflater.finish()
        return b"".join(parts)

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = self._slots[host] = threading.BoundedSemaphore(self.settings.fetch_per_host)
            return slot

    def _client(self, host: str) -> httpx.Client:
        # One client (connection pool) per host name: the pool is keyed by the address connected to,
        # and two names on one address (a CDN) must not share a TLS connection made for the other.
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                per_host = self.settings.fetch_per_host
                client = self._clients[host] = httpx.Client(
                    headers={"User-Agent": self.user_agent},
                    verify=self.tls_context,
                    follow_redirects=False,  # followed in fetch(): every hop is checked
                    trust_env=False,  # no proxy from the environment: it would bypass the address check
                    limits=httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host),
                )
            return client


def _status_problem(response: httpx.Response) -> str:
    problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if response.status_code in _REDIRECTS:
        return problem + " without a Location header"
    retry = response.headers.get("retry-after", "").strip()
    return problem + (f" (retry after {retry}{' s' if retry.isdigit() else ''})" if retry else "")


def _transport_problem(exc: httpx.HTTPError, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out after {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no response within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"broken HTTP response ({exc})"
    return f"{type(exc).__name__}: {exc}"


def fetch_url(url: str, settings, accept: Iterable[str] = ANY_KIND, etag: str | None = None,
              last_modified: str | None = None) -> FetchResult:
    """One fetch with its own :class:`Fetcher` (for many URLs, share one Fetcher instead)."""
    with Fetcher(settings) as fetcher:
        return fetcher.fetch(url, accept, etag, last_modified)
