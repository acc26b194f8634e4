"""The web page over HTTP (a real uvicorn server over the sample articles): the page and its assets are
served from the package with a Content-Security-Policy and no key, nothing loads from elsewhere (the
page, /docs and /redoc work offline), and the page's own routes: POST /v1/feedback (the Slack feedback
log, front end named) and POST /v1/uploads (article files read by the ingest loaders).

The page's behaviour in a browser is tests/test_browser.py.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.test_api import KEY, assert_error, ingested_engine, serving

WEB = REPO / "assistant" / "web"


class _Resources(HTMLParser):
    """Scripts (src or inline), stylesheet/icon links, images, and on* attributes of an HTML page."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str | None] = []  # src, or None for an inline script
        self.inline_script_text: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.handlers: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes.get("src"))
            self._in_inline_script = attributes.get("src") is None
        elif tag == "link" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline_script_text.append(data)


def resources(html: str) -> _Resources:
    parser = _Resources()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embed_model):
    return ingested_engine(tmp_path_factory.mktemp("web") / "data", embed_model)


@pytest.fixture(scope="module")
def server(engine):
    with serving(engine) as running:
        yield running


@pytest.fixture(scope="module")
def keyed_server(engine):
    with serving(engine, api_keys=KEY) as running:
        yield running


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


# ------------------------------------------------------------------------------------- the page


