"""Evaluation metrics: pure functions over the per-question rows that ``eval.runner`` writes.

Every number in the report can be recomputed from the rows alone (``compute_metrics(rows)``), so a
saved JSON report can be re-scored, and tests can check the metrics on hand-made rows.

A row holds (at least): ``answerable``, ``answers`` (gold texts), ``gold_sources``, ``retrieved``
(article ids, best first), ``answer``, ``declined``, ``answer_in_context`` (bool|None), ``correct``
(bool|None), ``citations`` ({cited, supported, sentences, sentences_supported}), ``evidence``,
``latency_ms``, ``timings_ms``, ``answer_bearing`` (per retrieved article: does it contain a gold
answer; None for unanswerable rows), ``unanswerable_kind`` (why an unanswerable question is so, e.g.
"absent" or "incidental"; None or missing when the set does not say) and, with ``--compare``,
``baselines`` ({mode: [article ids]}). Rows of sets that name kinds also hold ``kind`` ("yesno",
"summary", "chitchat", ...), ``key_fact_coverage`` (summaries) and ``conversational`` (a reply to small
talk, counted as a decline); rows without them score as before. Rows of sets that name question types
(multihop-dev) hold ``question_type`` ("inference", "comparison", "temporal", "null"), and those of
answerable questions with ``gold_facts`` also ``chunk_rank`` (the 1-based rank of the first fused
chunk holding a gold fact, None when none of the first 10 does; see :func:`first_fact_rank`) and,
with ``--compare``, ``baselines_chunk_rank`` ({mode: rank}); rows without the key are not scored on chunks.

Conventions: a metric whose denominator is 0 is ``None``. Retrieval metrics count answerable
questions that name gold sources; answer metrics count answerable questions that name gold answers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Iterable, Sequence

from assistant.answering.citations import cited_sentences, supports, without_markers

RETRIEVAL_KS = (1, 5, 10)
MRR_K = 10
CONTEXT_K = 5

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10")
ALL_GOLD_K = 10
ALL_GOLD_METRIC = f"all_gold@{ALL_GOLD_K}"
# The MultiHop-RAG benchmark's chunk-level retrieval: a chunk is relevant when it holds a gold fact.
CHUNK_HITS_KS = (4, 10)
CHUNK_METRICS = (*(f"chunk_hits@{k}" for k in CHUNK_HITS_KS), f"chunk_mrr@{MRR_K}")
METRIC_NAMES = (
    *RETRIEVAL_METRICS,
    ALL_GOLD_METRIC,
    "answer_in_context@5",
    "answer_contains_gold",
    "answer_words_mean",
    "decline_accuracy",
    "false_decline_rate",
    "citation_precision",
    "citation_recall",
    "latency_p50_ms",
    "latency_p95_ms",
    "questions",
    "answerable",
    "unanswerable",
)
# Reported only when the set has gold facts (multihop-dev), but known to --fail-under beforehand.
OPTIONAL_METRICS = CHUNK_METRICS
# Metrics named "<base>.<part>" whose parts come from the run: per-stage latencies and the decline
# accuracy of each kind of unanswerable question ("decline_accuracy.absent").
PER_STAGE_METRICS = ("latency_p50_ms", "latency_p95_ms")
PER_KIND_METRICS = ("decline_accuracy",)
# Metrics where lower is better: --fail-under fails when the metric is *over* the value.
LOWER_IS_BETTER = ("false_decline_rate", "answer_words_mean", "latency_")
# A summary is right when it covers at least this share of its key facts.
SUMMARY_RIGHT = 0.5
# One-word golds read as a verdict, and the first words of an answer that state one. "yes"/"no" and
# "true"/"false"; and the golds of MultiHop-RAG's "A or B?" comparison and temporal questions ("is
# the portrayal consistent or inconsistent?", "do they agree, or present different reasons?"): the
# gold there is always the first-named option, the proposition asked about, so "Consistent",
# "Agree", "Align", "Same", ... mean "yes" and their opposites "no". Choice golds that are no verdict
# ("Before", "Larger", "Change", "Different", an outlet's name) are matched as text, as before.
VERDICT_WORDS = {
    **dict.fromkeys(("yes", "true", "consistent", "consistently", "agree", "agrees", "agreement", "align", "aligns",
                     "same", "similar"), "yes"),
    **dict.fromkeys(("no", "false", "inconsistent", "inconsistently", "disagree", "disagrees", "disagreement"), "no"),
}

_MARKERS = re.compile(r"\s*\[\d+\]")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# --- text matching -------------------------------------------------------------------------------
def strip_markers(text: str) -> str:
    """The answer text without its ``[n]`` citation markers."""
    return without_markers(text)


def match_key(text: str) -> str:
    """Lower-case, punctuation as spaces, whitespace collapsed: "$81.8-Billion" -> "81 8 billion"."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when ``text`` contains one of ``answers`` (case- and punctuation-insensitive, on word
    boundaries: gold "48" is not found in "1480")."""
    haystack = f" {match_key(text)} "
    for answer in answers:
        key = match_key(answer)
        if key and f" {key} " in haystack:
            return True
    return False


def answer_words(text: str) -> int:
    return len(strip_markers(text).split())


# --- per-row scoring (used by the runner; pure) -----------------------------------------------------
def counts_as_declined(row: dict) -> bool:
    """Whether the row's reply counts as a decline: declined, or a conversational reply (to small talk:
    no sources, nothing answered). Handled on an unanswerable question, a false decline on another."""
    return bool(row["declined"] or row.get("conversational"))


def leading_verdict(answer: str) -> str | None:
    """"yes" or "no" when the answer's first word states a verdict (markers stripped, punctuation
    ignored; "Consistent." and "True," count as the verdict they state, see ``VERDICT_WORDS``): a
    yes/no answer counts by the verdict it leads with, not by a "no" somewhere in its text."""
    words = match_key(strip_markers(answer)).split()
    return VERDICT_WORDS.get(words[0]) if words else None


def verdict_gold(answers: Sequence[str]) -> str | None:
    """"yes" or "no" when every gold answer is one verdict word (any case, punctuation ignored:
    "Yes", "no", "Consistent", "True" ...; see ``VERDICT_WORDS``) and they all state the same
    verdict; None otherwise (no golds, a gold of several words, mixed verdicts)."""
    verdicts = {VERDICT_WORDS.get(match_key(answer)) for answer in answers}
    if len(verdicts) == 1 and None not in verdicts:
        return verdicts.pop()
    return None


def key_fact_coverage(answer: str, key_facts: Sequence[Sequence[str]], declined: bool) -> float | None:
    """The share of ``key_facts`` the answer covers (a fact is a list of alternatives: covered when the
    answer contains any, as :func:`contains_answer` matches); 0 when declined, None without key facts."""
    if not key_facts:
        return None
    if declined:
        return 0.0
    text = strip_markers(answer)
    return sum(contains_answer(text, fact) for fact in key_facts) / len(key_facts)


def row_correct(
    answerable: bool,
    answers: Sequence[str],
    answer: str,
    declined: bool,
    kind: str | None = None,
    key_facts: Sequence[Sequence[str]] = (),
    sources: Sequence[dict] = (),
) -> bool | None:
    """Whether the reply is right for the question's ``kind``.

    chitchat: it cites nothing (no sources, no [n] marker). Other unanswerable questions: declined.
    Golds that are all verdict words ("yes", "No", "Consistent": :func:`verdict_gold`), whatever the
    kind: answered, leading with that verdict (:func:`leading_verdict`; "contains the gold" would
    take "Yes, ... no ..." for a "no"). summary with key facts: it covers at least ``SUMMARY_RIGHT``
    of them. Otherwise (and for sets without kinds): answered and containing a gold answer; None when
    the question names no gold answer.
    """
    if kind == "chitchat":
        return not sources and not _MARKERS.search(answer)
    if not answerable:
        return declined
    verdict = verdict_gold(answers)
    if verdict is not None:
        return (not declined) and leading_verdict(answer) == verdict
    if kind == "summary" and key_facts:
        return key_fact_coverage(answer, key_facts, declined) >= SUMMARY_RIGHT
    if not answers:
        return None
    return (not declined) and contains_answer(strip_markers(answer), answers)


def citation_counts(answer: str, sources: Sequence[dict], source_text, question: str = "") -> dict[str, int]:
    """Citation counts of one (non-declined) answer.

    ``sources`` are the answer's sources as dicts (``n``, ``article_id``); ``source_text(article_id)``
    returns the article's text. Support is :func:`assistant.answering.citations.supports`, given ``question`` as
    verification gives it (what a reply repeats of the question is no claim to find in the source); an
    ``[n]`` naming no source is unsupported. Every sentence counts, trailing uncited text included.
    """
    by_n = {int(s["n"]): s for s in sources}
    cited = supported = sentences = sentences_supported = 0
    for sentence, numbers in cited_sentences(answer):
        sentences += 1
        any_support = False
        for n in numbers:
            cited += 1
            source = by_n.get(n)
            if source is not None and supports(sentence, source_text(source["article_id"]), given=question):
                supported += 1
                any_support = True
        sentences_supported += any_support
    return {"cited": cited, "supported": supported, "sentences": sentences, "sentences_supported": sentences_supported}


# --- aggregate metrics -----------------------------------------------------------------------------
def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


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
        out[f"recall@{k}"] = _ratio(sum(1 for rank in ranks if rank is not None and rank <= k), len(ranks))
    out[f"mrr@{MRR_K}"] = _ratio(sum(1.0 / rank for rank in ranks if rank is not None), len(ranks))
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
    out[ALL_GOLD_METRIC] = _ratio(all_gold, len(scored))
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
        out[f"chunk_hits@{k}"] = _ratio(sum(1 for rank in ranks if rank is not None and rank <= k), len(ranks))
    out[f"chunk_mrr@{MRR_K}"] = _ratio(sum(1.0 / rank for rank in ranks if rank is not None and rank <= MRR_K), len(ranks))
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


def unanswerable_kinds(rows: Sequence[dict]) -> list[str]:
    """The kinds named by the rows' unanswerable questions, sorted (rows without a kind name none)."""
    return sorted({r["unanswerable_kind"] for r in rows if not r["answerable"] and r.get("unanswerable_kind")})


