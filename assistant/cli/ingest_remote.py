"""``newsdesk ingest --server URL``: read files here, ingest them through a running ``newsdesk serve``.

The way to add articles to a local store a server holds (:mod:`assistant.retrieval.store_lock`), and to ingest
from a machine without the models: files are read with the same loaders as a local ingest (no
embedder, no Chroma in this process), sent as JSON articles in batches to ``POST /v1/documents``,
and URLs given on the command line are sent as ``urls`` for the server to fetch. Each article goes
with the id a local ingest would give it, so either way of ingesting finds the same records.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterator, Sequence

import httpx

from assistant.cli.remote import call, server_client
from assistant.settings import Settings
from ingest.article import Article, LoadFailure, LoadWarning

log = logging.getLogger("assistant.cli")

BATCH_ARTICLES = 64  # articles a request (the server embeds and commits a request at once)
TIMEOUT = httpx.Timeout(600.0, connect=10.0)  # a batch's embedding takes a while on a small server


def ingest_remote(server: str, files: Sequence[str | Path], urls: Sequence[str], settings: Settings):
    """Load ``files`` here and post them, and ``urls``, to the server at ``server``; returns the
    ``IngestSummary`` of the whole run (the server's counts, the loaders' and the server's failures).

    Raises ``FileNotFoundError`` for a path that does not exist (before anything is sent) and
    :class:`assistant.cli.remote.ServerError` when the server cannot be reached or refuses the API key."""
    from assistant.api.schemas import MAX_URLS_PER_REQUEST
    from ingest.loaders import load_paths
    from ingest.summary import IngestSummary

    loaded = load_paths(list(files))
    summary = IngestSummary(failed=list(loaded.failures), warnings=list(loaded.warnings))
    articles = _first_of_each_id(loaded.articles, summary)
    endpoint = server.rstrip("/") + "/v1/documents"
    with server_client(settings, TIMEOUT) as client:
        sender = _Sender(client, endpoint, summary)
        for batch in _batches(articles, BATCH_ARTICLES, int(settings.max_body_bytes * 0.9)):
            sender.post_articles(batch)
        for start in range(0, len(urls), MAX_URLS_PER_REQUEST):
            sender.post_urls(list(urls[start : start + MAX_URLS_PER_REQUEST]))
    return summary


def _first_of_each_id(articles: list[Article], summary) -> list[Article]:
    """One article per id, as a local ingest keeps them; the others are failures naming both files."""
    first: dict[str, Article] = {}
    for article in articles:
        if article.id in first:
            summary.failed.append(
                LoadFailure(path=article.path, error=f"duplicate article id {article.id!r} (already read from {first[article.id].path})")
            )
            continue
        first[article.id] = article
    return list(first.values())


def _batches(articles: list[Article], max_articles: int, max_bytes: int) -> Iterator[list[Article]]:
    """Consecutive batches of at most ``max_articles`` whose JSON stays under ``max_bytes`` (an article
    larger than that alone goes alone: the server then names it too large)."""
    batch: list[Article] = []
    size = 0
    for article in articles:
        n = len(json.dumps(article.as_json()).encode("utf-8")) + 2
        if batch and (len(batch) >= max_articles or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(article)
        size += n
    if batch:
        yield batch


class _Sender:
    """Posts batches to ``/v1/documents`` and adds what the server says to ``summary``."""

    def __init__(self, client: httpx.Client, endpoint: str, summary):
        self.client = client
        self.endpoint = endpoint
        self.summary = summary

    def post_articles(self, batch: list[Article]) -> None:
        body = {"articles": [a.as_json() for a in batch]}
        reply, error = self._post(body)
        if error is not None:
            if len(batch) > 1 and error.startswith(("HTTP 413", "HTTP 422")):
                half = len(batch) // 2  # one article may be at fault: the others still go
                self.post_articles(batch[:half])
                self.post_articles(batch[half:])
                return
            self.summary.failed.extend(LoadFailure(path=a.path, error=f"{a.id}: server: {error}") for a in batch)
            return
        for failure in reply["failed"]:
            index = failure.get("index")
            if index is not None and 0 <= index < len(batch):
                self.summary.failed.append(LoadFailure(path=batch[index].path, error=failure["error"]))
            else:
                self.summary.failed.append(LoadFailure(path=failure.get("url") or self.endpoint, error=failure["error"]))
        self._count(reply)

    def post_urls(self, urls: list[str]) -> None:
        reply, error = self._post({"urls": urls})
        if error is not None:
            if len(urls) > 1 and error.startswith("HTTP 422"):
                half = len(urls) // 2  # a 422 names one bad URL: the others still go
                self.post_urls(urls[:half])
                self.post_urls(urls[half:])
                return
            self.summary.failed.extend(LoadFailure(path=url, error=f"server: {error}") for url in urls)
            return
        for failure in reply["failed"]:
            self.summary.failed.append(LoadFailure(path=failure.get("url") or ", ".join(urls), error=failure["error"]))
        self._count(reply)

    def _count(self, reply: dict) -> None:
        for name in ("added", "updated", "unchanged", "deleted", "chunks"):
            setattr(self.summary, name, getattr(self.summary, name) + int(reply.get(name, 0)))
        self.summary.warnings.extend(LoadWarning(path=w["url"], message=w["message"]) for w in reply.get("warnings", []))

    def _post(self, body: dict) -> tuple[dict | None, str | None]:
        reply, error = call(self.client, "POST", self.endpoint, json=body)
        if error is None:
            log.info("posted %d item(s) to %s", len(body.get("articles") or body.get("urls") or []), self.endpoint)
        return reply, error
