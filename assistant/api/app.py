"""``create_app``: the FastAPI app over one engine, loaded once per process.

``uvicorn assistant.api.app:create_app --factory`` (what ``newsdesk serve`` runs) calls it once in
each worker process: the engine, its models and the store client load here, before the first request.
With ``NEWSDESK_SYNC_EVERY`` set, the subscribed feeds are synced in the background from start-up to
shutdown, by one worker of those sharing a data folder (``ingest.sync.BackgroundSync``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import uuid
from typing import Any, AsyncIterator

import anyio

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import Services, require_api_key
from assistant.api.errors import error_response, install_error_handlers
from assistant.api.metrics import Metrics
from assistant.settings import Settings, get_settings

log = logging.getLogger("assistant.api")

DESCRIPTION = """\
Questions answered from your news articles, with numbered citations.

* `POST /v1/ask` — the engine's Answer as JSON, or as Server-Sent Events with `"stream": true`.
* `POST /v1/chat/completions` — OpenAI-compatible; sources in an extra `sources` field.
* `/v1/documents` — list, read, add (idempotent ingest of JSON articles and/or `urls` to fetch:
  article pages, feeds, sitemaps, home pages) and delete articles.
* `/v1/feeds` — feed subscriptions: list, subscribe (`POST`), unsubscribe (`DELETE ?url=`);
  `POST /v1/feeds/sync` syncs them now (a feed unchanged since the last sync costs one 304).
  With `NEWSDESK_SYNC_EVERY` set (e.g. `15m`), the server also syncs them on that schedule.
* `POST /v1/uploads` — add article files (.md, .txt, .html, .json, .jsonl) sent as text.
* `POST /v1/feedback` — 👍/👎 on an answer, into the same feedback log as Slack's buttons.
* `/` — the web page: ask, check citations, manage sources. `/healthz`, `/readyz`, `/metrics`,
  the page and these docs need no API key.