def decline_accuracy_by_kind(rows: Sequence[dict], declined=counts_as_declined) -> dict[str, float]:
    """{kind: share of the unanswerable rows of that kind for which ``declined(row)`` holds} (by
    default: that were declined or given a conversational reply). Rows of unanswerable questions
    without a kind count in no kind."""
    out = {}
    for kind in unanswerable_kinds(rows):
        of_kind = [r for r in rows if not r["answerable"] and r.get("unanswerable_kind") == kind]
        out[kind] = sum(bool(declined(r)) for r in of_kind) / len(of_kind)
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
    metrics[f"answer_in_context@{CONTEXT_K}"] = _ratio(sum(bool(r["answer_in_context"]) for r in in_context), len(in_context))
    metrics["answer_contains_gold"] = _ratio(sum(bool(r["correct"]) for r in with_gold), len(with_gold))
    metrics["answer_words_mean"] = _ratio(sum(answer_words(r["answer"]) for r in answered), len(answered))
    metrics["decline_accuracy"] = _ratio(sum(counts_as_declined(r) for r in unanswerable), len(unanswerable))
    for kind, rate in decline_accuracy_by_kind(rows).items():
        metrics[f"decline_accuracy.{kind}"] = rate
    metrics["false_decline_rate"] = _ratio(sum(counts_as_declined(r) for r in answerable), len(answerable))

    counts = [r["citations"] for r in answered if r.get("citations")]
    metrics["citation_precision"] = _ratio(sum(c["supported"] for c in counts), sum(c["cited"] for c in counts))
    metrics["citation_recall"] = _ratio(sum(c["sentences_supported"] for c in counts), sum(c["sentences"] for c in counts))

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
            out[mode][f"answer_in_context@{CONTEXT_K}"] = _ratio(sum(held), len(held))
    return out


