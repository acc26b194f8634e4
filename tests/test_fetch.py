"""The safe fetcher (ingest/fetch.py) against a real local HTTP server: limits, refusals, conditional requests."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.settings import Settings
from ingest.fetch import FEED, HTML, SITEMAP, Fetcher, FetchError, address_problem, decode_body, fetch_url
from tests.webserver import TestSite, endless

PAGE = "<!doctype html><html><head><title>Quay notes</title></head><body><p>The tide came in.</p></body></html>"


@pytest.fixture
def site():
    with TestSite() as running:
        yield running


def fetch_settings(tmp_path, **overrides) -> Settings:
    values = {"fetch_allow_private": True, "fetch_timeout_s": 2.0, "data_dir": tmp_path / "data", **overrides}
    return Settings(_env_file=None, **values)


@pytest.fixture
def fetcher(tmp_path):
    with Fetcher(fetch_settings(tmp_path)) as f:
        yield f


def refused(fetcher: Fetcher, url: str, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, **kwargs)
    assert caught.value.url == url and str(caught.value).startswith(f"{url}: ")
    return caught.value


# -------------------------------------------------------------------------------------- a plain GET


def test_get_returns_status_headers_body_and_text_and_names_newsdesk(site, fetcher):
    site.route("/quay", PAGE, etag='"q1"', last_modified="Mon, 04 May 2026 10:00:00 GMT")
    result = fetcher.fetch(site.url("/quay"), accept={HTML})
    assert (result.status, result.not_modified, result.final_url) == (200, False, site.url("/quay"))
    assert (result.content_type, result.charset, result.etag) == ("text/html", "utf-8", '"q1"')
    assert result.last_modified == "Mon, 04 May 2026 10:00:00 GMT"
    assert result.body == PAGE.encode() and result.text == PAGE
    sent = site.hits("/quay")[0]
    assert sent["user-agent"].startswith("Newsdesk/") and "+https://" in sent["user-agent"]
    assert "text/html" in sent["accept"] and sent["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in sent


def test_user_agent_setting_is_sent(site, tmp_path):
    site.route("/quay", PAGE)
    fetch_url(site.url("/quay"), fetch_settings(tmp_path, fetch_user_agent="NewsdeskBot/2 (ops@example.org)"))
    assert site.hits("/quay")[0]["user-agent"] == "NewsdeskBot/2 (ops@example.org)"


def test_charset_from_header_else_from_the_document(site, fetcher):
    words = "“Caf\u00e9 closes” – owner"
    site.route("/header", f"<html><body><p>{words}</p></body></html>".encode("cp1252"), content_type="text/html; charset=windows-1252")
    site.route("/meta", f'<html><head><meta charset="windows-1252"></head><body><p>{words}</p></body></html>'.encode("cp1252"),
               content_type="text/html")  # fmt: skip
    # Servers saying iso-8859-1 usually mean windows-1252 (as browsers read it): curly quotes survive.
    site.route("/latin1", f"<p>{words}</p>".encode("cp1252"), content_type="text/html; charset=ISO-8859-1")
    for path in ("/header", "/meta", "/latin1"):
        assert words in fetcher.fetch(site.url(path)).text, path
    assert decode_body("Grüße aus Kiel, schöne Grüße".encode("utf-8")) == "Grüße aus Kiel, schöne Grüße"


def test_gzip_content_encoding_is_decoded(site, fetcher):
    site.route("/gz", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    assert fetcher.fetch(site.url("/gz")).text == PAGE


def test_gzipped_sitemap_file_is_unpacked(site, fetcher):
    xml = b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://a.example/1</loc></url></urlset>'
    site.route("/sitemap.xml.gz", gzip.compress(xml), content_type="application/x-gzip")
    assert fetcher.fetch(site.url("/sitemap.xml.gz"), accept={SITEMAP}).body == xml


# ---------------------------------------------------------------------------------------- redirects


def test_redirects_are_followed_and_recorded(site, fetcher):
    site.route("/old", status=301, headers={"Location": "/middle"})
    site.route("/middle", status=302, headers={"Location": site.url("/new")})
    site.route("/new", PAGE)
    result = fetcher.fetch(site.url("/old"))
    assert result.url == site.url("/old") and result.final_url == site.url("/new")
    assert result.redirects == (site.url("/old"), site.url("/middle")) and result.text == PAGE


def test_redirect_loop_stops_with_a_clear_error(site, fetcher):
    site.route("/ping", status=302, headers={"Location": "/pong"})
    site.route("/pong", status=302, headers={"Location": "/ping"})
    error = refused(fetcher, site.url("/ping"))
    assert error.reason == f"redirect loop: {site.url('/ping')} -> {site.url('/pong')} -> {site.url('/ping')}"
    assert len(site.hits("/ping")) == 1 and len(site.hits("/pong")) == 1


def test_more_than_five_redirects_stop(site, fetcher):
    for n in range(8):
        site.route(f"/hop{n}", status=307, headers={"Location": f"/hop{n + 1}"})
    error = refused(fetcher, site.url("/hop0"))
    assert error.reason == f"more than 5 redirects (last: {site.url('/hop6')})"
    assert [len(site.hits(f"/hop{n}")) for n in range(8)] == [1, 1, 1, 1, 1, 1, 0, 0]


def test_redirect_to_another_scheme_is_refused(site, fetcher):
    site.route("/sneaky", status=302, headers={"Location": "file:///etc/passwd"})
    assert refused(fetcher, site.url("/sneaky")).reason == "redirect to a non-http(s) URL refused: file:///etc/passwd"


# ---------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "url, reason",
    [
        ("file:///etc/passwd", "only http and https URLs are fetched, not file"),
        ("ftp://files.example.org/feed.xml", "only http and https URLs are fetched, not ftp"),
        ("gopher://old.example.org/1", "only http and https URLs are fetched, not gopher"),
        ("www.example.org/news", "not an absolute URL (expected http:// or https://)"),
        ("http:///path-only", "the URL has no host"),
    ],
)
def test_non_http_urls_are_refused(fetcher, url, reason):
    assert refused(fetcher, url).reason == reason


def test_private_addresses_are_refused_unless_allowed(site, tmp_path):
    site.route("/quay", PAGE)
    with Fetcher(fetch_settings(tmp_path, fetch_allow_private=False)) as strict:
        error = refused(strict, site.url("/quay"))
        assert error.reason.startswith("refused: host '127.0.0.1' is a loopback address (127.0.0.1)")
        assert "NEWSDESK_FETCH_ALLOW_PRIVATE=true" in error.reason
        assert "resolves to a loopback address" in refused(strict, site.url("/quay", host="localhost")).reason
    assert site.requests == []  # refused before connecting
    with Fetcher(fetch_settings(tmp_path, fetch_allow_private=True)) as lenient:
        assert lenient.fetch(site.url("/quay")).status == 200


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://10.20.30.40/", "a private address (10.20.30.40)"),
        ("http://192.168.1.1/admin", "a private address (192.168.1.1)"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address (169.254.169.254)"),
        ("http://[::1]:8080/", "a loopback address (::1)"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address (127.0.0.1)"),
        ("http://0.0.0.0:9000/", "an unspecified address (0.0.0.0)"),
        ("http://224.0.0.251/", "a multicast address (224.0.0.251)"),
        ("http://100.64.0.7/", "a non-public address (100.64.0.7)"),
    ],
)
def test_every_kind_of_non_public_address_is_refused(tmp_path, url, problem):
    with Fetcher(fetch_settings(tmp_path, fetch_allow_private=False)) as strict:
        assert problem in refused(strict, url).reason


def test_a_name_with_any_private_address_is_refused(tmp_path, monkeypatch):
    # A stand-in resolver (the machine is offline): one public and one private answer for the name.
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "mixed.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("93.184.216.34", "10.0.0.8")]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with Fetcher(fetch_settings(tmp_path, fetch_allow_private=False)) as strict:
        error = refused(strict, "http://mixed.example/news")
    assert error.reason.startswith("refused: host 'mixed.example' resolves to a private address (10.0.0.8)")
    assert address_problem("93.184.216.34") == ""


PUBLIC_LOOKING = "93.184.216.34"  # a global address: the check lets it through


@pytest.mark.parametrize(
    "target, problem",
    [
        ("http://127.0.0.1:{port}/secret", "host '127.0.0.1' is a loopback address (127.0.0.1)"),
        ("http://10.1.2.3/admin", "host '10.1.2.3' is a private address (10.1.2.3)"),
        ("http://169.254.169.254/latest/meta-data/", "host '169.254.169.254' is a link-local address (169.254.169.254)"),
        ("http://intranet.example/wiki", "host 'intranet.example' resolves to a private address (10.0.0.9)"),
    ],
)
def test_a_public_first_hop_that_redirects_into_a_private_address_is_refused(site, tmp_path, monkeypatch, target, problem):
    # Offline, a "public" site is the local one behind stand-ins: the resolver gives news.example a
    # global address, and a connection to that address lands on the local site. Every other connection
    # is recorded and refused at once, so a fetcher that skips the check on later hops fails fast here.
    real_resolve, real_connect = socket.getaddrinfo, socket.create_connection
    connected: list[str] = []

    def resolver(host, port, *args, **kwargs):
        if host in ("news.example", "intranet.example"):
            address = PUBLIC_LOOKING if host == "news.example" else "10.0.0.9"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real_resolve(host, port, *args, **kwargs)

    def connect(address, *args, **kwargs):
        connected.append(address[0])
        if address[0] == PUBLIC_LOOKING:
            return real_connect(("127.0.0.1", address[1]), *args, **kwargs)
        if address[0] == "127.0.0.1":
            return real_connect(address, *args, **kwargs)
        raise ConnectionRefusedError(f"test: no route to {address[0]}")

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket, "create_connection", connect)
    site.route("/secret", PAGE)
    site.route("/story", status=302, headers={"Location": target.format(port=site.port)})
    first = f"http://news.example:{site.port}/story"
    with Fetcher(fetch_settings(tmp_path, fetch_allow_private=False)) as strict:
        error = refused(strict, first)
    assert error.reason.startswith(f"refused: {problem}"), error.reason
    assert error.reason.endswith(f"(at {target.format(port=site.port)}, redirected from {first})"), error.reason
    assert len(site.hits("/story")) == 1, "the public first hop was fetched, and redirected"
    assert connected == [PUBLIC_LOOKING] and site.hits("/secret") == [], "the private hop was never connected to"


def test_content_type_is_checked_before_the_body_is_read(site, fetcher):
    site.route("/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 1000, content_type="image/png")
    assert refused(fetcher, site.url("/logo.png")).reason == "content type image/png is not feed or html or sitemap"
    site.route("/feed", "<rss version='2.0'><channel/></rss>", content_type="application/rss+xml")
    assert refused(fetcher, site.url("/feed"), accept={HTML}).reason == "content type application/rss+xml is not html"
    assert fetcher.fetch(site.url("/feed"), accept={FEED}).status == 200


# ------------------------------------------------------------------------------------- HTTP errors


def test_http_errors_name_the_status(site, fetcher):
    site.route("/gone", status=404)
    site.route("/broken", "oops", status=500)
    site.route("/busy", status=503, headers={"Retry-After": "120"})
    assert refused(fetcher, site.url("/gone")).reason == "HTTP 404 Not Found"
    assert refused(fetcher, site.url("/broken")).reason == "HTTP 500 Internal Server Error"
    assert refused(fetcher, site.url("/busy")).reason == "HTTP 503 Service Unavailable (retry after 120 s)"


def test_connection_refused_names_the_problem(tmp_path):
    from bench.common import free_port

    url = f"http://127.0.0.1:{free_port()}/nobody-home"
    with Fetcher(fetch_settings(tmp_path)) as f:
        assert refused(f, url).reason.startswith("cannot connect (")


# ---------------------------------------------------------------------------------------- limits


def test_a_slow_server_times_out(site, tmp_path):
    site.route("/slow", PAGE, delay_s=3)
    with Fetcher(fetch_settings(tmp_path, fetch_timeout_s=0.3)) as f:
        start = time.monotonic()
        assert refused(f, site.url("/slow")).reason == "no response within 0.3 s"
    assert time.monotonic() - start < 3  # generous: under the server's 3 s delay is all it shows


def test_a_dripping_body_stops_at_the_deadline(site, tmp_path):
    # One byte every 50 ms never trips the read timeout; the whole-fetch deadline stops it.
    site.route("/drip", stream=endless(b"x", every_s=0.05))
    with Fetcher(fetch_settings(tmp_path, fetch_timeout_s=1, fetch_deadline_s=1)) as f:
        start = time.monotonic()
        assert refused(f, site.url("/drip")).reason == "took longer than 1 s (body still arriving)"
    assert time.monotonic() - start < 10  # generous: the body never ends, so without the deadline it never returns


def test_an_endless_body_stops_at_the_cap(site, tmp_path):
    cap = 500_000
    site.route("/endless", stream=endless())
    with Fetcher(fetch_settings(tmp_path, fetch_max_bytes=cap)) as f:
        assert refused(f, site.url("/endless")).reason.startswith("body over the 500,000-byte limit (stopped reading at ")
    assert site.finished["/endless"].wait(5), "the server is still sending: the client did not hang up"
    assert cap < site.sent["/endless"] < 3 * cap  # what the server got out before the client hung up


def test_a_declared_length_over_the_cap_is_refused_unread(site, tmp_path):
    site.route("/big", b"<p>" + b"a" * 600_000 + b"</p>")
    with Fetcher(fetch_settings(tmp_path, fetch_max_bytes=500_000)) as f:
        assert refused(f, site.url("/big")).reason == "body of 600,007 bytes is over the 500,000-byte limit"


def test_a_gzip_bomb_stops_at_the_cap_without_inflating_it(site, tmp_path):
    bomb = gzip.compress(b"\0" * 50_000_000, 9)  # about 50 KB on the wire, 50 MB inflated
    site.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    site.route("/double", gzip.compress(bomb), headers={"Content-Encoding": "gzip, gzip"})
    with Fetcher(fetch_settings(tmp_path, fetch_max_bytes=1_000_000)) as f:
        tracemalloc.start()
        try:
            error = refused(f, site.url("/bomb"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert error.reason == "body over the 1,000,000-byte limit (stopped reading at 1,000,001 bytes)"
        assert peak < 8_000_000, f"{peak:,} bytes held while reading a 50 MB bomb under a 1 MB cap"
        assert refused(f, site.url("/double")).reason == "unsupported Content-Encoding 'gzip, gzip' (only gzip or deflate, one layer)"


def test_requests_per_host_are_limited(site, tmp_path):
    for n in range(6):
        site.route(f"/slow{n}", PAGE, delay_s=0.3)
    urls = [site.url(f"/slow{n}", host=host) for host in ("127.0.0.1", "localhost") for n in range(6)]
    with Fetcher(fetch_settings(tmp_path, fetch_per_host=2)) as f, ThreadPoolExecutor(12) as pool:
        assert all(r.status == 200 for r in pool.map(f.fetch, urls))
    per_host = dict(site.max_active_per_host)
    assert per_host == {f"127.0.0.1:{site.port}": 2, f"localhost:{site.port}": 2}
    assert site.max_active >= 3  # the two hosts were served side by side: the limit is per host


# ------------------------------------------------------------------------------ conditional requests


def test_conditional_requests_come_back_not_modified(site, fetcher):
    site.route("/tagged", PAGE, etag='"rev-7"')
    site.route("/dated", PAGE, last_modified="Wed, 06 May 2026 09:30:00 GMT")
    first = fetcher.fetch(site.url("/tagged"))
    again = fetcher.fetch(site.url("/tagged"), etag=first.etag)
    assert (again.status, again.not_modified, again.body, again.etag) == (304, True, b"", '"rev-7"')
    assert site.hits("/tagged")[1]["if-none-match"] == '"rev-7"'

    first = fetcher.fetch(site.url("/dated"))
    again = fetcher.fetch(site.url("/dated"), last_modified=first.last_modified)
    assert again.not_modified and again.last_modified == "Wed, 06 May 2026 09:30:00 GMT"
    assert site.hits("/dated")[1]["if-modified-since"] == "Wed, 06 May 2026 09:30:00 GMT"

    site.route("/tagged", PAGE + "<!-- edited -->", etag='"rev-8"')
    changed = fetcher.fetch(site.url("/tagged"), etag='"rev-7"')
    assert (changed.status, changed.etag) == (200, '"rev-8"') and changed.text.endswith("<!-- edited -->")


# ---------------------------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_site(tmp_path):
    """An https server whose certificate names only 'localhost', and a context that trusts it."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with TestSite(tls=(cert, key)) as running:
        yield running, ssl.create_default_context(cafile=str(cert))


def test_https_connects_to_the_checked_address_and_verifies_the_name(tls_site, tmp_path):
    site, trust = tls_site
    site.route("/quay", PAGE)
    with Fetcher(fetch_settings(tmp_path), tls_context=trust) as f:
        result = f.fetch(site.url("/quay", host="localhost"))
        assert (result.status, result.text, result.final_url) == (200, PAGE, site.url("/quay", host="localhost"))
        assert site.hits("/quay")[0]["host"] == f"localhost:{site.port}"
        # Same server, same address, but the certificate does not name 127.0.0.1: refused.
        error = refused(f, site.url("/quay"))
        assert error.reason.startswith("cannot connect (") and "certificate" in error.reason.lower()
    with Fetcher(fetch_settings(tmp_path)) as untrusting:  # the default CA bundle does not know this certificate
        assert "certificate verify failed" in refused(untrusting, site.url("/quay", host="localhost")).reason
