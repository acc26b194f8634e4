"""A keyword index of the store's chunks in tantivy: BM25 over Newsdesk's own tokens, with the
published day and the source as indexed fields, updated in place.

The first step of moving the keyword side off bm25s (issue 24): bm25s scores a frozen matrix, so
every ingest rebuilds it whole; tantivy adds and deletes documents in segments, and a day range or a
source is a clause of the query rather than a mask over every document. Nothing answers from this
index yet; ``bench/keyword`` measures it against the bm25s index on the same tokens.

What is indexed is what :mod:`assistant.bm25_build` indexes: a chunk's content as embedded (its
visible metadata, then its text), through the same analyser (bm25s's tokenizer, English stop words
and stemmer). The tokens are joined by spaces into a field whose tokenizer splits on whitespace only,
so tantivy indexes exactly those tokens, and a query is analysed the same way. BM25's parameters are
tantivy's (k1 1.2, b 0.75; bm25s's default is k1 1.5), so scores differ a little and rankings barely.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from llama_index.core.schema import MetadataMode

TOKENS = "tokens"
CHUNK_ID = "chunk_id"
ARTICLE_ID = "article_id"
DAY = "day"  # published day as YYYYMMDD; 0 when the article is undated
SOURCE = "source"
WRITER_HEAP = 64_000_000  # bytes; tantivy's floor is 15 MB per indexing thread


def analyse(texts: Sequence[str]) -> list[list[str]]:
    """The stemmed tokens of each text, stop words left out: the analyser of :mod:`assistant.bm25_build`."""
    import bm25s
    import Stemmer

    from assistant.bm25_build import TOKEN_PATTERN

    return bm25s.tokenize(list(texts), lower=True, token_pattern=TOKEN_PATTERN, stopwords="english",
                          stemmer=_stemmer(Stemmer), return_ids=False, show_progress=False)


_STEMMER = None


def _stemmer(module):
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = module.Stemmer("english")
    return _STEMMER


@dataclass(frozen=True)
class ChunkDoc:
    """What the index keeps of a chunk: its id, its article, its tokens, its day and source."""

    chunk_id: str
    article_id: str
    tokens: list[str]
    day: int
    source: str


def chunk_docs(items: Iterable[tuple[str, str, dict]], page: int = 2000) -> Iterator[ChunkDoc]:
    """:class:`ChunkDoc` of each (id, text, metadata) the store yields (``ArticleStore.iter_chunks``),
    analysed a page at a time."""
    batch: list[tuple[str, str, dict]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= page:
            yield from _analysed(batch)
            batch = []
    if batch:
        yield from _analysed(batch)


def _analysed(batch: list[tuple[str, str, dict]]) -> Iterator[ChunkDoc]:
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    nodes = [metadata_dict_to_node(meta, text=text or "") for _id, text, meta in batch]
    tokens = analyse([node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes])
    for node, words in zip(nodes, tokens):
        meta = node.metadata
        yield ChunkDoc(node.node_id, str(meta.get("article_id", node.node_id)), words,
                       int(meta.get("published_day") or 0), str(meta.get("source") or ""))


class KeywordIndex:
    """The tantivy index at ``path`` (created when absent): add, delete, search."""

    def __init__(self, path: Path):
        import tantivy

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        builder = tantivy.SchemaBuilder()
        # Frequencies without positions: BM25 needs no phrase matching, and positions double the postings.
        builder.add_text_field(TOKENS, tokenizer_name="whitespace", index_option="freq")
        builder.add_text_field(CHUNK_ID, stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field(ARTICLE_ID, tokenizer_name="raw", index_option="basic")
        builder.add_integer_field(DAY, indexed=True, fast=True)
        builder.add_text_field(SOURCE, tokenizer_name="raw", index_option="basic")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self._writer = None

    # --- writing -------------------------------------------------------------------------------------
    def writer(self):
        """The index's one writer (tantivy allows one per index: it takes a lock file under ``path``)."""
        if self._writer is None:
            self._writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def add(self, docs: Iterable[ChunkDoc]) -> int:
        """Add ``docs`` (not yet visible: :meth:`commit`); returns how many."""
        import tantivy

        writer = self.writer()
        n = 0
        for doc in docs:
            document = tantivy.Document()
            document.add_text(TOKENS, " ".join(doc.tokens))
            document.add_text(CHUNK_ID, doc.chunk_id)
            document.add_text(ARTICLE_ID, doc.article_id)
            document.add_integer(DAY, doc.day)
            document.add_text(SOURCE, doc.source)
            writer.add_document(document)
            n += 1
        return n

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        """Delete every chunk of ``article_ids`` (visible at the next :meth:`commit`)."""
        writer = self.writer()
        for article_id in article_ids:
            writer.delete_documents_by_term(ARTICLE_ID, article_id)

    def commit(self) -> int:
        """Make what was added and deleted visible to searchers opened from now on; the opstamp."""
        stamp = self.writer().commit()
        self.index.reload()
        return stamp

    def close(self) -> None:
        """Let go of the writer (and its lock), waiting for its merges."""
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None

    # --- reading -------------------------------------------------------------------------------------
    @property
    def num_docs(self) -> int:
        return self.index.searcher().num_docs

    def doc_freq(self, token: str) -> int:
        """How many chunks hold ``token`` (an analysed token)."""
        return self.index.searcher().doc_freq(TOKENS, token)

    def search(self, query: str | Sequence[str], k: int, *, since: dt.date | int | None = None,
               until: dt.date | int | None = None, sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks holding a token of ``query`` (text, or tokens
        already analysed), best first; ``since``/``until`` (inclusive days) and ``sources`` narrow them."""
        import tantivy

        tokens = analyse([query])[0] if isinstance(query, str) else list(query)
        if not tokens or k <= 0:
            return []
        terms = [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, TOKENS, t)) for t in tokens]
        filters = []
        if since is not None or until is not None:
            filters.append(tantivy.Query.range_query(self.schema, DAY, tantivy.FieldType.Integer,
                                                     _day(since), _day(until)))
        if sources:
            filters.append(tantivy.Query.term_set_query(self.schema, SOURCE, list(sources)))
        query_ = tantivy.Query.boolean_query(terms)
        if filters:
            # A filter narrows and does not score: the chunks' order is their BM25 alone.
            narrowed = [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
            query_ = tantivy.Query.boolean_query([(tantivy.Occur.Must, query_), *narrowed])
        searcher = self.index.searcher()
        hits = searcher.search(query_, k, count=False).hits
        return [(searcher.doc(address).get_first(CHUNK_ID), float(score)) for score, address in hits]


def _day(value: dt.date | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return value.year * 10000 + value.month * 100 + value.day


def build_from_store(store, path: Path) -> KeywordIndex:
    """A keyword index of every chunk ``store`` holds, written at ``path`` (a streamed pass: memory
    bounded by a page of chunks and the writer's heap)."""
    index = KeywordIndex(path)
    index.add(chunk_docs(store.iter_chunks()))
    index.commit()
    index.close()
    return index
