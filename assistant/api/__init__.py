"""The HTTP API: a thin FastAPI door over the engine (``create_app`` in :mod:`assistant.api.app`).

What every router shares lives here: the per-process :class:`Services` (engine, ingester, metrics),
the dependency that hands them to a route, and the API-key check.
"""

from __future__ import annotations

import hmac
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable

import anyio

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.api.errors import ApiError

if TYPE_CHECKING:
    from assistant.api.metrics import Metrics
    from assistant.engine import Engine
    from assistant.settings import Settings
    from ingest.pipeline import Ingester


# Engine calls are CPU-bound (embedding, BM25, answer scoring): more of them at once than about two per
# core only adds queueing inside the process (measured with bench/load), so the rest wait their turn.
ENGINE_CONCURRENCY = max(2, 2 * (os.cpu_count() or 1))


@dataclass
class Services:
    """What one process loads once at start-up and every request reuses."""

    settings: "Settings"
    engine: "Engine"
    ingester: "Ingester"
    metrics: "Metrics"
    # Ingests and deletes of one process run one at a time (the engine's reads need no lock).
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    engine_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(ENGINE_CONCURRENCY))

    async def run_engine(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` in a worker thread, off the event loop, within the engine's concurrency."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.engine_limiter)

    async def iterate_engine(self, events: Iterable[Any]) -> AsyncIterator[Any]:
        """A sync generator (``Engine.stream``) consumed step by step in worker threads."""
        iterator = iter(events)
        done = object()
        while True:
            item = await anyio.to_thread.run_sync(next, iterator, done, limiter=self.engine_limiter)
            if item is done:
                return
            yield item


def get_services(request: Request) -> Services:
    return request.app.state.services


_bearer = HTTPBearer(auto_error=False, description="One of the keys in NEWSDESK_API_KEYS.")


def require_api_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """``Authorization: Bearer <key>`` must carry one of the configured keys (constant-time compare)."""
    keys: list[str] = request.app.state.services.settings.api_key_list
    given = credentials.credentials.encode("utf-8") if credentials is not None else b""
    ok = False
    for key in keys:  # no early exit: the time taken does not say which key came close
        ok |= hmac.compare_digest(given, key.encode("utf-8"))
    if not given or not ok:
        raise ApiError(
            401,
            "unauthorized",
            "missing or invalid API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
