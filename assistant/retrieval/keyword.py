"""The keyword side of hybrid retrieval in tantivy (:mod:`assistant.retrieval.keyword_tantivy`): kept in step
with the store by whoever writes it, read by every worker at one store version.

Layout: ``<data_dir>/keyword/<collection>/{chunks/, articles/, state.json, .writer.lock}``.

**Writing** is one process at a time (:func:`writing` holds an ``flock`` on ``.writer.lock``; the
kernel lets go if the holder dies). An ingest takes it before its first write to Chroma and keeps it
to the end. After its writes it replaces the documents of the articles it touched, commits both
indexes, and only then replaces ``state.json`` (atomically): the store version the indexes now
reflect, with what workers read once per version (newest day, sources, syndication clusters).

**Repair.** A run killed between its Chroma writes and its state leaves the state behind the store.
The next writer sees that (:attr:`KeywordWriter.found_behind`) and repairs by comparing the article
index with the manifest: each indexed article's content hash against its complete record's. Articles
that differ, are missing or are gone are rewritten from Chroma; nothing else is read. An empty index
is built whole in one streamed pass.

**Reading** (:class:`KeywordCache`). For each question: the state (re-read, and the searchers
reloaded, only when its file changes), then the store's version. Equal: the question reads the
keyword index and Chroma at one version. Not equal: the index is behind (a writer is between its
Chroma write and its commit, or died there). Its hits are then checked against the store (``stale``,
as :mod:`assistant.retrieval.hybrid` does), and, when no writer holds the lock, a background thread repairs
it. Workers on one host share the segment files through the page cache.
"""

from __future__ import annotations

import copy
import fcntl
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.answer import SearchFilters
from assistant.retrieval.clusters import Clusters, Reclustered
from assistant.retrieval.keyword_tantivy import (
    CHUNK_ID, CONTENT_HASH, MEMBERS, NODE, TOKENS, KeywordIndex, StoreKeywords, analyse, bm25_idf, stored_node,
    write_articles, write_store,
)
from assistant.retrieval.store import COMPLETE, ArticleStore, Change
from assistant.retrieval.store_http import StoreUnavailable

log = logging.getLogger(__name__)

STATE = "state.json"
LOCK = ".writer.lock"
LAYOUT = 4  # of the documents (3: stored token counts and lengths; 4: LSH bands, sources a fast field); an
# index of another layout is rebuilt
RETRY_AFTER_FAILURE_S = 10.0  # a failed background repair is retried by a question after this long


