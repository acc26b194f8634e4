"""Keep the store current from its feed subscriptions: ``newsdesk sync``, ``sync --every``, ``serve``.

One sync visits every subscription once. The feed is fetched conditionally (its ETag /
Last-Modified from the last success); a 304 ends it there. Otherwise each entry's page is fetched
conditionally too, so only pages that changed upstream are extracted, and only articles whose
content changed are embedded (the ingester's manifest decides). A feed that fails is recorded as
failing with its error and backs off (doubling, at most a day) in scheduled syncs; it never stops
the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ingest.subscriptions import Subscription, SubscriptionStore

log = logging.getLogger(__name__)

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.I)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


# How often a failing feed is retried when no schedule is set (the backoff doubles from it).
DEFAULT_INTERVAL_S = 900.0


class NotSubscribed(LookupError):
    """A sync asked for feeds that are not subscribed (nothing was synced)."""

    def __init__(self, urls: list[str]):
        super().__init__(f"not subscribed: {', '.join(urls)}")
        self.urls = urls


def parse_interval(text: str) -> float:
    """Seconds in "15m", "1h", "30s", "2d" or a bare number of seconds; ValueError naming the text otherwise."""
    match = _INTERVAL.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"not an interval: {text!r} (expected e.g. 15m, 1h, 30s or seconds)")
    return float(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]


@dataclass
class FeedSync:
    """What one subscription's sync did."""

    url: str
    status: str  # "ok", "not_modified", "failed" or "skipped" (backing off)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str = ""
    problems: list[str] = field(default_factory=list)  # pages that failed, entries stored from the feed's own text

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "status": self.status,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error": self.error,
            "problems": self.problems,
        }


@dataclass
class SyncReport:
    feeds: list[FeedSync] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(f.status == "failed" for f in self.feeds)

    def as_dict(self) -> dict:
        return {
            "added": sum(f.added for f in self.feeds),
            "updated": sum(f.updated for f in self.feeds),
            "unchanged": sum(f.unchanged for f in self.feeds),
            "failed": self.failed,
            "feeds": [f.as_dict() for f in self.feeds],
        }

    def line(self) -> str:
        d = self.as_dict()
        return f"{len(self.feeds)} feed(s): added {d['added']} / updated {d['updated']} / unchanged {d['unchanged']} / failed {d['failed']}"


def sync_subscriptions(
    subscriptions: SubscriptionStore,
    ingester,
    settings,
    only: list[str] | None = None,
    due_only: bool = False,
    interval_s: float | None = None,
    write_lock: threading.Lock | None = None,
) -> SyncReport:
    """Sync every subscription (or those in ``only``: :class:`NotSubscribed`, before anything is
    fetched, when one of them is not subscribed) once; ``due_only`` skips feeds backing off.

    ``interval_s`` is what a failing feed's backoff doubles from: by default the configured schedule
    (``NEWSDESK_SYNC_EVERY``), else ``DEFAULT_INTERVAL_S``. ``write_lock`` serialises the writes with
    the process's other ingests (the API's)."""
    from ingest.fetch import Fetcher

    if interval_s is None:
        interval_s = parse_interval(settings.sync_every) if settings.sync_every else DEFAULT_INTERVAL_S
    subs = subscriptions.list()
    if only is not None:
        wanted = list(dict.fromkeys(u.strip() for u in only))
        known = {s.url for s in subs}
        if unknown := [u for u in wanted if u not in known]:
            raise NotSubscribed(unknown)
        subs = [s for s in subs if s.url in set(wanted)]
    report = SyncReport()
    lock = write_lock or contextlib.nullcontext()
    with Fetcher(settings) as fetcher:
        for sub in subs:
            if due_only and sub.next_due > time.time():
                report.feeds.append(FeedSync(sub.url, "skipped", error=f"backing off after {sub.failures} failure(s): {sub.last_error}"))
                continue
            try:
                report.feeds.append(_sync_one(sub, subscriptions, ingester, settings, fetcher, lock, interval_s))
            except Exception as exc:  # noqa: BLE001 - one feed's surprise never stops the others
                log.exception("sync of %s failed", sub.url)
                error = f"unexpected error: {type(exc).__name__}: {exc}"
                subscriptions.record_failure(sub, error, interval_s)
                report.feeds.append(FeedSync(sub.url, "failed", error=error))
    return report


