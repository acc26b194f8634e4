"""The client of a Chroma server (``NEWSDESK_CHROMA_HOST``): bounded waits, and one error for its absence.

A Chroma server stops and starts again on every deploy. chromadb's HTTP client waits without limit
(its httpx session has ``timeout=None``, and chromadb 1.5 has no setting for it), and a stopped
server surfaces as whichever httpx error the call met, deep inside llama-index or the engine. Here
every request of the client gets a short connect timeout and ``NEWSDESK_CHROMA_TIMEOUT_S`` for the
rest, and any transport failure (refused, reset, timed out) or server error (5xx) becomes
:class:`StoreUnavailable` naming the server: the API answers it with 503, Slack with "unavailable",
the CLI with its one line.

Nothing is reconnected by hand: httpx opens a new connection for the next request, so a process
answers again as soon as the server does (the collections keep their ids across a restart).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.settings import Settings

# A server on the same network accepts a connection in milliseconds; one that is down refuses it at
# once, or (a host that drops packets) never answers. A second bounds that last case well under the
# 2 s in which a request must learn that the store is unavailable.
CONNECT_TIMEOUT_S = 1.0
RETRY_AFTER_S = 5  # what a 503 tells a client to wait: a restarting Chroma server is back in a few seconds


class StoreUnavailable(RuntimeError):
    """The Chroma server did not answer. ``str()`` is one line naming it and what went wrong."""

    code = 1
    service = "article store"  # what Slack's notice says is not answering

    def __init__(self, address: str, reason: BaseException | str):
        self.address = address
        detail = " ".join((str(reason) or type(reason).__name__).split())
        super().__init__(f"the Chroma server at {address} is unavailable ({detail})")


def server_address(settings: "Settings") -> str:
    return f"{settings.chroma_host}:{settings.chroma_port}"


def http_client(settings: "Settings", chroma_settings: Any):
    """chromadb's ``HttpClient`` for the configured server, with bounded waits and its transport
    failures raised as :class:`StoreUnavailable` (also when the server is down at this very call)."""
    import chromadb
    import httpx

    address = server_address(settings)
    try:
        client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    except (httpx.TransportError, ValueError) as exc:
        # chromadb turns a refused first connection into ValueError("Could not connect to a Chroma
        # server...") raised while handling the httpx error: that error is the one to name.
        cause = exc if isinstance(exc, httpx.TransportError) else exc.__context__
        if not isinstance(cause, httpx.TransportError):
            raise
        raise StoreUnavailable(address, cause) from exc
    # Every request of the client (collections, llama-index's vector store, the feeds) goes through
    # this one object's session and _make_request: the only place to bound and name its failures.
    api = client._server
    api._session.timeout = httpx.Timeout(settings.chroma_timeout_s, connect=CONNECT_TIMEOUT_S)
    api._make_request = _naming_failures(api._make_request, address)
    return client


def _naming_failures(make_request, address: str):
    import httpx
    from chromadb.errors import ChromaError

    @functools.wraps(make_request)
    def make_request_or_raise(*args, **kwargs):
        try:
            return make_request(*args, **kwargs)
        except httpx.TransportError as exc:
            raise StoreUnavailable(address, exc) from exc
        except (ChromaError, httpx.HTTPStatusError) as exc:
            # The server's own failure (5xx), not the request's: e.g. the first queries of a collection
            # after a restart can fail with "Error creating hnsw segment reader: Nothing found on disk"
            # (chroma-core/chroma#4212), and the next ones answer.
            status = exc.code() if isinstance(exc, ChromaError) else exc.response.status_code
            if status >= 500:
                raise StoreUnavailable(address, exc) from exc
            raise

    return make_request_or_raise
