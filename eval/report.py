"""The evaluation report: JSON document, metrics table (rich or plain text) and Markdown.

One set gives one report; several give ``{"sets": [report, ...], "mean": {metric: mean over the
sets}}`` (see :func:`build_multi_report`), which :func:`write_markdown` renders as one document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from eval.metrics import (
    RETRIEVAL_METRICS,
    SUMMARY_RIGHT,
    TYPE_COLUMNS,
    counts_as_declined,
    mean_kind_metrics,
    mean_type_metrics,
    mean_values,
)

SETTINGS_KEYS = (
    "top_k",
    "candidate_k",
    "rrf_k",
    "dense_weight",
    "bm25_weight",
    "decline_threshold",
    "max_answer_sentences",
    "max_answer_words",
    "llm",
    "llm_model",
    "embedding",
    "embedding_model",
    "chunk_tokens",
    "chunk_overlap",
    "collection",
)


def settings_summary(settings, top_k: int | None) -> dict:
    out = {key: getattr(settings, key) for key in SETTINGS_KEYS if hasattr(settings, key)}
    if top_k is not None:
        out["top_k"] = top_k
    return out


def build_report(
    *,
    set_path: str,
    corpus: str | None,
    settings: dict,
    metrics: dict,
    rows: list[dict],
    baselines: dict | None = None,
    ingest: dict | None = None,
    calibration: dict | None = None,
    diagnostics: dict | None = None,
    kinds: dict | None = None,
    types: dict | None = None,
    elapsed_s: float | None = None,
) -> dict:
    report: dict = {"set": set_path, "corpus": corpus, "settings": settings, "ingest": ingest, "metrics": metrics}
    if kinds:
        report["kinds"] = kinds
    if types:
        report["types"] = types
    if diagnostics:
        report["diagnostics"] = diagnostics
    if baselines is not None:
        report["baselines"] = baselines
    if calibration is not None:
        report["calibration"] = calibration
    if elapsed_s is not None:
        report["elapsed_s"] = round(elapsed_s, 2)
    report["questions"] = rows
    return report


def build_multi_report(reports: Sequence[dict], calibration: dict | None = None) -> dict:
    """The document of a run over several sets: each set's report, the mean of each metric over the
    sets (of the per-set values, skipping None), the same for the kinds and the question types when
    a set names them, and with ``calibration`` the one calibrated on the rows of all sets pooled."""
    document: dict = {"sets": list(reports), "mean": mean_values([r["metrics"] for r in reports])}
    kinds = mean_kind_metrics([r.get("kinds") for r in reports])
    if kinds:
        document["mean_kinds"] = kinds
    types = mean_type_metrics([r.get("types") for r in reports])
    if types:
        document["mean_types"] = types
    if calibration is not None:
        document["calibration"] = calibration
    return document


def mean_title(reports: Sequence[dict]) -> str:
    return f"mean over {len(reports)} sets ({', '.join(r['set'] for r in reports)})"


def write_json(report: dict, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- the metrics table -------------------------------------------------------------------------------
COUNT_METRICS = ("questions", "answerable", "unanswerable")
KIND_LABELS = {
    "summary": "summary (mean key-fact coverage)",
    "summary_right": f"summary_right (coverage >= {SUMMARY_RIGHT:g})",
}


def fmt(name: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if name in COUNT_METRICS:  # a mean over sets
        return f"{value:g}"
    if name.startswith("latency_"):
        return f"{value:.1f}"
    if name == "answer_words_mean":
        return f"{value:.1f}"
    return f"{value:.3f}"


def table_rows(metrics: dict, baselines: dict | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows: metric, value and (for retrieval metrics and answer_in_context) one column per baseline."""
    modes = list(baselines or {})
    header = ["metric", "hybrid" if modes else "value", *modes]
    rows = []
    for name, value in metrics.items():
        extra = [fmt(name, baselines[m].get(name)) if name in baselines[m] else "" for m in modes]
        rows.append([name, fmt(name, value), *extra])
    return header, rows


