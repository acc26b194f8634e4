"""The report's metric table over one run: :func:`compute_metrics` (every metric, from the rows alone),
latency percentiles, and each single retriever's numbers as baselines."""

from __future__ import annotations

import math
from typing import Sequence

from eval.metrics.answers import answer_words
from eval.metrics.declines import counts_as_declined, decline_accuracy_by_kind
from eval.metrics.ratio import ratio_or_none
from eval.metrics.retrieval import CONTEXT_K, chunk_metrics, retrieval_metrics


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    value = ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
    return round(value, 2)


def latency_metrics(rows: Sequence[dict]) -> dict[str, float | None]:
    out: dict[str, float | None] = {
        "latency_p50_ms": percentile([r["latency_ms"] for r in rows], 50),
        "latency_p95_ms": percentile([r["latency_ms"] for r in rows], 95),
    }
    stages: list[str] = []
    for r in rows:
        for stage in r.get("timings_ms") or {}:
            if stage not in stages:
                stages.append(stage)
    for stage in stages:
        values = [r["timings_ms"][stage] for r in rows if stage in (r.get("timings_ms") or {})]
        out[f"latency_p50_ms.{stage}"] = percentile(values, 50)
        out[f"latency_p95_ms.{stage}"] = percentile(values, 95)
    return out


def compute_metrics(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """Every metric of the report, from the rows alone. A conversational reply counts as a decline
    (:func:`counts_as_declined`): it is neither an answer to score for words or citations, nor one
    to an unanswerable question."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not counts_as_declined(r)]
    with_gold = [r for r in answerable if r.get("correct") is not None]
    in_context = [r for r in answerable if r.get("answer_in_context") is not None]

    metrics: dict[str, float | int | None] = {}
    metrics.update(retrieval_metrics(rows))
    metrics.update(chunk_metrics(rows))
    metrics[f"answer_in_context@{CONTEXT_K}"] = ratio_or_none(sum(bool(r["answer_in_context"]) for r in in_context), len(in_context))
    metrics["answer_contains_gold"] = ratio_or_none(sum(bool(r["correct"]) for r in with_gold), len(with_gold))
    metrics["answer_words_mean"] = ratio_or_none(sum(answer_words(r["answer"]) for r in answered), len(answered))
    metrics["decline_accuracy"] = ratio_or_none(sum(counts_as_declined(r) for r in unanswerable), len(unanswerable))
    for kind, rate in decline_accuracy_by_kind(rows).items():
        metrics[f"decline_accuracy.{kind}"] = rate
    metrics["false_decline_rate"] = ratio_or_none(sum(counts_as_declined(r) for r in answerable), len(answerable))

    counts = [r["citations"] for r in answered if r.get("citations")]
    metrics["citation_precision"] = ratio_or_none(sum(c["supported"] for c in counts), sum(c["cited"] for c in counts))
    metrics["citation_recall"] = ratio_or_none(sum(c["sentences_supported"] for c in counts), sum(c["sentences"] for c in counts))

    metrics.update(latency_metrics(rows))
    metrics["questions"] = len(rows)
    metrics["answerable"] = len(answerable)
    metrics["unanswerable"] = len(unanswerable)
    return metrics


def baseline_metrics(rows: Sequence[dict], modes: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Each single retriever's retrieval metrics, its chunk-level metrics and answer_in_context@5
    where rows recorded them."""
    out = {}
    for mode in modes:
        out[mode] = retrieval_metrics(rows, key=mode)
        out[mode].update(chunk_metrics(rows, key=mode))
        held = [r["baselines_in_context"][mode] for r in rows if mode in (r.get("baselines_in_context") or {})]
        if held:
            out[mode][f"answer_in_context@{CONTEXT_K}"] = ratio_or_none(sum(held), len(held))
    return out
