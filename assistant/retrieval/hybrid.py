"""Hybrid retrieval: dense (Chroma) and BM25, fused by weighted reciprocal rank, diversified by article.

Three ranked lists are fused: dense chunks, BM25 chunks, and BM25 over whole articles. The last one
ranks articles, not chunks: each chunk found by the first two gains what its article's place there is
worth. A recency prior then prefers newer articles among near ties (:class:`RecencyPrior`).

Syndicated copies (one wire story at several outlets, clustered at ingest: :mod:`ingest.syndication`)
are all ranked and all stay findable; :func:`one_per_cluster` keeps one per cluster among the chunks
handed to the answerer, and says where else the story ran.

A llama-index ``BaseRetriever``, so the engine (or anyone) can swap it for another retriever. The
library's ``QueryFusionRetriever`` fuses too, but its reciprocal-rank mode ignores retriever weights and
keeps no per-retriever scores; both matter here (weights are tuned on the evaluation set; the decline
decision reads the dense and BM25 scores of the best hits).
"""

from __future__ import annotations

import datetime as dt
import math
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable, Literal

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from assistant.answer import SearchFilters, day_number
from assistant.retrieval.clusters import Clusters, Copy
from assistant.text import for_embedding

Mode = Literal["hybrid", "dense", "bm25"]

# How a date or source filter reaches Chroma (HybridRetriever._dense): an unfiltered query this much
# deeper than the admitted share alone would need, up to this depth (400 chunks: ~30 ms at 100k and
# 1M; 800: 54 ms at 1M)...
POST_FILTER_MARGIN = 1.5
POST_FILTER_MAX_DEPTH = 400
# ...else a query over the admitted chunks' ids, up to this many (at 1M chunks: 10k ids 16 ms, 74k ids
# 59 ms; Chroma's own filter costs 2.3 s there whatever it admits).
ID_FILTER_MAX = 250_000


class HybridHit(NodeWithScore):
    """A fused hit that keeps what each retriever said about it."""

    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    bm25_score: float | None = None  # raw BM25 score, when BM25 found it


@dataclass(frozen=True)
class RecencyPrior:
    """Prefers newer articles among hits that match about equally: news supersedes news, and a
    question about a recurring event ("who won the primary", "where is the Super Bowl") usually means
    the latest one. Age is counted back from the newest article in the store, not from today, so an
    archive answers as of its own last day. An undated chunk is neither new nor old: it gains what a
    chunk one half-life old does (gaining nothing buried undated articles under every dated one)."""

    weight: float = 0.5  # a brand-new chunk gains this share of a first place in one more retriever
    half_life_days: float = 120.0

    def bonus(self, published_day: int, newest_day: int, rrf_k: int) -> float:
        if self.weight <= 0 or not newest_day:
            return 0.0
        if not published_day:
            return self.weight * 0.5 / (rrf_k + 1)
        age = max(0, (_date(newest_day) - _date(published_day)).days)
        return self.weight * 0.5 ** (age / self.half_life_days) / (rrf_k + 1)


