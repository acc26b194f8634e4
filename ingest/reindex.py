"""``newsdesk reindex``: every stored article embedded again by the configured embedder, into a new
Chroma collection that then serves ``NEWSDESK_COLLECTION``.

Nothing is read again from files or the web: the chunks are copied as stored (ids, texts, metadata),
only their vectors are new, and the manifest is copied whole, so an unchanged article stays
unchanged for the next ingest (:mod:`assistant.retrieval.store_embedder`, ``embedder_hashed_as``).

Crash safety: the new collection (``<collection>__g<N>``) and its keyword index are complete before
the switch, which is one upsert in the registry (:func:`assistant.retrieval.store.switch_collection`). A
reindex killed before it leaves the old collection serving, untouched; the half-built one is
dropped by the next reindex. After the switch the old collection and its keyword index are dropped.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from typing import Callable

from assistant.retrieval.keyword import keyword_dir
from assistant.retrieval.keyword_component import refresh_keywords
from assistant.retrieval.embedding import EmbeddingFailed, build_embedding, embed_nodes
from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore, switch_collection
from assistant.retrieval.store_embedder import (
    HASHED_AS_KEY,
    UNRECORDED_MODEL,
    Embedder,
    record_embedder,
    recorded_embedder,
)

log = logging.getLogger(__name__)

GENERATION = "__g"
PAGE_CHUNKS = 512  # chunks read, embedded and written together


@dataclass(frozen=True)
class ReindexSummary:
    collection: str
    old: str
    new: str
    articles: int
    chunks: int
    embedder: Embedder

    def line(self) -> str:
        return (
            f"reindexed {self.articles} articles, {self.chunks} chunks with {self.embedder.describe()}: "
            f"collection {self.collection!r} is now Chroma collection {self.new!r} (was {self.old!r}, dropped)"
        )


def generations(client, collection: str) -> dict[str, int]:
    """The reindexed Chroma collections of ``collection`` (name -> generation), served or left over."""
    pattern = re.compile(re.escape(collection + GENERATION) + r"(\d+)")
    names = [getattr(c, "name", c) for c in client.list_collections()]
    return {name: int(m.group(1)) for name in names if (m := pattern.fullmatch(name))}


def drop(store: ArticleStore) -> None:
    """Delete a Chroma collection with its manifest and its keyword indexes."""
    from chromadb.errors import NotFoundError

    for name in (store.name, f"{store.name}__articles"):
        try:
            store.client.delete_collection(name)
        except NotFoundError:
            pass
    shutil.rmtree(keyword_dir(store), ignore_errors=True)


def reindex(
    settings: Settings, embed_model=None, store: ArticleStore | None = None, progress: Callable[[int], None] | None = None
) -> ReindexSummary:
    """Re-embed the collection serving ``settings.collection`` into a new one and switch to it, with
    ``embed_model`` (default: the embedder the settings name). ``progress`` is called with the number
    of chunks embedded so far."""
    embed_model = embed_model or build_embedding(settings)
    old = store or ArticleStore(settings)
    client = old.client
    started = old.version()
    known = generations(client, settings.collection)
    for leftover in [name for name in known if name != old.name]:
        log.info("dropping %s, left by an interrupted reindex", leftover)
        drop(ArticleStore(settings, client=client, name=leftover))
    new = ArticleStore(settings, client=client, name=f"{settings.collection}{GENERATION}{max(known.values(), default=1) + 1}")

    source = old.chunk_collection_metadata()
    stored = recorded_embedder(source)
    # The manifest's hashes are copied: the model name they were computed with goes with them.
    hashed = str(source.get(HASHED_AS_KEY) or (stored.model if stored else UNRECORDED_MODEL))
    try:
        chunks, embedder = _copy_chunks(old, new, embed_model, hashed, progress)
        for ids, metas in old._pages(old.manifest, include=["metadatas"]):
            new.manifest.upsert(ids=ids, embeddings=[[1.0]] * len(ids), metadatas=metas)
        if old.version() != started:
            raise RuntimeError(
                f"collection {settings.collection!r} changed while it was reindexed (an ingest or delete ran): "
                "nothing was switched; run `newsdesk reindex` again"
            )
        new.bump_version()
        refresh_keywords(settings, new)
    except BaseException:
        drop(new)  # a reindex that fails leaves nothing behind (a killed one: the next one drops it)
        raise
    switch_collection(client, settings.collection, new.name)
    articles = len(new.records())
    drop(old)
    return ReindexSummary(settings.collection, old.name, new.name, articles, chunks, embedder or Embedder(embed_model.model_name))


def _copy_chunks(old: ArticleStore, new: ArticleStore, embed_model, hashed: str, progress):
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    chunks, embedder, page = 0, None, []

    def flush() -> None:
        nonlocal chunks, embedder
        # The text as first embedded (title and date included), rebuilt from what the chunk stores.
        nodes = [metadata_dict_to_node(meta, text=doc or "") for _id, doc, meta in page]
        try:
            embed_nodes(embed_model, nodes)
        except EmbeddingFailed as exc:
            raise exc.because("nothing was switched, the old collection still serves") from exc
        if embedder is None:
            embedder = Embedder(embed_model.model_name, len(nodes[0].embedding))
            record_embedder(new, embedder, {}, **{HASHED_AS_KEY: hashed})
        new.chunks.add(
            ids=[chunk_id for chunk_id, _doc, _meta in page],
            embeddings=[node.embedding for node in nodes],
            documents=[doc for _id, doc, _meta in page],
            metadatas=[meta for _id, _doc, meta in page],
        )
        chunks += len(page)
        page.clear()
        if progress:
            progress(chunks)

    for item in old.iter_chunks():
        page.append(item)
        if len(page) >= PAGE_CHUNKS:
            flush()
    if page:
        flush()
    return chunks, embedder