# --- the state a commit is published with ------------------------------------------------------------
@dataclass(frozen=True)
class KeywordState:
    """What the indexes reflect (a store version) and what workers read once per version."""

    version: str
    newest_day: int = 0  # YYYYMMDD of the newest dated article; 0 when none is dated
    sources: tuple[str, ...] = ()
    clusters: Clusters = field(default_factory=Clusters, compare=False)
    layout: int = LAYOUT

    def write(self, root: Path) -> None:
        tmp = root / f".{STATE}.{os.getpid()}"
        data = {"layout": self.layout, "version": self.version, "newest_day": self.newest_day,
                "sources": list(self.sources), **self.clusters.as_data()}
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, root / STATE)  # atomic: a reader sees the old state or the new one

    @classmethod
    def read(cls, root: Path) -> "KeywordState | None":
        try:
            data = json.loads((root / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls(str(data.get("version", "")), int(data.get("newest_day") or 0), tuple(data.get("sources", ())),
                   Clusters.from_data(data), int(data.get("layout") or 1))


def keyword_dir(store: ArticleStore) -> Path:
    """The keyword indexes of this Chroma collection."""
    return store.settings.data_dir / "keyword" / store.name


def open_indexes(root: Path) -> StoreKeywords:
    return StoreKeywords(KeywordIndex(root / "chunks"), KeywordIndex(root / "articles"))


# --- writing -----------------------------------------------------------------------------------------
class KeywordWriter:
    """The one writer of a store's keyword indexes (made by :func:`writing`, which holds the lock)."""

    def __init__(self, store: ArticleStore, root: Path):
        self.store, self.root = store, root
        state = KeywordState.read(root)
        if state is not None and state.layout != LAYOUT:  # written by another version: built again
            for part in ("chunks", "articles"):
                shutil.rmtree(root / part, ignore_errors=True)
            (root / STATE).unlink(missing_ok=True)
            state = None
        self.keywords = open_indexes(root)
        self.state = state  # the last one published
        # Behind when first taken: the last writer died before its state, or wrote Chroma without it.
        self.found_behind = state is None or state.version != store.version()

    def sharing_bands(self, keys: Iterable[str]) -> set[str]:
        """The articles of the last published index that share an LSH band key with ``keys``."""
        articles = self.keywords.articles
        return articles.sharing_bands(articles.searcher(), keys)

    def update(self, article_ids: Iterable[str]) -> int:
        """Rewrite the documents of ``article_ids`` as the store holds them now (deleted when it holds
        none, or only a pending record); not visible before :meth:`publish`. Chunks added."""
        ids = list(dict.fromkeys(article_ids))
        self.keywords.chunks.delete_articles(ids)
        self.keywords.articles.delete_articles(ids)
        complete = {i: r for i, r in self.store.records_of(ids).items() if r.status == COMPLETE}
        return write_articles(self.keywords, self.store, complete)

    def repair(self, complete) -> dict[str, int]:
        """Bring the indexes to the store's ``complete`` records (not visible before :meth:`publish`):
        an empty index is built whole; else what differs from the manifest is rewritten."""
        records = {r.id: r for r in complete}
        if self.keywords.articles.num_docs == 0:
            self.keywords.chunks.writer().delete_all_documents()  # chunks of articles never completed
            return {"built": write_store(self.keywords, self.store, records)}
        indexed = {doc[CHUNK_ID][0]: (doc.get(CONTENT_HASH) or [""])[0] for doc in self.keywords.articles.stored()}
        differ = [i for i, r in records.items() if indexed.get(i) != r.content_hash]
        gone = [i for i in indexed if i not in records]
        self.update([*differ, *gone])
        return {"rewritten": len(differ), "deleted": len(gone)}

    def publish(self, clusters: Clusters, *, change: Change | None = None, version: str | None = None) -> KeywordState:
        """Commit both indexes, then say which store version they reflect, with its ``clusters``; the
        newest day and the sources are read from the index just committed. A write (``change``: what
        it changed) ends with a new store version that logs it, for other hosts to follow; a reader
        that caught up publishes the ``version`` it caught up to."""
        self.keywords.chunks.commit()
        self.keywords.articles.commit()
        if change is not None:
            version = self.store.bump_version(change)
        searcher = self.keywords.articles.searcher()
        state = KeywordState(version if version is not None else self.store.version(),
                             KeywordIndex.newest_day(searcher), KeywordIndex.sources(searcher), clusters)
        state.write(self.root)
        self.state, self.found_behind = state, False
        return state

    def catch_up(self, touched: Iterable[str] | None = None, complete=None,
                 reclustered: Reclustered | None = None) -> KeywordState:
        """After a write: ``touched`` (the articles it rewrote or deleted) rewritten, or, when the index
        was found behind or ``touched`` is None, repaired against the manifest; then published, and the
        write logged (:meth:`publish`).

        The published clusters are the last state's moved by ``reclustered`` (the write's clustering
        of a closed set of articles), when given and the index was not found behind: then the manifest
        is not read whole, and the log lists what changed. Else they come from ``complete`` (the
        store's complete records as they now stand), read here when the caller does not hold them,
        and the log says "everything"."""
        prior = self.state.version if self.state is not None else ""
        during = (self.store.version(),)
        if reclustered is not None and touched is not None and not self.found_behind:
            touched = frozenset(touched)
            self.update(touched)
            return self.publish(self.state.clusters.moved_by(reclustered),
                                change=Change(prior, touched, reclustered.covers, during=during))
        complete = self.store.complete_records() if complete is None else complete
        if touched is None or self.found_behind:
            self.repair(complete)
        else:
            self.update(touched)
        return self.publish(Clusters.from_records(complete), change=Change(prior, everything=True, during=during))

    def follow(self) -> KeywordState | None:
        """A reader's catch-up, when the store moved without this index (another host wrote it, or a
        writer died): the articles the change log names are rewritten and their clusters moved; when
        the log cannot say, whatever differs from the manifest is (:meth:`repair`). None, and nothing
        done, while the store's last write is at work (it is logged when it ends)."""
        version = self.store.version()
        change = self.store.changes_since(self.state.version) if self.state is not None else None
        if change is not None and change.writing:
            return None
        if change is None:
            complete = self.store.complete_records()
            self.repair(complete)
            return self.publish(Clusters.from_records(complete), version=version)
        self.update(change.touched)
        regrouped = [r for r in self.store.records_of(change.covers).values() if r.status == COMPLETE]
        return self.publish(self.state.clusters.moved_by(Reclustered(regrouped, change.covers)), version=version)

    def close(self) -> None:
        self.keywords.close()


@contextmanager
def writing(store: ArticleStore, wait: bool = True) -> Iterator[KeywordWriter | None]:
    """The store's keyword writer, its lock held until the block ends. ``wait=False``: None at once
    when another process (or thread) holds it."""
    root = keyword_dir(store)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        try:
            writer = KeywordWriter(store, root)
            try:
                yield writer
            finally:
                writer.close()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refresh(store: ArticleStore) -> KeywordState:
    """Bring the keyword indexes up to the whole store (a repair against the manifest) and publish them,
    as the end of a write that changed everything (sharded ingests, a reindex)."""
    with writing(store) as writer:
        return writer.catch_up()


# --- reading -----------------------------------------------------------------------------------------
class KeywordStats:
    """Inverse document frequencies of the index's (stemmed) terms over chunks, read from one searcher
    when asked, and the day of the newest article (``newest_day``, YYYYMMDD; 0 when none is dated).

    The answerer weighs question words by them: a rare name ("WWE") says more about which sentence
    answers than a common word ("deal"). The retriever's recency prior measures age from the newest day."""

    def __init__(self, searcher=None, newest_day: int = 0):
        self.newest_day = int(newest_day or 0)
        self._searcher = searcher
        self.num_docs = searcher.num_docs if searcher is not None else 0

    def df(self, term: str) -> int:
        """How many chunks hold ``term`` (an analysed token)."""
        return self._searcher.doc_freq(TOKENS, term) if self._searcher is not None else 0

    def idf(self, term: str) -> float:
        return bm25_idf(self.num_docs, self.df(term)) if self.num_docs else 1.0


class KeywordRetriever(BaseRetriever):
    """BM25 over one searcher of a keyword index (chunks, or whole articles), as the hybrid retriever
    reads it: nodes from the stored chunks, a view narrowed by a question's filters, and the ids that
    view admits (for the dense query)."""

    def __init__(self, index: KeywordIndex, searcher, *, store: ArticleStore, top_k: int, version: str,
                 stale: bool, state: KeywordState, mean_length: float, articles: "KeywordRetriever | None" = None):
        super().__init__()
        self.index, self.searcher, self.store = index, searcher, store
        self.mean_length = mean_length  # of the searcher's documents, for BM25's length norm
        self.num_docs = searcher.num_docs
        self.similarity_top_k = min(top_k, self.num_docs)
        self.version, self.stale, self.state = version, stale, state
        self.articles = articles  # the whole-article sibling of the same version (chunks only)
        self.filters: SearchFilters | None = None
        self.admitted = self.num_docs  # how many documents the filters let through

    def masked(self, filters: SearchFilters):
        """A view over what ``filters`` admit, sharing the searcher (None when nothing passes)."""
        clauses = self._clauses(filters)
        admitted = self.searcher.search(self.index.filter_query(clauses), 1, count=True).count
        if not admitted:
            return None
        view = copy.copy(self)
        view.filters, view.admitted = filters, admitted
        view.similarity_top_k = min(self.similarity_top_k, admitted)
        return view

    def _clauses(self, filters: SearchFilters | None) -> list:
        if filters is None:
            return []
        clauses = self.index.filter_clauses(since=filters.since, until=filters.until)
        for sources in ([filters.source] if filters.source else None, filters.sources):
            if sources is not None:
                clauses += self.index.filter_clauses(sources=list(sources))
        return clauses

    def admitted_ids(self) -> list[str]:
        """The chunk ids this view admits, read from the article index (an article's day and source are
        its chunks'): one stored document per admitted article, none per chunk."""
        articles = self.articles
        query = articles.index.filter_query(articles._clauses(self.filters))
        found = articles.searcher.search(query, articles.num_docs or 1, count=False).hits
        return [cid for _score, address in found for cid in orjson.loads(articles.searcher.doc(address).get_first(MEMBERS) or b"[]")]

    def _hits(self, query: str) -> list[tuple[float, object]]:
        """(score, stored document) of the best documents for ``query``, best first."""
        return self.index.ranked(self.searcher, analyse([query])[0], self._clauses(self.filters),
                                 self.similarity_top_k, self.mean_length)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """Chunks as the store holds them; a whole article as a node of its id alone (it is ranked, not read)."""
        out = []
        for score, doc in self._hits(query_bundle.query_str):
            node = doc.get_first(NODE)
            node = stored_node(node) if node else TextNode(id_=doc.get_first(CHUNK_ID), text="")
            out.append(NodeWithScore(node=node, score=score))
        return out

    def ranked_ids(self, query: str) -> list[tuple[str, float]]:
        """(document id, score) of the best documents for ``query``, best first: the ranking alone."""
        return [(doc.get_first(CHUNK_ID), score) for score, doc in self._hits(query)]

    def live_nodes(self, chunk_ids: list[str]):
        """The chunks among ``chunk_ids`` the store still holds, as it holds them now."""
        return self.store.chunk_nodes(chunk_ids)

    def sources(self) -> tuple[str, ...]:
        """Every source of the version this index reflects."""
        return self.state.sources


@dataclass(frozen=True)
class KeywordIndexes:
    """One question's keyword view: both retrievers, their statistics and clusters, of one state."""

    chunks: KeywordRetriever
    articles: KeywordRetriever
    stats: KeywordStats
    version: str
    clusters: Clusters

    @property
    def stale(self) -> bool:
        return self.chunks.stale


@dataclass(frozen=True)
class _Opened:
    key: tuple | None  # the state file's (inode, mtime, size) when read
    state: KeywordState | None
    chunk_searcher: object = None
    article_searcher: object = None
    chunk_mean_length: float = 1.0
    article_mean_length: float = 1.0


class KeywordCache:
    """Follows the store's keyword indexes for the engine.

    ``stats()``, ``clusters()`` and ``version`` describe the view that the last ``indexes()`` *in the
    calling thread* returned, so that one answer reads one version while another thread moves on (in a
    thread that never called it, the latest view any thread got)."""

    def __init__(self, store: ArticleStore, top_k: int):
        self.store, self.top_k = store, top_k
        self.root = keyword_dir(store)
        self._keywords: StoreKeywords | None = None
        self._opened: _Opened | None = None
        self._latest: KeywordIndexes | None = None  # the view the last indexes() in any thread returned
        self._lock = threading.Lock()
        self._local = threading.local()
        self._repair_lock = threading.Lock()
        self._repairing = False
        self._failed_at = 0.0
        self._repaired = threading.Event()
        self._repaired.set()
        self.builds = 0  # indexes this cache built whole or repaired (tests and benches read them)

    # --- what a question reads ------------------------------------------------------------------------
    def indexes(self) -> KeywordIndexes | None:
        """The view to answer this question from (None for an empty store); pinned for this thread."""
        opened = self._current()
        version = self.store.version()  # after the searchers: a commit they hold was preceded by a bump
        if opened.state is None:
            if self.store.count_chunks() == 0 or (opened := self._build_now()).state is None:
                self._local.view = self._latest = None
                return None
            version = self.store.version()
        stale = opened.state.version != version
        if stale:
            self._repair_in_background()
        view = self._view(opened, version, stale)
        self._local.view = self._latest = view
        return view

    def get(self):
        view = self.indexes()
        return view.chunks if view else None

    def get_articles(self):
        view = self.indexes()
        return view.articles if view else None

    def stats(self) -> KeywordStats:
        view = self._pinned()
        return view.stats if view else KeywordStats()

    def clusters(self) -> Clusters:
        view = self._pinned()
        return view.clusters if view else Clusters()

    @property
    def version(self) -> str | None:
        view = self._pinned()
        return view.version if view else None

    def _pinned(self) -> KeywordIndexes | None:
        # A thread that never asked (a question's part searched in a pool) reads the latest view.
        return getattr(self._local, "view", None) or self._latest

    def _view(self, opened: _Opened, version: str, stale: bool) -> KeywordIndexes:
        keywords, state = self._keywords, opened.state
        common = {"store": self.store, "top_k": self.top_k, "version": state.version, "stale": stale, "state": state}
        articles = KeywordRetriever(keywords.articles, opened.article_searcher,
                                    mean_length=opened.article_mean_length, **common)
        chunks = KeywordRetriever(keywords.chunks, opened.chunk_searcher, articles=articles,
                                  mean_length=opened.chunk_mean_length, **common)
        return KeywordIndexes(chunks, articles, KeywordStats(opened.chunk_searcher, state.newest_day), state.version,
                              state.clusters)

    # --- following the writer -------------------------------------------------------------------------
    def _current(self) -> _Opened:
        key = _stat_key(self.root / STATE)
        opened = self._opened
        if opened is not None and opened.key == key:
            return opened
        with self._lock:
            if self._opened is not None and self._opened.key == key:
                return self._opened
            self._opened = self._open(key)
            return self._opened

    def _open(self, key) -> _Opened:
        """The state and searchers as published now: the state first, then the searchers, so that they
        hold at least what the state says (see the module docstring)."""
        state = KeywordState.read(self.root)
        if state is None or state.layout != LAYOUT:
            return _Opened(key, None)
        if self._keywords is None:
            self._keywords = open_indexes(self.root)
        keywords = self._keywords
        keywords.chunks.reload()
        keywords.articles.reload()
        chunks, articles = keywords.chunks.searcher(), keywords.articles.searcher()
        return _Opened(key, state, chunks, articles, KeywordIndex.mean_length(chunks), KeywordIndex.mean_length(articles))

    def _build_now(self) -> _Opened:
        """No index yet: this question waits while one is built. While a writer is at work (a first
        ingest, say) it does not wait: the question goes without keyword hits until that writer publishes."""
        with writing(self.store, wait=False) as writer:
            if writer is not None and writer.found_behind:
                writer.follow()
                self.builds += 1
        with self._lock:
            self._opened = self._open(_stat_key(self.root / STATE))
            return self._opened

    # --- repairing what a dead writer left --------------------------------------------------------------
    def wait_refreshed(self, timeout: float | None = None) -> bool:
        return self._repaired.wait(timeout)

    def _repair_in_background(self) -> None:
        with self._repair_lock:
            if self._repairing or time.monotonic() - self._failed_at < RETRY_AFTER_FAILURE_S:
                return
            self._repairing = True
            self._repaired.clear()
        threading.Thread(target=self._repair, name="keyword-repair", daemon=True).start()

    def _repair(self) -> None:
        """Repair the indexes unless a writer is at work (its own publish will catch them up)."""
        try:
            with writing(self.store, wait=False) as writer:
                if writer is not None and writer.found_behind and writer.follow() is not None:
                    self.builds += 1
        except Exception as exc:  # the index held keeps answering (stale); a later question retries
            if isinstance(exc, StoreUnavailable):
                log.warning("keyword index: repair failed (%s); answering from the index held", exc)
            else:
                log.exception("keyword index: repair failed; answering from the index held")
            self._failed_at = time.monotonic()
        finally:
            with self._repair_lock:
                self._repairing = False
                self._repaired.set()


def _stat_key(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def indexed_chunk_ids(store: ArticleStore) -> list[str]:
    """Every chunk id the store's published keyword index holds (tests and checks; not for answering)."""
    index = KeywordIndex(keyword_dir(store) / "chunks")
    return [doc[CHUNK_ID][0] for doc in index.stored()]