def _date(day: int) -> dt.date:
    try:
        return dt.date(day // 10000, day // 100 % 100, day % 100)
    except ValueError:  # a malformed stored day: treat it as very old rather than fail the query
        return dt.date(1, 1, 1)


class HybridRetriever(BaseRetriever):
    def __init__(
        self,
        index,
        bm25_source,
        *,
        rrf_k: int = 60,
        dense_weight: float = 1.0,
        bm25_weight: float = 1.0,
        per_article: int = 2,
        top_n: int = 30,
        candidate_k: int = 40,
        mode: Mode = "hybrid",
        recency: RecencyPrior | None = None,
        newest_day: Callable[[], int] = lambda: 0,
        article_weight: float = 1.0,
        prefer_weight: float = 0.5,
        executor: Executor | None = None,
    ):
        super().__init__()
        self.index = index  # a VectorStoreIndex over the chunk collection
        self.bm25_source = bm25_source  # callable -> the store's BM25 retriever | None (follows the store)
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.per_article = per_article
        self.top_n = top_n
        self.candidate_k = candidate_k
        self.mode = mode
        self.recency = recency  # applied to fused (hybrid) results only: baselines stay plain
        self.newest_day = newest_day  # callable -> the store's newest published day (YYYYMMDD int)
        self.article_weight = article_weight
        self.prefer_weight = prefer_weight  # what publication in a preferred window is worth
        self.executor = executor  # runs BM25 beside the dense query (None: one after the other)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.retrieve_mode(query_bundle, self.mode)

    def retrieve_mode(
        self,
        query: QueryBundle | str,
        mode: Mode,
        filters: SearchFilters | None = None,
        prefer: SearchFilters | None = None,
        bm25=None,
    ) -> list[HybridHit]:
        """Fused hits, best first; ``mode`` restricts to one retriever (for baselines in evaluation).

        ``prefer``: the window a relative time in the question means ("this week"): chunks of articles
        published in it gain ``prefer_weight`` of a first place in one more list (hybrid only).
        ``bm25``: the store's chunk BM25 retriever the caller already holds for this question (its
        article sibling comes with it); default: the one ``bm25_source`` gives now."""
        if not isinstance(query, QueryBundle):
            query = QueryBundle(query_str=query, custom_embedding_strs=[for_embedding(query)])
        bundle = query
        filters = filters if filters is not None and not filters.is_empty() else None
        source = None
        chunks = articles = None
        if mode in ("hybrid", "bm25"):
            # One index per query: its article sibling and version come with it.
            source = bm25 if bm25 is not None else self.bm25_source()
            chunks = _masked(source, filters)
            if mode == "hybrid" and self.article_weight > 0 and source is not None:
                articles = _masked(source.articles, filters)
        # BM25 is scored in another thread while this one embeds the question and waits on Chroma: the
        # lists are independent, and ONNX and the wait release the interpreter. (Embedding beside the
        # version read instead was slower on 2 cores: ONNX takes both, and starves the round trip.)
        lexical = _Lexical(chunks, articles, bundle.query_str)
        pending = self.executor.submit(lexical.run) if self.executor is not None and mode == "hybrid" else None
        ranked: list[tuple[str, list[NodeWithScore], float]] = []
        dense_ids: set[str] = set()
        if mode in ("hybrid", "dense"):
            ranked.append(("dense", self._dense(bundle, filters, source, chunks), self.dense_weight))
            dense_ids = {r.node.node_id for r in ranked[-1][1]}
        if mode in ("hybrid", "bm25"):
            if pending is not None:
                pending.result()  # raises what the BM25 thread raised
            else:
                lexical.run()
            if chunks is not None:
                found = lexical.chunk_hits
                if chunks.stale:
                    found = _still_stored(chunks, found, dense_ids, filters)
                ranked.append(("bm25", found, self.bm25_weight))

        hits: dict[str, HybridHit] = {}
        for name, results, weight in ranked:
            for rank, result in enumerate(results):
                hit = hits.get(result.node.node_id)
                if hit is None:
                    hit = hits[result.node.node_id] = HybridHit(node=result.node, score=0.0)
                hit.score += weight / (self.rrf_k + rank + 1)
                if name == "dense":
                    # ChromaVectorStore reports exp(-distance); cosine distance = 1 - cos.
                    hit.dense_score = 1.0 + math.log(max(result.score or 1e-12, 1e-12))
                else:
                    hit.bm25_score = result.score
        if mode == "hybrid" and articles is not None:
            article_rank = {article_id: rank for rank, (article_id, _score) in enumerate(lexical.article_ids)}
            for hit in hits.values():
                rank = article_rank.get(hit.node.metadata.get("article_id"))
                if rank is not None:
                    hit.score += self.article_weight / (self.rrf_k + rank + 1)
        if mode == "hybrid" and self.recency is not None:
            newest = self.newest_day()
            for hit in hits.values():
                day = int(hit.node.metadata.get("published_day") or 0)
                hit.score += self.recency.bonus(day, newest, self.rrf_k)
        if mode == "hybrid" and prefer is not None and self.prefer_weight > 0:
            for hit in hits.values():
                if int(hit.node.metadata.get("published_day") or 0) and prefer.admits(hit.node.metadata):
                    hit.score += self.prefer_weight / (self.rrf_k + 1)
        return diversify(sorted(hits.values(), key=lambda h: h.score, reverse=True), self.per_article)[: self.top_n]

    def _dense(self, bundle: QueryBundle, filters: SearchFilters | None, source, admitted) -> list[NodeWithScore]:
        """The dense list: the ``candidate_k`` chunks nearest the question among those ``filters`` admit.

        Chroma evaluates a metadata filter by scanning its metadata table (a date range: ~0.4 s over
        100k chunks, ~2.3 s over 1M, whatever the range admits), so a filter is applied another way
        when the keyword index of the current version (``source``; ``admitted``: its view masked by the
        same filters, None when nothing passes) knows which chunks pass: none, no query; a large
        share, a deeper unfiltered query read in order (its admitted hits are exactly the filtered
        query's first ones); else a query restricted to their ids. A stale index may not know every
        chunk: then, and past both limits, Chroma filters."""
        k = self.candidate_k
        if filters is None:
            return self._nearest(bundle, k)
        if source is not None and not source.stale and source.num_docs:
            if admitted is None:
                return []
            depth = math.ceil(k * POST_FILTER_MARGIN * source.num_docs / max(admitted.admitted, 1))
            if depth <= POST_FILTER_MAX_DEPTH:
                return [r for r in self._nearest(bundle, depth) if filters.admits(r.node.metadata)][:k]
            if admitted.admitted <= ID_FILTER_MAX:
                return self._nearest(bundle, k, ids=admitted.admitted_ids())
        return self._nearest(bundle, k, filters=_vector_filters(filters))

    def _nearest(self, bundle: QueryBundle, k: int, filters: MetadataFilters | None = None, ids: list[str] | None = None):
        kwargs = {"vector_store_kwargs": {"ids": ids}} if ids is not None else {}
        return self.index.as_retriever(similarity_top_k=k, filters=filters, **kwargs).retrieve(bundle)


class _Lexical:
    """The BM25 lists of one query (chunks, and the ranking of whole articles), computed by
    :meth:`run`, in whichever thread runs it."""

    def __init__(self, chunks, articles, query: str):
        self.chunks, self.articles, self.query = chunks, articles, query
        self.chunk_hits: list[NodeWithScore] = []
        self.article_ids: list[tuple[str, float]] = []

    def run(self) -> None:
        if self.chunks is not None:
            self.chunk_hits = self.chunks.retrieve(QueryBundle(self.query))  # scores above 0 only
        if self.articles is not None:
            self.article_ids = self.articles.ranked_ids(self.query)


def _still_stored(bm25, found: list[NodeWithScore], dense_ids: set[str], filters: SearchFilters | None) -> list[NodeWithScore]:
    """A stale index's hits as the store holds them now. The store has moved past the index (an
    ingest or a delete elsewhere; the new index is being built): a chunk it returns may be gone, or
    rewritten. Those the dense retriever also found were just read from the store and stand as they
    are; the others are read back in one query, the missing dropped, the rest given the store's text
    and metadata (and dropped when that no longer passes ``filters``)."""
    live = bm25.live_nodes([r.node.node_id for r in found if r.node.node_id not in dense_ids])
    kept = []
    for result in found:
        node_id = result.node.node_id
        if node_id in dense_ids:
            kept.append(result)
            continue
        node = live.get(node_id)
        if node is not None and (filters is None or filters.admits(node.metadata)):
            kept.append(NodeWithScore(node=node, score=result.score))
    return kept


def _masked(bm25, filters: SearchFilters | None):
    """The BM25 retriever restricted to what ``filters`` admit (None when nothing is admitted)."""
    if bm25 is None or filters is None:
        return bm25
    return bm25.masked(filters)


def _vector_filters(filters: SearchFilters | None) -> MetadataFilters | None:
    if filters is None:
        return None
    parts = []
    if filters.since:
        parts.append(MetadataFilter(key="published_day", value=day_number(filters.since), operator=FilterOperator.GTE))
    if filters.until:
        parts.append(MetadataFilter(key="published_day", value=day_number(filters.until), operator=FilterOperator.LTE))
        if not filters.since:  # undated chunks (day 0) are outside any window; a lower bound says so already
            parts.append(MetadataFilter(key="published_day", value=0, operator=FilterOperator.GT))
    if filters.source:
        parts.append(MetadataFilter(key="source", value=filters.source, operator=FilterOperator.EQ))
    if filters.sources:
        parts.append(MetadataFilter(key="source", value=list(filters.sources), operator=FilterOperator.IN))
    return MetadataFilters(filters=parts)


def diversify(hits: list[HybridHit], per_article: int) -> list[HybridHit]:
    """Keep at most ``per_article`` chunks of any one article, in fused order: five chunks of one
    story must not crowd out the other articles that matched, yet an article's second-best chunk
    still outranks weaker articles (it often holds the answer the first chunk only leads up to)."""
    seen: dict[str, int] = {}
    kept: list[HybridHit] = []
    for hit in hits:
        article = hit.node.metadata.get("article_id", hit.node.node_id)
        if seen.get(article, 0) < per_article:
            kept.append(hit)
            seen[article] = seen.get(article, 0) + 1
    return kept


def article_ranking(hits: list[NodeWithScore], limit: int = 10) -> list[str]:
    """Article ids in order of their best chunk."""
    out: list[str] = []
    for hit in hits:
        article = hit.node.metadata.get("article_id", hit.node.node_id)
        if article not in out:
            out.append(article)
        if len(out) == limit:
            break
    return out


def one_per_cluster(hits: list[HybridHit], clusters: Clusters, limit: int | None = None) -> list[HybridHit]:
    """``hits`` in order (the first ``limit`` kept), keeping of each syndication cluster only the
    best-ranked copy's chunks (an article's own second chunk stays, as :func:`diversify` allows), each
    hit's article's ``authors`` and its other copies (``also_in``) added to its metadata, for the
    sources built from it. ``clusters``: those of the store version the hits come from."""
    chosen: dict[str, str] = {}  # cluster id -> the copy kept
    kept: list[HybridHit] = []
    for hit in hits:
        if limit is not None and len(kept) >= limit:
            break
        article = hit.node.metadata.get("article_id", hit.node.node_id)
        cluster = clusters.cluster_of.get(article, article)
        if chosen.setdefault(cluster, article) != article:
            continue
        others = [c for c in clusters.members.get(cluster, []) if c.article_id != article]
        kept.append(_with_details(hit, clusters.authors.get(article, ()), others))
    return kept


def _with_details(hit: HybridHit, authors: tuple[str, ...], also_in: list[Copy]) -> HybridHit:
    """A copy of ``hit`` whose node's metadata also holds its article's bylines and other copies
    (hidden from the embedded and prompted text). The hit itself is shared with caches: not mutated."""
    if not authors and not also_in:
        return hit
    extra = {"authors": list(authors)} if authors else {}
    if also_in:
        extra["also_in"] = [{"title": c.title, "url": c.url, "source": c.source} for c in also_in]
    node = hit.node.model_copy(
        update={
            "metadata": {**hit.node.metadata, **extra},
            "excluded_embed_metadata_keys": [*hit.node.excluded_embed_metadata_keys, *extra],
            "excluded_llm_metadata_keys": [*hit.node.excluded_llm_metadata_keys, *extra],
        }
    )
    return hit.model_copy(update={"node": node})

