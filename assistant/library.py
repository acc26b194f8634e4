"""The store as a door sees it without loading a model: claim the local store for this process, and
open it to list what it holds. The engine answers from the store and ``ingest`` writes to it; this is
everything else the CLI and the API do with it (``newsdesk sources``, ``GET /v1/documents``, feed
subscriptions kept beside the articles)."""

from __future__ import annotations

from assistant.retrieval.store import COMPLETE, ArticleRecord, ArticleStore, make_chroma_client
from assistant.settings import Settings

__all__ = ["COMPLETE", "ArticleRecord", "ArticleStore", "chroma_client", "claim_local_store", "open_store"]


def claim_local_store(settings: Settings, command: str | None = None) -> None:
    """Take the local store's lock (nothing with a Chroma server): a store another process holds is
    refused at once with ``StoreInUse``, whose message gives the ways out that fit ``command``. Held
    until this process exits."""
    if not settings.chroma_host:
        from assistant.retrieval import store_lock

        store_lock.acquire(settings.chroma_path, command)


def open_store(settings: Settings, lock: bool = True) -> ArticleStore:
    """The store the settings name. ``lock=False`` only to read beside a process that writes it."""
    return ArticleStore(settings, lock=lock)


def chroma_client(settings: Settings, lock: bool = True):
    """The Chroma client of the store the settings name (the subscription list lives beside it)."""
    return make_chroma_client(settings, lock=lock)
