"""A keyword index of the store's chunks in tantivy: BM25 over Newsdesk's own tokens, with the
published day and the source as indexed fields, updated in place.

bm25s scores a frozen matrix, so every ingest rebuilt it whole; tantivy adds and deletes documents in
segments, and a day range or a source is a clause of the query rather than a mask over every document.
This module is the index itself (schema, documents, queries); :mod:`assistant.retrieval.keyword` keeps it in step
with the store and answers from it.

What is indexed is a chunk's content as embedded (its visible metadata, then its text), through
Newsdesk's analyser: bm25s's tokenizer (the library llama-index's BM25 retriever uses), English stop
words and the Snowball stemmer. The tokens are joined by spaces into a field whose tokenizer splits on
whitespace only, so tantivy indexes exactly those tokens, and a query is analysed the same way.

Scores are BM25 as bm25s (and Lucene) computes it, with k1 1.5 and b 0.75: what Newsdesk's answers
were measured with. tantivy fixes k1 at 1.2 and keeps document lengths to one byte, and on the
RealTimeQA dev set its own order cost right answers (docs/keyword-index.md). So tantivy finds the
candidates, half as many again as asked, and :meth:`KeywordIndex.ranked` scores them again from their
stored token counts: the same documents and scores as llama-index's bm25s retriever (tested).

A chunk's document also stores its node as Chroma holds it (text and metadata), so a keyword hit costs
no read of the store; an article's document stores its chunks' ids (what a date window admits, handed
to the dense query) and the manifest's content hash (what a repair compares).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from assistant.answer import day_number
from assistant.retrieval.signatures import stored_band_keys

TOKENS = "tokens"
CHUNK_ID = "chunk_id"
ARTICLE_ID = "article_id"
DAY = "day"  # published day as YYYYMMDD; 0 when the article is undated
SOURCE = "source"
LENGTH = "length"  # a document's number of tokens (fast: their sum gives the mean length)
COUNTS = "counts"  # a document's stored {token: occurrences} (JSON): what its score is computed from
NODE = "node"  # a chunk's stored [text, metadata], as Chroma holds them
MEMBERS = "members"  # an article's stored chunk ids (a JSON list)
CONTENT_HASH = "content_hash"  # an article's manifest hash when indexed
BANDS = "bands"  # an article's LSH band keys (assistant.retrieval.signatures): its candidate copies are one query away
WRITER_HEAP = 64_000_000  # bytes; tantivy's floor is 15 MB per indexing thread
TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # bm25s's default token pattern
LANGUAGE = "english"  # of the stop words and the stemmer
PAGE = 2000  # chunks analysed together
K1, B = 1.5, 0.75  # BM25 as bm25s computes it (its "lucene" method)
CANDIDATES = 1.5  # tantivy's hits per document asked for, scored again (rtqa-dev and reader-dev: the
# first 40 then match bm25s's in 99.5 % of questions for articles and all for chunks; the first 10 in all)

# PyStemmer's stemmers are not safe to share between threads, and a question's parts are searched in
# threads side by side: one stemmer per thread.
_STEMMERS = threading.local()


def analyse(texts: Sequence[str]) -> list[list[str]]:
    """The stemmed tokens of each text, stop words left out."""
    import bm25s

    return bm25s.tokenize(list(texts), lower=True, token_pattern=TOKEN_PATTERN, stopwords=LANGUAGE,
                          stemmer=_stemmer(), return_ids=False, show_progress=False)


def _stemmer():
    stemmer = getattr(_STEMMERS, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _STEMMERS.stemmer = Stemmer.Stemmer(LANGUAGE)
    return stemmer


def headers_and_bodies(nodes: list) -> tuple[list[str], list[str]]:
    """Each node's content as embedded, split into its metadata header and its text. The library's
    template puts the metadata before the text, so tokens never cross the two."""
    from llama_index.core.schema import MetadataMode

    headers, bodies = [], []
    for node in nodes:
        embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
        split = len(embedded) - len(node.text) if node.text and embedded.endswith(node.text) else len(embedded)
        headers.append(embedded[:split])
        bodies.append(embedded[split:])
    return headers, bodies


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
    node: bytes = b""  # a chunk's [text, metadata] as JSON (empty for an article)
    members: tuple[str, ...] = ()  # an article's chunk ids
    content_hash: str = ""  # an article's manifest hash
    bands: tuple[str, ...] = ()  # an article's LSH band keys


def chunk_docs(items: Iterable[tuple[str, str, dict]], page: int = PAGE) -> Iterator[ChunkDoc]:
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
    headers, bodies = headers_and_bodies(nodes)
    tokens = analyse(headers + bodies)
    for i, node in enumerate(nodes):
        meta = node.metadata
        header, body = tokens[i], tokens[len(nodes) + i]
        _id, text, stored = batch[i]
        yield ChunkDoc(node.node_id, str(meta.get("article_id", node.node_id)), header + body,
                       int(meta.get("published_day") or 0), str(meta.get("source") or ""), header=len(header),
                       position=int(meta.get("position", 0) or 0), node=orjson.dumps([text or "", stored]))


def stored_node(node: bytes):
    """The llama-index node a chunk's stored ``[text, metadata]`` makes (as the vector store makes it)."""
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    text, meta = orjson.loads(node)
    return metadata_dict_to_node(meta, text=text)


