"""A collection remembers its embedder: vectors of two models never meet in one collection.

The chunk collection's Chroma metadata records the model that made its vectors and their dimension.
Opening a collection recorded with another model is refused (:func:`check_embedder`), with one line
naming both and the ways out. Every write checks again, against the metadata as Chroma holds it then
(:func:`claim_embedder`): the first write into a collection without a record (new, or built before
records were kept) records the embedder, once the vectors already stored, if any, are shown to be
that embedder's.

``embedder_hashed_as`` is the model name in the manifest's content hashes (:mod:`ingest.pipeline`):
a reindexed collection keeps the hashes of the one it was copied from, so an unchanged article is
still unchanged after a reindex.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.retrieval.store import ArticleStore

MODEL_KEY = "embedder_model"
DIMENSION_KEY = "embedder_dimension"
HASHED_AS_KEY = "embedder_hashed_as"
# The embedder of every store built before collections recorded theirs (the default one).
UNRECORDED_MODEL = "all-MiniLM-L6-v2-onnx-int8"
# A stored vector and the same text embedded again by the same model agree to rounding (int8 MiniLM
# batches pad differently); another model's vector of the same length does not come close.
SAME_MODEL_COSINE = 0.98


class EmbedderMismatch(RuntimeError):
    """The collection's vectors were made by another embedder than the one configured."""


@dataclass(frozen=True)
class Embedder:
    model: str
    dimension: int | None = None

    def describe(self) -> str:
        return f"{self.model} ({self.dimension} dimensions)" if self.dimension else self.model


def recorded_embedder(metadata: dict[str, Any] | None) -> Embedder | None:
    metadata = metadata or {}
    if not metadata.get(MODEL_KEY):
        return None
    return Embedder(str(metadata[MODEL_KEY]), int(metadata.get(DIMENSION_KEY) or 0) or None)


def hashed_as(store: ArticleStore, embed_model) -> str:
    """The model name the manifest's hashes were computed with (see the module docstring)."""
    return str((store.chunks.metadata or {}).get(HASHED_AS_KEY) or embed_model.model_name)


def known_dimension(embed_model) -> int | None:
    """The embedder's vector length when known without embedding anything."""
    from assistant.retrieval.embedding import MiniLMOnnxEmbedding

    if isinstance(embed_model, MiniLMOnnxEmbedding):
        return 384
    dimensions = getattr(embed_model, "dimensions", None)  # asked of an OpenAI-compatible server
    return int(dimensions) if dimensions else None


def mismatch(store: ArticleStore, stored: Embedder | str, current: Embedder) -> EmbedderMismatch:
    stored_text = stored if isinstance(stored, str) else stored.describe()
    return EmbedderMismatch(
        f"collection {store.settings.collection!r} holds vectors of {stored_text}, not of {current.describe()} "
        f"(NEWSDESK_EMBEDDING={store.settings.embedding}): set another NEWSDESK_COLLECTION, "
        f"or run `newsdesk reindex` to re-embed its articles with {current.model}"
    )


def check_embedder(store: ArticleStore, embed_model) -> None:
    """On opening a store to read or write it with ``embed_model``: refuse a collection recorded
    with another embedder (a collection without a record is claimed on its first write)."""
    stored = recorded_embedder(store.chunks.metadata)
    if stored is None:
        return
    current = Embedder(embed_model.model_name, known_dimension(embed_model))
    if stored.model != current.model or (current.dimension and stored.dimension and stored.dimension != current.dimension):
        raise mismatch(store, stored, current)


def claim_embedder(store: ArticleStore, embed_model, dimension: int) -> None:
    """Before writing vectors of ``dimension`` made by ``embed_model``: the collection must be recorded
    with this embedder, or record it now (see the module docstring)."""
    metadata = store.chunk_collection_metadata()
    current = Embedder(embed_model.model_name, dimension)
    stored = recorded_embedder(metadata)
    if stored is not None:
        if stored != current:
            raise mismatch(store, stored, current)
        return
    _check_unrecorded_vectors(store, embed_model, current)
    record_embedder(store, current, metadata)


def record_embedder(store: ArticleStore, embedder: Embedder, metadata: dict[str, Any] | None = None, **extra: str) -> None:
    # Chroma replaces a collection's metadata whole: what was there is kept.
    metadata = store.chunk_collection_metadata() if metadata is None else metadata
    store.chunks.modify(metadata={**metadata, MODEL_KEY: embedder.model, DIMENSION_KEY: embedder.dimension, **extra})


def _check_unrecorded_vectors(store: ArticleStore, embed_model, current: Embedder) -> None:
    """Vectors stored before the collection recorded its embedder must be ``embed_model``'s: one stored
    chunk is embedded again (as indexed: title and date included) and compared."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    got = store.chunks.get(limit=1, include=["embeddings", "documents", "metadatas"])
    if not got["ids"]:
        return
    stored = np.asarray(got["embeddings"][0], dtype=np.float32)
    unrecorded = f"an unrecorded embedder ({len(stored)} dimensions)"
    if len(stored) != current.dimension:
        raise mismatch(store, unrecorded, current)
    node = metadata_dict_to_node(got["metadatas"][0], text=got["documents"][0] or "")
    again = np.asarray(embed_model.get_text_embedding(node.get_content(metadata_mode=MetadataMode.EMBED)), dtype=np.float32)
    cosine = float(stored @ again / max(np.linalg.norm(stored) * np.linalg.norm(again), 1e-12))
    if cosine < SAME_MODEL_COSINE:
        raise mismatch(store, unrecorded, current)
