"""``/v1/feeds`` and ``/v1/feeds/sync``: feed subscriptions, and what a sync did."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.api.schemas.urls import MAX_URL_CHARS, MAX_URLS_PER_REQUEST, WebUrl

EXAMPLE_FEED_URL = "https://example.org/news/rss.xml"


class Feed(BaseModel):
    """One feed subscription and how its syncs went (kept in the store, shared by every process)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": EXAMPLE_FEED_URL,
                    "name": "Example Wire",
                    "status": "ok",
                    "added_at": "2026-03-02T09:00:00+00:00",
                    "last_attempt": "2026-03-06T12:30:00+00:00",
                    "last_success": "2026-03-06T12:30:00+00:00",
                    "last_error": "",
                    "failures": 0,
                    "next_due": "",
                    "entries_seen": 20,
                    "etag": '"5f1c-61a"',
                    "last_modified": "Fri, 06 Mar 2026 12:20:00 GMT",
                }
            ]
        }
    )

    url: str = Field(description="The subscribed URL (RSS, Atom, a sitemap or a home page).")
    name: str = ""
    status: Literal["new", "ok", "failing"] = Field(description="`new`: never synced; `failing`: the last sync failed.")
    added_at: str = Field(default="", description="When it was subscribed (ISO 8601, UTC).")
    last_attempt: str = ""
    last_success: str = ""
    last_error: str = Field(default="", description="Why the last sync failed; empty after a success.")
    failures: int = Field(default=0, description="Failed syncs in a row.")
    next_due: str = Field(default="", description="A failing feed is left alone by scheduled syncs until then; empty when due.")
    entries_seen: int = Field(default=0, description="Entries the feed listed at its last successful sync.")
    etag: str = Field(default="", description="The feed's validators, sent back so an unchanged feed costs a 304.")
    last_modified: str = ""


class FeedList(BaseModel):
    total: int
    items: list[Feed] = Field(description="Oldest subscription first.")


class FeedAddRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", regex_engine="python-re", json_schema_extra={"examples": [{"url": EXAMPLE_FEED_URL, "name": "Example Wire"}]}
    )

    url: WebUrl = Field(description="The feed's URL: RSS, Atom, a sitemap, or a home page (its feeds are found).")
    name: StrictStr = Field(default="", max_length=200, description="A name to list it by; given again, it renames.")


class FeedDeleteResponse(BaseModel):
    deleted: str = Field(description="The URL no longer subscribed.")


class FeedSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"urls": [EXAMPLE_FEED_URL]}]})

    urls: list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_URLS_PER_REQUEST,
        description="Only these subscriptions (each must be subscribed); absent or empty: every one.",
    )


class FeedSyncResult(BaseModel):
    url: str
    status: Literal["ok", "not_modified", "failed", "skipped"] = Field(
        description="`not_modified`: the feed answered 304, nothing was fetched again; `failed`: see `error`."
    )
    added: int
    updated: int
    unchanged: int
    error: str = Field(default="", description="Why the feed could not be read (`failed`).")
    problems: list[str] = Field(
        default_factory=list, description="Read, but some entries had trouble: a page that failed, an entry stored from the feed's own text."
    )


class SyncResponse(BaseModel):
    """What one sync did: totals over the feeds, then each feed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": 3,
                    "updated": 0,
                    "unchanged": 0,
                    "failed": 0,
                    "feeds": [
                        {"url": EXAMPLE_FEED_URL, "status": "ok", "added": 3, "updated": 0, "unchanged": 0, "error": "", "problems": []}
                    ],
                }
            ]
        }
    )

    added: int
    updated: int
    unchanged: int
    failed: int = Field(description="Feeds that failed.")
    feeds: list[FeedSyncResult]
