"""The BM25 side of hybrid retrieval, kept as a cache of the chunk collection.

Chroma holds the truth; the BM25 indexes (llama-index's ``BM25Retriever`` over bm25s, English
stemmer and stop words; one over chunks, one over whole articles) are derived from it and persisted
under ``<data_dir>/bm25/<collection>/<version>/{chunks,articles,meta.json}``, where ``version`` is
the store's version stamp and ``meta.json`` says what a worker needs without reading the corpus
(newest day, document counts).

Scale comes from three rules:

* **Mapped, not loaded.** A worker maps a published index (bm25s ``mmap=True``; the vocabulary,
  the corpus's line offsets and the filter keys through :mod:`assistant.bm25_mapped`), so workers on
  one host share one copy in the page cache and start in milliseconds.
* **One builder per host, off the request path.** Building takes an exclusive lock under the BM25
  folder (:func:`build_lock`); a worker whose store version moved keeps answering from the index it
  holds while a background thread builds the new one, or waits for the process that holds the lock
  and maps what it publishes (an atomic rename: readers see a whole index or none).
* **Never mixed.** Each query takes one :class:`BM25Indexes` (chunks, articles, statistics and
  version together); an index the store has moved past is marked ``stale``, and the retriever checks
  its hits against the store (:mod:`assistant.retrieval`).
"""

from __future__ import annotations

import copy
import ctypes
import fcntl
import gc
import json
import logging
import math
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from llama_index.core.schema import BaseNode, NodeWithScore, QueryBundle

from assistant.clusters import Clusters
from assistant.store import ArticleStore
from assistant.store_http import StoreUnavailable

log = logging.getLogger(__name__)

LAYOUT = 4  # meta.json's "layout": an index written by another layout is rebuilt, not trusted
META = "meta.json"
CLUSTERS = "clusters.json"  # the version's syndication clusters (assistant.clusters)
PARTS = ("chunks", "articles")
LOCK = ".build.lock"
ABOVE_ZERO = 1.1754944e-38  # the smallest normal float32: any document holding a query term scores this much
RETRY_AFTER_FAILURE_S = 10.0  # a failed background refresh is retried by a query after this long


def _quiet_bm25s() -> None:
    # bm25s sets its own logger to DEBUG when first imported, so import it before turning it down:
    # its chatter ("Building index from IDs objects") is not ours to print.
    import bm25s  # noqa: F401

    logging.getLogger("bm25s").setLevel(logging.WARNING)


