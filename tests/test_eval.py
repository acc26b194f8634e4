"""The evaluator: metrics on hand-made rows, set-file validation, and `newsdesk eval` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from eval.metrics import (
    METRIC_NAMES,
    answer_bearing_metrics,
    calibrate_threshold,
    check_thresholds,
    citation_counts,
    compute_metrics,
    contains_answer,
    decline_rates_by_kind,
    is_known_metric,
    measured_parts,
    percentile,
    retrieval_metrics,
    row_correct,
)
from eval.report import build_report, markdown_report
from eval.runner import SetFormatError, corpus_collection_name, evaluate, load_set
from tests.conftest import REPO, SAMPLE_ARTICLES, write

NO_CITATIONS = {"cited": 0, "supported": 0, "sentences": 0, "sentences_supported": 0}


def row(**fields) -> dict:
    base = {
        "id": "q",
        "question": "?",
        "answerable": True,
        "answers": ["gold"],
        "gold_sources": ["a"],
        "retrieved": [],
        "answer": "",
        "declined": False,
        "answer_in_context": False,
        "correct": False,
        "evidence": 0.5,
        "citations": dict(NO_CITATIONS),
        "latency_ms": 10.0,
        "timings_ms": {},
    }
    base.update(fields)
    return base


# --- matching -------------------------------------------------------------------------------------------
def test_contains_answer_ignores_case_punctuation_and_spacing():
    assert contains_answer("It will cost $81.8 billion [1].", ["$81.8-billion"])
    assert contains_answer("first train at 5:10 a.m.", ["5:10 a.m."])
    assert contains_answer("President Volodymyr  Zelenskyy's thanks", ["volodymyr zelenskyy"])
    assert contains_answer("THE UNITED STATES.", ["United States"])
    assert not contains_answer("about 1480 vendors", ["48"])  # word boundaries, not substrings
    assert not contains_answer("anything", [])
    assert not contains_answer("anything", [""])


def test_row_correct():
    assert row_correct(True, ["Pier 4 Plaza"], "It is at Pier 4 plaza. [1]", declined=False) is True
    assert row_correct(True, ["Pier 4 Plaza"], "Pier 4 Plaza, but declined", declined=True) is False
    assert row_correct(True, ["Pier 4 Plaza"], "Somewhere else. [1]", declined=False) is False
    assert row_correct(True, [], "Anything. [1]", declined=False) is None  # no gold answer to judge by
    assert row_correct(False, [], "declined", declined=True) is True
    assert row_correct(False, [], "An answer. [1]", declined=False) is False


# --- retrieval ------------------------------------------------------------------------------------------
def test_recall_and_mrr():
    rows = [
        row(retrieved=["a", "x"], gold_sources=["a"]),  # rank 1
        row(retrieved=["x", "y", "b"], gold_sources=["b", "c"]),  # rank 3
        row(retrieved=["x"] * 6 + ["c"], gold_sources=["c"]),  # rank 7
        row(retrieved=["x", "y"], gold_sources=["z"]),  # missed
        row(answerable=False, retrieved=["a"], gold_sources=[], answers=[]),  # not counted
    ]
    m = retrieval_metrics(rows)
    assert m["recall@1"] == pytest.approx(1 / 4)
    assert m["recall@5"] == pytest.approx(2 / 4)
    assert m["recall@10"] == pytest.approx(3 / 4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 7) / 4)


def test_mrr_only_counts_top_10_and_baselines_use_their_own_ranking():
    rows = [row(retrieved=["x"] * 10 + ["a"], gold_sources=["a"], baselines={"bm25": ["a"], "dense": ["x", "a"]})]
    assert retrieval_metrics(rows) == {"recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "all_gold@10": 0.0}
    assert retrieval_metrics(rows, key="bm25")["mrr@10"] == 1.0
    assert retrieval_metrics(rows, key="dense")["mrr@10"] == 0.5


def test_answer_bearing_diagnostic_counts_gold_or_answer_holding_articles():
    rows = [
        # the gold article is 3rd; the 2nd holds the answer too, and counts here (not in recall@k)
        row(retrieved=["x", "y", "a"], gold_sources=["a"], answer_bearing=[False, True, True]),
        row(retrieved=["x", "y"], gold_sources=["z"], answer_bearing=[False, False]),  # missed both ways
        row(retrieved=["a"], gold_sources=["a"], answer_bearing=None),  # unscored: no texts were checked
        row(answerable=False, retrieved=["a"], gold_sources=[], answers=[], answer_bearing=None),
    ]
    bearing = answer_bearing_metrics(rows)
    assert bearing == {"recall@1": 0.0, "recall@5": 0.5, "recall@10": 0.5, "mrr@10": 0.25}
    assert retrieval_metrics(rows[:2])["mrr@10"] == pytest.approx(1 / 6)  # the real metric is unchanged


def test_markdown_lists_retrieval_misses_with_gold_and_retrieved_titles():
    rows = [
        row(id="q1", question="Where is it?", retrieved=["x", "y"], retrieved_titles=["Other story", "Y story"],
            gold_sources=["a", "gone"], gold_titles=["The gold story", None], answer_bearing=[True, False]),
        row(id="q2", retrieved=["a"], retrieved_titles=["Found"], gold_sources=["a"], gold_titles=["Found"]),
    ]
    report = build_report(set_path="s.jsonl", corpus=None, settings={}, metrics=compute_metrics(rows), rows=rows,
                          diagnostics={"answer_bearing": answer_bearing_metrics(rows)})
    text = markdown_report(report)
    misses = text.split("## Retrieval misses")[1].split("## Failed")[0]
    assert "(1)" in misses and "q1" in misses and "q2" not in misses
    assert "gold: The gold story (`a`)" in misses and "gold: (not in the store) (`gone`)" in misses
    assert "got 1: Other story (`x`) (contains a gold answer)" in misses
    assert "got 2: Y story (`y`)\n" in misses + "\n"
    assert "contains a gold answer as relevant (diagnostic): recall@1 1.000" in text  # q1 by its answer-bearing 1st hit


# --- answers, declines, words ----------------------------------------------------------------------------
def test_answer_and_decline_metrics():
    rows = [
        row(correct=True, answer_in_context=True, answer="Gold it is. [1]"),
        row(correct=False, answer_in_context=True, answer="One two three four five six. [1][2]"),
        row(correct=False, declined=True, answer="The ingested articles don't answer this question."),
        row(answerable=False, answers=[], gold_sources=[], declined=True, correct=True, answer_in_context=None, answer="no"),
        row(answerable=False, answers=[], gold_sources=[], declined=False, correct=False, answer_in_context=None, answer="Made up answer. [1]"),
    ]
    m = compute_metrics(rows)
    assert m["answer_contains_gold"] == pytest.approx(1 / 3)  # over all answerable, declined ones included
    assert m["answer_in_context@5"] == pytest.approx(2 / 3)
    assert m["decline_accuracy"] == pytest.approx(1 / 2)
    assert m["false_decline_rate"] == pytest.approx(1 / 3)
    # words without [n] markers, over non-declined answers (3 + 6 + 3)
    assert m["answer_words_mean"] == pytest.approx(12 / 3)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (5, 3, 2)


def test_null_denominators():
    only_unanswerable = [row(answerable=False, answers=[], gold_sources=[], declined=True, correct=True, answer_in_context=None)]
    m = compute_metrics(only_unanswerable)
    for name in ("recall@1", "recall@5", "recall@10", "mrr@10", "answer_in_context@5", "answer_contains_gold",
                 "false_decline_rate", "answer_words_mean", "citation_precision", "citation_recall"):
        assert m[name] is None, name
    assert m["decline_accuracy"] == 1.0
    assert compute_metrics([row(correct=True)])["decline_accuracy"] is None
    assert set(METRIC_NAMES) <= set(m)


def _unanswerable(kind, declined, **fields) -> dict:
    return row(answerable=False, answers=[], gold_sources=[], answer_in_context=None, unanswerable_kind=kind,
               declined=declined, correct=declined, **fields)


def test_decline_accuracy_per_unanswerable_kind():
    rows = [
        row(correct=True),
        row(declined=True, unanswerable_kind="absent"),  # answerable: a stray kind is not counted in any kind
        _unanswerable("absent", True), _unanswerable("absent", True), _unanswerable("absent", False),
        _unanswerable("incidental", False), _unanswerable("incidental", True),
        _unanswerable(None, False),  # no kind given: counts only in the overall rate
    ]
    m = compute_metrics(rows)
    assert m["decline_accuracy"] == pytest.approx(3 / 6)
    assert m["decline_accuracy.absent"] == pytest.approx(2 / 3)
    assert m["decline_accuracy.incidental"] == pytest.approx(1 / 2)
    assert m["false_decline_rate"] == pytest.approx(1 / 2)
    # One key per kind found, beside the overall rate (the tables list metrics in this order).
    names = list(m)
    at = names.index("decline_accuracy")
    assert names[at:at + 4] == ["decline_accuracy", "decline_accuracy.absent", "decline_accuracy.incidental", "false_decline_rate"]
    # Rows that name no kind (older sets, older reports without the key) get no per-kind keys.
    plain = compute_metrics([row(correct=True), row(answerable=False, answers=[], gold_sources=[], declined=True)])
    assert plain["decline_accuracy"] == 1.0 and not [k for k in plain if k.startswith("decline_accuracy.")]


def test_per_kind_decline_metrics_can_gate_a_run():
    assert is_known_metric("decline_accuracy.absent") and is_known_metric("decline_accuracy.incidental")
    assert not is_known_metric("decline_accuracy.") and not is_known_metric("recall@5.absent")
    metrics = compute_metrics([_unanswerable("absent", True), _unanswerable("absent", False), _unanswerable("incidental", True)])
    assert check_thresholds(metrics, {"decline_accuracy.absent": 0.5, "decline_accuracy.incidental": 1.0}) == []
    failures = check_thresholds(metrics, {"decline_accuracy.absent": 0.85})
    assert failures == ["decline_accuracy.absent = 0.5 is under 0.85 by 0.35"]  # higher is better: a floor
    # What the CLI names when a kind asked for was not measured:
    assert measured_parts(metrics, "decline_accuracy.typo") == ["absent", "incidental"]
    assert measured_parts({"latency_p50_ms.retrieve": 1, "latency_p95_ms.retrieve": 2, "latency_p50_ms.answer": 1},
                          "latency_p95_ms.nope") == ["answer", "retrieve"]


def test_markdown_lists_unanswerable_questions_that_were_answered():
    rows = [
        row(id="a1", correct=True),
        _unanswerable("incidental", False, id="u1", question="Which | pipe?", answer="It was X [1].\nMore.",
                      sources=[{"n": 1, "article_id": "x", "title": "X", "quote": "It was X | really."},
                               {"n": 2, "article_id": "y", "title": "Y", "quote": "Second quote."}]),
        _unanswerable(None, False, id="u2", question="No kind?", answer="Something [1].", sources=[]),
        _unanswerable("absent", True, id="u3", question="Declined one?", answer="The articles don't answer this."),
    ]
    text = markdown_report(build_report(set_path="s.jsonl", corpus=None, settings={}, metrics=compute_metrics(rows), rows=rows))
    section = text.split("## Unanswerable questions answered (2)\n")[1].split("\n## ")[0]
    assert "- **u1** (incidental) Which \\| pipe?" in section
    assert "  - answered: It was X [1]. More." in section  # newlines flattened, as everywhere in the report
    assert "  - first quote: It was X \\| really." in section and "Second quote" not in section
    assert "- **u2** (kind not given) No kind?" in section and "(no source quoted)" in section
    assert "u3" not in section and "a1" not in section
    assert "| decline_accuracy.incidental | 0.000 |" in text and "| decline_accuracy.absent | 1.000 |" in text
    none = markdown_report(build_report(set_path="s.jsonl", corpus=None, settings={}, metrics=compute_metrics(rows[3:]), rows=rows[3:]))
    assert "## Unanswerable questions answered (0)\n\nNone: all 1 were declined." in none


# --- citations ------------------------------------------------------------------------------------------
def test_citation_counts_use_the_shared_support_definition():
    texts = {"a1": "The festival will be held at Pier 4 Plaza. It runs two days.", "a2": "Nothing relevant here."}
    sources = [{"n": 1, "article_id": "a1"}, {"n": 2, "article_id": "a2"}]
    answer = "The festival will be held at Pier 4 Plaza. [1][2] It runs two days. [3] And an uncited tail."
    counts = citation_counts(answer, sources, texts.__getitem__)
    # [1] supports, [2] does not, [3] names no source; the tail is a sentence without support.
    assert counts == {"cited": 3, "supported": 1, "sentences": 3, "sentences_supported": 1}


def test_citation_metrics_skip_declined_answers():
    rows = [
        row(citations={"cited": 3, "supported": 1, "sentences": 3, "sentences_supported": 1}),
        row(citations={"cited": 2, "supported": 2, "sentences": 1, "sentences_supported": 1}),
        row(declined=True, citations={"cited": 5, "supported": 0, "sentences": 5, "sentences_supported": 0}),
    ]
    m = compute_metrics(rows)
    assert m["citation_precision"] == pytest.approx(3 / 5)
    assert m["citation_recall"] == pytest.approx(2 / 4)


# --- latency --------------------------------------------------------------------------------------------
def test_latency_percentiles_overall_and_per_stage():
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    rows = [row(latency_ms=float(i), timings_ms={"retrieve": i / 2, "answer": 1.0}) for i in range(1, 101)]
    m = compute_metrics(rows)
    assert m["latency_p50_ms"] == 50.5
    assert m["latency_p95_ms"] == pytest.approx(95.05)
    assert m["latency_p50_ms.retrieve"] == pytest.approx(25.25)
    assert m["latency_p95_ms.answer"] == 1.0


def test_fail_under_directions():
    metrics = {"recall@5": 0.8, "false_decline_rate": 0.2, "latency_p95_ms.retrieve": 30.0, "citation_recall": None}
    assert check_thresholds(metrics, {"recall@5": 0.8, "false_decline_rate": 0.2, "latency_p95_ms.retrieve": 30}) == []
    failures = check_thresholds(metrics, {"recall@5": 0.9, "false_decline_rate": 0.1, "latency_p95_ms.retrieve": 10, "citation_recall": 0.5})
    assert [f.split()[0] for f in failures] == ["recall@5", "false_decline_rate", "latency_p95_ms.retrieve", "citation_recall"]
    assert "under 0.9 by 0.1" in failures[0] and "over 0.1 by 0.1" in failures[1]


# --- calibration ----------------------------------------------------------------------------------------
def _ev(answerable: list[float], unanswerable: list[float]) -> list[dict]:
    return [row(evidence=e) for e in answerable] + [row(answerable=False, evidence=e) for e in unanswerable]


def test_calibrate_threshold_maximises_decline_accuracy_within_the_false_decline_budget():
    rows = _ev([0.30, 0.50, 0.60, 0.70, 0.80, 0.90, 0.91, 0.92, 0.93, 0.94], [0.10, 0.20, 0.40, 0.55])
    got = calibrate_threshold(rows, max_false_decline=0.10)
    # Declining < 0.5 catches 0.10, 0.20, 0.40 and falsely declines one of ten answerable (0.30).
    # Declining 0.55 too would also decline 0.50: 2/10 > 0.10.
    assert got["decline_accuracy"] == pytest.approx(3 / 4)
    assert got["false_decline_rate"] == pytest.approx(1 / 10)
    assert 0.40 < got["threshold"] <= 0.50 and got["threshold"] == 0.5  # lowest short decimal above 0.40
    got = calibrate_threshold(rows, max_false_decline=0.0)
    assert got["decline_accuracy"] == pytest.approx(2 / 4) and 0.20 < got["threshold"] <= 0.30


def test_calibrate_threshold_ties_go_to_the_lowest_threshold():
    # Unanswerable all at 0.1: every threshold above 0.1 gives accuracy 1.0; the lowest one wins.
    rows = _ev([0.6, 0.7], [0.1, 0.1])
    got = calibrate_threshold(rows)
    assert got["decline_accuracy"] == 1.0 and got["false_decline_rate"] == 0.0
    assert got["threshold"] == 0.2  # lowest short decimal above 0.1 (any t in (0.1, 0.6] ties)
    # Nothing can be declined within budget: threshold declines nothing.
    rows = _ev([0.1], [0.5])
    got = calibrate_threshold(rows)
    assert got["decline_accuracy"] == 0.0 and got["false_decline_rate"] == 0.0 and got["threshold"] <= 0.1
    assert calibrate_threshold([]) is None


def test_calibration_reports_the_decline_rate_of_each_kind_at_the_chosen_threshold():
    rows = _ev([0.30, 0.50, 0.60, 0.70, 0.80, 0.90, 0.91, 0.92, 0.93, 0.94], [])
    rows += [_unanswerable("absent", False, evidence=e) for e in (0.10, 0.20, 0.40)]
    rows += [_unanswerable("incidental", False, evidence=e) for e in (0.35, 0.55, 0.65)]
    got = calibrate_threshold(rows, max_false_decline=0.10)
    # The objective is unchanged (overall accuracy within the budget): declining < 0.5 catches 4 of 6,
    # all three absent ones but only one incidental one.
    assert got["threshold"] == 0.5 and got["decline_accuracy"] == pytest.approx(4 / 6)
    assert got["decline_accuracy_by_kind"] == {"absent": 1.0, "incidental": pytest.approx(1 / 3)}
    assert decline_rates_by_kind(rows, 0.3) == {"absent": pytest.approx(2 / 3), "incidental": 0.0}
    assert calibrate_threshold(_ev([0.6], [0.1]))["decline_accuracy_by_kind"] == {}  # no kinds named


# --- the set file ---------------------------------------------------------------------------------------
GOOD = {"id": "q1", "question": "Who?", "answers": ["X"], "gold_sources": ["a"], "answerable": True}


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "invalid JSON"),
        (json.dumps({"question": "Who?", "answerable": True}), "missing 'id'"),
        (json.dumps({"id": "q2", "answerable": True}), "missing 'question'"),
        (json.dumps({**GOOD, "id": "q2", "answers": "X"}), "'answers' must be a list of strings"),
        (json.dumps({**GOOD, "id": "q2", "answerable": "yes"}), "'answerable' must be true or false"),
        (json.dumps({**GOOD, "id": "q2", "history": [{"role": "bot", "content": "hi"}]}), "history turn 1"),
        (json.dumps({"id": "q2", "question": "Who?"}), "missing 'answerable'"),
        (json.dumps({**GOOD, "id": "q2", "answerable": False, "unanswerable_kind": ""}), "'unanswerable_kind' must be a non-empty string"),
        (json.dumps({**GOOD, "id": "q2", "answerable": False, "unanswerable_kind": ["absent"]}), "'unanswerable_kind' must be a non-empty string"),
        (json.dumps({**GOOD, "id": "q2", "ref": "q1"}), "needs a refs file (--refs REFS.jsonl)"),
        (json.dumps(GOOD), "duplicate id 'q1'"),
        (json.dumps(["a list"]), "expected a JSON object"),
    ],
)
def test_malformed_set_line_is_reported_with_its_line_number(tmp_path, bad, message):
    path = write(tmp_path / "set.jsonl", json.dumps(GOOD) + "\n\n" + bad + "\n")
    with pytest.raises(SetFormatError) as info:
        load_set(path)
    assert f"{path}:3:" in str(info.value) and message in str(info.value)


def test_unanswerable_kind_is_optional_and_carried(tmp_path):
    lines = [GOOD, {"id": "u1", "question": "Who?", "answerable": False, "unanswerable_kind": "incidental"},
             {"id": "u2", "question": "Who?", "answerable": False}, {"id": "u3", "question": "Who?", "answerable": False, "unanswerable_kind": None}]
    items = load_set(write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in lines)))
    assert [i.unanswerable_kind for i in items] == [None, "incidental", None, None]
    assert all(i.ref is None for i in items)


def test_sample_set_loads():
    items = load_set(REPO / "eval" / "sets" / "sample.jsonl")
    assert len(items) == 24 and items[19].history and items[19].history[0]["role"] == "user"


def test_collection_names_follow_chromas_rules(tmp_path):
    rule = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")
    assert corpus_collection_name(SAMPLE_ARTICLES) == "eval-examples-articles"
    assert corpus_collection_name("/data/rtqa-dev/corpus.jsonl") == "eval-rtqa-dev-corpus"
    for odd in ["/x/__weird__ folder!/c.jsonl", "/" + "long" * 30 + "/" + "name" * 30 + ".jsonl", "/a/_/b.jsonl"]:
        name = corpus_collection_name(odd)
        assert rule.match(name) and rule.match(name + "__articles"), name
    assert corpus_collection_name("/a/" + "x" * 80 + "/c") != corpus_collection_name("/b/" + "x" * 80 + "/c")


# --- the runner with a stand-in engine: it sees only the question and the history -----------------------
class _FakeEngine:
    def __init__(self):
        self.calls = []

    def run(self, question, history=None, top_k=None):
        from llama_index.core.schema import NodeWithScore, TextNode

        from assistant.answer import Answer, Source
        from assistant.engine import Trace

        self.calls.append({"question": question, "history": history, "top_k": top_k})
        node = TextNode(id_="art::0", text="The festival is at Pier 4 Plaza. It has 48 vendors.", metadata={"article_id": "art", "title": "Fest"})
        answer = Answer(
            question=question,
            standalone_question=question + " (fest)",
            answer="The festival is at Pier 4 Plaza. [1]",
            sources=[Source(n=1, article_id="art", title="Fest", quote="The festival is at Pier 4 Plaza.")],
            retrieved=["art"],
            timings_ms={"retrieve": 1.0, "total": 2.0},
        )
        return Trace(answer=answer, context=[NodeWithScore(node=node, score=1.0)], hits=[NodeWithScore(node=node, score=1.0)], evidence=0.7)

    def retrieve(self, query, mode="hybrid"):
        self.calls.append({"retrieve": query, "mode": mode})
        return []


class _FakeStore:
    def __init__(self):
        self.fetched = []

    def article_text(self, article_id):
        self.fetched.append(article_id)
        return "The festival is at Pier 4 Plaza. It has 48 vendors."

    def get_record(self, article_id):
        return SimpleNamespace(title="Fest") if article_id == "art" else None


def test_runner_passes_only_question_and_history(tmp_path):
    path = write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in [
        {"id": "secret-id-1", "question": "Where is the festival?", "answers": ["Pier 4 Plaza"], "gold_sources": ["art"], "answerable": True,
         "history": [{"role": "user", "content": "Tell me about the festival"}]},
        {"id": "secret-id-2", "question": "How many vendors?", "answers": ["49"], "gold_sources": ["art"], "answerable": True},
        {"id": "secret-id-3", "question": "Who sang?", "answerable": False, "unanswerable_kind": "absent"},
    ]))
    engine, store = _FakeEngine(), _FakeStore()
    rows = evaluate(engine, store, load_set(path), top_k=3, compare=["bm25"])
    runs = [c for c in engine.calls if "question" in c]
    assert runs[0] == {"question": "Where is the festival?", "history": [{"role": "user", "content": "Tell me about the festival"}], "top_k": 3}
    assert "secret-id" not in json.dumps(engine.calls) and "Pier 4" not in json.dumps(runs)
    assert {"retrieve": "How many vendors? (fest)", "mode": "bm25"} in engine.calls  # the standalone question
    assert store.fetched == ["art"]  # cached
    assert rows[0]["correct"] is True and rows[0]["answer_in_context"] is True
    assert rows[1]["correct"] is False and rows[1]["answer_in_context"] is False
    assert rows[0]["citations"] == {"cited": 1, "supported": 1, "sentences": 1, "sentences_supported": 1}
    assert rows[0]["retrieved_titles"] == ["Fest"] and rows[0]["baselines"] == {"bm25": []}
    assert rows[0]["gold_titles"] == ["Fest"] and rows[0]["answer_bearing"] == [True] and rows[1]["answer_bearing"] == [False]
    assert [r["unanswerable_kind"] for r in rows] == [None, None, "absent"] and [r["ref"] for r in rows] == [None] * 3
    assert "absent" not in json.dumps(engine.calls)  # the kind is for scoring, not for the engine
    assert rows[2]["sources"][0]["quote"] == "The festival is at Pier 4 Plaza."  # the markdown's first quote
    assert compute_metrics(rows)["decline_accuracy.absent"] == 0.0  # the fake engine answers everything


# --- end to end: the real command as a subprocess ---------------------------------------------------------
def _eval(env, *args, set_path="eval/sets/sample.jsonl"):
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "eval", str(set_path), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def eval_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("eval") / "data"
    return {**os.environ, "NEWSDESK_DATA_DIR": str(data)}


def test_eval_command_end_to_end(eval_env, tmp_path):
    out, md = tmp_path / "report.json", tmp_path / "report.md"
    args = ["--corpus", "examples/articles", "--compare", "bm25,dense",
            "--fail-under", "recall@10=0.5", "--fail-under", "latency_p95_ms=60000", "--calibrate"]
    first = _eval(eval_env, *args, "--output", str(out), "--markdown", str(md))
    assert first.returncode == 0, first.stderr
    report = json.loads(out.read_text())
    assert set(METRIC_NAMES) <= set(report["metrics"])
    assert {"latency_p50_ms.retrieve", "latency_p95_ms.answer"} <= set(report["metrics"])
    assert len(report["questions"]) == 24 and report["metrics"]["questions"] == 24
    assert set(report["baselines"]) == {"bm25", "dense"}
    assert set(report["baselines"]["bm25"]) == {"recall@1", "recall@5", "recall@10", "mrr@10", "all_gold@10", "answer_in_context@5"}
    # The sample set names no gold facts and no question types: no chunk-level metrics, no per-type table.
    assert not any(name.startswith("chunk_") for name in report["metrics"]) and "types" not in report
    assert all("chunk_rank" not in r and r["question_type"] is None for r in report["questions"])
    assert report["corpus"] == "examples/articles" and report["settings"]["collection"] == "eval-examples-articles"
    assert report["ingest"]["added"] == len(list(SAMPLE_ARTICLES.iterdir())) and report["ingest"]["chunks"] > 0
    assert 0 <= report["calibration"]["threshold"] <= 1
    # The rows are enough to recompute every metric.
    assert compute_metrics(report["questions"]) == report["metrics"]
    text = md.read_text()
    assert "## Metrics" in text and "| metric | hybrid | bm25 | dense |" in text and "| recall@5 |" in text
    assert "## Failed questions" in text and "## Unanswerable questions answered (" in text
    assert all(r["unanswerable_kind"] is None and r["ref"] is None for r in report["questions"])  # the sample set names none
    assert report["calibration"]["decline_accuracy_by_kind"] == {}
    # Per answerable row: which retrieved articles hold a gold answer, and the gold articles' titles.
    answerable = [r for r in report["questions"] if r["answerable"]]
    assert all(len(r["answer_bearing"]) == len(r["retrieved"]) for r in answerable)
    assert all(r["gold_titles"] and all(r["gold_titles"]) for r in answerable if r["gold_sources"])
    assert set(report["diagnostics"]["answer_bearing"]) == {"recall@1", "recall@5", "recall@10", "mrr@10"}
    assert report["diagnostics"]["answer_bearing"]["recall@10"] >= report["metrics"]["recall@10"]
    assert "contains a gold answer as relevant (diagnostic)" in first.stdout
    assert "recall@5" in first.stdout and "dense" in first.stdout  # the table, with baseline columns

    # Second run: the corpus is already ingested, nothing is embedded.
    again_out = tmp_path / "again.json"
    second = _eval(eval_env, "--corpus", "examples/articles", "--limit", "3", "--output", str(again_out))
    assert second.returncode == 0, second.stderr
    again = json.loads(again_out.read_text())
    assert again["ingest"]["added"] == 0 and again["ingest"]["chunks"] == 0 and again["ingest"]["unchanged"] == report["ingest"]["added"]
    assert "chunks 0" in second.stderr
    assert len(again["questions"]) == 3

    # Sample questions labelled with unanswerable kinds (labels made up for the test) and impossible
    # thresholds: exit 2, naming the metrics; the calibration line gives each kind's rate.
    kinds = {"s03": "absent", "s06": "incidental"}
    sample = [json.loads(line) for line in (REPO / "eval" / "sets" / "sample.jsonl").read_text().splitlines() if line.strip()]
    picked = [{**o, **({"unanswerable_kind": kinds[o["id"]]} if o["id"] in kinds else {})} for o in sample[:6] if o["id"] != "s04"]
    kinds_set = write(tmp_path / "kinds.jsonl", "\n".join(json.dumps(o) for o in picked) + "\n")
    kinds_md = tmp_path / "kinds.md"
    failed = _eval(eval_env, "--corpus", "examples/articles", "--calibrate", "--markdown", str(kinds_md),
                   "--fail-under", "recall@5=1.01", "--fail-under", "decline_accuracy.absent=1.01", set_path=kinds_set)
    assert failed.returncode == 2, failed.stderr
    assert "recall@5" in failed.stderr and "under 1.01" in failed.stderr
    assert "FAIL decline_accuracy.absent = " in failed.stderr
    assert re.search(r"decline_accuracy\s+\S+\ndecline_accuracy\.absent\s+\S+\ndecline_accuracy\.incidental\s+\S+\n", failed.stdout)
    assert re.search(r"calibrated decline threshold: \S+ -> decline_accuracy \S+ \(absent \S+, incidental \S+\)", failed.stdout)
    assert "## Unanswerable questions answered (" in kinds_md.read_text()
    # A kind the set does not have: exit 1 after the run, naming the kinds it has.
    unknown_kind = _eval(eval_env, "--corpus", "examples/articles", "--fail-under", "decline_accuracy.abstent=0.5", set_path=kinds_set)
    assert unknown_kind.returncode == 1, unknown_kind.stderr
    assert "'decline_accuracy.abstent' (kinds measured: absent, incidental)" in unknown_kind.stderr


def test_eval_command_errors_are_one_line_exit_1(eval_env, tmp_path):
    unknown = _eval(eval_env, "--fail-under", "recall@6=0.5")
    assert unknown.returncode == 1 and "recall@6" in unknown.stderr and "Traceback" not in unknown.stderr
    bad_set = write(tmp_path / "bad.jsonl", json.dumps(GOOD) + "\n" + '{"id": "q2", "question": 3, "answerable": true}\n')
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "eval", str(bad_set)], cwd=REPO, env=eval_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and f"{bad_set}:2:" in result.stderr and "Traceback" not in result.stderr
