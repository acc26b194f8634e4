"""Hybrid retrieval: dense (Chroma) and BM25, fused by weighted reciprocal rank, diversified by article.

A llama-index ``BaseRetriever``, so the engine (or anyone) can swap it for another retriever. The
library's ``QueryFusionRetriever`` fuses too, but its reciprocal-rank mode ignores retriever weights and
keeps no per-retriever scores; both matter here (weights are tuned on the evaluation set; the decline
decision reads the dense and BM25 scores of the best hits).
"""

from __future__ import annotations

import math
from typing import Literal

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

from assistant.answer import SearchFilters, day_number

Mode = Literal["hybrid", "dense", "bm25"]


class HybridHit(NodeWithScore):
    """A fused hit that keeps what each retriever said about it."""

    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    bm25_score: float | None = None  # raw BM25 score, when BM25 found it


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
    ):
        super().__init__()
        self.index = index  # a VectorStoreIndex over the chunk collection
        self.bm25_source = bm25_source  # callable -> BM25Retriever | None (cache follows the store)
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.per_article = per_article
        self.top_n = top_n
        self.candidate_k = candidate_k
        self.mode = mode

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.retrieve_mode(query_bundle, self.mode)

    def retrieve_mode(
        self, query: QueryBundle | str, mode: Mode, filters: SearchFilters | None = None
    ) -> list[HybridHit]:
        """Fused hits, best first; ``mode`` restricts to one retriever (for baselines in evaluation)."""
        bundle = query if isinstance(query, QueryBundle) else QueryBundle(query_str=query)
        filters = filters if filters is not None and not filters.is_empty() else None
        ranked: list[tuple[str, list[NodeWithScore], float]] = []
        if mode in ("hybrid", "dense"):
            dense = self.index.as_retriever(similarity_top_k=self.candidate_k, filters=_vector_filters(filters))
            ranked.append(("dense", dense.retrieve(bundle), self.dense_weight))
        if mode in ("hybrid", "bm25"):
            bm25 = self._bm25(filters)
            if bm25 is not None:
                found = [r for r in bm25.retrieve(bundle) if r.score and r.score > 0]
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
        return diversify(sorted(hits.values(), key=lambda h: h.score, reverse=True), self.per_article)[: self.top_n]


    def _bm25(self, filters: SearchFilters | None):
        bm25 = self.bm25_source()
        if bm25 is None or filters is None:
            return bm25
        # The library's own way to filter BM25: a 0/1 weight per chunk, over the shared index.
        from llama_index.retrievers.bm25 import BM25Retriever

        mask = [int(filters.admits(doc)) for doc in bm25.corpus]
        if not any(mask):
            return None
        return BM25Retriever(
            existing_bm25=bm25.bm25,
            similarity_top_k=min(bm25.similarity_top_k, sum(mask)),
            stemmer=bm25.stemmer,
            corpus_weight_mask=mask,
        )


def _vector_filters(filters: SearchFilters | None) -> MetadataFilters | None:
    if filters is None:
        return None
    parts = []
    if filters.since:
        parts.append(MetadataFilter(key="published_day", value=day_number(filters.since), operator=FilterOperator.GTE))
    if filters.until:
        parts.append(MetadataFilter(key="published_day", value=day_number(filters.until), operator=FilterOperator.LTE))
        parts.append(MetadataFilter(key="published_day", value=0, operator=FilterOperator.GT))
    if filters.source:
        parts.append(MetadataFilter(key="source", value=filters.source, operator=FilterOperator.EQ))
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
