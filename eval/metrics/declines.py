"""Declines: what counts as one, the decline accuracy of each kind of unanswerable question, and the
calibration of the decline threshold on ``evidence`` (``newsdesk eval --calibrate``)."""

from __future__ import annotations

import math
from typing import Sequence

from eval.metrics.ratio import ratio_or_none


def counts_as_declined(row: dict) -> bool:
    """Whether the row's reply counts as a decline: declined, or a conversational reply (to small talk:
    no sources, nothing answered). Handled on an unanswerable question, a false decline on another."""
    return bool(row["declined"] or row.get("conversational"))


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


# --- decline-threshold calibration -----------------------------------------------------------------
def decline_rates(rows: Sequence[dict], threshold: float) -> tuple[float | None, float | None]:
    """(decline_accuracy, false_decline_rate) if the answerer declined exactly when evidence < threshold."""
    answerable = [r["evidence"] for r in rows if r["answerable"]]
    unanswerable = [r["evidence"] for r in rows if not r["answerable"]]
    return (
        ratio_or_none(sum(e < threshold for e in unanswerable), len(unanswerable)),
        ratio_or_none(sum(e < threshold for e in answerable), len(answerable)),
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
