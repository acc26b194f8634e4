"""The BM25 side of hybrid retrieval, kept as a cache of the chunk collection.

Chroma holds the truth; the BM25 indexes (llama-index's ``BM25Retriever`` over bm25s, English
stemmer and stop words; one over chunks, one over whole articles) are derived from it and persisted
under ``<data_dir>/bm25/<collection>/<version>/{chunks,articles}``,
where ``version`` is the store's version stamp. A process whose stamp differs from the store's
(another worker ingested, or an ingest was killed) rebuilds before answering, so BM25 never disagrees
with the store for long and never needs its own crash recovery.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, NamedTuple

from llama_index.core.schema import TextNode

from assistant.store import ArticleStore

log = logging.getLogger(__name__)


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG when first imported, so import it before turning it down:
    # its chatter ("Building index from IDs objects") is not ours to print.
    import bm25s  # noqa: F401

    logging.getLogger("bm25s").setLevel(logging.WARNING)


def _nodes_from_store(store: ArticleStore) -> list[TextNode]:
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    nodes = []
    for _chunk_id, text, meta in store.iter_chunks():
        nodes.append(metadata_dict_to_node(meta, text=text))
    return nodes


def _article_nodes(chunks: list[TextNode]) -> list[TextNode]:
    """One node per article: its chunks' texts in order, under its first chunk's metadata (title and
    date are indexed once). Overlaps between chunks repeat a few words; BM25 barely notices."""
    by_article: dict[str, list[TextNode]] = {}
    for node in chunks:
        by_article.setdefault(node.metadata.get("article_id", node.node_id), []).append(node)
    articles = []
    for article_id, parts in by_article.items():
        parts.sort(key=lambda node: node.metadata.get("position", 0))
        first = parts[0]
        articles.append(
            TextNode(
                id_=article_id,
                text="\n".join(node.text for node in parts),
                metadata=dict(first.metadata),
                excluded_embed_metadata_keys=list(first.excluded_embed_metadata_keys),
                excluded_llm_metadata_keys=list(first.excluded_llm_metadata_keys),
            )
        )
    return articles


class BM25Indexes(NamedTuple):
    """BM25 over chunks (a retriever of its own) and over whole articles (a question's words are often
    spread over several chunks of the article that answers it; whole-article BM25 sees them together)."""

    chunks: Any  # BM25Retriever
    articles: Any  # BM25Retriever, one node per article, node id = article id


def _bm25_retriever(nodes: list[TextNode], top_k: int):
    import Stemmer
    from llama_index.retrievers.bm25 import BM25Retriever

    return BM25Retriever.from_defaults(
        nodes=nodes, similarity_top_k=min(top_k, len(nodes)), stemmer=Stemmer.Stemmer("english"), language="english"
    )


def build_bm25(store: ArticleStore, version: str, top_k: int) -> BM25Indexes | None:
    """Build the BM25 indexes for the store as it is now and persist them under its version."""
    _quiet_bm25s()
    nodes = _nodes_from_store(store)
    if not nodes:
        return None
    indexes = BM25Indexes(_bm25_retriever(nodes, top_k), _bm25_retriever(_article_nodes(nodes), top_k))
    root = store.settings.bm25_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    indexes.chunks.persist(str(tmp / "chunks"), show_progress=False)
    indexes.articles.persist(str(tmp / "articles"), show_progress=False)
    target = root / version
    try:
        os.rename(tmp, target)  # atomic: readers see a whole index or none
    except OSError:  # another process published the same version first
        shutil.rmtree(tmp, ignore_errors=True)
    for old in root.iterdir():
        if old.name not in (version,) and not old.name.startswith(".build-"):
            shutil.rmtree(old, ignore_errors=True)
    return indexes


def load_bm25(store: ArticleStore, version: str, top_k: int) -> BM25Indexes | None:
    from llama_index.retrievers.bm25 import BM25Retriever

    path = store.settings.bm25_dir / version
    if not (path / "chunks").is_dir() or not (path / "articles").is_dir():
        return None  # absent, or left by an older layout: rebuilt
    try:
        _quiet_bm25s()
        loaded = [BM25Retriever.from_persist_dir(str(path / part), show_progress=False) for part in BM25Indexes._fields]
    except Exception as exc:  # a damaged cache is rebuilt, never fatal
        log.warning("BM25 index at %s unreadable (%s); rebuilding", path, exc)
        return None
    for retriever in loaded:
        retriever.similarity_top_k = min(top_k, int(retriever.bm25.scores.get("num_docs", top_k)))
    return BM25Indexes(*loaded)


class TermStats:
    """Inverse document frequencies of the BM25 index's (stemmed) terms, over chunks, and the day of
    the newest article (``newest_day``, YYYYMMDD as an int; 0 when no chunk is dated).

    The answerer weighs question words by them: a rare name ("WWE") says more about which sentence
    answers than a common word ("deal"). The retriever's recency prior measures age from the newest day.
    """

    def __init__(self, retriever=None):
        self.num_docs = 0
        self.newest_day = 0
        self._df: dict[str, int] = {}
        if retriever is not None:
            self.newest_day = max((int(doc.get("published_day") or 0) for doc in retriever.corpus), default=0)
            bm25 = retriever.bm25
            indptr = bm25.scores["indptr"]
            self.num_docs = int(bm25.scores["num_docs"])
            self._df = {
                term: int(indptr[i + 1] - indptr[i]) for term, i in bm25.vocab_dict.items() if i + 1 < len(indptr)
            }

    def idf(self, term: str) -> float:
        if not self.num_docs:
            return 1.0
        df = self._df.get(term, 0)
        return math.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5))


class BM25Cache:
    """Holds the current BM25 indexes and swaps them when the store's version stamp moves."""

    def __init__(self, store: ArticleStore, top_k: int):
        self.store = store
        self.top_k = top_k
        self._version: str | None = None
        self._indexes: BM25Indexes | None = None
        self._stats = TermStats()
        self._lock = threading.Lock()

    def indexes(self) -> BM25Indexes | None:
        version = self.store.version()
        if version == self._version:
            return self._indexes
        with self._lock:
            if version != self._version:
                indexes = load_bm25(self.store, version, self.top_k) if version else None
                if indexes is None and self.store.count_chunks() > 0:
                    indexes = build_bm25(self.store, version or self.store.bump_version(), self.top_k)
                self._stats = TermStats(indexes.chunks if indexes else None)
                self._indexes, self._version = indexes, version
        return self._indexes

    def get(self):
        """The chunk BM25 retriever for the store as it is now (None for an empty store)."""
        indexes = self.indexes()
        return indexes.chunks if indexes else None

    def get_articles(self):
        """The whole-article BM25 retriever for the store as it is now (None for an empty store)."""
        indexes = self.indexes()
        return indexes.articles if indexes else None

    def stats(self) -> TermStats:
        """Term statistics of the index that the last ``get`` returned."""
        return self._stats

    @property
    def version(self) -> str | None:
        """The store version of the indexes held (what the last ``get`` read)."""
        return self._version
