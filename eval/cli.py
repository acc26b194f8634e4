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
    from eval.metrics import METRIC_NAMES, OPTIONAL_METRICS, is_known_metric

    thresholds: dict[str, float] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. recall@5=0.9")
        if not is_known_metric(name):
            raise ValueError(
                f"--fail-under: unknown metric {name!r} (known: {', '.join((*METRIC_NAMES, *OPTIONAL_METRICS))}, "
                "latency_p50_ms.<stage>, latency_p95_ms.<stage>)"
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


def _pair_corpora(set_paths: list[Path], corpora: list[Path]) -> list[Path | None]:
    """The corpus of each set: none (the current store) for all, one for all, or one per set by position."""
    if not corpora:
        return [None] * len(set_paths)
    if len(corpora) == 1:
        return corpora * len(set_paths)
    if len(corpora) != len(set_paths):
        raise ValueError(
            f"--corpus given {len(corpora)} times for {len(set_paths)} sets: give it once (for every set) "
            "or once per set (paired by position)"
        )
    return list(corpora)


def _open_setup(settings, corpus: Path | None, embed_model, err, interactive: bool):
    """The engine over ``corpus`` (ingested first, idempotently), with its ingest lines on stderr."""
    from eval.runner import open_engine

    if corpus is not None and interactive:
        from ingest.progress import ingest_progress

        with ingest_progress(err, f"ingest {corpus}: articles", transient=True) as progress:
            setup = open_engine(settings, corpus, progress=progress, embed_model=embed_model)
    else:
        setup = open_engine(settings, corpus, embed_model=embed_model)
    if setup.ingest is not None:
        err.print(f"corpus {corpus} -> collection {setup.collection}: {setup.ingest_line}", highlight=False, markup=False, soft_wrap=True)
        for failure in setup.ingest["failed"]:
            where = f"{failure['path']}:{failure['line']}" if failure.get("line") else failure["path"]
            err.print(f"warning: not ingested {where}: {failure['error']}", highlight=False, markup=False, soft_wrap=True)
    if setup.store.count_chunks() == 0:
        err.print(f"warning: collection {setup.collection!r} is empty: every question will be declined",
                  style="yellow", highlight=False)
    return setup


def _run_questions(setup, items, top_k, modes, err, interactive: bool) -> list[dict]:
    from eval.runner import evaluate

    if not interactive:
        return evaluate(setup.engine, setup.store, items, top_k=top_k, compare=modes)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task("questions", total=len(items))
        return evaluate(setup.engine, setup.store, items, top_k=top_k, compare=modes, on_row=lambda row: bar.advance(task))


def _set_report(set_path: Path, corpus: Path | None, setup, items, *, top_k, modes, calibrate: bool, err,
                interactive: bool) -> dict:
    """Run one set's questions on ``setup``'s engine and build its report."""
    from eval import metrics as m
    from eval import report as rep

    started = time.perf_counter()
    rows = _run_questions(setup, items, top_k, modes, err, interactive)
    fell_back = [row for row in rows if row.get("fallback_reason")]
    if fell_back:
        err.print(f"warning: {set_path}: {len(fell_back)} of {len(rows)} answers are extractive stand-ins for the LLM "
                  f"(first: {fell_back[0]['fallback_reason']})", style="yellow", highlight=False, markup=False, soft_wrap=True)
    return rep.build_report(
        set_path=str(set_path),
        corpus=str(corpus) if corpus is not None else None,
        settings=rep.settings_summary(setup.engine.settings, top_k),
        metrics=m.compute_metrics(rows),
        rows=rows,
        baselines=m.baseline_metrics(rows, modes) if modes else None,
        ingest=setup.ingest,
        calibration=m.calibrate_threshold(rows) if calibrate else None,
        diagnostics={"answer_bearing": m.answer_bearing_metrics(rows)},
        kinds=m.kind_metrics(rows),
        types=m.type_metrics(rows),
        elapsed_s=time.perf_counter() - started,
    )


def _print_set(out, report: dict, current_threshold: float, interactive: bool, label: str = "") -> None:
    """One set's metrics table, per-kind and per-question-type tables, answer-bearing line and
    calibration (``label`` names the set in the calibration line when there are several)."""
    from eval import report as rep

    metrics, baselines = report["metrics"], report.get("baselines")
    title = f"{report['set']} ({metrics['questions']} questions)"
    _print_table(out, *rep.table_rows(metrics, baselines), title=title, interactive=interactive, dim=list(baselines or {}))
    _print_kinds(out, report.get("kinds"), report["set"], interactive)
    _print_types(out, report.get("types"), report["set"], interactive)
    bearing = rep.answer_bearing_line(report.get("diagnostics"))
    if bearing:
        print(f"retrieval {bearing}")
    if report.get("calibration"):
        print(_calibration_line(report["calibration"], report["questions"], current_threshold, label))


def _print_table(out, header: list[str], rows: list[list[str]], title: str, interactive: bool, dim=()) -> None:
    from eval import report as rep

    if interactive:
        out.print(rep.format_rich(header, rows, title=title, dim=dim))
    else:
        print(title)
        print(rep.format_plain(header, rows))


def _print_kinds(out, kinds: dict | None, title: str, interactive: bool) -> None:
    """The per-kind table, when the set names kinds."""
    from eval import report as rep

    if kinds:
        _print_table(out, *rep.kind_table_rows(kinds), title=f"{title}: right by kind", interactive=interactive)


def _print_types(out, types: dict | None, title: str, interactive: bool) -> None:
    """The per-question-type table, when the set names question types."""
    from eval import report as rep

    if types:
        _print_table(out, *rep.type_table_rows(types), title=f"{title}: by question type", interactive=interactive)


def _calibration_line(calibration: dict, rows: list[dict], current: float, label: str = "") -> str:
    """The calibrated threshold against the current one; ``label`` says which rows it is over."""
    from eval import metrics as m
    from eval import report as rep

    now_acc, now_false = m.decline_rates(rows, current)
    now_kinds = rep.by_kind_text(m.decline_rates_by_kind(rows, current))
    kinds = rep.by_kind_text(calibration["decline_accuracy_by_kind"])
    return (
        f"calibrated decline threshold{label}: {calibration['threshold']:.6g} -> decline_accuracy "
        f"{rep.fmt('x', calibration['decline_accuracy'])}{kinds}, false_decline_rate {rep.fmt('x', calibration['false_decline_rate'])} "
        f"(current {current:g}: decline_accuracy {rep.fmt('x', now_acc)}{now_kinds}, false_decline_rate {rep.fmt('x', now_false)}); "
        f"set NEWSDESK_DECLINE_THRESHOLD={calibration['threshold']:.6g}"
    )


def _threshold_failures(reports: list[dict], thresholds: dict[str, float]) -> list[str]:
    """Every --fail-under miss of every set (named by its set when there are several); a per-kind or
    per-stage metric a set did not measure is an error naming what it did measure, a chunk-level one
    of a set without gold facts a miss (null)."""
    from eval import metrics as m

    failures = []
    for report in reports:
        metrics = report["metrics"]
        named = f"{report['set']}: " if len(reports) > 1 else ""
        # A per-kind or per-stage name the run did not measure is an error; a chunk-level metric of a
        # set without gold facts is null, and misses below.
        missing = [name for name in thresholds if name not in metrics and name not in m.OPTIONAL_METRICS]
        if missing:
            name = missing[0]
            what = "kinds" if name.partition(".")[0] in m.PER_KIND_METRICS else "stages"
            measured = ", ".join(m.measured_parts(metrics, name)) or "none"
            raise ValueError(f"{named}--fail-under: unknown metric {name!r} ({what} measured: {measured})")
        failures += [named + message for message in m.check_thresholds(metrics, thresholds)]
    return failures


def eval_command(
    set_paths: List[Path] = typer.Argument(..., metavar="SET.jsonl", help="Evaluation sets, each evaluated and reported "
                                           "on its own: one JSON object a line (id, question, answers[], gold_sources[], "
                                           "answerable, optional history, unanswerable_kind, kind, key_facts, "
                                           "question_type and gold_facts; or id, question, history and a 'ref' with --refs)."),
    corpus: List[Path] = typer.Option([], "--corpus", help="Ingest this corpus first (idempotently) into a "
                                      "collection of its own, named from the corpus, and evaluate on it. Once for "
                                      "every set, or once per set (paired by position). Default: the current store."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Chunks handed to the answerer (default: settings)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the JSON report (metrics and one row per "
                                          "question); with several sets {\"sets\": [report, ...], \"mean\": {metric: mean}}."),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Write a Markdown report: metrics, retrieval misses, "
                                            "unanswerable questions answered, failed questions."),
    fail_under: List[str] = typer.Option([], "--fail-under", metavar="METRIC=VALUE", help=FAIL_UNDER_HELP),
    compare: Optional[str] = typer.Option(None, "--compare", metavar="bm25,dense",
                                          help="Also score these single retrievers (retrieval metrics only) as baselines."),
    calibrate: bool = typer.Option(False, "--calibrate", help="Print the decline threshold that maximises decline_accuracy "
                                   "with false_decline_rate <= 0.10 on this set, and the decline rate of each "
                                   "unanswerable_kind at it; with several sets, on each and on all pooled."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate only the first N questions (of each set)."),
    refs: Optional[Path] = typer.Option(None, "--refs", metavar="REFS.jsonl", help=REFS_HELP),
    standalone: bool = typer.Option(False, "--standalone", help=STANDALONE_HELP),
) -> None:
    """Evaluate the assistant on question sets: retrieval, answers, declines, citations, latency.

    Each set is reported on its own; with several, the mean of each metric over them follows.
    Exit 0 when every --fail-under check passes on every set, 2 when a metric misses, 1 on an error.
    """
    from rich.console import Console

    from assistant.settings import get_settings
    from eval import metrics as m
    from eval import report as rep
    from eval.runner import load_set

    out, err = Console(), Console(stderr=True)
    interactive = out.is_terminal

    # Everything the user can get wrong is checked before the (slow) run.
    thresholds = _parse_thresholds(fail_under)
    modes = _parse_compare(compare)
    corpora = _pair_corpora(set_paths, corpus)
    if top_k is not None and top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {top_k}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    if standalone and refs is None:
        raise ValueError("--standalone asks the questions named by 'ref': it needs --refs REFS.jsonl")
    item_sets = [load_set(set_path, refs=refs, standalone=standalone)[:limit] for set_path in set_paths]

    missing = next((c for c in corpora if c is not None and not c.exists()), None)
    if missing is not None:
        raise FileNotFoundError(2, "no such file or folder", str(missing))

    settings = get_settings()
    several = len(set_paths) > 1
    setups: dict = {}  # corpus -> its engine: sets on one corpus share it
    embed_model = None  # loaded by the first engine, shared by the others
    reports = []
    for set_path, set_corpus, items in zip(set_paths, corpora, item_sets):
        if set_corpus not in setups:
            setups[set_corpus] = _open_setup(settings, set_corpus, embed_model, err, interactive)
            embed_model = setups[set_corpus].engine.embed_model
        report = _set_report(set_path, set_corpus, setups[set_corpus], items, top_k=top_k, modes=modes,
                             calibrate=calibrate, err=err, interactive=interactive)
        reports.append(report)
        _print_set(out, report, settings.decline_threshold, interactive, f" ({set_path})" if several else "")

    document = reports[0]
    if several:
        all_rows = [row for report in reports for row in report["questions"]]
        pooled = m.calibrate_threshold(all_rows) if calibrate else None
        document = rep.build_multi_report(reports, calibration=pooled)
        title = rep.mean_title(reports)
        _print_table(out, *rep.table_rows(document["mean"]), title=title, interactive=interactive)
        _print_kinds(out, document.get("mean_kinds"), title, interactive)
        _print_types(out, document.get("mean_types"), title, interactive)
        if pooled is not None:
            print(_calibration_line(pooled, all_rows, settings.decline_threshold, f" (pooled over {len(reports)} sets)"))
    if output is not None:
        rep.write_json(document, output)
    if markdown is not None:
        rep.write_markdown(document, markdown)

    failures = _threshold_failures(reports, thresholds)
    for message in failures:
        err.print(f"FAIL {message}", style="red", highlight=False, markup=False, soft_wrap=True)
    if failures:
        # sys.exit, not typer.Exit: assistant.cli.run() calls the app with standalone_mode=False, where
        # click returns a typer.Exit's code instead of exiting with it.
        sys.exit(2)
