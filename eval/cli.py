"""``newsdesk eval``: run an evaluation set through the engine and report retrieval, answer, decline,
citation and latency metrics. Mounted by ``assistant.cli`` as the ``eval`` command."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional

import typer

FAIL_UNDER_HELP = (
    "METRIC=VALUE, repeatable: exit 2 when the metric misses. For most metrics a miss is metric < VALUE; "
    "for false_decline_rate, answer_words_mean and latency_* (lower is better) it is metric > VALUE "
    "('fail over'). Per-stage latencies are named like latency_p95_ms.retrieve, the decline accuracy of one "
    "kind of unanswerable question like decline_accuracy.absent. A null metric misses."
)
REFS_HELP = (
    "A set (e.g. ../shared/data/rtqa-dev/questions.jsonl) that items with a 'ref' take their answers, "
    "gold_sources, answerable and unanswerable_kind from: the question with id == ref. Needed when "
    "the set has such items (a follow-up set)."
)
STANDALONE_HELP = (
    "For items with a 'ref': ask the referenced question's own text, with no history, instead of the "
    "follow-up in its conversation; to compare follow-ups with the same questions asked standalone."
)


def _parse_thresholds(specs: list[str]) -> dict[str, float]:
    from eval.metrics import METRIC_NAMES, is_known_metric

    thresholds: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. recall@5=0.9")
        if not is_known_metric(name):
            raise ValueError(
                f"--fail-under: unknown metric {name!r} (known: {', '.join(METRIC_NAMES)}, latency_p50_ms.<stage>, latency_p95_ms.<stage>)"
            )
        try:
            thresholds[name] = float(value)
        except ValueError:
            raise ValueError(f"--fail-under {spec!r}: {value!r} is not a number") from None
    return thresholds


def _parse_compare(spec: str | None) -> list[str]:
    from eval.runner import BASELINE_MODES

    if not spec:
        return []
    modes: list[str] = []
    for mode in (m.strip() for m in spec.split(",")):
        if not mode:
            continue
        if mode not in BASELINE_MODES:
            raise ValueError(f"--compare: unknown retriever {mode!r} (choose from {', '.join(BASELINE_MODES)})")
        if mode not in modes:
            modes.append(mode)
    return modes


def eval_command(
    set_path: Path = typer.Argument(..., metavar="SET.jsonl", help="Evaluation set: one JSON object a line "
                                    "(id, question, answers[], gold_sources[], answerable, optional history and "
                                    "unanswerable_kind; or id, question, history and a 'ref' with --refs)."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Ingest this corpus first (idempotently) into a "
                                          "collection of its own, named from the corpus, and evaluate on it. "
                                          "Default: the current store."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Chunks handed to the answerer (default: settings)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the JSON report (metrics and one row per question)."),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Write a Markdown report: metrics, retrieval misses, "
                                            "unanswerable questions answered, failed questions."),
    fail_under: List[str] = typer.Option([], "--fail-under", metavar="METRIC=VALUE", help=FAIL_UNDER_HELP),
    compare: Optional[str] = typer.Option(None, "--compare", metavar="bm25,dense",
                                          help="Also score these single retrievers (retrieval metrics only) as baselines."),
    calibrate: bool = typer.Option(False, "--calibrate", help="Print the decline threshold that maximises decline_accuracy "
                                   "with false_decline_rate <= 0.10 on this set, and the decline rate of each "
                                   "unanswerable_kind at it."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N questions."),
    refs: Optional[Path] = typer.Option(None, "--refs", metavar="REFS.jsonl", help=REFS_HELP),
    standalone: bool = typer.Option(False, "--standalone", help=STANDALONE_HELP),
) -> None:
    """Evaluate the assistant on a question set: retrieval, answers, declines, citations, latency.

    Exit 0 when every --fail-under check passes, 2 when a metric misses, 1 on an error.
    """
    from rich.console import Console

    from assistant.settings import get_settings
    from eval import metrics as m
    from eval import report as rep
    from eval.runner import evaluate, load_set, open_engine

    out, err = Console(), Console(stderr=True)
    interactive = out.is_terminal

    # Everything the user can get wrong is checked before the (slow) run.
    thresholds = _parse_thresholds(fail_under)
    modes = _parse_compare(compare)
    if top_k is not None and top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {top_k}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    if standalone and refs is None:
        raise ValueError("--standalone asks the questions named by 'ref': it needs --refs REFS.jsonl")
    items = load_set(set_path, refs=refs, standalone=standalone)
    if limit is not None:
        items = items[:limit]

    started = time.perf_counter()
    settings = get_settings()
    if corpus is not None and interactive:
        from assistant.progress import ingest_progress

        with ingest_progress(err, f"ingest {corpus}: articles", transient=True) as progress:
            setup = open_engine(settings, corpus, progress=progress)
    else:
        setup = open_engine(settings, corpus)
    if setup.ingest is not None:
        err.print(f"corpus {corpus} -> collection {setup.collection}: {setup.ingest_line}", highlight=False, markup=False, soft_wrap=True)
        for failure in setup.ingest["failed"]:
            where = f"{failure['path']}:{failure['line']}" if failure.get("line") else failure["path"]
            err.print(f"warning: not ingested {where}: {failure['error']}", highlight=False, markup=False, soft_wrap=True)
    if setup.store.count_chunks() == 0:
        err.print(f"warning: collection {setup.collection!r} is empty: every question will be declined",
                  style="yellow", highlight=False)

    if interactive:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=err, transient=True) as bar:
            task = bar.add_task("questions", total=len(items))
            rows = evaluate(setup.engine, setup.store, items, top_k=top_k, compare=modes,
                            on_row=lambda row: bar.advance(task))
    else:
        rows = evaluate(setup.engine, setup.store, items, top_k=top_k, compare=modes)

    fell_back = [row for row in rows if row.get("fallback_reason")]
    if fell_back:
        err.print(f"warning: {len(fell_back)} of {len(rows)} answers are extractive stand-ins for the LLM "
                  f"(first: {fell_back[0]['fallback_reason']})", style="yellow", highlight=False, markup=False, soft_wrap=True)
    metrics = m.compute_metrics(rows)
    baselines = m.baseline_metrics(rows, modes) if modes else None
    calibration = m.calibrate_threshold(rows) if calibrate else None
    diagnostics = {"answer_bearing": m.answer_bearing_metrics(rows)}
    report = rep.build_report(
        set_path=str(set_path),
        corpus=str(corpus) if corpus is not None else None,
        settings=rep.settings_summary(setup.engine.settings, top_k),
        metrics=metrics,
        rows=rows,
        baselines=baselines,
        ingest=setup.ingest,
        calibration=calibration,
        diagnostics=diagnostics,
        elapsed_s=time.perf_counter() - started,
    )
    if output is not None:
        rep.write_json(report, output)
    if markdown is not None:
        rep.write_markdown(report, markdown)

    title = f"{set_path} ({metrics['questions']} questions)"
    if interactive:
        out.print(rep.rich_table(metrics, baselines, title=title))
    else:
        print(title)
        print(rep.plain_table(metrics, baselines))
    bearing = rep.answer_bearing_line(diagnostics)
    if bearing:
        print(f"retrieval {bearing}")

    if calibration is not None:
        current = setup.engine.settings.decline_threshold
        now_acc, now_false = m.decline_rates(rows, current)
        now_kinds = rep.by_kind_text(m.decline_rates_by_kind(rows, current))
        kinds = rep.by_kind_text(calibration["decline_accuracy_by_kind"])
        print(
            f"calibrated decline threshold: {calibration['threshold']:.6g} -> decline_accuracy "
            f"{rep.fmt('x', calibration['decline_accuracy'])}{kinds}, false_decline_rate {rep.fmt('x', calibration['false_decline_rate'])} "
            f"(current {current:g}: decline_accuracy {rep.fmt('x', now_acc)}{now_kinds}, false_decline_rate {rep.fmt('x', now_false)}); "
            f"set NEWSDESK_DECLINE_THRESHOLD={calibration['threshold']:.6g}"
        )

    missing = [name for name in thresholds if name not in metrics]
    if missing:
        name = missing[0]
        what = "kinds" if name.partition(".")[0] in m.PER_KIND_METRICS else "stages"
        measured = ", ".join(m.measured_parts(metrics, name)) or "none"
        raise ValueError(f"--fail-under: unknown metric {name!r} ({what} measured: {measured})")
    failures = m.check_thresholds(metrics, thresholds)
    for message in failures:
        err.print(f"FAIL {message}", style="red", highlight=False, markup=False, soft_wrap=True)
    if failures:
        # sys.exit, not typer.Exit: assistant.cli.run() calls the app with standalone_mode=False, where
        # click returns a typer.Exit's code instead of exiting with it.
        sys.exit(2)