def kind_table_rows(kinds: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-kind table (``eval.metrics.kind_metrics``): kind, questions, share
    right, and last the share right over the answerable questions of every kind."""
    rows = [
        [KIND_LABELS.get(kind, kind), str(kinds["questions_by_kind"][kind]), fmt("right", right)]
        for kind, right in kinds["right_by_kind"].items()
    ]
    rows.append(["answerable, all kinds", "", fmt("right", kinds["right_answerable_kinds"])])
    return ["kind", "n", "right"], rows


def type_table_rows(types: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-question-type table (``eval.metrics.type_metrics``): type, n,
    declined, right, all_gold@10, false_decline_rate; last the same over every typed question."""
    def cells(label: str, numbers: dict) -> list[str]:
        return [label, *(fmt(column, numbers.get(column)) for column in TYPE_COLUMNS)]

    rows = [cells(name, numbers) for name, numbers in types["by_type"].items()]
    rows.append(cells("all types", types["all"]))
    header = ["type", "n", "declined", "right", *TYPE_COLUMNS[3:]]
    return header, rows


def format_plain(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for i, row in enumerate([header, *rows]):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_rich(header: list[str], rows: list[list[str]], title: str | None = None, dim: Sequence[str] = ()):
    """The rich counterpart of :func:`format_plain`, the columns named in ``dim`` (baselines) dimmed."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column(header[0])
    for name in header[1:]:
        table.add_column(name, justify="right", style="dim" if name in dim else None)
    for row in rows:
        table.add_row(*row)
    return table


def by_kind_text(rates: dict | None) -> str:
    """Per-kind decline accuracies as `` (absent 0.900, incidental 0.500)``; "" when there are none."""
    if not rates:
        return ""
    return " (" + ", ".join(f"{kind} {fmt('x', rate)}" for kind, rate in rates.items()) + ")"


def answer_bearing_line(diagnostics: dict | None) -> str | None:
    """One line on retrieval with answer-bearing articles counted relevant (see
    ``eval.metrics.answer_bearing_metrics``), or None when the run has no such numbers."""
    found = (diagnostics or {}).get("answer_bearing") or {}
    if found.get("recall@5") is None:
        return None
    numbers = ", ".join(f"{name} {fmt(name, found.get(name))}" for name in RETRIEVAL_METRICS)
    return f"counting any retrieved article that contains a gold answer as relevant (diagnostic): {numbers}"


# --- markdown ------------------------------------------------------------------------------------------
def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    return lines + ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]


def failed_rows(rows: Sequence[dict]) -> list[dict]:
    """Questions scored wrong (``correct`` False: declined or not answered right for its kind, or an
    unanswerable one answered) and answerable questions without gold answers that were declined."""
    return [
        r for r in rows
        if r.get("correct") is False or (r["answerable"] and r.get("correct") is None and counts_as_declined(r))
    ]


MISS_K = 5


def retrieval_misses(rows: Sequence[dict]) -> list[dict]:
    """Answerable questions naming gold sources none of which was retrieved in the top ``MISS_K``."""
    return [
        r for r in rows
        if r["answerable"] and r.get("gold_sources") and not set(r["gold_sources"]) & set(r.get("retrieved", [])[:MISS_K])
    ]


def answered_unanswerable(rows: Sequence[dict]) -> list[dict]:
    """Unanswerable questions that were answered instead of declined (or given a conversational reply)."""
    return [r for r in rows if not r["answerable"] and not counts_as_declined(r)]


def first_quote(row: dict) -> str:
    """The quote of the answer's first source ("" when it has none)."""
    sources = row.get("sources") or []
    return (sources[0].get("quote") or "") if sources else ""


def markdown_report(report: dict) -> str:
    metrics, baselines = report["metrics"], report.get("baselines")
    header, rows = table_rows(metrics, baselines)
    lines = [f"# Evaluation: {report['set']}", ""]
    if report.get("corpus"):
        lines += [f"Corpus: `{report['corpus']}` (collection `{report['settings'].get('collection', '')}`)", ""]
    lines += [
        "Settings: " + ", ".join(f"{k}={v}" for k, v in report["settings"].items()),
        "",
        "## Metrics",
        "",
        *_md_table(header, rows),
    ]
    if report.get("kinds"):
        lines += ["", "## Right by kind", "", *_md_table(*kind_table_rows(report["kinds"]))]
    if report.get("types"):
        lines += ["", "## By question type", "", *_md_table(*type_table_rows(report["types"]))]
    if report.get("calibration"):
        c = report["calibration"]
        lines += ["", f"Calibrated decline threshold: {_calibration_md(c)}, max false_decline_rate {c['max_false_decline']:g})"]

    line = answer_bearing_line(report.get("diagnostics"))
    if line:
        lines += ["", f"Retrieval {line}."]

    misses = retrieval_misses(report["questions"])
    if misses:
        lines += ["", f"## Retrieval misses: no gold article in the top {MISS_K} ({len(misses)})", ""]
        for r in misses:
            lines.append(f"- **{r['id']}** {_md_escape(r['question'])} (gold: {_md_escape('; '.join(r.get('answers') or []))})")
            gold_titles = r.get("gold_titles") or [""] * len(r["gold_sources"])  # older reports have none
            for gold_id, title in zip(r["gold_sources"], gold_titles):
                shown = "(not in the store)" if title is None else _md_escape(title)
                lines.append(f"  - gold: {shown} (`{gold_id}`)")
            titles = r.get("retrieved_titles") or []
            bearing = r.get("answer_bearing") or []
            for i, article_id in enumerate(r.get("retrieved", [])[:3]):
                title = titles[i] if i < len(titles) else ""
                mark = " (contains a gold answer)" if i < len(bearing) and bearing[i] else ""
                lines.append(f"  - got {i + 1}: {_md_escape(title)} (`{article_id}`){mark}")

    unanswerable = [r for r in report["questions"] if not r["answerable"]]
    leaked = answered_unanswerable(unanswerable)
    lines += ["", f"## Unanswerable questions answered ({len(leaked)})", ""]
    if not unanswerable:
        lines.append("None: the set has no unanswerable questions.")
    elif not leaked:
        lines.append(f"None: all {len(unanswerable)} were declined.")
    for r in leaked:
        kind = r.get("unanswerable_kind") or "kind not given"
        lines.append(f"- **{r['id']}** ({_md_escape(kind)}) {_md_escape(r['question'])}")
        if r.get("standalone_question") and r["standalone_question"] != r["question"]:
            lines.append(f"  - understood as: {_md_escape(r['standalone_question'])}")
        lines.append(f"  - answered: {_md_escape(r['answer'])}")
        quote = first_quote(r)
        lines.append(f"  - first quote: {_md_escape(quote) if quote else '(no source quoted)'}")

    failed = failed_rows(report["questions"])
    lines += ["", f"## Failed questions ({len(failed)} of {len(report['questions'])})", ""]
    if not failed:
        lines.append("None.")
    for r in failed:
        kind = "answerable" if r["answerable"] else "unanswerable"
        if not r["answerable"] and r.get("unanswerable_kind"):
            kind += f", {_md_escape(r['unanswerable_kind'])}"
        if r.get("kind"):
            kind += f", kind {_md_escape(r['kind'])}"
        if r.get("question_type"):
            kind += f", type {_md_escape(r['question_type'])}"
        lines.append(f"### {r['id']} ({kind})")
        lines.append("")
        lines.append(f"- **Question:** {_md_escape(r['question'])}")
        if r.get("ref"):
            lines.append(f"- **Ref:** `{r['ref']}`")
        if r.get("standalone_question") and r["standalone_question"] != r["question"]:
            lines.append(f"- **Understood as:** {_md_escape(r['standalone_question'])}")
        if r.get("key_facts"):
            facts = "; ".join(" / ".join(fact) for fact in r["key_facts"])
            lines.append(f"- **Key facts** ({fmt('x', r.get('key_fact_coverage'))} covered): {_md_escape(facts)}")
        else:
            gold = "; ".join(r.get("answers") or []) or "(none: should decline)"
            lines.append(f"- **Gold:** {_md_escape(gold)}")
        if r.get("gold_sources"):
            lines.append(f"- **Gold sources:** {', '.join(f'`{s}`' for s in r['gold_sources'])}")
        said = "(declined) " + r["answer"] if r["declined"] else r["answer"]
        if r.get("conversational"):
            said = "(conversational) " + said
        lines.append(f"- **Answered:** {_md_escape(said)}")
        lines.append(f"- **Evidence:** {r.get('evidence', 0):.3f}")
        titles = r.get("retrieved_titles") or []
        lines.append("- **Top retrieved:**")
        if not r.get("retrieved"):
            lines.append("  (nothing)")
        for i, article_id in enumerate(r.get("retrieved", [])[:3]):
            title = titles[i] if i < len(titles) and titles[i] else ""
            mark = " ✓" if article_id in (r.get("gold_sources") or []) else ""
            label = f"{_md_escape(title)} (`{article_id}`)" if title else f"`{article_id}`"
            lines.append(f"  {i + 1}. {label}{mark}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _calibration_md(c: dict) -> str:
    """"0.48 (decline_accuracy 0.781 (absent ...), false_decline_rate 0.059": the caller closes it."""
    return (f"{c['threshold']:.6g} (decline_accuracy {fmt('x', c['decline_accuracy'])}"
            f"{_md_escape(by_kind_text(c.get('decline_accuracy_by_kind')))}, false_decline_rate {fmt('x', c['false_decline_rate'])}")


def multi_markdown_report(document: dict) -> str:
    """A run over several sets (:func:`build_multi_report`): the mean metrics (and kinds), the pooled
    calibration, then each set's own report."""
    reports = document["sets"]
    lines = [f"# Evaluation: {mean_title(reports)}", "", *_md_table(*table_rows(document["mean"]))]
    if document.get("mean_kinds"):
        lines += ["", "## Right by kind (mean over the sets)", "", *_md_table(*kind_table_rows(document["mean_kinds"]))]
    if document.get("mean_types"):
        lines += ["", "## By question type (mean over the sets)", "", *_md_table(*type_table_rows(document["mean_types"]))]
    if document.get("calibration"):
        lines += ["", f"Calibrated decline threshold on the pooled sets: {_calibration_md(document['calibration'])})"]
    text = "\n".join(lines) + "\n"
    return text + "".join("\n" + markdown_report(report) for report in reports)


def write_markdown(report: dict, path: str | Path) -> None:
    """``report``: one set's report or the document of several (``{"sets": [...], ...}``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = multi_markdown_report(report) if "sets" in report else markdown_report(report)
    path.write_text(text, encoding="utf-8")
