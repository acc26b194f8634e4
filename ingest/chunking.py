"""Articles into what llama-index embeds: each article as a ``Document`` (its metadata, and which of
it is indexed with the text), long texts cut into sections first (``SECTION_CHARS``), the sentence
splitter sized in the embedder's word pieces, and the chunk ids (``<article id>::<position>``)
numbered along the whole article. ``INDEX_VERSION`` lives here: it must be bumped when any of this
changes, so that every article is re-indexed."""

from __future__ import annotations

import re
from typing import Iterator, Sequence

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TransformComponent

from assistant.answer import published_day
from assistant.retrieval.embedding import count_word_pieces
from assistant.text import split_sentences
from ingest.article import Article

# Bump when chunking or chunk metadata change: every article is then re-indexed on its next ingest.
INDEX_VERSION = 2

# Only title and date join the chunk text in the index (embedding and BM25); the rest is metadata.
INDEXED_METADATA = ("title", "published_at")

# The splitter tokenizes the whole text it is given at once (a 20 MB article took gigabytes), so a long
# article is split a section at a time, cut at a paragraph break. Above every article of the dev
# corpora (the longest is 0.1 MB), so that their chunks are the ones an unsectioned split makes.
SECTION_CHARS = 200_000
_SECTION_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s"), re.compile(r"\s"))


class AnnotateChunks(TransformComponent):
    """Numbers each article's chunks and decides which metadata is indexed with the text."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs) -> Sequence[BaseNode]:
        for node in nodes:
            # The chunk id is "<article id>::<position>" (see chunk_id), numbered along the whole
            # article however many sections or groups its chunks were split and written in.
            node.metadata["position"] = int(node.node_id.rpartition("::")[2])
            hidden = [k for k in node.metadata if k not in INDEXED_METADATA]
            node.excluded_embed_metadata_keys = hidden
            node.excluded_llm_metadata_keys = hidden
        return nodes


class Section(Document):
    """A stretch of one article's text (see :func:`sections`), split apart from the rest: its chunks
    are numbered on from ``first_position``, the chunks of the sections before it."""

    first_position: int = 0


def chunk_id(i: int, doc: Document) -> str:
    return f"{doc.doc_id}::{getattr(doc, 'first_position', 0) + i}"


def make_splitter(chunk_tokens: int, chunk_overlap: int) -> SentenceSplitter:
    # Sizes are counted in the embedder's own word pieces, title and date included (the splitter is
    # metadata-aware), leaving room for [CLS]/[SEP]: nothing past the model window goes unseen.
    return SentenceSplitter(
        chunk_size=chunk_tokens - 2,
        chunk_overlap=chunk_overlap,
        tokenizer=count_word_pieces,
        chunking_tokenizer_fn=split_sentences,
        id_func=chunk_id,
    )


def sections(text: str, size: int = SECTION_CHARS) -> Iterator[str]:
    """``text`` in pieces of at most ``size`` characters that cover it exactly, each cut at the last
    paragraph break before the limit (else line break, sentence end, space; a hard cut only in a
    run of ``size`` characters without any)."""
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = 0
        for brk in _SECTION_BREAKS:
            ends = [m.end() for m in brk.finditer(window, size // 2)]
            if ends:
                cut = ends[-1]
                break
        cut = cut or size
        yield text[start : start + cut]
        start += cut
    yield text[start:]


def to_document(article: Article, text: str | None = None, first_position: int = 0) -> Document:
    """The article as llama-index reads it; with ``text``, one section of it whose first chunk is
    ``first_position``."""
    metadata = {
        "article_id": article.id,
        "title": article.title,
        "url": article.url,
        "published_at": article.published_at,
        "published_day": published_day(article.published_at),
        "source": article.source,
    }
    hidden = [k for k in metadata if k not in INDEXED_METADATA]
    return Section(
        id_=article.id,
        text=article.text if text is None else text,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=hidden,
        first_position=first_position,
    )
