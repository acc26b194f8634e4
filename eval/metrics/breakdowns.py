"""The numbers broken down by question kind (``row["kind"]``) and question type
(``row["question_type"]``), and their means over several sets."""

from __future__ import annotations

from typing import Sequence

from eval.metrics.declines import counts_as_declined
from eval.metrics.ratio import ratio_or_none
from eval.metrics.retrieval import ALL_GOLD_METRIC, retrieval_metrics


def _share_right(rows: Sequence[dict]) -> float | None:
    """The share of ``rows`` scored right, over those with a verdict (``correct`` not None)."""
    judged = [r for r in rows if r.get("correct") is not None]
    return ratio_or_none(sum(bool(r["correct"]) for r in judged), len(judged))


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
            right[kind] = ratio_or_none(sum(coverage), len(coverage))
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
        "declined": ratio_or_none(sum(counts_as_declined(r) for r in rows), len(rows)),
        "answer_right": _share_right(rows),
        ALL_GOLD_METRIC: retrieval_metrics(rows)[ALL_GOLD_METRIC],
        "false_decline_rate": ratio_or_none(sum(counts_as_declined(r) for r in answerable), len(answerable)),
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
        out[key] = ratio_or_none(sum(values), len(values))
    return out