def test_the_page_is_served_at_the_root_with_a_csp_that_forbids_inline_script(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert directives["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"

    page = resources(response.text)
    assert page.scripts == ["/web/app.js"]  # one script, from the package, none inline
    assert page.inline_script_text == [] and page.handlers == []
    assert "Bearer" not in response.text and KEY not in response.text  # no secret in the page


def test_every_asset_the_page_loads_is_served_from_the_package_with_its_type(client):
    page = resources(client.get("/").text)
    wanted = {*page.scripts, *page.links, *page.images}
    assert wanted == {"/web/app.js", "/web/app.css", "/web/icon.svg"}
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for path in wanted:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(types[Path(path).suffix]), path
        assert response.content == (WEB / Path(path).name).read_bytes()
        assert "content-security-policy" in response.headers
    for icon in ("/web/thumb-up.svg", "/web/thumb-down.svg"):  # loaded by the script for 👍/👎
        assert client.get(icon).headers["content-type"].startswith("image/svg+xml")
    # Nothing in the assets reaches another host: no imports, no remote fonts or images.
    css = client.get("/web/app.css").text
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    script = client.get("/web/app.js").text
    assert not re.search(r"""(fetch|import)\(\s*[`'"](https?:)?//""", script)
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    # Only the page's files are served: no directory listing, no other file of the package.
    assert client.get("/web/").status_code == 404
    assert client.get("/web/../api/app.py").status_code == 404


def test_the_page_needs_no_key_but_the_api_it_calls_does(keyed_server):
    with httpx.Client(base_url=keyed_server.url, timeout=60) as c:
        for path in ("/", "/web/app.js", "/web/app.css", "/web/icon.svg", "/docs", "/redoc", "/openapi.json"):
            assert c.get(path).status_code == 200, path
        assert_error(c.get("/v1/documents"), 401, "unauthorized")
        assert c.get("/v1/documents", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_load_their_assets_from_newsdesk_not_a_cdn(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = resources(response.text)
    assets = [src for src in page.scripts if src] + page.links
    assert assets, "the docs page loads its UI from files"
    for asset in assets:
        assert asset.startswith("/"), f"{path} loads {asset} from another host"
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 1000, asset
    assert "cdn." not in response.text and "fonts.googleapis" not in response.text


def test_the_package_data_ships_every_file_of_the_page():
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["assistant"]
    files = [p.relative_to(WEB.parent).as_posix() for p in WEB.iterdir() if p.is_file()]
    assert {"web/index.html", "web/app.js", "web/app.css", "web/icon.svg", "web/thumb-up.svg"} <= set(files)
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert unshipped == []


# ------------------------------------------------------------------------------------- feedback


def test_feedback_is_appended_to_the_slack_feedback_log_with_the_front_end_named(client, engine):
    log = engine.settings.feedback_log
    before = log.read_text().splitlines() if log.exists() else []
    body = {"verdict": "down", "question": "Who will monitor the ceasefire?", "answer": "Nobody said [1].", "answer_id": "t1", "conversation_id": "c1"}
    response = client.post("/v1/feedback", json=body, headers={"X-Request-ID": "web-feedback-1"})
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] is True
    lines = log.read_text().splitlines()
    assert len(lines) == len(before) + 1
    record = json.loads(lines[-1])
    assert record["source"] == "web" and record["channel"] == "web"
    assert (record["verdict"], record["question"], record["answer"]) == ("down", body["question"], body["answer"])
    assert (record["ts"], record["thread_ts"], record["request_id"]) == ("t1", "c1", "web-feedback-1")
    assert record["time"] == response.json()["time"]


def test_feedback_validation_names_the_field(client, keyed_server):
    assert_error(client.post("/v1/feedback", json={"verdict": "maybe", "question": "q", "answer": "a"}), 422, "validation_error")
    assert "verdict" in client.post("/v1/feedback", json={"verdict": "maybe", "question": "q", "answer": "a"}).json()["error"]["message"]
    assert_error(client.post("/v1/feedback", json={"verdict": "up", "answer": "a"}), 422, "validation_error")
    with httpx.Client(base_url=keyed_server.url, timeout=60) as c:
        assert_error(c.post("/v1/feedback", json={"verdict": "up", "question": "q", "answer": "a"}), 401, "unauthorized")


# -------------------------------------------------------------------------------------- uploads

UPLOAD_MD = """---
title: Harbour Courier reopens its ferry desk
published_at: 2026-02-14
source: Harbour Courier
---
The Harbour Courier reopened its ferry desk on Saturday, with two reporters covering the island routes.
The desk had been closed since the autumn storms damaged the pier office.
"""

UPLOAD_HTML = """<!doctype html><html><head><title>Lanterns on the quay | Northern Ledger</title>
<meta property="og:site_name" content="Northern Ledger"></head><body>
<nav><a href="/">Home</a> <a href="/city">City</a></nav>
<div class="cookie-banner">We use cookies. <button>Accept</button></div>
<article><h1>Lanterns on the quay draw a record crowd</h1>
<p>More than four thousand people walked the quay on Friday night to see the paper lanterns, the
organisers of the winter lantern walk said, a record for the event in its ninth year.</p>
<p>Volunteers hung eleven hundred lanterns along the seawall, and the harbour master kept the inner
basin closed to boats for the evening so the reflections would stay still.</p></article>
<footer>© Northern Ledger</footer></body></html>"""


def test_uploaded_files_are_read_by_the_ingest_loaders_and_a_bad_one_is_named(client):
    files = [
        {"name": "ferry-desk.md", "content": UPLOAD_MD},
        {"name": "lanterns.html", "content": UPLOAD_HTML},
        {"name": "notes.docx", "content": "not an article format"},
        {"name": "empty.txt", "content": "   "},
    ]
    response = client.post("/v1/uploads", json={"files": files})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["added"] == 2 and result["chunks"] >= 2
    # The id newsdesk ingest gives a file without id or url: its name and its title.
    assert "ferry-desk.md#harbour-courier-reopens-its-ferry-desk" in result["ids"]
    failed = {f["file"]: f["error"] for f in result["failed"]}
    assert set(failed) == {"notes.docx", "empty.txt"}
    assert "unsupported file type" in failed["notes.docx"] and "no text" in failed["empty.txt"]

    listed = client.get("/v1/documents", params={"limit": 500}).json()["items"]
    by_title = {d["title"]: d for d in listed}
    assert by_title["Harbour Courier reopens its ferry desk"]["source"] == "Harbour Courier"
    assert by_title["Harbour Courier reopens its ferry desk"]["published_at"] == "2026-02-14"
    assert any("Lanterns on the quay" in t for t in by_title)  # extracted from the page, chrome left out

    again = client.post("/v1/uploads", json={"files": files[:1]}).json()
    assert (again["added"], again["unchanged"]) == (0, 1)  # idempotent, like newsdesk ingest


def test_an_uploaded_jsonl_names_its_bad_line_as_newsdesk_ingest_does(client, tmp_path):
    from ingest.loaders import load_file

    rows = (
        '{"id": "quay-1", "title": "Quay lights", "text": "The quay lights were switched on at dusk on Friday.", "published_at": "2026-02-02"}\n'
        '{"id": "quay-2", "title": "Quay\n'
        '\n'
        '{"id": "quay-3", "title": "Quay bins", "text": "New bins were set along the quay on Monday.", "published_at": "2026-02-03"}\n'
    )
    result = client.post("/v1/uploads", json={"files": [{"name": "quay.jsonl", "content": rows}]}).json()
    assert result["added"] == 2, result
    # The loader's own failure (its line and its words) is what the CLI prints for the same file.
    (tmp_path / "quay.jsonl").write_text(rows, encoding="utf-8")
    [expected] = load_file(tmp_path / "quay.jsonl").failures
    assert result["failed"] == [{"file": "quay.jsonl", "line": 2, "error": expected.error}]
    assert expected.line == 2 and "invalid JSON" in expected.error


def test_upload_validation(client):
    assert_error(client.post("/v1/uploads", json={"files": []}), 422, "validation_error")
    for name in ("..", ".", "../etc/passwd", "C:\\Users\\a.md", "a\x00.md", "x" * 61 + ".md"):
        assert_error(client.post("/v1/uploads", json={"files": [{"name": name, "content": "x"}]}), 422, "validation_error", "name")
    assert_error(client.post("/v1/uploads", json={"files": [{"name": "a.md"}]}), 422, "validation_error")
