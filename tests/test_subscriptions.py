"""Feed subscriptions kept in the store (a real Chroma collection): add, list, remove, backoff."""

from __future__ import annotations

import time

import pytest

from ingest.subscriptions import PageValidators, SubscriptionStore, backoff_seconds


@pytest.fixture
def subs(store):
    return SubscriptionStore(store.client, store.settings.collection)


def test_add_list_remove(subs, store):
    sub, created = subs.add("https://example.org/feed.xml", name="Example")
    assert created and sub.status == "new" and sub.added_at
    again, created = subs.add(" https://example.org/feed.xml ", name="Renamed")
    assert not created and again.name == "Renamed"
    subs.add("https://example.org/other.xml")
    assert [s.url for s in subs.list()] == ["https://example.org/feed.xml", "https://example.org/other.xml"]
    # Another reader over the same store sees the same list: it lives in Chroma, not in the process.
    reread = SubscriptionStore(store.client, store.settings.collection)
    assert reread.get("https://example.org/feed.xml").name == "Renamed"
    assert subs.remove("https://example.org/feed.xml") is True
    assert subs.remove("https://example.org/feed.xml") is False
    assert [s.url for s in subs.list()] == ["https://example.org/other.xml"]


@pytest.mark.parametrize("bad", ["ftp://example.org/feed", "example.org/feed.xml", "https://", ""])
def test_add_refuses_what_is_not_an_http_url(subs, bad):
    with pytest.raises(ValueError, match="not a feed URL"):
        subs.add(bad)
    assert subs.list() == []


def test_failures_back_off_and_a_success_clears_them(subs):
    sub, _ = subs.add("https://example.org/feed.xml")
    subs.record_failure(sub, "HTTP 500 from https://example.org/feed.xml", interval_s=900)
    subs.record_failure(sub, "HTTP 500 from https://example.org/feed.xml", interval_s=900)
    stored = subs.get(sub.url)
    assert stored.status == "failing" and stored.failures == 2 and "HTTP 500" in stored.last_error
    assert stored.next_due == pytest.approx(time.time() + 1800, abs=30)
    subs.record_success(stored, entries=7, etag='"v2"', last_modified="Tue, 01 Dec 2026 10:00:00 GMT")
    stored = subs.get(sub.url)
    assert (stored.status, stored.failures, stored.last_error, stored.next_due) == ("ok", 0, "", 0.0)
    assert (stored.entries_seen, stored.etag) == (7, '"v2"')
    assert stored.as_dict()["status"] == "ok"


def test_backoff_doubles_up_to_a_day():
    assert backoff_seconds(0, 900) == 0
    assert [backoff_seconds(n, 900) for n in (1, 2, 3)] == [900, 1800, 3600]
    assert backoff_seconds(30, 900) == 24 * 3600


def test_page_validators_round_trip(subs):
    subs.save_page_validators([
        PageValidators("https://example.org/a", etag='"a1"'),
        PageValidators("https://example.org/b", last_modified="Mon, 30 Nov 2026 08:00:00 GMT"),
        PageValidators("https://example.org/c"),  # nothing to validate with: not stored
    ])
    got = subs.page_validators(["https://example.org/a", "https://example.org/b", "https://example.org/c"])
    assert set(got) == {"https://example.org/a", "https://example.org/b"}
    assert got["https://example.org/a"].etag == '"a1"'
    assert got["https://example.org/b"].last_modified.startswith("Mon, 30 Nov")
    assert subs.list() == []  # page records are not subscriptions