def _retriever_class():
    # llama-index's BM25 retriever imports bm25s and PyStemmer: only when an index is built or read.
    from llama_index.retrievers.bm25 import BM25Retriever

    class StoreBM25Retriever(BM25Retriever):
        """llama-index's ``BM25Retriever`` over one published version of the store, with what this
        project adds: the version it was built from, whether the store has moved past it
        (``stale``), a filter mask computed per (day, source) pair instead of per document, its
        sibling over whole articles, and a way to read its hits as the store holds them now."""

        def __init__(self, bm25, *, version: str, store: ArticleStore, filter_keys, top_k: int, superseded):
            import Stemmer

            num_docs = int(bm25.scores["num_docs"])
            super().__init__(existing_bm25=bm25, similarity_top_k=min(top_k, num_docs), stemmer=Stemmer.Stemmer("english"))
            self.version = version
            self.store = store
            self.filter_keys = filter_keys
            self.weight_mask = None  # np.ndarray of 0/1 per document, or None: every document
            self.admitted = num_docs  # how many documents the mask lets through
            self.articles = None  # the whole-article retriever of the same version (set by load_bm25)
            self._superseded = superseded  # threading.Event shared by both retrievers of a version
            self.doc_ids = None  # np.ndarray of each document's node id (set by load_bm25)

        @property
        def stale(self) -> bool:
            """Whether the store's version has moved past this index (seen by the cache)."""
            return self._superseded.is_set()

        def masked(self, filters):
            """A view of this retriever over the documents ``filters`` (``SearchFilters``) admit,
            sharing the index (None when none passes)."""
            mask = self.filter_keys.mask(filters.admits)  # one filter test per (day, source) pair
            admitted = int(mask.sum())
            if not admitted:
                return None
            view = copy.copy(self)
            view.weight_mask = mask
            view.admitted = admitted
            view.similarity_top_k = min(self.similarity_top_k, admitted)
            return view

        @property
        def num_docs(self) -> int:
            return int(self.bm25.scores["num_docs"])

        def admitted_ids(self) -> list[str]:
            """The node ids of the documents this view admits (all of them, unmasked), in corpus order."""
            ids = self.doc_ids if self.weight_mask is None else self.doc_ids[self.weight_mask > 0]
            return [str(i) for i in ids]

        def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
            from llama_index.core.vector_stores.utils import metadata_dict_to_node

            best, scores = self._top(query_bundle.query_str)
            corpus = self.bm25.corpus
            return [NodeWithScore(node=metadata_dict_to_node(corpus[int(i)]), score=float(s)) for i, s in zip(best, scores)]

        def ranked_ids(self, query: str) -> list[tuple[str, float]]:
            """(node id, score) of the best documents for ``query``, best first, zero scores left out:
            the ranking alone, without reading a document (a whole article is many kilobytes)."""
            best, scores = self._top(query)
            return [(str(self.doc_ids[int(i)]), float(s)) for i, s in zip(best, scores)]

        def _top(self, query: str):
            """The indices and scores of the ``similarity_top_k`` best documents that score above 0 (and
            pass the mask), best first; ties in index order.

            Scoring is bm25s's own. The selection is not: bm25s partitions the score of every document
            (``np.argpartition`` over a million mostly-zero scores: ~8 ms, the larger part of a query at
            1M chunks); only documents at a floor that ``k`` of them are known to reach can rank
            (:meth:`_floor`), so only they are partitioned (at 1M chunks: 5.2 -> 2.2 ms a query)."""
            import bm25s
            import numpy as np

            tokens = bm25s.tokenize(
                query,
                stemmer=self.stemmer if not self.skip_stemming else None,
                token_pattern=self.token_pattern,
                show_progress=False,
            )
            words = bm25s.tokenization.convert_tokenized_to_string_list(tokens)[0]
            token_ids = self.bm25.get_tokens_ids(words)
            if not token_ids:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            scores = self.bm25.get_scores_from_ids(token_ids, weight_mask=self.weight_mask)
            k = self.similarity_top_k
            # Under a mask the floor does not hold: the documents it counts on may be masked out.
            floor = self._floor(token_ids, k) if self.weight_mask is None else ABOVE_ZERO
            found = np.flatnonzero(scores >= floor)
            if len(found) > k:
                found = found[np.argpartition(scores[found], -k)[-k:]]
            best = found[np.argsort(-scores[found], kind="stable")]
            return best, scores[best]

        def _floor(self, token_ids: list[int], k: int) -> float:
            """A score at least ``k`` documents reach: the ``k``-th largest contribution of the rarest
            query term found in ``k`` documents or more (those documents score at least that much in
            all). Only documents at the floor can make the top ``k``; most of a million fall below it."""
            import numpy as np

            indptr, data = self.bm25.scores["indptr"], self.bm25.scores["data"]
            lengths = [(int(indptr[t + 1] - indptr[t]), t) for t in token_ids]
            usable = [(n, t) for n, t in lengths if n >= k]
            if not usable:
                return ABOVE_ZERO
            _n, rarest = min(usable)
            postings = np.asarray(data[indptr[rarest] : indptr[rarest + 1]])
            return max(float(np.partition(postings, len(postings) - k)[len(postings) - k]), ABOVE_ZERO)

        def live_nodes(self, chunk_ids: list[str]) -> dict[str, BaseNode]:
            """The chunks among ``chunk_ids`` that the store still holds, as it holds them now (one
            Chroma read): what a stale index's hits are checked against."""
            return self.store.chunk_nodes(chunk_ids)

        def sources(self) -> set[str]:
            """Every source of the indexed chunks."""
            return {source for _day, source in self.filter_keys.keys}

    return StoreBM25Retriever


_STORE_RETRIEVER = None


def store_retriever_class():
    """The :class:`StoreBM25Retriever` class (defined on first use: it imports llama-index's BM25)."""
    global _STORE_RETRIEVER
    if _STORE_RETRIEVER is None:
        _STORE_RETRIEVER = _retriever_class()
    return _STORE_RETRIEVER


