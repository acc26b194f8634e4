"""The keyword index component: the implementation the ``keyword_index`` setting names, for the
engine to read and for ingest to keep current (one component per concern, as the vector store is).

Only ``tantivy`` (:mod:`assistant.retrieval.keyword`) is built here: updated in place by each ingest, read by
every worker of a host from one folder. docs/deploy.md says when a distributed search engine should
take its place, and what it would implement: the ``KeywordCache`` reading side (views with ``retrieve``,
``masked``, ``admitted_ids``, ``ranked_ids``, ``live_nodes``, ``sources``; ``stats``; ``clusters``) and
the writing side of :func:`refresh_keywords`.
"""

from __future__ import annotations

from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore


def keyword_cache(settings: Settings, store: ArticleStore):
    """What the engine reads BM25 from: it follows the store's version (``indexes()``, ``get()``,
    ``stats()``, ``clusters()``, ``version``)."""
    from assistant.retrieval.keyword import KeywordCache

    return KeywordCache(store, settings.candidate_k)


def refresh_keywords(settings: Settings, store: ArticleStore) -> None:
    """Bring the keyword index up to the whole store, after a write that did not keep it (sharded
    runs, a reindex). It waits for the writer lock. An ingest keeps the index itself, holding the
    writer for its whole run (:func:`assistant.retrieval.keyword.writing`)."""
    from assistant.retrieval import keyword

    keyword.refresh(store)
