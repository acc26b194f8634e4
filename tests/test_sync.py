"""Feed sync end to end: a local site (tests/webserver.py) serving a real-shaped feed and its pages,
the real fetcher and extractor, the real ingester into a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ingest.subscriptions import SubscriptionStore
from ingest.sync import BackgroundSync, parse_interval, scheduler_lock, sync_subscriptions
from tests.webserver import SALTMARSH_FEED, SALTMARSH_STORIES, TestSite, serve_saltmarsh_feed

FEED = SALTMARSH_FEED
PAGES = SALTMARSH_STORIES
FERRY = "/saltmarsh/2026/03/gull-point-ferry-terminal.html"


@pytest.fixture
def site():
    with TestSite() as running:
        serve_saltmarsh_feed(running)
        yield running


@pytest.fixture
def web_settings(settings):
    return settings.model_copy(update={"fetch_allow_private": True, "fetch_timeout_s": 2.0, "fetch_deadline_s": 5.0})


@pytest.fixture
def subs(store):
    return SubscriptionStore(store.client, store.settings.collection)


def _sync(subs, ingester, settings, **kw):
    return sync_subscriptions(subs, ingester, settings, **kw).as_dict()


def test_first_sync_ingests_second_is_all_304_and_embeds_nothing(site, subs, ingester, web_settings, engine):
    subs.add(site.url(FEED), name="Saltmarsh Sentinel")
    first = _sync(subs, ingester, web_settings)
    assert (first["added"], first["updated"], first["unchanged"], first["failed"]) == (3, 0, 0, 0), first
    assert first["feeds"][0]["status"] == "ok" and first["feeds"][0]["problems"] == []
    sub = subs.get(site.url(FEED))
    assert (sub.status, sub.entries_seen, sub.etag) == ("ok", 3, '"feed-1"')

    version = ingester.store.version()
    second = _sync(subs, ingester, web_settings)
    assert second["feeds"][0]["status"] == "not_modified"
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 3)
    assert ingester.store.version() == version, "a sync of nothing new must not touch the index"
    assert site.hits(FEED)[-1].get("if-none-match") == '"feed-1"'
    assert all(len(site.hits(path)) == 1 for path in PAGES), "unchanged feed: no page fetched again"

    answer = engine.ask("When will the Gull Point ferry terminal open?")
    assert not answer.declined and "June 14" in answer.answer
    assert any(s.url == site.url(FERRY) for s in answer.sources)


def test_changed_feed_fetches_pages_conditionally_and_replaces_an_edited_one(site, subs, ingester, web_settings, engine):
    subs.add(site.url(FEED))
    _sync(subs, ingester, web_settings)
    # The feed is rebuilt (new ETag); one story is edited upstream, the other two pages are unchanged.
    site.routes[FEED].etag = '"feed-2"'
    edited = site.routes[FERRY]
    edited.body = str(edited.body).replace("June 14", "June 21")
    edited.etag = '"page-edited"'
    report = _sync(subs, ingester, web_settings)
    assert (report["added"], report["updated"], report["unchanged"], report["failed"]) == (0, 1, 2, 0), report
    unchanged_page = next(p for p in PAGES if p != FERRY)
    assert site.hits(unchanged_page)[-1].get("if-none-match"), "pages are asked 'changed since?'"
    assert ingester.store.count_articles() == 3, "the edited story replaced its article, no duplicate"
    answer = engine.ask("When will the Gull Point ferry terminal open?")
    assert "June 21" in answer.answer and "June 14" not in answer.answer


@pytest.mark.parametrize(
    "broken, expected",
    [
        (dict(status=404, body="<h1>Not found</h1>"), "404"),
        (dict(status=500, body="oops"), "500"),
        (dict(body="<rss><channel><item><title>cut off", content_type="application/rss+xml"), ""),
        (dict(body="<rss/>", content_type="application/rss+xml", delay_s=4.0), "no response within"),
    ],
    ids=["404", "500", "malformed", "timeout"],
)
def test_a_broken_feed_is_reported_and_backs_off_while_the_others_sync(site, subs, ingester, web_settings, broken, expected):
    site.route("/broken.xml", **broken)
    subs.add(site.url("/broken.xml"), name="Broken")
    subs.add(site.url(FEED), name="Sentinel")
    report = _sync(subs, ingester, web_settings.model_copy(update={"fetch_timeout_s": 1.0, "fetch_deadline_s": 2.0}))
    by_url = {f["url"]: f for f in report["feeds"]}
    assert by_url[site.url(FEED)]["status"] == "ok" and report["added"] == 3
    bad = by_url[site.url("/broken.xml")]
    assert bad["status"] == "failed" and bad["error"] and expected in bad["error"], bad
    assert report["failed"] == 1
    stored = subs.get(site.url("/broken.xml"))
    assert stored.status == "failing" and stored.failures == 1 and stored.next_due > time.time()
    # A scheduled sync leaves the failing feed alone until its backoff has passed.
    scheduled = _sync(subs, ingester, web_settings, due_only=True)
    assert {f["url"]: f["status"] for f in scheduled["feeds"]}[site.url("/broken.xml")] == "skipped"


def test_an_entry_whose_page_is_gone_is_stored_from_the_feed_with_a_warning(site, subs, ingester, web_settings):
    site.route(FERRY, status=404, body="gone")
    subs.add(site.url(FEED))
    report = _sync(subs, ingester, web_settings)
    feed = report["feeds"][0]
    assert feed["status"] == "ok" and report["added"] == 3
    assert any(site.url(FERRY) in p and "feed entry" in p for p in feed["problems"]), feed["problems"]


def test_private_addresses_are_refused_unless_allowed(site, subs, ingester, settings):
    subs.add(site.url(FEED))
    report = _sync(subs, ingester, settings)  # fetch_allow_private is off by default
    feed = report["feeds"][0]
    assert feed["status"] == "failed" and "127.0.0.1" in feed["error"], feed
    assert ingester.store.count_articles() == 0


def test_background_sync_runs_in_one_process_only(site, subs, ingester, web_settings):
    subs.add(site.url(FEED))
    settings = web_settings.model_copy(update={"sync_every": "1h"})
    first, second = BackgroundSync(settings, ingester), BackgroundSync(settings, ingester)
    try:
        assert first.start() is True
        assert second.start() is False, "a second process on the same data folder must not sync too"
        deadline = time.time() + 30
        while first.last_report is None and time.time() < deadline:
            time.sleep(0.1)
        assert first.last_report is not None and first.last_report.as_dict()["added"] == 3
    finally:
        first.close()
        second.close()
    with scheduler_lock(settings.data_dir) as held:
        assert held, "the lock is released when the schedule stops"


def test_parse_interval():
    assert [parse_interval(t) for t in ("15m", "1h", "30s", "90", "2d")] == [900, 3600, 30, 90, 172800]
    for bad in ("", "soon", "0", "-5m"):
        with pytest.raises(ValueError, match="not an interval"):
            parse_interval(bad)


def _newsdesk(env, *args):
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, capture_output=True, text=True, timeout=300)


def test_cli_feeds_and_sync(site, tmp_path):
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "cli-data"), "NEWSDESK_FETCH_ALLOW_PRIVATE": "true"}
    added = _newsdesk(env, "feeds", "add", site.url(FEED), "--name", "Sentinel")
    assert added.returncode == 0 and "added" in added.stdout, added.stderr
    assert _newsdesk(env, "feeds", "add", "ftp://example.org/x").returncode == 1
    first = _newsdesk(env, "sync", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report) == {"added", "updated", "unchanged", "failed", "feeds"}
    assert (report["added"], report["failed"]) == (3, 0)
    assert set(report["feeds"][0]) >= {"url", "status", "added", "updated", "unchanged", "error"}
    second = json.loads(_newsdesk(env, "sync", "--json").stdout)
    assert (second["added"], second["updated"], second["unchanged"]) == (0, 0, 3)
    listed = [json.loads(line) for line in _newsdesk(env, "feeds", "list", "--json").stdout.splitlines()]
    assert [(s["url"], s["name"], s["status"], s["entries_seen"]) for s in listed] == [(site.url(FEED), "Sentinel", "ok", 3)]
    assert _newsdesk(env, "feeds", "remove", site.url(FEED)).returncode == 0
    assert _newsdesk(env, "feeds", "remove", site.url(FEED)).returncode == 1
    assert _newsdesk(env, "feeds", "list", "--json").stdout.strip() == ""