class TermStats:
    """Inverse document frequencies of the BM25 index's (stemmed) terms, over chunks, and the day of
    the newest article (``newest_day``, YYYYMMDD as an int; 0 when no chunk is dated).

    The answerer weighs question words by them: a rare name ("WWE") says more about which sentence
    answers than a common word ("deal"). The retriever's recency prior measures age from the newest day.
    Document frequencies are read per term from the index's (mapped) column pointers, when asked:
    nothing is computed over the whole vocabulary or corpus when an index is loaded.
    """

    def __init__(self, bm25=None, newest_day: int = 0):
        self.newest_day = int(newest_day or 0)
        self.num_docs = int(bm25.scores["num_docs"]) if bm25 is not None else 0
        self._vocab = bm25.vocab_dict if bm25 is not None else {}
        self._indptr = bm25.scores["indptr"] if bm25 is not None else None

    def df(self, term: str) -> int:
        """How many chunks hold ``term`` (a stemmed token)."""
        i = self._vocab.get(term)
        if i is None or self._indptr is None or i + 1 >= len(self._indptr):
            return 0
        return int(self._indptr[i + 1] - self._indptr[i])

    def idf(self, term: str) -> float:
        if not self.num_docs:
            return 1.0
        df = self.df(term)
        return math.log(1.0 + (self.num_docs - df + 0.5) / (df + 0.5))


@dataclass(frozen=True)
class BM25Indexes:
    """One published version's BM25 over chunks and over whole articles (a question's words are often
    spread over several chunks of the article that answers it; whole-article BM25 sees them together),
    with its term statistics: what one query reads, all of one version."""

    chunks: object  # StoreBM25Retriever
    articles: object  # StoreBM25Retriever, one node per article, node id = article id
    stats: TermStats
    version: str
    superseded: threading.Event = field(default_factory=threading.Event, compare=False)
    clusters: Clusters = field(default_factory=Clusters, compare=False)  # syndication, as of this version

    @property
    def stale(self) -> bool:
        return self.superseded.is_set()