def _sync_one(sub: Subscription, subscriptions: SubscriptionStore, ingester, settings, fetcher, lock, interval_s: float) -> FeedSync:
    from ingest.web import fetch_feed, load_entries

    feed = fetch_feed(sub.url, settings, sub.etag or None, sub.last_modified or None, fetcher=fetcher)
    if feed.error:
        subscriptions.record_failure(sub, feed.error, interval_s)
        return FeedSync(sub.url, "failed", error=feed.error)
    if feed.not_modified:
        subscriptions.record_not_modified(sub)
        return FeedSync(sub.url, "not_modified", unchanged=sub.entries_seen)
    known = subscriptions.page_validators(e.url for e in feed.entries if e.url)
    loaded = load_entries(feed.entries, settings, known=known, fetcher=fetcher)
    with lock:
        summary = ingester.ingest_articles(loaded.articles, loaded.failures, warnings=loaded.warnings)
    # Validators are kept only for pages whose article is now stored: a page that failed is asked again.
    # (an article extracted from a page has the page's URL as its path, whatever canonical url it names)
    stored = {a.path for a in loaded.articles} | set(loaded.not_modified)
    subscriptions.save_page_validators(p for p in loaded.pages if p.url in stored)
    subscriptions.record_success(sub, entries=len(feed.entries), etag=feed.etag, last_modified=feed.last_modified)
    problems = [f"{f.path}: {f.error}" for f in summary.failed] + [f"{w.path}: {w.message}" for w in summary.warnings]
    problems += feed.problems
    return FeedSync(
        sub.url,
        "ok",
        added=summary.added,
        updated=summary.updated,
        unchanged=summary.unchanged + len(loaded.not_modified),
        problems=problems,
    )


# ------------------------------------------------------------------------------------------ schedule


def run_every(interval_s: float, sync_once: Callable[[], SyncReport], stop: threading.Event,
              on_report: Callable[[SyncReport], None] = lambda report: None) -> None:
    """Call ``sync_once`` now and then every ``interval_s`` until ``stop`` is set; an exception in one
    round is logged and the schedule goes on, except :class:`NotSubscribed`, which no later round mends."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            on_report(sync_once())
        except NotSubscribed:
            raise
        except Exception:  # noqa: BLE001 - a scheduler that dies silently is worse than one bad round
            log.exception("scheduled sync failed")
        stop.wait(max(0.0, interval_s - (time.monotonic() - started)))


@contextlib.contextmanager
def scheduler_lock(data_dir: Path) -> Iterator[bool]:
    """Whether this process holds the store's sync lock: of several workers sharing a data folder,
    only the one that gets it runs the background schedule (released when the process ends)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / "sync.lock", "a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        handle.seek(0), handle.truncate(), handle.write(f"{os.getpid()}\n"), handle.flush()
        yield True
    finally:
        handle.close()


class BackgroundSync:
    """The schedule ``newsdesk serve`` runs in a thread when ``NEWSDESK_SYNC_EVERY`` is set."""

    def __init__(self, settings, ingester, write_lock: threading.Lock | None = None):
        self.settings = settings
        self.ingester = ingester
        self.write_lock = write_lock
        self.interval_s = parse_interval(settings.sync_every)
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock_cm = None
        self.last_report: SyncReport | None = None

    def start(self) -> bool:
        """Start the schedule unless another process on this data folder already runs it."""
        self._lock_cm = scheduler_lock(self.settings.data_dir)
        if not self._lock_cm.__enter__():
            self._lock_cm.__exit__(None, None, None)
            self._lock_cm = None
            log.info("feed sync runs in another process")
            return False
        subscriptions = SubscriptionStore(self.ingester.store.client, self.settings.collection)

        def once() -> SyncReport:
            return sync_subscriptions(
                subscriptions, self.ingester, self.settings, due_only=True, interval_s=self.interval_s, write_lock=self.write_lock
            )

        def keep(report: SyncReport) -> None:
            self.last_report = report
            log.info("feed sync: %s", report.line())

        self.thread = threading.Thread(
            target=run_every, args=(self.interval_s, once, self.stop, keep), name="newsdesk-sync", daemon=True
        )
        self.thread.start()
        return True

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
        if self._lock_cm is not None:
            self._lock_cm.__exit__(None, None, None)
            self._lock_cm = None