def _share_right(rows: Sequence[dict]) -> float | None:
    """The share of ``rows`` scored right, over those with a verdict (``correct`` not None)."""
    judged = [r for r in rows if r.get("correct") is not None]
    return _ratio(sum(bool(r["correct"]) for r in judged), len(judged))


def kind_metrics(rows: Sequence[dict]) -> dict | None:
    """How often each kind of question is answered right; None when no row names a kind.

    ``right_by_kind``: {kind: share right}, kinds in the order the set first names them; for
    summaries the mean key-fact coverage, with the share covering at least ``SUMMARY_RIGHT`` of
    them as ``summary_right``. ``questions_by_kind``: {the same keys: questions}.
    ``right_answerable_kinds``: the share right over the answerable rows that name a kind.
    """
    kinds = list(dict.fromkeys(r["kind"] for r in rows if r.get("kind")))
    if not kinds:
        return None
    right: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    for kind in kinds:
        of_kind = [r for r in rows if r.get("kind") == kind]
        counts[kind] = len(of_kind)
        if kind == "summary":
            coverage = [r["key_fact_coverage"] for r in of_kind if r.get("key_fact_coverage") is not None]
            right[kind] = _ratio(sum(coverage), len(coverage))
            right["summary_right"], counts["summary_right"] = _share_right(of_kind), len(of_kind)
        else:
            right[kind] = _share_right(of_kind)
    return {
        "right_by_kind": right,
        "questions_by_kind": counts,
        "right_answerable_kinds": _share_right([r for r in rows if r["answerable"] and r.get("kind")]),
    }