@contextmanager
def build_lock(root: Path) -> Iterator[bool]:
    """Hold the host's BM25 build lock for ``root`` (``fcntl.flock`` on ``root/.build.lock``; the
    kernel releases it if the holder dies). Yields whether another process held it first (then it may
    have published what the caller was about to build)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as handle:
        waited = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("BM25: another process is building under %s; waiting for it", root)
            fcntl.flock(handle, fcntl.LOCK_EX)
            waited = True
        try:
            yield waited
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_parts(store: ArticleStore, root: Path, top_k: int):
    """Both parts (chunks, articles) of the store as it is now, written under ``root`` from one
    streamed pass (:mod:`assistant.bm25_build`: memory bounded by token ids, not by nodes)."""
    from assistant.bm25_build import StreamedCorpus, TokenRuns, corpus_lines, write_articles_corpus, write_part
    from assistant.bm25_mapped import FilterKeys, MappedCorpus, MappedVocab, write_doc_ids

    streamed = StreamedCorpus().read(store, root / "chunks.jsonl")
    article_runs, article_ids = write_articles_corpus(streamed, root / "articles.jsonl")
    parts = (
        ("chunks", TokenRuns(streamed.tokens, streamed.chunk_runs), streamed.chunk_ids),
        ("articles", article_runs, article_ids),
    )
    vocab = streamed.vocab
    for part, runs, ids in parts:
        folder = root / part
        bm25 = write_part(folder, runs, vocab, root / f"{part}.jsonl", top_k)
        MappedVocab.write(folder, bm25.vocab_dict)
        MappedCorpus.write_offsets(folder / "corpus.jsonl")
        FilterKeys.write(folder, corpus_lines(folder / "corpus.jsonl"))
        write_doc_ids(folder, ids)
        del bm25
    return streamed


def _publish_locked(store: ArticleStore, version: str, top_k: int) -> bool:
    """Build both indexes from the store as it is now and publish them under ``version`` (the build
    lock held). False when the store has no chunks (nothing is published)."""
    try:
        return _write_version(store, version, top_k)
    finally:
        _give_memory_back()


def _give_memory_back() -> None:
    """Return what a build allocated (every chunk's text, node and tokens, several times over) to the
    system: the worker that built goes on answering from the mapped files, and without this its heap
    stays at the build's peak (dev store, 19.6k chunks: 338 MB kept; 83 MB after trimming)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)  # glibc; elsewhere the allocator keeps its own counsel
    except (OSError, AttributeError):
        pass


def _write_version(store: ArticleStore, version: str, top_k: int) -> bool:
    if store.count_chunks() == 0:
        return False
    root = store.bm25_dir
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        streamed = _write_parts(store, tmp, top_k)
        meta = {
            "layout": LAYOUT,
            "version": version,
            "newest_day": streamed.newest_day,
            "chunks": len(streamed.chunk_ids),
            "built_at": time.time(),
        }
        (tmp / META).write_text(json.dumps(meta), encoding="utf-8")
        # The manifest is read here, once per version and host, not by every worker on its path.
        Clusters.from_records(store.complete_records()).write(tmp / CLUSTERS)
        target = root / version
        if target.exists():  # an unreadable or older-layout leftover (no other builder runs: the lock)
            shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)  # atomic: readers see a whole index or none
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Older versions go: a worker still answering from one keeps its mapped files (unlinked files
    # stay readable while mapped) until it swaps; leftovers of a builder that died go too.
    for old in root.iterdir():
        if old.name not in (version, LOCK):
            shutil.rmtree(old, ignore_errors=True)
    return True


def build_bm25(store: ArticleStore, version: str, top_k: int) -> BM25Indexes | None:
    """Build the BM25 indexes for the store as it is now, publish them under ``version`` and return
    them as a worker maps them (None for an empty store). Waits for the host's build lock."""
    _quiet_bm25s()
    with build_lock(store.bm25_dir):
        published = _publish_locked(store, version, top_k)
    return load_bm25(store, version, top_k) if published else None


def load_bm25(store: ArticleStore, version: str, top_k: int, *, mmap: bool = True) -> BM25Indexes | None:
    """The published indexes of ``version``, mapped (``mmap=False``: read into this process's memory,
    as before). None when absent, written by another layout, or unreadable (then rebuilt)."""
    path = store.bm25_dir / version
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("layout") != LAYOUT or not all((path / part).is_dir() for part in PARTS):
        return None
    superseded = threading.Event()
    try:
        _quiet_bm25s()
        chunks, articles = (_load_part(store, path / part, version, top_k, mmap, superseded) for part in PARTS)
    except Exception as exc:  # a damaged cache is rebuilt, never fatal
        log.warning("BM25 index at %s unreadable (%s); rebuilding", path, exc)
        return None
    chunks.articles = articles
    stats = TermStats(chunks.bm25, meta.get("newest_day", 0))
    return BM25Indexes(chunks, articles, stats, version, superseded, Clusters.read(path / CLUSTERS))


def _load_part(store: ArticleStore, folder: Path, version: str, top_k: int, mmap: bool, superseded):
    import bm25s

    from assistant.bm25_mapped import FilterKeys, MappedCorpus, MappedVocab, read_doc_ids

    bm25 = bm25s.BM25.load(str(folder), mmap=mmap, load_corpus=not mmap, load_vocab=not mmap, show_progress=False)
    if mmap:
        bm25.vocab_dict = MappedVocab(folder)
        bm25.corpus = MappedCorpus(folder / "corpus.jsonl")
    retriever = store_retriever_class()(
        bm25, version=version, store=store, filter_keys=FilterKeys.read(folder), top_k=top_k, superseded=superseded
    )
    retriever.doc_ids = read_doc_ids(folder)
    return retriever


@dataclass(frozen=True)
class _Held:
    version: str  # the store version the indexes are of (the one read, when the store was empty)
    indexes: BM25Indexes | None


class BM25Cache:
    """Holds the current BM25 indexes and follows the store's version stamp without stalling answers.

    On each query the store's version is read. Equal to the held index's: that index. Moved, and the
    new version already published on this host (an ingest here publishes it): mapped on the spot, in
    milliseconds. Moved and not published: the held index keeps answering, marked ``stale``, while a
    background thread builds the new one (or waits for the host's builder and maps what it writes),
    then swaps. Only a process holding no index yet (first query, or the store was empty) waits.

    ``stats()`` and ``version`` describe the indexes that the last ``get()`` *in the calling thread*
    returned, so that one answer reads one version even while another thread swaps.
    """

    def __init__(self, store: ArticleStore, top_k: int):
        self.store = store
        self.top_k = top_k
        self._held: _Held | None = None
        self._lock = threading.Lock()  # swaps and first loads
        self._local = threading.local()  # the _Held each thread's last get() returned
        self._refresh_lock = threading.Lock()
        self._refresh_wanted = False
        self._refreshing = False
        self._failed_at = 0.0
        self._refreshed = threading.Event()
        self._refreshed.set()
        self.builds = 0  # indexes this cache built and published (tests and benches read them)
        self.loads = 0  # published indexes this cache mapped

    # --- what a query reads ------------------------------------------------------------------------
    def indexes(self) -> BM25Indexes | None:
        """The indexes to answer this query from (None for an empty store); pinned for this thread."""
        version = self.store.version()
        held = self._held
        if held is None or held.version != version:
            held = self._follow(version, held)
        self._local.held = held
        return held.indexes

    def get(self):
        """The chunk BM25 retriever to answer from now (None for an empty store)."""
        indexes = self.indexes()
        return indexes.chunks if indexes else None

    def get_articles(self):
        """The whole-article BM25 retriever to answer from now (None for an empty store)."""
        indexes = self.indexes()
        return indexes.articles if indexes else None

    def stats(self) -> TermStats:
        """Term statistics of the index that this thread's last ``get`` returned."""
        held = self._pinned()
        return held.indexes.stats if held and held.indexes else TermStats()

    def clusters(self) -> Clusters:
        """Syndication clusters of the version this thread's last ``get`` returned."""
        held = self._pinned()
        return held.indexes.clusters if held and held.indexes else Clusters()

    @property
    def version(self) -> str | None:
        """The store version of the indexes this thread's last ``get`` returned (for an empty store,
        the version read)."""
        held = self._pinned()
        return held.version if held else None

    # --- following the store -----------------------------------------------------------------------
    @property
    def refreshing(self) -> bool:
        """Whether a background refresh (a build, or a wait for another builder) is under way."""
        return not self._refreshed.is_set()

    def wait_refreshed(self, timeout: float | None = None) -> bool:
        """Wait for the background refresh to end; False on timeout."""
        return self._refreshed.wait(timeout)

    def _pinned(self) -> _Held | None:
        return getattr(self._local, "held", None) or self._held

    def _follow(self, version: str, held: _Held | None) -> _Held:
        with self._lock:
            current = self._held
            if current is not None and current.version == version:
                return current  # another thread swapped meanwhile
            if current is not None and current.indexes is not None:
                loaded = self._load(version)  # published here already: mapping it is cheap
                if loaded is not None:
                    return self._swap(_Held(version, loaded))
                current.indexes.superseded.set()
                self._refresh_in_background()
                return current
            # Nothing to answer from yet: this query waits for the index.
            return self._swap(self._obtain(version))

    def _swap(self, held: _Held) -> _Held:
        old = self._held
        if old is not None and old.indexes is not None and old.version != held.version:
            old.indexes.superseded.set()
        self._held = held
        return held

    def _load(self, version: str) -> BM25Indexes | None:
        loaded = load_bm25(self.store, version, self.top_k) if version else None
        if loaded is not None:
            self.loads += 1
        return loaded

    def _obtain(self, version: str) -> _Held:
        """The indexes of ``version``: mapped if published, else built here under the host's lock, or
        mapped from what the process that held the lock published."""
        loaded = self._load(version)
        if loaded is not None:
            return _Held(version, loaded)
        if self.store.count_chunks() == 0:
            return _Held(version, None)
        _quiet_bm25s()
        with build_lock(self.store.bm25_dir) as waited:
            if waited and (loaded := self._load(version)) is not None:
                return _Held(version, loaded)
            if not version:  # chunks written before version stamps existed
                version = self.store.bump_version()
            if not _publish_locked(self.store, version, self.top_k):
                return _Held(version, None)
            self.builds += 1
        loaded = self._load(version)
        if loaded is None:
            raise RuntimeError(f"BM25 index built for version {version} could not be read back")
        return _Held(version, loaded)

    def _refresh_in_background(self) -> None:
        with self._refresh_lock:
            self._refresh_wanted = True
            if self._refreshing or time.monotonic() - self._failed_at < RETRY_AFTER_FAILURE_S:
                return
            self._refreshing = True
            self._refreshed.clear()
        threading.Thread(target=self._refresh, name="bm25-refresh", daemon=True).start()

    def _refresh(self) -> None:
        """Catch up with the store until no query asks for more; the held index answers meanwhile."""
        while True:
            with self._refresh_lock:
                if not self._refresh_wanted:
                    self._refreshing = False
                    self._refreshed.set()
                    return
                self._refresh_wanted = False
            try:
                version = self.store.version()
                before = self._held
                if before is None or before.version != version:
                    held = self._obtain(version)
                    with self._lock:
                        if self._held is before:  # a query may have mapped a newer one meanwhile
                            self._swap(held)
            except Exception as exc:  # the held index keeps answering; a later query retries
                if isinstance(exc, StoreUnavailable):  # an outage, not a bug: one line
                    log.warning("BM25: background refresh failed (%s); answering from the index held", exc)
                else:
                    log.exception("BM25: background refresh failed; answering from the index held")
                with self._refresh_lock:
                    self._failed_at = time.monotonic()
                    self._refresh_wanted = False
