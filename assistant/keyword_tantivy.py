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
from functools import lru_cache
from pathlib import Path

from assistant.answer import day_number

TOKENS = "tokens"
CHUNK_ID = "chunk_id"
ARTICLE_ID = "article_id"
DAY = "day"  # published day as YYYYMMDD; 0 when the article is undated
SOURCE = "source"
WRITER_HEAP = 64_000_000  # bytes; tantivy's floor is 15 MB per indexing thread


def analyse(texts: Sequence[str]) -> list[list[str]]:
    """The stemmed tokens of each text, stop words left out: the analyser of :mod:`assistant.bm25_build`."""
    import bm25s

    from assistant.bm25_build import LANGUAGE, TOKEN_PATTERN

    return bm25s.tokenize(list(texts), lower=True, token_pattern=TOKEN_PATTERN, stopwords=LANGUAGE,
                          stemmer=_stemmer(), return_ids=False, show_progress=False)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    from assistant.bm25_build import LANGUAGE

    return Stemmer.Stemmer(LANGUAGE)


@dataclass(frozen=True)
class ChunkDoc:
    """What the index keeps of a chunk (or of a whole article: ``chunk_id`` is then the article's id):
    its id, its article, its tokens, its day and source. ``header`` counts the leading tokens that are
    the chunk's metadata (title, source), which an article's document holds once."""

    chunk_id: str
    article_id: str
    tokens: list[str]
    day: int
    source: str
    header: int = 0
    position: int = 0  # the chunk's place in its article


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

    from assistant.bm25_build import headers_and_bodies

    nodes = [metadata_dict_to_node(meta, text=text or "") for _id, text, meta in batch]
    headers, bodies = headers_and_bodies(nodes)
    tokens = analyse(headers + bodies)
    for i, node in enumerate(nodes):
        meta = node.metadata
        header, body = tokens[i], tokens[len(nodes) + i]
        yield ChunkDoc(node.node_id, str(meta.get("article_id", node.node_id)), header + body,
                       int(meta.get("published_day") or 0), str(meta.get("source") or ""), header=len(header),
                       position=int(meta.get("position", 0) or 0))


def article_doc(chunks: Sequence[ChunkDoc]) -> ChunkDoc:
    """One article's document from its chunks: the first chunk's header once, then every chunk's text
    (as the bm25s article index joins them)."""
    ordered = sorted(chunks, key=lambda c: c.position)
    first = ordered[0]
    tokens = first.tokens[: first.header] + [t for c in ordered for t in c.tokens[c.header:]]
    return ChunkDoc(first.article_id, first.article_id, tokens, first.day, first.source, header=first.header)


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
            since, until = (day_number(d) if isinstance(d, dt.date) else d for d in (since, until))
            filters.append(tantivy.Query.range_query(self.schema, DAY, tantivy.FieldType.Integer, since, until))
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


@dataclass
class StoreKeywords:
    """The keyword indexes of one store: its chunks, and its whole articles (one document each)."""

    chunks: KeywordIndex
    articles: KeywordIndex

    def close(self) -> None:
        self.chunks.close()
        self.articles.close()


def build_from_store(store, path: Path) -> StoreKeywords:
    """Keyword indexes of every chunk and article ``store`` holds, written under ``path`` (``chunks/``,
    ``articles/``) in one streamed pass: memory bounded by a page of chunks, one article's tokens and the
    writers' heaps.

    An ingest writes an article's chunks together, so the store yields them together; an article met
    again after its document was written (chunks written apart) is re-read whole and replaced."""
    built = StoreKeywords(KeywordIndex(path / "chunks"), KeywordIndex(path / "articles"))
    written: set[str] = set()
    current: list[ChunkDoc] = []

    def flush() -> None:
        if not current:
            return
        article_id = current[0].article_id
        if article_id in written:
            built.articles.delete_articles([article_id])
            current[:] = list(chunk_docs(store.iter_chunks(where={"article_id": article_id})))
        built.articles.add([article_doc(current)])
        written.add(article_id)
        current.clear()

    def chunks_seen() -> Iterator[ChunkDoc]:
        for doc in chunk_docs(store.iter_chunks()):
            if current and doc.article_id != current[0].article_id:
                flush()
            current.append(doc)
            yield doc

    built.chunks.add(chunks_seen())
    flush()
    built.chunks.commit()
    built.articles.commit()
    built.close()
    return built
