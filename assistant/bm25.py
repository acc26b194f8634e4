"""The BM25 side of hybrid retrieval, kept as a cache of the chunk collection.

Chroma holds the truth; the BM25 index (llama-index's ``BM25Retriever`` over bm25s, English
stemmer and stop words) is derived from it and persisted under ``<data_dir>/bm25/<collection>/<version>``,
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

from llama_index.core.schema import TextNode

from assistant.store import ArticleStore

log = logging.getLogger(__name__)


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG on import; its chatter is not ours to print.
    logging.getLogger("bm25s").setLevel(logging.WARNING)


def _nodes_from_store(store: ArticleStore) -> list[TextNode]:
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    nodes = []
    for _chunk_id, text, meta in store.iter_chunks():
        nodes.append(metadata_dict_to_node(meta, text=text))
    return nodes


def build_bm25(store: ArticleStore, version: str, top_k: int):
    """Build the BM25 retriever for the store as it is now and persist it under its version."""
    import Stemmer
    from llama_index.retrievers.bm25 import BM25Retriever

    _quiet_bm25s()
    nodes = _nodes_from_store(store)
    if not nodes:
        return None
    retriever = BM25Retriever.from_defaults(
        nodes=nodes, similarity_top_k=min(top_k, len(nodes)), stemmer=Stemmer.Stemmer("english"), language="english"
    )
    root = store.settings.bm25_dir
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    retriever.persist(str(tmp), show_progress=False)
    target = root / version
    try:
        os.rename(tmp, target)  # atomic: readers see a whole index or none
    except OSError:  # another process published the same version first
        shutil.rmtree(tmp, ignore_errors=True)
    for old in root.iterdir():
        if old.name not in (version,) and not old.name.startswith(".build-"):
            shutil.rmtree(old, ignore_errors=True)
    return retriever


def load_bm25(store: ArticleStore, version: str, top_k: int):
    from llama_index.retrievers.bm25 import BM25Retriever

    path = store.settings.bm25_dir / version
    if not path.is_dir():
        return None
    try:
        _quiet_bm25s()
        retriever = BM25Retriever.from_persist_dir(str(path), show_progress=False)
    except Exception as exc:  # a damaged cache is rebuilt, never fatal
        log.warning("BM25 index at %s unreadable (%s); rebuilding", path, exc)
        return None
    retriever.similarity_top_k = min(top_k, int(retriever.bm25.scores.get("num_docs", top_k)))
    return retriever


class TermStats:
    """Inverse document frequencies of the BM25 index's (stemmed) terms, over chunks.

    The answerer weighs question words by them: a rare name ("WWE") says more about which sentence
    answers than a common word ("deal").
    """

    def __init__(self, retriever=None):
        self.num_docs = 0
        self._df: dict[str, int] = {}
        if retriever is not None:
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
    """Holds the current BM25 retriever and swaps it when the store's version stamp moves."""

    def __init__(self, store: ArticleStore, top_k: int):
        self.store = store
        self.top_k = top_k
        self._version: str | None = None
        self._retriever = None
        self._stats = TermStats()
        self._lock = threading.Lock()

    def get(self):
        version = self.store.version()
        if version == self._version:
            return self._retriever
        with self._lock:
            if version != self._version:
                retriever = load_bm25(self.store, version, self.top_k) if version else None
                if retriever is None and self.store.count_chunks() > 0:
                    retriever = build_bm25(self.store, version or self.store.bump_version(), self.top_k)
                self._stats = TermStats(retriever)
                self._retriever, self._version = retriever, version
        return self._retriever

    def stats(self) -> TermStats:
        """Term statistics of the index that the last ``get`` returned."""
        return self._stats