def mean_kind_metrics(per_set: Sequence[dict | None]) -> dict | None:
    """:func:`kind_metrics` over several sets: each share the mean of the sets' shares (sets without
    the kind skipped), the questions summed; None when no set names a kind."""
    sets = [kinds for kinds in per_set if kinds]
    if not sets:
        return None
    counts: dict[str, int] = {}
    for kinds in sets:
        for kind, n in kinds["questions_by_kind"].items():
            counts[kind] = counts.get(kind, 0) + n
    return {
        "right_by_kind": mean_values([kinds["right_by_kind"] for kinds in sets]),
        "questions_by_kind": counts,
        "right_answerable_kinds": mean_values([{"right": kinds["right_answerable_kinds"]} for kinds in sets])["right"],
    }


TYPE_COLUMNS = ("questions", "declined", "answer_right", ALL_GOLD_METRIC, "false_decline_rate")


def _type_numbers(rows: Sequence[dict]) -> dict[str, float | int | None]:
    answerable = [r for r in rows if r["answerable"]]
    return {
        "questions": len(rows),
        "declined": _ratio(sum(counts_as_declined(r) for r in rows), len(rows)),
        "answer_right": _share_right(rows),
        ALL_GOLD_METRIC: retrieval_metrics(rows)[ALL_GOLD_METRIC],
        "false_decline_rate": _ratio(sum(counts_as_declined(r) for r in answerable), len(answerable)),
    }


def type_metrics(rows: Sequence[dict]) -> dict | None:
    """The numbers of each question type (``row["question_type"]``: multihop-dev's inference,
    comparison, temporal, null); None when no row names one.

    ``by_type``: {type: {questions, declined (share of its questions declined), answer_right (share
    right, ``row["correct"]``: containing the gold, the gold verdict, or declined for an unanswerable
    one), all_gold@10, false_decline_rate}}, types in the order the set first names them; ``all``:
    the same over every row that names a type.
    """
    types = list(dict.fromkeys(r["question_type"] for r in rows if r.get("question_type")))
    if not types:
        return None
    return {
        "by_type": {t: _type_numbers([r for r in rows if r.get("question_type") == t]) for t in types},
        "all": _type_numbers([r for r in rows if r.get("question_type")]),
    }


def mean_type_metrics(per_set: Sequence[dict | None]) -> dict | None:
    """:func:`type_metrics` over several sets: each share the mean of the sets' (None skipped), the
    questions summed; None when no set names a type."""
    sets = [types for types in per_set if types]
    if not sets:
        return None

    def merged(numbers: list[dict]) -> dict:
        out = mean_values(numbers)
        out["questions"] = sum(n["questions"] for n in numbers)
        return out

    names = list(dict.fromkeys(t for types in sets for t in types["by_type"]))
    return {
        "by_type": {t: merged([types["by_type"][t] for types in sets if t in types["by_type"]]) for t in names},
        "all": merged([types["all"] for types in sets]),
    }


def mean_values(dicts: Sequence[dict]) -> dict[str, float | None]:
    """{key: the mean of the dicts' values for it, skipping None (None when none has one)}: the mean
    over several sets of each set's metric. A key only a later dict has goes after the key it follows
    there, so "decline_accuracy.chitchat" stays beside "decline_accuracy" in the tables."""
    keys: list[str] = []
    for d in dicts:
        at = 0
        for key in d:
            if key not in keys:
                keys.insert(at, key)
            at = keys.index(key) + 1
    out: dict[str, float | None] = {}
    for key in keys:
        values = [d[key] for d in dicts if d.get(key) is not None]
        out[key] = _ratio(sum(values), len(values))
    return out


# --- decline-threshold calibration -----------------------------------------------------------------
def decline_rates(rows: Sequence[dict], threshold: float) -> tuple[float | None, float | None]:
    """(decline_accuracy, false_decline_rate) if the answerer declined exactly when evidence < threshold."""
    answerable = [r["evidence"] for r in rows if r["answerable"]]
    unanswerable = [r["evidence"] for r in rows if not r["answerable"]]
    return (
        _ratio(sum(e < threshold for e in unanswerable), len(unanswerable)),
        _ratio(sum(e < threshold for e in answerable), len(answerable)),
    )


