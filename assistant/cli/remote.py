"""The CLI as a client of a running ``newsdesk serve``: ``ingest --server``, ``ask --server``, ``chat --server``.

One client sends the key (``NEWSDESK_API_KEY``, else the first of ``NEWSDESK_API_KEYS``), and one
function turns a request's outcome into the reply or one line: what fails every request alike (no
server there, a refused key, no Newsdesk API at that URL) raises :class:`ServerError`; anything else
is the request's own failure, with the API's message. :class:`RemoteAsker` asks ``POST /v1/ask``
and rebuilds the engine's ``Answer`` from its JSON, so the CLI prints it as it prints a local one.
"""

from __future__ import annotations

import logging
from typing import Sequence

import httpx

from assistant.answer import Answer, Turn
from assistant.settings import Settings

log = logging.getLogger("assistant.cli")


class ServerError(RuntimeError):
    """The server cannot be used at all (unreachable, refuses the key): one line, exit 1."""

    code = 1


def server_client(settings: Settings, timeout: httpx.Timeout) -> httpx.Client:
    key = settings.client_api_key
    return httpx.Client(headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=timeout)


def call(client: httpx.Client, method: str, endpoint: str, **kwargs) -> tuple[dict | None, str | None]:
    """The server's JSON reply, or the reason this request failed ("HTTP 413: ..."); raises
    :class:`ServerError` for what fails every request alike (no server, a refused key)."""
    try:
        response = client.request(method, endpoint, **kwargs)
    except httpx.HTTPError as exc:
        raise ServerError(f"cannot reach the Newsdesk server at {endpoint}: {exc or type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise ServerError(
            f"the server at {endpoint} refused the API key (HTTP {response.status_code}): "
            "set NEWSDESK_API_KEY (or NEWSDESK_API_KEYS) to one of its keys"
        )
    if response.status_code == 503:  # its store is down: every request would fail alike until it is back
        raise ServerError(
            f"the server at {endpoint} is unavailable (HTTP 503): {_error_message(response)}; "
            "run the same command again once it is back (what it already stored is kept, and skipped)"
        )
    if response.status_code == 404:
        raise ServerError(f"no Newsdesk API at {endpoint} (HTTP 404): give the URL `newsdesk serve` listens on")
    if response.status_code != 200:
        return None, f"HTTP {response.status_code}: {_error_message(response)}"
    return response.json(), None


def _error_message(response: httpx.Response) -> str:
    """The API's own message (``{"error": {"message": ...}}``), else the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200].strip() or response.reason_phrase


# An answer takes a second or two; a generated one, up to the server's LLM timeout.
ASK_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class RemoteAsker:
    """Questions to ``POST /v1/ask`` of the server at ``server``, answers as the engine's ``Answer``."""

    def __init__(self, server: str, settings: Settings):
        self.server = server.rstrip("/")
        self.client = server_client(settings, ASK_TIMEOUT)
        self.max_history_turns = settings.max_history_turns
        self.where = f" on the server at {self.server}"
        self.ingest_hint = f"newsdesk ingest --server {self.server} PATH"

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        endpoint = f"{self.server}/v1/ask"
        body: dict = {"question": question, "history": [t.model_dump() for t in self._within_limit(list(history))]}
        if top_k is not None:
            body["top_k"] = top_k
        reply, error = call(self.client, "POST", endpoint, json=body)
        if error is not None:
            raise ServerError(f"the Newsdesk server at {endpoint} did not answer: {error}")
        return Answer.model_validate(reply)

    def nothing_ingested(self) -> bool:
        reply, error = call(self.client, "GET", f"{self.server}/v1/documents", params={"limit": 1})
        return error is None and reply["total"] == 0

    def _within_limit(self, history: list[Turn]) -> list[Turn]:
        """The server takes at most ``max_history_turns`` turns (the same setting's default there). A
        follow-up is read against the first exchange and the latest ones, so a long chat keeps those."""
        if len(history) <= self.max_history_turns:
            return history
        return history[:2] + history[len(history) - (self.max_history_turns - 2) :]
