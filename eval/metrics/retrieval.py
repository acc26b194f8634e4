"""Retrieval metrics: recall@k, mrr@10 and all_gold@10 over gold articles, the MultiHop-RAG
chunk-level hits (a chunk holding a gold fact), and the looser answer-bearing diagnostic."""

from __future__ import annotations

from typing import Sequence

from eval.metrics.ratio import ratio_or_none

RETRIEVAL_KS = (1, 5, 10)
MRR_K = 10
CONTEXT_K = 5

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10")
ALL_GOLD_K = 10
ALL_GOLD_METRIC = f"all_gold@{ALL_GOLD_K}"
# The MultiHop-RAG benchmark's chunk-level retrieval: a chunk is relevant when it holds a gold fact.
CHUNK_HITS_KS = (4, 10)
CHUNK_METRICS = (*(f"chunk_hits@{k}" for k in CHUNK_HITS_KS), f"chunk_mrr@{MRR_K}")


def first_gold_rank(retrieved: Sequence[str], gold: set[str]) -> int | None:
    """The 1-based rank of the first gold article in ``retrieved`` (None: none there)."""
    for rank, article_id in enumerate(retrieved, start=1):
        if article_id in gold:
            return rank
    return None


def _rank_metrics(ranks: Sequence[int | None]) -> dict[str, float | None]:
    """recall@k and mrr@10 from each question's first relevant rank (1-based; None: none in the top 10)."""
    out: dict[str, float | None] = {}
    for k in RETRIEVAL_KS:
        out[f"recall@{k}"] = ratio_or_none(sum(1 for rank in ranks if rank is not None and rank <= k), len(ranks))
    out[f"mrr@{MRR_K}"] = ratio_or_none(sum(1.0 / rank for rank in ranks if rank is not None), len(ranks))
    return out


def retrieval_metrics(rows: Sequence[dict], key: str | None = None) -> dict[str, float | None]:
    """recall@1/5/10 (hit rate), mrr@10 and all_gold@10 over answerable rows with gold sources.

    all_gold@10: the share of them whose every gold article is among the first 10 retrieved (what a
    question spanning several articles needs; the same as recall@10 when each names one).
    ``key`` picks a baseline ranking (``row["baselines"][key]``); default: the row's ``retrieved``.
    """
    scored = [r for r in rows if r.get("answerable") and r.get("gold_sources")]
    ranks, all_gold = [], 0
    for r in scored:
        ranking = r["retrieved"] if key is None else r["baselines"][key]
        ranks.append(first_gold_rank(ranking[:MRR_K], set(r["gold_sources"])))
        all_gold += set(r["gold_sources"]) <= set(ranking[:ALL_GOLD_K])
    out = _rank_metrics(ranks)
    out[ALL_GOLD_METRIC] = ratio_or_none(all_gold, len(scored))
    return out


def _squeeze(text: str) -> str:
    """``text`` without any whitespace: the benchmark's chunk rule ignores it."""
    return "".join(text.split())


def fact_in_chunk(chunk: str, facts: Sequence[str]) -> bool:
    """Whether one of ``facts`` is a substring of ``chunk``, whitespace ignored (all of it removed from
    both): MultiHop-RAG's rule for a relevant retrieved chunk. Empty facts match nothing."""
    text = _squeeze(chunk)
    return any(fact and fact in text for fact in map(_squeeze, facts))


def first_fact_rank(chunks: Sequence[str], facts: Sequence[str], k: int = MRR_K) -> int | None:
    """The 1-based rank of the first of ``chunks`` (texts, best first) holding one of ``facts``
    (:func:`fact_in_chunk`), looking at the first ``k``; None when none does."""
    for rank, chunk in enumerate(chunks[:k], start=1):
        if fact_in_chunk(chunk, facts):
            return rank
    return None


def chunk_metrics(rows: Sequence[dict], key: str | None = None) -> dict[str, float | None]:
    """chunk_hits@4, chunk_hits@10 (a hit: one of the first k fused chunks holds a gold fact) and
    chunk_mrr@10, over the rows scored on chunks (``chunk_rank`` present: answerable questions with
    gold facts); {} when there are none. ``key`` picks a baseline's rank
    (``row["baselines_chunk_rank"][key]``)."""
    if key is None:
        ranks = [r["chunk_rank"] for r in rows if "chunk_rank" in r]
    else:
        ranks = [r["baselines_chunk_rank"][key] for r in rows if key in (r.get("baselines_chunk_rank") or {})]
    if not ranks:
        return {}
    out: dict[str, float | None] = {}
    for k in CHUNK_HITS_KS:
        out[f"chunk_hits@{k}"] = ratio_or_none(sum(1 for rank in ranks if rank is not None and rank <= k), len(ranks))
    out[f"chunk_mrr@{MRR_K}"] = ratio_or_none(sum(1.0 / rank for rank in ranks if rank is not None and rank <= MRR_K), len(ranks))
    return out


def answer_bearing_metrics(rows: Sequence[dict]) -> dict[str, float | None]:
    """recall@1/5/10 and mrr@10 with a looser relevance: a retrieved article counts when it is a gold
    source or its text contains a gold answer (``row["answer_bearing"]``). A diagnostic beside the
    real metrics, never instead of them: a short answer ("Japan") occurs in articles about other
    things, so this overstates; a gap between it and ``recall@k`` says how incomplete the gold lists are.
    """
    scored = [r for r in rows if r.get("answerable") and r.get("gold_sources") and r.get("answer_bearing") is not None]
    ranks = []
    for r in scored:
        gold = set(r["gold_sources"])
        hits = [a in gold or bearing for a, bearing in zip(r["retrieved"][:MRR_K], r["answer_bearing"])]
        ranks.append(next((rank for rank, hit in enumerate(hits, start=1) if hit), None))
    return _rank_metrics(ranks)