When `NEWSDESK_API_KEYS` is set, every `/v1` route needs `Authorization: Bearer <key>`.
Every error is JSON: `{"error": {"code": "...", "message": "..."}}`.
"""

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def create_app(settings: Settings | None = None, engine=None) -> FastAPI:
    """The API over ``engine`` (built from ``settings`` when not given: models load here, once)."""
    settings = settings or (engine.settings if engine is not None else get_settings())
    check_sync_every(settings)  # before the models load: a typo fails in a second, not after them
    if engine is None:
        from assistant.engine import Engine

        engine = Engine(settings)
    from ingest.pipeline import Ingester

    app = build_app(settings, lifespan=_lifespan)
    app.state.services = Services(
        settings=settings,
        engine=engine,
        ingester=Ingester(engine.store, engine.embed_model, settings),
        metrics=Metrics(engine.store),
    )
    if settings.slack_bot_token and settings.slack_signing_secret:
        from assistant.slack.http import mount_slack  # the Slack door, only when it is configured

        mount_slack(app, engine, settings)
    return app


def check_sync_every(settings: Settings) -> None:
    """ValueError naming NEWSDESK_SYNC_EVERY when it is set but not an interval ("15m", "1h", "900")."""
    if not settings.sync_every:
        return
    from ingest.sync import parse_interval

    try:
        parse_interval(settings.sync_every)
    except ValueError as exc:
        raise ValueError(f"NEWSDESK_SYNC_EVERY: {exc}") from None


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """From start-up to shutdown: the background feed sync, when NEWSDESK_SYNC_EVERY is set."""
    services: Services = app.state.services
    app.state.background_sync = None
    if services.settings.sync_every:
        from ingest.sync import BackgroundSync

        background = BackgroundSync(services.settings, services.ingester, write_lock=services.write_lock)
        if await anyio.to_thread.run_sync(background.start):
            app.state.background_sync = background
            log.info("feed sync every %s in this process", services.settings.sync_every)
        else:  # another worker on this data folder holds the schedule's lock: it syncs, this one serves
            log.info("feed sync every %s runs in another process on %s", services.settings.sync_every, services.settings.data_dir)
    try:
        yield
    finally:
        if app.state.background_sync is not None:
            # Waits for a round in progress to end (BackgroundSync bounds the wait).
            await anyio.to_thread.run_sync(app.state.background_sync.close)
            app.state.background_sync = None


def build_app(settings: Settings, lifespan=None) -> FastAPI:
    """Routes, error handlers and middleware, without an engine (``create_app`` attaches one, and the
    ``lifespan`` that runs beside it).

    On its own it serves no request; it gives the OpenAPI document (:func:`openapi_schema`).
    """
    # /docs and /redoc with Swagger UI and ReDoc served from fastapi-offline's packaged copies (the
    # stock pages load them from a CDN, and render blank on a machine without internet).
    app = FastAPIOffline(title="Newsdesk", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.services = None
    install_error_handlers(app)

    from assistant.api import (
        routes_ask, routes_chat, routes_documents, routes_feedback, routes_feeds, routes_health, routes_uploads, routes_web,
    )  # fmt: skip

    guarded = [Depends(require_api_key)] if settings.api_key_list else []
    open_to_all = (routes_health, routes_web)  # probes, and the page with its assets (no secrets in them)
    routes: list[BaseRoute] = []
    for module in (
        routes_ask, routes_chat, routes_documents, routes_uploads, routes_feeds, routes_feedback, routes_health, routes_web,
    ):  # fmt: skip
        router = module.build_router(settings)
        app.include_router(router, dependencies=[] if module in open_to_all else guarded)
        routes.extend(router.routes)

    app.add_middleware(ApiMiddleware, routes=routes, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origin_list:  # added last: outermost, so errors and preflights get CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    return app


def openapi_schema(settings: Settings | None = None) -> dict:
    """The OpenAPI document the server publishes at ``/openapi.json`` (no engine loaded)."""
    return build_app(settings or get_settings()).openapi()


class ApiMiddleware:
    """Request id, body-size limit, request metrics, and a JSON 500 for anything unexpected.

    Plain ASGI (not ``BaseHTTPMiddleware``) so that streamed responses pass through untouched.
    """

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], max_body_bytes: int):
        self.app = app
        self.routes = routes  # the API's own routes, for labelling requests refused before routing
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given_id = headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: dict[str, Any] = {"code": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            replay, body = await self._read_body(headers, receive)
            if replay is None:
                response = error_response(
                    413, "payload_too_large", f"request body is larger than {self.max_body_bytes} bytes"
                )
                await response(scope, receive, send_with_id)
            elif _has_lone_surrogate(body):
                message = "invalid JSON (a \\u escape names half a surrogate pair, which is not text)"
                response = error_response(
                    422, "validation_error", f"body: {message}", details=[{"field": "body", "message": message}]
                )
                await response(scope, receive, send_with_id)
            else:
                await self.app(scope, replay, send_with_id)
        except Exception:  # noqa: BLE001 - the last line of defence: JSON, never a traceback
            log.exception("unhandled error (request id %s) in %s %s", request_id, scope["method"], scope["path"])
            if status["code"] is None:
                response = error_response(500, "internal_error", f"internal error (request id {request_id})")
                await response(scope, receive, send_with_id)
        finally:
            services: Services | None = scope["app"].state.services
            if services is not None:
                services.metrics.observe_request(
                    scope["method"], self._route(scope), status["code"] or 500, time.perf_counter() - started
                )

    async def _read_body(self, headers: Headers, receive: Receive) -> tuple[Receive | None, bytes]:
        """Reads the whole body (at most the limit): a ``receive`` that replays it (None if too large), and the body."""
        declared = headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            return None, b""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away: let the app see it
                first = message
                break
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                return None, b""
            chunks.append(body)
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return first
            return await receive()

        return replay, first.get("body", b"")

    def _route(self, scope: Scope) -> str:
        """The matched route's template (``/v1/documents/{id:path}``), never the raw path."""
        route = scope.get("route")
        if route is None:  # not routed (413 before routing, 404): find the template ourselves
            for candidate in self.routes:
                if candidate.matches(scope)[0] != Match.NONE:
                    route = candidate
                    break
        return getattr(route, "path", None) or "<unmatched>"


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(body: bytes) -> bool:
    """Whether a JSON body decodes to a string holding an unpaired surrogate (``"\\ud800"``): valid JSON
    syntax, but not text — the store and the tokenizer would fail on it. Decoded only when such an
    escape appears at all."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False  # not JSON: the route reports it
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
