"""URL ingest and feed subscriptions over HTTP: a real uvicorn server (tests/test_api.py's
``UvicornThread``) over a fresh store, and a local news site (tests/webserver.py) serving the
Saltmarsh Sentinel's RSS feed and its three story pages with ETags, fetched by the real fetcher,
extracted by trafilatura and embedded by the real model."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import httpx
import pytest

from tests.conftest import free_port
from tests.test_api import KEY, UvicornThread, assert_error
from tests.webserver import SALTMARSH_FEED, SALTMARSH_STORIES, TestSite, serve_saltmarsh_feed

FEED = SALTMARSH_FEED
PAGES = SALTMARSH_STORIES
FERRY = "/saltmarsh/2026/03/gull-point-ferry-terminal.html"
MISSING = "/saltmarsh/2026/03/no-such-story.html"  # not routed: the test site answers 404


@pytest.fixture
def site() -> Iterator[TestSite]:
    with TestSite() as running:
        serve_saltmarsh_feed(running)
        yield running


@dataclass
class Api:
    url: str
    settings: object
    engine: object

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@contextmanager
def serve(tmp_path, embed_model, **overrides) -> Iterator[Api]:
    """The real app over a fresh, empty store, allowed to fetch from 127.0.0.1 unless told otherwise."""
    from assistant.api.app import create_app
    from assistant.engine import Engine
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore

    options = {"fetch_allow_private": True, "fetch_timeout_s": 2.0, "fetch_deadline_s": 5.0, **overrides}
    settings = Settings(data_dir=tmp_path / "data", _env_file=None, **options)
    engine = Engine(settings, ArticleStore(settings), embed_model)
    with UvicornThread(create_app(settings, engine)) as server:
        yield Api(server.url, settings, engine)


@pytest.fixture
def api(tmp_path, embed_model) -> Iterator[Api]:
    with serve(tmp_path, embed_model) as running:
        yield running


@pytest.fixture
def client(api) -> Iterator[httpx.Client]:
    with api.client() as c:
        yield c


def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


# ------------------------------------------------------------------------------ POST /v1/documents


def test_documents_from_urls_ingest_the_feed_stories_and_report_a_404(client, site):
    posted_article = {"id": "desk-note-1", "title": "Harbour office hours", "text": "The harbour office opens at 8am on weekdays."}
    body = {"articles": [posted_article], "urls": [site.url(FEED), site.url(MISSING)]}
    summary = _ok(client.post("/v1/documents", json=body))
    assert (summary["added"], summary["updated"], summary["unchanged"]) == (4, 0, 0), summary
    assert summary["chunks"] >= 4
    assert summary["failed"] == [{"index": None, "url": site.url(MISSING), "line": None, "error": summary["failed"][0]["error"]}], summary
    assert "404" in summary["failed"][0]["error"]
    assert summary["ids"][0] == "desk-note-1" and len(summary["ids"]) == 4
    assert summary["warnings"] == []
    assert all(len(site.hits(path)) == 1 for path in PAGES), "each story page fetched once"

    listed = _ok(client.get("/v1/documents"))
    assert listed["total"] == 4
    urls = {doc["url"] for doc in listed["items"]}
    assert {site.url(path) for path in PAGES} <= urls
    ferry = next(doc for doc in listed["items"] if doc["url"] == site.url(FERRY))
    assert "Gull Point" in ferry["title"] and ferry["published_at"] == "2026-03-03" and ferry["chunks"] >= 1
    answer = _ok(client.post("/v1/ask", json={"question": "When will the Gull Point ferry terminal open?"}))
    assert "June 14" in answer["answer"] and any(s["url"] == site.url(FERRY) for s in answer["sources"]), answer

    again = _ok(client.post("/v1/documents", json={"urls": [site.url(FEED)]}))
    assert (again["added"], again["updated"], again["unchanged"], again["chunks"]) == (0, 0, 3, 0), again
    assert again["failed"] == []


def test_one_article_page_url_alone(client, site):
    summary = _ok(client.post("/v1/documents", json={"urls": [site.url(FERRY)]}))
    assert (summary["added"], summary["failed"]) == (1, []), summary
    doc = _ok(client.get(f"/v1/documents/{summary['ids'][0]}"))
    assert doc["url"] == site.url(FERRY) and doc["source"]
    assert site.hits(FEED) == [], "an article page is read on its own"


def test_documents_url_validation(client, site):
    error = assert_error(client.post("/v1/documents", json={"urls": [site.url(FEED), "ftp://files.example/rss.xml"]}), 422, "validation_error", "urls[1]", "'ftp://files.example/rss.xml'")
    assert error["details"][0]["field"] == "urls[1]"
    assert_error(client.post("/v1/documents", json={"urls": ["harbour news"]}), 422, "validation_error", "'harbour news'", "http")
    assert_error(client.post("/v1/documents", json={"urls": [site.url(f"/s/{n}") for n in range(51)]}), 422, "validation_error", "urls", "at most 50")
    assert_error(client.post("/v1/documents", json={"urls": "https://example.org/rss.xml"}), 422, "validation_error", "urls")
    assert_error(client.post("/v1/documents", json={}), 422, "validation_error", "articles: is required")
    assert site.requests == [], "a request refused as invalid fetches nothing, not even its good URLs"
    empty = _ok(client.post("/v1/documents", json={"urls": []}))
    assert (empty["added"], empty["failed"], empty["ids"]) == (0, [], [])


def test_url_lines_report_each_bad_line_apart_while_the_good_ones_are_added(client, site):
    # The web page's box as typed: a line with spaces is one bad line (not three), a blank line is
    # skipped, a 404 is reported with its line, and the good URL is fetched and added all the same.
    lines = ["not a url", f"  {site.url(FERRY)}  ", "", "ftp://files.example/rss.xml", site.url(MISSING)]
    summary = _ok(client.post("/v1/documents", json={"url_lines": lines}))
    assert (summary["added"], summary["ids"]) == (1, [site.url(FERRY)]), summary
    by_line = {f["line"]: f for f in summary["failed"]}
    assert sorted(by_line) == [1, 4, 5], summary["failed"]
    assert by_line[1] == {"index": None, "url": None, "line": 1, "error": "'not a url' is not an http:// or https:// URL with a host"}
    assert by_line[4]["url"] is None and "'ftp://files.example/rss.xml' is not an http" in by_line[4]["error"]
    assert by_line[5]["url"] == site.url(MISSING) and "404" in by_line[5]["error"]
    assert sorted(path for path, _headers in site.requests) == sorted([FERRY, MISSING]), "only the good lines are fetched"
    assert _ok(client.get(f"/v1/documents/{site.url(FERRY)}"))["chunks"] >= 1

    # Only blank lines: nothing to fetch, nothing failed; more URLs than a request takes: a 422 naming the limit.
    assert _ok(client.post("/v1/documents", json={"url_lines": ["", "  "]}))["failed"] == []
    given = {"urls": [site.url(f"/s/{n}") for n in range(30)], "url_lines": [site.url(f"/t/{n}") for n in range(21)]}
    assert_error(client.post("/v1/documents", json=given), 422, "validation_error", "url_lines", "at most 50")


def test_private_addresses_are_refused_unless_allowed(tmp_path, embed_model, site):
    with serve(tmp_path, embed_model, fetch_allow_private=False) as api, api.client() as client:
        summary = _ok(client.post("/v1/documents", json={"urls": [site.url(FEED)]}))
    assert summary["added"] == 0 and len(summary["failed"]) == 1, summary
    failure = summary["failed"][0]
    assert failure["url"] == site.url(FEED) and "127.0.0.1" in failure["error"], failure
    assert site.requests == [], "refused before connecting"


# ------------------------------------------------------------------------------------- /v1/feeds


def test_subscribe_list_sync_twice_and_unsubscribe(client, site):
    created = client.post("/v1/feeds", json={"url": site.url(FEED), "name": "Saltmarsh Sentinel"})
    feed = _ok(created, 201)
    assert (feed["url"], feed["name"], feed["status"], feed["last_success"]) == (site.url(FEED), "Saltmarsh Sentinel", "new", "")
    again = _ok(client.post("/v1/feeds", json={"url": site.url(FEED), "name": "The Sentinel"}), 200)
    assert again["name"] == "The Sentinel" and again["added_at"] == feed["added_at"], "already subscribed: renamed"
    assert site.requests == [], "subscribing fetches nothing"

    listed = _ok(client.get("/v1/feeds"))
    assert listed["total"] == 1 and [(f["url"], f["name"]) for f in listed["items"]] == [(site.url(FEED), "The Sentinel")]

    first = _ok(client.post("/v1/feeds/sync"))
    assert (first["added"], first["updated"], first["unchanged"], first["failed"]) == (3, 0, 0, 0), first
    assert [(f["url"], f["status"], f["added"], f["error"]) for f in first["feeds"]] == [(site.url(FEED), "ok", 3, "")]
    assert _ok(client.get("/v1/documents"))["total"] == 3

    second = _ok(client.post("/v1/feeds/sync", json={}))
    assert (second["added"], second["updated"], second["unchanged"], second["failed"]) == (0, 0, 3, 0), second
    assert second["feeds"][0]["status"] == "not_modified"
    assert site.hits(FEED)[-1].get("if-none-match") == '"feed-1"', "the feed is asked 'changed since?'"
    assert all(len(site.hits(path)) == 1 for path in PAGES), "an unchanged feed fetches no page again"

    synced = _ok(client.get("/v1/feeds"))["items"][0]
    assert (synced["status"], synced["entries_seen"], synced["failures"], synced["etag"]) == ("ok", 3, 0, '"feed-1"')
    assert synced["last_success"] and synced["last_error"] == ""

    deleted = _ok(client.delete("/v1/feeds", params={"url": site.url(FEED)}))
    assert deleted == {"deleted": site.url(FEED)}
    assert_error(client.delete("/v1/feeds", params={"url": site.url(FEED)}), 404, "not_found", "not subscribed", site.url(FEED))
    assert _ok(client.get("/v1/feeds")) == {"total": 0, "items": []}
    assert _ok(client.get("/v1/documents"))["total"] == 3, "unsubscribing keeps the articles"


def test_a_feed_url_with_its_own_query_string_is_deleted_by_query_parameter(client, site):
    url = site.url("/saltmarsh/rss.xml?section=harbour&format=rss")
    _ok(client.post("/v1/feeds", json={"url": url}), 201)
    assert_error(client.delete("/v1/feeds", params={"url": site.url(FEED)}), 404, "not_found")
    assert _ok(client.delete("/v1/feeds", params={"url": url})) == {"deleted": url}


def test_sync_some_feeds_a_failing_one_never_stops_the_others(client, site):
    site.route("/broken/rss.xml", status=500, body="upstream trouble", content_type="text/plain")
    broken = site.url("/broken/rss.xml")
    _ok(client.post("/v1/feeds", json={"url": broken, "name": "Broken"}), 201)
    _ok(client.post("/v1/feeds", json={"url": site.url(FEED)}), 201)

    only = _ok(client.post("/v1/feeds/sync", json={"urls": [site.url(FEED)]}))
    assert [(f["url"], f["status"]) for f in only["feeds"]] == [(site.url(FEED), "ok")] and only["added"] == 3
    assert site.hits("/broken/rss.xml") == [], "a feed not asked for is not fetched"

    everything = _ok(client.post("/v1/feeds/sync"))
    by_url = {f["url"]: f for f in everything["feeds"]}
    assert by_url[site.url(FEED)]["status"] == "not_modified"
    assert by_url[broken]["status"] == "failed" and "500" in by_url[broken]["error"], by_url[broken]
    assert everything["failed"] == 1
    failing = {f["url"]: f for f in _ok(client.get("/v1/feeds"))["items"]}[broken]
    assert failing["status"] == "failing" and failing["failures"] == 1 and "500" in failing["last_error"] and failing["next_due"]

    hits = len(site.requests)
    unknown = site.url("/never/subscribed.xml")
    assert_error(client.post("/v1/feeds/sync", json={"urls": [site.url(FEED), unknown]}), 404, "not_found", unknown)
    assert len(site.requests) == hits, "a sync naming an unknown feed syncs nothing"


def test_feed_validation(client):
    error = assert_error(client.post("/v1/feeds", json={"url": "ftp://files.example/rss.xml"}), 422, "validation_error", "url", "'ftp://files.example/rss.xml'")
    assert error["details"] == [{"field": "url", "message": error["message"].removeprefix("url: ")}]
    assert_error(client.post("/v1/feeds", json={"url": "Harbour Courier"}), 422, "validation_error", "'Harbour Courier'")
    assert_error(client.post("/v1/feeds", json={}), 422, "validation_error", "url: is required")
    assert_error(client.post("/v1/feeds", json={"url": "https://example.org/rss.xml", "colour": "blue"}), 422, "validation_error", "colour")
    assert_error(client.post("/v1/feeds", json={"url": "https://example.org/rss.xml", "name": "x" * 201}), 422, "validation_error", "name")
    assert_error(client.delete("/v1/feeds"), 422, "validation_error", "url: is required")
    assert_error(client.post("/v1/feeds/sync", json={"urls": "all"}), 422, "validation_error", "urls")
    assert _ok(client.get("/v1/feeds"))["total"] == 0


def test_feed_routes_need_the_api_key(tmp_path, embed_model, site):
    requests = [
        ("GET", "/v1/feeds", {}),
        ("POST", "/v1/feeds", {"json": {"url": site.url(FEED)}}),
        ("DELETE", "/v1/feeds", {"params": {"url": site.url(FEED)}}),
        ("POST", "/v1/feeds/sync", {}),
        ("POST", "/v1/documents", {"json": {"urls": [site.url(FEED)]}}),
    ]
    with serve(tmp_path, embed_model, api_keys=KEY) as api:
        for key in (None, "wrong"):
            with api.client(key) as anon:
                for method, path, kwargs in requests:
                    response = anon.request(method, path, **kwargs)
                    assert_error(response, 401, "unauthorized", "API key")
                    assert response.headers["www-authenticate"] == "Bearer"
        assert site.requests == [], "nothing fetched for a request without the key"
        with api.client(KEY) as keyed:
            assert _ok(keyed.get("/v1/feeds"))["total"] == 0, "the refused POST subscribed nothing"
            _ok(keyed.post("/v1/feeds", json={"url": site.url(FEED)}), 201)
            assert _ok(keyed.post("/v1/feeds/sync"))["added"] == 3


# ----------------------------------------------------------------------------------- background


def _wait_for(predicate, seconds: float = 60.0, every_s: float = 0.2):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    return predicate()


def test_background_sync_ingests_a_new_subscription_shortly_after_startup(tmp_path, embed_model, site):
    from ingest.sync import scheduler_lock

    with serve(tmp_path, embed_model, sync_every="1s") as api, api.client() as client:
        started = time.time()
        _ok(client.post("/v1/feeds", json={"url": site.url(FEED)}), 201)
        assert _wait_for(lambda: _ok(client.get("/v1/documents"))["total"] == 3), "the background sync never ingested the feed"
        took = time.time() - started
        assert _wait_for(lambda: _ok(client.get("/v1/feeds"))["items"][0]["status"] == "ok")
        # Later rounds ask "changed since?" and get 304s: nothing is fetched again.
        assert _wait_for(lambda: any(h.get("if-none-match") == '"feed-1"' for h in site.hits(FEED)), seconds=10)
        assert all(len(site.hits(path)) == 1 for path in PAGES)
        with scheduler_lock(api.settings.data_dir) as held:
            assert not held, "the running server holds the schedule's lock"
    assert took < 30
    with scheduler_lock(api.settings.data_dir) as held:
        assert held, "shutdown released the lock"


def test_background_sync_runs_in_the_process_that_holds_the_lock_only(tmp_path, embed_model, site, caplog):
    from ingest.sync import scheduler_lock

    caplog.set_level(logging.INFO, logger="assistant.api")
    with scheduler_lock(tmp_path / "data") as held:  # another worker on this data folder runs the schedule
        assert held
        with serve(tmp_path, embed_model, sync_every="1s") as api, api.client() as client:
            _ok(client.post("/v1/feeds", json={"url": site.url(FEED)}), 201)
            time.sleep(3.5)  # three rounds of a schedule, had this server been running one
            assert site.hits(FEED) == [] and _ok(client.get("/v1/documents"))["total"] == 0
            assert _ok(client.post("/v1/feeds/sync"))["added"] == 3, "syncing on request still works"
    assert any("runs in another process" in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_a_bad_sync_interval_fails_at_startup_naming_the_setting(tmp_path, embed_model, monkeypatch):
    from assistant.api.app import create_app
    from assistant.settings import Settings

    monkeypatch.setenv("NEWSDESK_SYNC_EVERY", "every so often")
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    with pytest.raises(ValueError, match=r"NEWSDESK_SYNC_EVERY: not an interval: 'every so often'"):
        create_app(settings)  # refused before the engine (and its models) would load

    # `newsdesk serve` says so in one line and exits.
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "serve-data"), "NEWSDESK_SYNC_EVERY": "fortnightly"}
    run = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode != 0
    assert "NEWSDESK_SYNC_EVERY" in run.stderr and "'fortnightly'" in run.stderr, run.stderr
