"""Feed subscriptions, kept in the store so every process that shares it sees the same list.

They live in a Chroma collection beside the articles (``<collection>__feeds``), so a PersistentClient
folder or a Chroma server carries them along with what was ingested from them. Two kinds of records:

* ``feed:<url>`` — one subscription: its name, when it last succeeded or failed and why, how many
  entries it has listed, its HTTP validators (ETag / Last-Modified) for conditional requests, and
  when it is next due (a failing feed backs off);
* ``page:<url>`` — the validators of an entry's page, so the next sync asks "changed since?" and
  embeds nothing that was not.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Iterable
from urllib.parse import urlsplit

# Chroma needs a vector per record; these records are looked up by id and kind only.
_NO_VECTOR = [1.0]
_MAX_BACKOFF_S = 24 * 3600


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class Subscription:
    url: str
    name: str = ""
    added_at: str = ""
    last_attempt: str = ""
    last_success: str = ""
    last_error: str = ""
    failures: int = 0  # consecutive failed syncs; 0 after a success
    next_due: float = 0.0  # epoch seconds before which a scheduled sync skips it (backoff)
    entries_seen: int = 0  # entries the feed listed at its last successful sync
    etag: str = ""
    last_modified: str = ""

    @property
    def status(self) -> str:
        if self.failures:
            return "failing"
        return "ok" if self.last_success else "new"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["status"] = self.status
        out["next_due"] = (
            dt.datetime.fromtimestamp(self.next_due, dt.timezone.utc).replace(microsecond=0).isoformat() if self.next_due else ""
        )
        return out


@dataclass
class PageValidators:
    url: str
    etag: str = ""
    last_modified: str = ""


def check_feed_url(url: str) -> str:
    """The URL stripped, or ValueError naming it when it is not an http(s) URL with a host."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a feed URL: {url!r} (expected http:// or https:// and a host)")
    return url


def backoff_seconds(failures: int, interval_s: float) -> float:
    """How long a feed that failed ``failures`` times in a row waits: doubling from one interval, at most a day."""
    if failures <= 0:
        return 0.0
    return min(_MAX_BACKOFF_S, max(60.0, interval_s) * 2 ** (failures - 1))


class SubscriptionStore:
    """Subscriptions and page validators over one Chroma client (the store's)."""

    def __init__(self, client: Any, collection: str):
        self.collection = client.get_or_create_collection(name=f"{collection}__feeds", embedding_function=None)

    # --- subscriptions ----------------------------------------------------------------------------
    def add(self, url: str, name: str = "") -> tuple[Subscription, bool]:
        """Subscribe to ``url``; returns (subscription, created). Adding a known URL only renames it."""
        url = check_feed_url(url)
        known = self.get(url)
        if known is not None:
            if name and name != known.name:
                known.name = name
                self.save(known)
            return known, False
        sub = Subscription(url=url, name=name, added_at=_now_iso())
        self.save(sub)
        return sub, True

    def get(self, url: str) -> Subscription | None:
        got = self.collection.get(ids=[f"feed:{url.strip()}"], include=["metadatas"])
        return _subscription(got["metadatas"][0]) if got["ids"] else None

    def list(self) -> list[Subscription]:
        got = self.collection.get(where={"kind": "feed"}, include=["metadatas"])
        return sorted((_subscription(m) for m in got["metadatas"]), key=lambda s: s.added_at)

    def remove(self, url: str) -> bool:
        url = url.strip()
        if self.get(url) is None:
            return False
        self.collection.delete(ids=[f"feed:{url}"])
        return True

    def save(self, sub: Subscription) -> None:
        meta = {"kind": "feed", **{f.name: getattr(sub, f.name) for f in fields(Subscription)}}
        self.collection.upsert(ids=[f"feed:{sub.url}"], embeddings=[_NO_VECTOR], metadatas=[meta])

    def record_success(self, sub: Subscription, entries: int, etag: str = "", last_modified: str = "") -> None:
        sub.last_attempt = sub.last_success = _now_iso()
        sub.last_error, sub.failures, sub.next_due = "", 0, 0.0
        sub.entries_seen = entries
        if etag or last_modified:
            sub.etag, sub.last_modified = etag, last_modified
        self.save(sub)

    def record_not_modified(self, sub: Subscription) -> None:
        """A 304: a success that keeps the entries seen and the validators it has."""
        self.record_success(sub, sub.entries_seen)

    def record_failure(self, sub: Subscription, error: str, interval_s: float) -> None:
        sub.last_attempt = _now_iso()
        sub.last_error = error
        sub.failures += 1
        sub.next_due = time.time() + backoff_seconds(sub.failures, interval_s)
        self.save(sub)

    # --- page validators --------------------------------------------------------------------------
    def page_validators(self, urls: Iterable[str]) -> dict[str, PageValidators]:
        ids = [f"page:{u}" for u in dict.fromkeys(urls)]
        out: dict[str, PageValidators] = {}
        for start in range(0, len(ids), 500):
            got = self.collection.get(ids=ids[start : start + 500], include=["metadatas"])
            for meta in got["metadatas"]:
                out[meta["url"]] = PageValidators(meta["url"], meta.get("etag", ""), meta.get("last_modified", ""))
        return out

    def save_page_validators(self, pages: Iterable[Any]) -> None:
        """Keep the validators of ``pages`` (anything with ``url``, ``etag``, ``last_modified``: a
        :class:`PageValidators`, or a fetch's ``ingest.web.PageState``)."""
        pages = [p for p in pages if p.etag or p.last_modified]
        for start in range(0, len(pages), 500):
            batch = pages[start : start + 500]
            self.collection.upsert(
                ids=[f"page:{p.url}" for p in batch],
                embeddings=[_NO_VECTOR] * len(batch),
                metadatas=[{"kind": "page", "url": p.url, "etag": p.etag, "last_modified": p.last_modified} for p in batch],
            )


def _subscription(meta: dict[str, Any]) -> Subscription:
    known = {f.name: f.type for f in fields(Subscription)}
    values = {k: v for k, v in meta.items() if k in known}
    return Subscription(**values)