def article_doc(chunks: Sequence[ChunkDoc], record=None) -> ChunkDoc:
    """One article's document from its chunks: the first chunk's header once, then every chunk's text,
    its chunks' ids, and from its manifest ``record`` (when given) its content hash and signature's bands."""
    ordered = sorted(chunks, key=lambda c: c.position)
    first = ordered[0]
    tokens = first.tokens[: first.header] + [t for c in ordered for t in c.tokens[c.header:]]
    return ChunkDoc(first.article_id, first.article_id, tokens, first.day, first.source, header=first.header,
                    members=tuple(c.chunk_id for c in ordered),
                    content_hash=record.content_hash if record is not None else "",
                    bands=stored_band_keys(record.minhash) if record is not None else ())


def bm25_idf(num_docs: int, df: int) -> float:
    """BM25's inverse document frequency, as bm25s and Lucene compute it (never negative)."""
    return math.log(1.0 + (num_docs - df + 0.5) / (df + 0.5))


def since_until(since: dt.date | int | None, until: dt.date | int | None) -> tuple[int, int] | None:
    """Inclusive day numbers of a window (None: no window). An upper bound alone starts at day 1:
    undated chunks (day 0) are outside any window, as ``SearchFilters.admits`` has it."""
    if since is None and until is None:
        return None
    low, high = (day_number(d) if isinstance(d, dt.date) else d for d in (since, until))
    return (low if low is not None else 1), (high if high is not None else 99991231)


