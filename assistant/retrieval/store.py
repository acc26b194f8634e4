"""Vector store component: Chroma, local (PersistentClient) or a server (HttpClient) by settings.

Two collections per store, both in Chroma so that every process sharing a Chroma server sees the
same truth:

* ``<name>`` holds the chunks (written through llama-index's ``ChromaVectorStore``);
* ``<name>__articles`` is the article manifest: one record per article (content hash, status, the
  file it came from, chunk count, authors, and its syndication cluster with the MinHash signature that
  placed it there: :mod:`ingest.syndication`) plus one ``__state__`` record whose ``version`` changes
  on every write. The keyword index beside Chroma says which version it reflects (:mod:`assistant.retrieval.keyword`).
  The manifest also keeps a change log: for each of the last versions a write published, one
  ``__change__<version>`` record of what that write changed, so that a host whose keyword index is
  behind rewrites only those articles (:meth:`ArticleStore.changes_since`).

Crash safety comes from the order of writes (see ``ingest.writes``): an article's manifest record
is marked ``pending`` before its chunks change and ``complete`` after, so a run killed half-way
leaves only ``pending`` records, which the next run clears and redoes.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from queue import Full, Queue
from typing import Any, Iterable, Iterator

from assistant.settings import Settings

STATE_ID = "__state__"
CHANGE_PREFIX = "__change__"
CHANGE_LOG_ENTRIES = 64  # the last writes a host can catch up from; one further behind rebuilds what differs
CHANGE_LOG_MAX_IDS = 20_000  # a write that changed more is logged as "everything" (a repair reads the manifest)
WRITE_IN_PROGRESS_S = 300.0  # how long a version no write has logged yet is taken for a write at work
PENDING, COMPLETE = "pending", "complete"
_PAGE = 2000  # Chroma get() page size


@dataclass(frozen=True)
class ArticleRecord:
    id: str
    content_hash: str
    status: str
    title: str
    url: str
    published_at: str
    source: str
    path: str
    chunks: int
    # Fields added after the first stores were built: records written before them read as defaults.
    authors: tuple[str, ...] = ()
    cluster: str = ""  # id of the oldest copy of this story in the store; "" = not clustered yet (itself)
    minhash: str = ""  # the body's MinHash signature (assistant.retrieval.signatures.encode); "" = not signed yet
    embedded_hash: str = ""  # hash of what the chunks embed (ingest.writes); "" = written before it was kept

    @property
    def cluster_id(self) -> str:
        """The cluster this article belongs to: itself unless clustering put it with other copies."""
        return self.cluster or self.id

    @classmethod
    def from_metadata(cls, article_id: str, meta: dict[str, Any]) -> "ArticleRecord":
        return cls(
            id=article_id,
            content_hash=str(meta.get("content_hash", "")),
            status=str(meta.get("status", "")),
            title=str(meta.get("title", "")),
            url=str(meta.get("url", "")),
            published_at=str(meta.get("published_at", "")),
            source=str(meta.get("source", "")),
            path=str(meta.get("path", "")),
            chunks=int(meta.get("chunks", 0) or 0),
            authors=split_authors(str(meta.get("authors", "") or "")),
            cluster=str(meta.get("cluster", "") or ""),
            minhash=str(meta.get("minhash", "") or ""),
            embedded_hash=str(meta.get("embedded_hash", "") or ""),
        )


@dataclass(frozen=True)
class Change:
    """What one write (or several, one after another) changed, as the change log keeps it: the articles
    it rewrote or deleted (``touched``), and the closed set of articles whose syndication clusters it
    recomputed (``covers``, :class:`assistant.retrieval.clusters.Reclustered`). ``everything``: the write changed
    too much to list (a repair must compare the whole manifest). ``prior``: the version it started
    from; ``during``: the versions it bumped to on the way."""

    prior: str = ""
    touched: frozenset[str] = frozenset()
    covers: frozenset[str] = frozenset()
    everything: bool = False
    during: tuple[str, ...] = ()
    writing: bool = False  # (changes_since) a write is at work: not yet logged

    def as_metadata(self) -> dict[str, Any]:
        everything = self.everything or len(self.touched) + len(self.covers) > CHANGE_LOG_MAX_IDS
        return {"prior": self.prior, "during": json.dumps(list(self.during)), "everything": everything,
                "touched": "[]" if everything else json.dumps(sorted(self.touched)),
                "covers": "[]" if everything else json.dumps(sorted(self.covers))}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> "Change":
        return cls(prior=str(meta.get("prior", "")), touched=frozenset(json.loads(meta.get("touched") or "[]")),
                   covers=frozenset(json.loads(meta.get("covers") or "[]")), everything=bool(meta.get("everything")),
                   during=tuple(json.loads(meta.get("during") or "[]")))


# Chroma metadata values are scalars: a record's authors are stored as one string.
AUTHORS_SEPARATOR = "; "


def join_authors(authors: Iterable[str]) -> str:
    return AUTHORS_SEPARATOR.join(a.strip() for a in authors if a.strip())


def split_authors(joined: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in joined.split(AUTHORS_SEPARATOR.strip()) if a.strip())


def make_chroma_client(settings: Settings, lock: bool = True):
    """PersistentClient under the data folder, or HttpClient when ``NEWSDESK_CHROMA_HOST`` is set.

    The local store is claimed for this process first (:mod:`assistant.retrieval.store_lock`: another process
    holding it raises ``StoreInUse``); ``lock=False`` only for reads that cannot go wrong (listing).
    A locked client's claim is given back by :meth:`ArticleStore.close` (else at the process's exit)."""
    from assistant.retrieval import store_lock

    if not settings.chroma_host and lock:
        store_lock.acquire(settings.chroma_path)  # before chromadb's import: a refusal costs no second
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        from assistant.retrieval.store_http import http_client

        return http_client(settings, chroma_settings)  # its failures raise store_http.StoreUnavailable
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except BaseException:
        if lock:
            store_lock.release(settings.chroma_path)
        raise


# One record per NEWSDESK_COLLECTION that `newsdesk reindex` moved: the Chroma collection serving it now.
REGISTRY = "newsdesk__active"


def active_collection(client, collection: str) -> str:
    """The Chroma collection serving ``collection`` (NEWSDESK_COLLECTION): itself, unless a reindex
    moved it to a new one (:mod:`ingest.reindex`)."""
    from chromadb.errors import NotFoundError

    try:
        registry = client.get_collection(REGISTRY, embedding_function=None)
    except NotFoundError:
        return collection
    got = registry.get(ids=[collection], include=["metadatas"])
    return str(got["metadatas"][0]["active"]) if got["ids"] else collection


def switch_collection(client, collection: str, serving: str) -> None:
    """Make ``serving`` the Chroma collection behind ``collection``: one upsert, so readers see the old
    one or the new one, never a mix."""
    registry = client.get_or_create_collection(REGISTRY, embedding_function=None)
    registry.upsert(ids=[collection], embeddings=[[1.0]], metadatas=[{"active": serving}])


class ArticleStore:
    """The chunk collection, the article manifest and the store version, over one Chroma client."""

    def __init__(self, settings: Settings, client: Any | None = None, lock: bool = True, name: str | None = None):
        """``lock=False``: do not claim the local store (``newsdesk sources``, which only lists it).
        ``name``: this Chroma collection, not the one serving ``settings.collection`` (reindex)."""
        self.settings = settings
        self._owns_client = client is None
        self._claimed = client is None and lock and not settings.chroma_host
        self.client = client if client is not None else make_chroma_client(settings, lock=lock)
        self.name = name or active_collection(self.client, settings.collection)
        # embedding_function=None: vectors always come from our embedder; Chroma's default
        # embedding function would try to download an ONNX model.
        self.chunks = self.client.get_or_create_collection(
            name=self.name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.manifest = self.client.get_or_create_collection(name=f"{self.name}__articles", embedding_function=None)

    def chunk_collection_metadata(self) -> dict[str, Any]:
        """The chunk collection's metadata as Chroma holds it now (another process may have changed it)."""
        return dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})

    def close(self) -> None:
        """Close a client this store opened, and give back its claim on the local store: once the
        process's last claim goes, another process may open the folder (and this one reopens it
        fresh, not from Chroma's cached copy). Do not use the store afterwards."""
        if self.client is None:
            return
        if self._owns_client:
            self.client.close()
        if self._claimed:
            from assistant.retrieval import store_lock

            store_lock.release(self.settings.chroma_path)
        self.client = None

    # --- llama-index view -------------------------------------------------------------------------
    def vector_store(self):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.chunks)

    # --- version stamp ----------------------------------------------------------------------------
    def version(self) -> str:
        return str(self._state().get("version", ""))

    def _state(self) -> dict[str, Any]:
        got = self.manifest.get(ids=[STATE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else {}

    def bump_version(self, change: "Change | None" = None) -> str:
        """A new version of the store. ``change``: what the write that ends with this bump changed, kept
        in the change log under the new version (the oldest entry beyond :data:`CHANGE_LOG_ENTRIES` dropped)."""
        version = uuid.uuid4().hex
        logged = json.loads(self._state().get("logged") or "[]")  # the versions with an entry, oldest first
        if change is not None:
            self.manifest.upsert(ids=[CHANGE_PREFIX + version], embeddings=[[1.0]],
                                 metadatas=[{"kind": "change", **change.as_metadata()}])
            logged.append(version)
            if len(logged) > CHANGE_LOG_ENTRIES:
                self.manifest.delete(ids=[CHANGE_PREFIX + v for v in logged[:-CHANGE_LOG_ENTRIES]])
                logged = logged[-CHANGE_LOG_ENTRIES:]
        self.manifest.upsert(ids=[STATE_ID], embeddings=[[1.0]], metadatas=[
            {"kind": "state", "version": version, "bumped_at": time.time(), "logged": json.dumps(logged)}])
        return version

    def changes_since(self, version: str) -> "Change | None":
        """What the writes published since ``version`` changed, from the change log: None when it
        cannot say (``version`` is older than the log, or a write logged "everything"). When the store
        moved past the last logged write only moments ago (:data:`WRITE_IN_PROGRESS_S`), a write is at
        work: a change with ``writing`` set. A write killed half-way logs nothing: once that time has
        passed, None."""
        state = self._state()
        head = current = str(state.get("version", ""))
        touched: set[str] = set()
        covers: set[str] = set()
        for _ in range(CHANGE_LOG_ENTRIES + 1):
            if current == version:
                break
            got = self.manifest.get(ids=[CHANGE_PREFIX + current], include=["metadatas"])
            if not got["ids"]:
                young = time.time() - float(state.get("bumped_at") or 0) < WRITE_IN_PROGRESS_S
                return Change(prior=version, writing=True) if current == head and young else None
            entry = Change.from_metadata(got["metadatas"][0])
            if entry.everything:
                return None
            touched |= entry.touched
            covers |= entry.covers
            if version in entry.during:  # the version a write bumped to as it began: caught up half-way
                break
            current = entry.prior
        else:
            return None
        return Change(prior=version, touched=frozenset(touched), covers=frozenset(covers))

    # --- manifest ---------------------------------------------------------------------------------
    def records(self) -> dict[str, ArticleRecord]:
        out: dict[str, ArticleRecord] = {}
        for ids, metas in self._pages(self.manifest, where={"kind": "article"}, include=["metadatas"]):
            for article_id, meta in zip(ids, metas):
                out[article_id] = ArticleRecord.from_metadata(article_id, meta)
        return out

    def complete_records(self) -> list[ArticleRecord]:
        """The articles a reader sees: complete ones (a pending one is mid-ingest or left by a crash)."""
        return [r for r in self.records().values() if r.status == COMPLETE]

    def count_articles(self) -> int:
        """Manifest records, without reading them (the state record and the change log not counted)."""
        state = self._state()
        return max(0, self.manifest.count() - (1 if state else 0) - len(json.loads(state.get("logged") or "[]")))

    def get_record(self, article_id: str) -> ArticleRecord | None:
        got = self.manifest.get(ids=[article_id], include=["metadatas"])
        if not got["ids"] or got["metadatas"][0].get("kind") != "article":
            return None
        return ArticleRecord.from_metadata(article_id, got["metadatas"][0])

    def records_of(self, article_ids: Iterable[str]) -> dict[str, ArticleRecord]:
        """The records of those among ``article_ids`` the manifest holds, read by id: what an ingest of
        a few articles needs, without reading a large store's whole manifest."""
        ids = list(dict.fromkeys(article_ids))
        out: dict[str, ArticleRecord] = {}
        for start in range(0, len(ids), _PAGE):
            got = self.manifest.get(ids=ids[start : start + _PAGE], include=["metadatas"])
            for article_id, meta in zip(got["ids"], got["metadatas"]):
                if meta.get("kind") == "article":
                    out[article_id] = ArticleRecord.from_metadata(article_id, meta)
        return out

    def pending_records(self) -> dict[str, ArticleRecord]:
        """The records that are not complete (an ingest at work, or one killed half-way), found by a
        filter on the manifest rather than by reading all of it."""
        out: dict[str, ArticleRecord] = {}
        where = {"$and": [{"kind": "article"}, {"status": {"$ne": COMPLETE}}]}
        for ids, metas in self._pages(self.manifest, where=where, include=["metadatas"]):
            out.update((i, ArticleRecord.from_metadata(i, meta)) for i, meta in zip(ids, metas))
        return out

    def complete_hashes(self, article_ids: Iterable[str]) -> dict[str, str]:
        """article id -> content hash of those among ``article_ids`` whose records are complete (read by id)."""
        return {i: r.content_hash for i, r in self.records_of(article_ids).items() if r.status == COMPLETE}

    def write_records(self, records: Iterable[ArticleRecord]) -> None:
        """Write ``records`` (a page at a time: Chroma refuses a write of more than its batch size, 5,461,
        and one re-clustering can move tens of thousands of records)."""
        records = list(records)
        for start in range(0, len(records), _PAGE):
            self._upsert_records(records[start : start + _PAGE])

    def _upsert_records(self, records: list[ArticleRecord]) -> None:
        self.manifest.upsert(
            ids=[r.id for r in records],
            embeddings=[[1.0]] * len(records),
            metadatas=[
                {
                    "kind": "article",
                    "content_hash": r.content_hash,
                    "status": r.status,
                    "title": r.title,
                    "url": r.url,
                    "published_at": r.published_at,
                    "source": r.source,
                    "path": r.path,
                    "chunks": r.chunks,
                    "authors": join_authors(r.authors),
                    "cluster": r.cluster,
                    "minhash": r.minhash,
                    "embedded_hash": r.embedded_hash,
                }
                for r in records
            ],
        )

    def update_chunk_metadata(self, article_id: str, values: dict[str, Any]) -> int:
        """Rewrite some metadata of an article's chunks in place (vectors and text untouched); returns
        how many chunks were updated."""
        got = self.chunks.get(where={"article_id": article_id}, include=["metadatas"])
        if not got["ids"]:
            return 0
        self.chunks.update(ids=got["ids"], metadatas=[_with_metadata(meta, values) for meta in got["metadatas"]])
        return len(got["ids"])

    # --- deletion ---------------------------------------------------------------------------------
    def delete_chunks(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        for start in range(0, len(ids), 200):
            self.chunks.delete(where={"article_id": {"$in": ids[start : start + 200]}})

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        """Chunks first, then the manifest record: a crash in between leaves a pending-like orphan
        record with no chunks, never chunks without a record."""
        ids = list(article_ids)
        if not ids:
            return
        self.delete_chunks(ids)
        for start in range(0, len(ids), _PAGE):  # Chroma refuses more than its batch size at once
            self.manifest.delete(ids=ids[start : start + _PAGE])

    def article_text(self, article_id: str) -> str:
        """The article's chunk texts in order (overlaps included): what its citations are checked against."""
        return self.article_texts([article_id]).get(article_id, "")

    def article_texts(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The chunk texts of many articles, each in order (overlaps included), read in a few batched queries."""
        ids = list(article_ids)
        parts: dict[str, list[tuple[int, str]]] = {}
        for start in range(0, len(ids), 200):
            where = {"article_id": {"$in": ids[start : start + 200]}}
            for _chunk_id, doc, meta in self.iter_chunks(where=where):
                parts.setdefault(meta["article_id"], []).append((int(meta.get("position", 0)), doc or ""))
        return {article_id: "\n".join(doc for _pos, doc in sorted(chunks)) for article_id, chunks in parts.items()}

    # --- reading chunks ---------------------------------------------------------------------------
    def count_chunks(self) -> int:
        return self.chunks.count()

    def chunk_nodes(self, chunk_ids: Iterable[str]) -> dict[str, Any]:
        """The chunks among ``chunk_ids`` the store holds, as llama-index nodes (one read by id)."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        ids = list(chunk_ids)
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "metadatas"])
        docs = got.get("documents") or [None] * len(got["ids"])
        return {cid: metadata_dict_to_node(meta, text=doc) for cid, doc, meta in zip(got["ids"], docs, got["metadatas"])}

    def iter_chunks(self, include: list[str] | None = None, where: dict | None = None,
                    read_ahead: bool = False) -> Iterator[tuple[str, str, dict]]:
        """(id, document, metadata) of every chunk, in pages. ``read_ahead``: the next page is read in a
        thread while the caller works through this one (a whole-store pass that does work per chunk:
        Chroma's read and its decoding leave the GIL for much of their time)."""
        include = include or ["documents", "metadatas"]
        pages = self._pages(self.chunks, where=where, include=include, with_docs=True)
        for ids, docs, metas in (_read_ahead(pages) if read_ahead else pages):
            yield from zip(ids, docs, metas)

    @staticmethod
    def _pages(collection, where=None, include=None, with_docs: bool = False):
        offset = 0
        while True:
            got = collection.get(where=where, include=include, limit=_PAGE, offset=offset)
            if not got["ids"]:
                return
            if with_docs:
                yield got["ids"], got.get("documents") or [None] * len(got["ids"]), got["metadatas"]
            else:
                yield got["ids"], got["metadatas"]
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE


def _read_ahead(pages: Iterator, depth: int = 2) -> Iterator:
    """``pages`` as they come, each read in a thread of its own up to ``depth`` pages ahead of the
    caller; an error in the reading is raised to the caller, and a caller that stops early stops it."""
    queue: Queue = Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for page in pages:
                if not offer((page, None)):
                    return
            offer((done, None))
        except BaseException as error:  # raised again in the caller's thread
            offer((done, error))

    reader = threading.Thread(target=read, name="store-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = queue.get()
            if page is done:
                if error is not None:
                    raise error
                return
            yield page
    finally:
        stop.set()
        reader.join()


def _with_metadata(meta: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A chunk's Chroma metadata with ``values`` set, in the top-level keys (filters) and in the node
    llama-index serialised into ``_node_content`` (what it rebuilds the node from on a query)."""
    out = {**meta, **values}
    if isinstance(meta.get("_node_content"), str):
        node = json.loads(meta["_node_content"])
        node.setdefault("metadata", {}).update(values)
        out["_node_content"] = json.dumps(node)
    return out
