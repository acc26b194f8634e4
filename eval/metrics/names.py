"""The metric names: every one a report has, which are lower-is-better, which ``--fail-under`` may
name before a run, and the ``--fail-under`` checks themselves."""

from __future__ import annotations

from eval.metrics.retrieval import ALL_GOLD_METRIC, CHUNK_METRICS, RETRIEVAL_METRICS

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