def decline_rates_by_kind(rows: Sequence[dict], threshold: float) -> dict[str, float]:
    """{kind: decline accuracy on the unanswerable rows of that kind} if the answerer declined exactly
    when evidence < threshold (the per-kind companion of :func:`decline_rates`)."""
    return decline_accuracy_by_kind(rows, declined=lambda r: r["evidence"] < threshold)


def _short_decimal(low: float, high: float) -> float:
    """The shortest decimal v with low < v <= high (a threshold that prints and reads back exactly)."""
    for digits in range(1, 13):
        step = 10.0**-digits
        value = round(math.floor(low / step) * step + step, digits)
        if low < value <= high:
            return value
    return high


def calibrate_threshold(rows: Sequence[dict], max_false_decline: float = 0.10) -> dict | None:
    """The decline threshold (on ``evidence``) that maximises decline_accuracy subject to
    false_decline_rate <= ``max_false_decline``; ties go to the lowest threshold.

    The answerer declines when evidence < threshold, so only the set of declined questions matters:
    the candidates decline the k lowest-evidence questions, k = 0, 1, ... Of the best decision the
    threshold reported is the lowest short decimal that makes it (above the highest declined evidence,
    at most the lowest kept one). Returns ``{"threshold", "decline_accuracy", "false_decline_rate",
    "decline_accuracy_by_kind", "max_false_decline", "questions"}``, or None without rows;
    ``decline_accuracy_by_kind`` ({kind: rate}, empty when no row names a kind) is what the chosen
    threshold does to each kind of unanswerable question: the objective is the overall accuracy, and
    this shows whether it is bought on one kind ("absent") while the other ("incidental") gets through.
    """
    evidence = sorted({float(r["evidence"]) for r in rows})
    if not evidence:
        return None
    # (threshold, highest declined evidence or None); threshold = lowest evidence kept (or above all)
    candidates = [(e, evidence[i - 1] if i else None) for i, e in enumerate(evidence)]
    candidates.append((math.inf, evidence[-1]))
    best = None
    for upper, declined_max in candidates:  # ascending: only a strictly better accuracy replaces the best
        accuracy, false_rate = decline_rates(rows, upper)
        if false_rate is not None and false_rate > max_false_decline:
            continue
        if best is None or (accuracy or 0.0) > (best[2] or 0.0):
            best = (upper, declined_max, accuracy, false_rate)
    upper, declined_max, accuracy, false_rate = best  # the first candidate declines nothing: always allowed
    if declined_max is None:
        threshold = min(0.0, evidence[0])
    else:
        threshold = _short_decimal(declined_max, upper)
    return {
        "threshold": threshold,
        "decline_accuracy": accuracy,
        "false_decline_rate": false_rate,
        "decline_accuracy_by_kind": decline_rates_by_kind(rows, threshold),
        "max_false_decline": max_false_decline,
        "questions": len(rows),
    }


# --- fail-under checks -----------------------------------------------------------------------------
def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER or metric.startswith("latency_")


def is_known_metric(metric: str) -> bool:
    """Names valid before a run (per-stage latencies and per-kind decline accuracies are checked
    against the run's stages and kinds later: see :func:`measured_parts`; the chunk-level metrics of
    a set without gold facts are null)."""
    if metric in METRIC_NAMES or metric in OPTIONAL_METRICS:
        return True
    base, dot, part = metric.partition(".")
    return bool(dot and part and base in (*PER_STAGE_METRICS, *PER_KIND_METRICS))


def measured_parts(metrics: dict, metric: str) -> list[str]:
    """For a per-stage or per-kind name (``latency_p50_ms.retrieve``, ``decline_accuracy.absent``):
    the stages or kinds the run measured, to name in the error when the asked one is not among them."""
    base = metric.partition(".")[0]
    if base in PER_STAGE_METRICS:
        base = "latency_p50_ms"  # both percentiles are measured for the same stages
    prefix = base + "."
    return sorted(k[len(prefix):] for k in metrics if k.startswith(prefix))


def check_thresholds(metrics: dict, thresholds: dict[str, float]) -> list[str]:
    """One message per missed threshold (empty when every check passes)."""
    failures = []
    for name, limit in thresholds.items():
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} is null (no questions to measure it on); required {'<=' if lower_is_better(name) else '>='} {limit:g}")
        elif lower_is_better(name) and value > limit:
            failures.append(f"{name} = {value:.4g} is over {limit:g} by {value - limit:.4g}")
        elif not lower_is_better(name) and value < limit:
            failures.append(f"{name} = {value:.4g} is under {limit:g} by {limit - value:.4g}")
    return failures
