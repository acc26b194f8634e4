"""``/v1/feeds``: feed subscriptions (list, subscribe, unsubscribe) and syncing them now, the HTTP door
to ``newsdesk feeds add|list|remove`` and ``newsdesk sync``. Subscriptions live in the store, so every
process sharing it (CLI, API workers, the background sync) sees the same list.

A feed is unsubscribed with ``DELETE /v1/feeds?url=<url-encoded URL>``: a query parameter, not a path,
because a feed URL may carry its own query string (``?format=rss``) that a path would lose.
"""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import logging
from typing import Optional

from fastapi import APIRouter, Body, Depends, Query, Response

from assistant.api import Services, get_services
from assistant.api.errors import ApiError, error_responses, invalid
from assistant.api.schemas import (
    MAX_URL_CHARS, Feed, FeedAddRequest, FeedDeleteResponse, FeedList, FeedSyncRequest, SyncResponse,
)  # fmt: skip
from assistant.settings import Settings
from ingest.subscriptions import SubscriptionStore

log = logging.getLogger("assistant.api")


def subscriptions(services: Services) -> SubscriptionStore:
    """The subscription records beside the articles of this process's store."""
    return SubscriptionStore(services.engine.store.client, services.settings.collection)


def _shown(url: str) -> str:
    return url if len(url) <= 200 else url[:200] + "..."


def _not_subscribed(urls: list[str]) -> ApiError:
    names = ", ".join(repr(_shown(u)) for u in urls[:5]) + (f" and {len(urls) - 5} more" if len(urls) > 5 else "")
    return ApiError(404, "not_found", f"not subscribed: {names} (subscribe with POST /v1/feeds)")


def _responses(*statuses: int) -> dict:
    """``error_responses`` with this router's meaning of a 404."""
    responses = error_responses(*statuses)
    if 404 in responses:
        responses[404] = {**responses[404], "description": "Not subscribed."}
    return responses


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["feeds"])

    @router.get("/v1/feeds", response_model=FeedList, summary="List feed subscriptions", responses=error_responses(401, 500))
    def list_feeds(services: Services = Depends(get_services)) -> FeedList:
        """Every subscription, oldest first, with how its syncs went: `status` (`new`, `ok` or
        `failing`), last success, last error, failures in a row, entries seen.

        Example: `curl -s localhost:8000/v1/feeds` →
        `{"total": 1, "items": [{"url": "https://example.org/news/rss.xml", "status": "ok", "entries_seen": 20, ...}]}`
        """
        items = [Feed(**sub.as_dict()) for sub in subscriptions(services).list()]
        return FeedList(total=len(items), items=items)

    @router.post(
        "/v1/feeds",
        response_model=Feed,
        status_code=201,
        summary="Subscribe to a feed",
        responses={200: {"model": Feed, "description": "Already subscribed (renamed when a new `name` is given)."}, **error_responses(401, 413, 422, 500)},
    )
    def add_feed(body: FeedAddRequest, response: Response, services: Services = Depends(get_services)) -> Feed:
        """Subscribe to a feed (RSS, Atom, a sitemap, or a home page whose feeds are found): every sync
        fetches it from then on. Nothing is fetched now; `POST /v1/feeds/sync` (or the background sync,
        when NEWSDESK_SYNC_EVERY is set) does that. 201 when subscribed, 200 when it already was.

        Example:

            curl -s localhost:8000/v1/feeds -H 'Content-Type: application/json' \\
                -d '{"url": "https://example.org/news/rss.xml", "name": "Example Wire"}'
        """
        try:
            sub, created = subscriptions(services).add(body.url, body.name)
        except ValueError as exc:  # the store's own check of the URL, naming it
            raise invalid("url", str(exc)) from None
        if not created:
            response.status_code = 200
        return Feed(**sub.as_dict())

    @router.delete(
        "/v1/feeds", response_model=FeedDeleteResponse, summary="Unsubscribe from a feed", responses=_responses(401, 404, 422, 500)
    )
    def delete_feed(
        url: str = Query(min_length=1, max_length=MAX_URL_CHARS, description="The subscribed URL, URL-encoded."),
        services: Services = Depends(get_services),
    ) -> FeedDeleteResponse:
        """Unsubscribe. The articles already ingested from the feed stay (`DELETE /v1/documents/{id}`
        removes them). 404 when the URL is not subscribed.

        Example: `curl -s -X DELETE -G localhost:8000/v1/feeds --data-urlencode url=https://example.org/news/rss.xml`
        → `{"deleted": "https://example.org/news/rss.xml"}`
        """
        if not subscriptions(services).remove(url):
            raise _not_subscribed([url])
        return FeedDeleteResponse(deleted=url.strip())

    @router.post(
        "/v1/feeds/sync",
        response_model=SyncResponse,
        summary="Sync feeds now",
        responses=_responses(401, 404, 413, 422, 500),
    )
    def sync_feeds(
        body: Optional[FeedSyncRequest] = Body(default=None, description="Omit the body to sync every subscription."),
        services: Services = Depends(get_services),
    ) -> SyncResponse:
        # A plain `def`: FastAPI runs it in a worker thread (fetching and embedding block).
        """Fetch every subscribed feed (or those in `urls`) once, like `newsdesk sync`, and answer when
        done. The feed is asked "changed since?" (its ETag / Last-Modified): a 304 is `not_modified`
        and fetches nothing more. Otherwise each entry's page is fetched conditionally too, and only
        articles whose content changed are embedded. A feed that fails is `failed` with its `error`
        (and backs off in scheduled syncs); it never stops the others. Feeds backing off are synced
        too: asking for a sync means now. 404 (nothing synced) when one of `urls` is not subscribed.

        Example: `curl -s -X POST localhost:8000/v1/feeds/sync` →
        `{"added": 3, "updated": 0, "unchanged": 0, "failed": 0, "feeds": [{"url": ..., "status": "ok", ...}]}`
        """
        from ingest.sync import NotSubscribed, sync_subscriptions

        only = body.urls if body is not None and body.urls else None
        try:
            report = sync_subscriptions(
                subscriptions(services), services.ingester, services.settings, only=only, write_lock=services.write_lock
            )
        except NotSubscribed as exc:
            raise _not_subscribed(exc.urls) from None
        log.info("feed sync (POST /v1/feeds/sync): %s", report.line())
        return SyncResponse(**report.as_dict())

    return router