class KeywordIndex:
    """The tantivy index at ``path`` (created when absent): add, delete, search."""

    def __init__(self, path: Path):
        import tantivy

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        builder = tantivy.SchemaBuilder()
        # Frequencies without positions: BM25 needs no phrase matching, and positions double the postings.
        builder.add_text_field(TOKENS, tokenizer_name="whitespace", index_option="freq")
        builder.add_bytes_field(COUNTS, stored=True, indexed=False)
        builder.add_integer_field(LENGTH, fast=True)
        builder.add_text_field(CHUNK_ID, stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field(ARTICLE_ID, tokenizer_name="raw", index_option="basic")
        builder.add_integer_field(DAY, indexed=True, fast=True)
        builder.add_text_field(SOURCE, tokenizer_name="raw", index_option="basic", fast=True)
        builder.add_bytes_field(NODE, stored=True, indexed=False)
        builder.add_bytes_field(MEMBERS, stored=True, indexed=False)
        builder.add_text_field(CONTENT_HASH, stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field(BANDS, tokenizer_name="whitespace", index_option="basic")
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
            document.add_integer(LENGTH, len(doc.tokens))
            document.add_bytes(COUNTS, orjson.dumps(Counter(doc.tokens)))
            document.add_text(CHUNK_ID, doc.chunk_id)
            document.add_text(ARTICLE_ID, doc.article_id)
            document.add_integer(DAY, doc.day)
            document.add_text(SOURCE, doc.source)
            if doc.node:
                document.add_bytes(NODE, doc.node)
            if doc.members:
                document.add_bytes(MEMBERS, orjson.dumps(list(doc.members)))
            if doc.content_hash:
                document.add_text(CONTENT_HASH, doc.content_hash)
            if doc.bands:
                document.add_text(BANDS, " ".join(doc.bands))
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

    def searcher(self):
        """A point-in-time view of the last commit this process has loaded."""
        return self.index.searcher()

    def reload(self) -> None:
        """See the last commit, whichever process made it."""
        self.index.reload()

    def query(self, tokens: Sequence[str], filters=None):
        """The BM25 query of ``tokens`` (analysed), narrowed by ``filters`` (a :meth:`filter_clauses`
        list): the filters are ``Must`` clauses scored 0, so the order is BM25's alone."""
        import tantivy

        terms = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, TOKENS, t)) for t in tokens])
        if not filters:
            return terms
        narrowed = [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, terms), *narrowed])

    def filter_clauses(self, *, since=None, until=None, sources: Sequence[str] | None = None) -> list:
        """The clauses a day window (inclusive) and a set of sources make; each one must hold."""
        import tantivy

        clauses = []
        window = since_until(since, until)
        if window is not None:
            clauses.append(tantivy.Query.range_query(self.schema, DAY, tantivy.FieldType.Integer, *window))
        if sources is not None:
            clauses.append(tantivy.Query.term_set_query(self.schema, SOURCE, list(sources)))
        return clauses

    def filter_query(self, clauses: list):
        """The documents every clause admits, all scored alike."""
        import tantivy

        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])

    def search(self, query: str | Sequence[str], k: int, *, since: dt.date | int | None = None,
               until: dt.date | int | None = None, sources: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``k`` best chunks holding a token of ``query`` (text, or tokens
        already analysed), best first; ``since``/``until`` (inclusive days) and ``sources`` narrow them."""
        tokens = analyse([query])[0] if isinstance(query, str) else list(query)
        clauses = self.filter_clauses(since=since, until=until, sources=sources or None)
        searcher = self.searcher()
        return [(doc.get_first(CHUNK_ID), score) for score, doc in self.ranked(searcher, tokens, clauses, k)]

    def ranked(self, searcher, tokens: Sequence[str], clauses: list, k: int,
               mean_length: float | None = None) -> list[tuple[float, object]]:
        """(score, stored document) of the ``k`` best documents for ``tokens`` under ``clauses``, best
        first, scored as bm25s scores them (:data:`K1`, :data:`B`, exact lengths): tantivy's best
        ``CANDIDATES * k`` by its own BM25, scored again from their stored token counts. ``mean_length``:
        the searcher's mean document length, when the caller keeps it (:meth:`mean_length`)."""
        if not tokens or k <= 0 or not searcher.num_docs:
            return []
        hits = searcher.search(self.query(tokens, clauses), math.ceil(CANDIDATES * k), count=False).hits
        if not hits:
            return []
        n = searcher.num_docs
        mean = mean_length or self.mean_length(searcher)
        idf = {t: bm25_idf(n, searcher.doc_freq(TOKENS, t)) for t in set(tokens)}
        asked = Counter(tokens)  # a repeated word counts again, as bm25s counts it
        lengths = searcher.fast_field_values(LENGTH, [address for _score, address in hits])
        scored = []
        for order, ((_score, address), length) in enumerate(zip(hits, lengths)):
            doc = searcher.doc(address)
            # Each document's token counts, stored: an article is thousands of tokens, too many to
            # count again at every question.
            counts = orjson.loads(doc.get_first(COUNTS))
            norm = K1 * (1.0 - B + B * (length or 0) / mean)
            score = 0.0
            for t, times in asked.items():
                tf = counts.get(t, 0)
                if tf:
                    score += times * idf[t] * tf / (tf + norm)
            scored.append((score, order, doc))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [(float(score), doc) for score, _order, doc in scored[:k]]

    @staticmethod
    def mean_length(searcher) -> float:
        """The mean number of tokens of the searcher's documents (1.0 for none)."""
        import tantivy

        if not searcher.num_docs:
            return 1.0
        total = searcher.aggregate(tantivy.Query.all_query(), {"length": {"sum": {"field": LENGTH}}})
        return max(float(total["length"]["value"] or 0.0) / searcher.num_docs, 1.0)

    @staticmethod
    def newest_day(searcher) -> int:
        """The latest published day (YYYYMMDD) of the searcher's documents; 0 when none is dated."""
        import tantivy

        if not searcher.num_docs:
            return 0
        got = searcher.aggregate(tantivy.Query.all_query(), {"day": {"max": {"field": DAY}}})
        return int(got["day"]["value"] or 0)

    @staticmethod
    def sources(searcher) -> tuple[str, ...]:
        """Every source named by the searcher's documents, sorted."""
        import tantivy

        if not searcher.num_docs:
            return ()
        got = searcher.aggregate(tantivy.Query.all_query(), {"sources": {"terms": {"field": SOURCE, "size": 1_000_000}}})
        return tuple(sorted(b["key"] for b in got["sources"]["buckets"] if b["key"]))

    def sharing_bands(self, searcher, keys: Iterable[str]) -> set[str]:
        """The ids of the documents that share an LSH band key with ``keys``: candidate copies."""
        import tantivy

        keys = list(dict.fromkeys(keys))
        if not keys or not searcher.num_docs:
            return set()
        query = tantivy.Query.term_set_query(self.schema, BANDS, keys)
        hits = searcher.search(query, searcher.num_docs, count=False).hits
        return {searcher.doc(address).get_first(CHUNK_ID) for _score, address in hits}

    def stored(self, searcher=None) -> Iterator[dict]:
        """Every document's stored fields (a repair's listing; not for the request path)."""
        import tantivy

        searcher = searcher or self.searcher()
        if not searcher.num_docs:
            return
        for _score, address in searcher.search(tantivy.Query.all_query(), searcher.num_docs, count=False).hits:
            yield searcher.doc(address).to_dict()


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
    ``articles/``) and committed (see :func:`write_store`)."""
    built = StoreKeywords(KeywordIndex(path / "chunks"), KeywordIndex(path / "articles"))
    write_store(built, store)
    built.chunks.commit()
    built.articles.commit()
    built.close()
    return built


def write_store(keywords: StoreKeywords, store, records: dict | None = None) -> int:
    """Add every chunk and article of ``store`` to ``keywords`` (not committed) in one streamed pass:
    memory bounded by a page of chunks, one article's tokens and the writers' heaps. ``records``
    (article id -> manifest record): only those articles (complete ones), their hashes and bands kept.
    Returns the number of chunks added.

    An ingest writes an article's chunks together, so the store yields them together; an article met
    again after its document was written (chunks written apart) is re-read whole and replaced."""
    written: set[str] = set()
    current: list[ChunkDoc] = []

    def flush() -> None:
        if not current:
            return
        article_id = current[0].article_id
        if article_id in written:
            keywords.articles.delete_articles([article_id])
            current[:] = list(chunk_docs(store.iter_chunks(where={"article_id": article_id})))
        keywords.articles.add([article_doc(current, (records or {}).get(article_id))])
        written.add(article_id)
        current.clear()

    def chunks_seen() -> Iterator[ChunkDoc]:
        for doc in chunk_docs(store.iter_chunks(read_ahead=True)):
            if records is not None and doc.article_id not in records:
                continue  # pending: mid-ingest, or left by a crash
            if current and doc.article_id != current[0].article_id:
                flush()
            current.append(doc)
            yield doc

    added = keywords.chunks.add(chunks_seen())
    flush()
    return added


def write_articles(keywords: StoreKeywords, store, records: dict) -> int:
    """Add the documents of the articles in ``records`` (article id -> complete manifest record), from
    their chunks as the store holds them now (not committed). Returns the number of chunks added."""
    ids = list(records)
    added = 0
    for start in range(0, len(ids), 200):
        by_article: dict[str, list[ChunkDoc]] = {}
        for doc in chunk_docs(store.iter_chunks(where={"article_id": {"$in": ids[start : start + 200]}})):
            by_article.setdefault(doc.article_id, []).append(doc)
        for article_id, docs in by_article.items():
            added += keywords.chunks.add(docs)
            keywords.articles.add([article_doc(docs, records[article_id])])
    return added
