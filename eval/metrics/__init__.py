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

One module per concern: :mod:`.answers` (is an answer right: matching, verdicts, key facts,
``row_correct``), :mod:`.citations` (citation counts of one answer), :mod:`.retrieval` (recall, mrr,
all_gold, chunk hits; the k's), :mod:`.declines` (what counts as a decline, per-kind decline accuracy,
threshold calibration), :mod:`.overall` (``compute_metrics``, latency, baselines), :mod:`.breakdowns`
(per kind and per question type, and means over sets), :mod:`.names` (the metric names and the
``--fail-under`` checks); :mod:`.ratio` holds the None-for-0 convention they share.

Every public name is re-exported here, and the rest of the project (``eval.runner``, ``eval.report``,
``eval.cli``, ``bench``, tests) imports them from ``eval.metrics``, not from the modules beneath it.
"""

from eval.metrics.answers import (
    SUMMARY_RIGHT,
    VERDICT_WORDS,
    answer_words,
    contains_answer,
    key_fact_coverage,
    leading_verdict,
    match_key,
    row_correct,
    strip_markers,
    verdict_gold,
)
from eval.metrics.breakdowns import (
    TYPE_COLUMNS,
    kind_metrics,
    mean_kind_metrics,
    mean_type_metrics,
    mean_values,
    type_metrics,
)
from eval.metrics.citations import citation_counts
from eval.metrics.declines import (
    calibrate_threshold,
    counts_as_declined,
    decline_accuracy_by_kind,
    decline_rates,
    decline_rates_by_kind,
    unanswerable_kinds,
)
from eval.metrics.names import (
    LOWER_IS_BETTER,
    METRIC_NAMES,
    OPTIONAL_METRICS,
    PER_KIND_METRICS,
    PER_STAGE_METRICS,
    check_thresholds,
    is_known_metric,
    lower_is_better,
    measured_parts,
)
from eval.metrics.overall import baseline_metrics, compute_metrics, latency_metrics, percentile
from eval.metrics.retrieval import (
    ALL_GOLD_K,
    ALL_GOLD_METRIC,
    CHUNK_HITS_KS,
    CHUNK_METRICS,
    CONTEXT_K,
    MRR_K,
    RETRIEVAL_KS,
    RETRIEVAL_METRICS,
    answer_bearing_metrics,
    chunk_metrics,
    fact_in_chunk,
    first_fact_rank,
    first_gold_rank,
    retrieval_metrics,
)
