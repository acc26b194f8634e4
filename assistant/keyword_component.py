"""The keyword index component: the implementation the ``keyword_index`` setting names, for the
engine to read and for ingest to keep current (one component per concern, as the vector store is).

- ``tantivy`` (:mod:`assistant.keyword`): updated in place by each ingest, in the ingest's lock.
- ``bm25s`` (:mod:`assistant.bm25`): rebuilt whole for each store version, then mapped by workers.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.settings import Settings
from assistant.store import ArticleStore


def keyword_cache(settings: Settings, store: ArticleStore):
    """What the engine reads BM25 from: it follows the store's version (``indexes()``, ``get()``,
    ``stats()``, ``clusters()``, ``version``)."""
    if settings.keyword_index == "bm25s":
        from assistant.bm25 import BM25Cache

        return BM25Cache(store, settings.candidate_k)
    from assistant.keyword import KeywordCache

    return KeywordCache(store, settings.candidate_k)


def refresh_keywords(settings: Settings, store: ArticleStore, article_ids: Iterable[str] | None = None) -> None:
    """Bring the keyword index up to the store after a write: ``article_ids`` are the articles the
    write touched (None: any may have changed). With tantivy the caller should hold the writer for the
    whole write (:func:`assistant.keyword.writing`); this takes it when it is free."""
    if settings.keyword_index == "bm25s":
        from assistant.bm25 import build_bm25

        build_bm25(store, store.bump_version(), settings.candidate_k)
        return
    from assistant import keyword

    keyword.refresh(store, article_ids)
