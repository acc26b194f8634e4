"""Reader sets scored by kind (yes/no verdicts, summary key facts, small talk) and `newsdesk eval`
over several sets (corpora paired with sets, the mean over the sets, --fail-under on every set)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from assistant.answer import Answer, Source
from eval.metrics import (
    compute_metrics,
    key_fact_coverage,
    kind_metrics,
    leading_verdict,
    mean_kind_metrics,
    mean_values,
    row_correct,
)
from eval.report import build_multi_report, build_report, failed_rows, kind_table_rows, markdown_report, multi_markdown_report
from eval.runner import SetFormatError, SourceTexts, load_set, score_trace
from tests.conftest import REPO, SAMPLE_ARTICLES, write
from tests.test_eval import GOOD, _eval, _FakeStore, row

DOOR = [["Alaska Airlines"], ["door plug", "door panel"]]


# --- the set file -----------------------------------------------------------------------------------------
def test_kind_and_key_facts_are_parsed_and_optional(tmp_path):
    lines = [
        GOOD,
        {"id": "y1", "kind": "yesno", "question": "did the senate pass it?", "answers": ["no"], "gold_sources": ["a1"],
         "answerable": True, "history": [], "evidence": "ignored", "note": "ignored too"},
        {"id": "s1", "kind": "summary", "question": "what happened with the boeing door?", "answers": [], "key_facts": DOOR,
         "gold_sources": ["a2"], "answerable": True, "history": []},
    ]
    items = load_set(write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in lines)))
    assert [(i.kind, i.key_facts) for i in items] == [(None, []), ("yesno", []), ("summary", DOOR)]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({**GOOD, "id": "q2", "kind": 3}, "'kind' must be a non-empty string"),
        ({**GOOD, "id": "q2", "kind": ""}, "'kind' must be a non-empty string"),
        ({**GOOD, "id": "q2", "key_facts": ["Alaska Airlines"]}, "'key_facts' must be a list of facts"),
        ({**GOOD, "id": "q2", "key_facts": [[]]}, "'key_facts' must be a list of facts"),
        ({**GOOD, "id": "q2", "key_facts": [["ok", 3]]}, "'key_facts' must be a list of facts"),
        ({**GOOD, "id": "q2", "key_facts": "door plug"}, "'key_facts' must be a list of facts"),
    ],
)
def test_malformed_kind_or_key_facts_names_the_line(tmp_path, bad, message):
    path = write(tmp_path / "set.jsonl", json.dumps(GOOD) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SetFormatError) as info:
        load_set(path)
    assert f"{path}:2:" in str(info.value) and message in str(info.value)


def test_a_ref_item_takes_the_refs_key_facts_and_keeps_its_own_kind(tmp_path):
    refs = write(tmp_path / "refs.jsonl", json.dumps({"id": "r1", "kind": "summary", "question": "What happened?", "answers": [],
                                                      "key_facts": DOOR, "gold_sources": ["a2"], "answerable": True}) + "\n")
    lines = [{"id": "f1", "kind": "followup", "ref": "r1", "question": "And the door?", "history": []},
             {"id": "f2", "ref": "r1", "question": "And then?", "history": []}]
    items = load_set(write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in lines)), refs=refs)
    assert [(i.kind, i.key_facts) for i in items] == [("followup", DOOR), ("summary", DOOR)]
    stated = write(tmp_path / "bad.jsonl", json.dumps({**lines[0], "key_facts": DOOR}) + "\n")
    with pytest.raises(SetFormatError, match="'key_facts' comes from the ref 'r1'"):
        load_set(stated, refs=refs)


# --- scoring one row by kind ----------------------------------------------------------------------------
def test_yesno_is_right_only_when_the_answer_leads_with_the_gold_verdict():
    def yesno(answer, gold="no", declined=False):
        return row_correct(True, [gold], answer, declined, kind="yesno")

    assert yesno("No. [1] The senate voted it down.") is True
    assert yesno("no, it failed in committee [1]") is True
    assert yesno("[1] No - it did not.") is True  # markers and punctuation are not words
    assert yesno("Yes, but no vote was held. [1]") is False  # a "no" later on is not the verdict
    assert yesno("The senate did not pass it; no. [1]") is False  # no leading verdict
    assert yesno("Yes! [1]", gold="YES") is True
    assert yesno("No.", declined=True) is False
    assert leading_verdict("Nobody knows.") is None and leading_verdict("") is None
    # Only a one-word yes/no gold is scored by verdict; other golds of a yesno item match as before.
    assert row_correct(True, ["no", "not yet"], "Not yet. [1]", False, kind="yesno") is True
    # Without the kind, a gold that is a verdict word is scored by verdict too (not as a substring).
    assert row_correct(True, ["no"], "Yes, but no vote was held.", False) is False
    assert row_correct(True, ["no"], "No, no vote was held.", False) is True


def test_summary_is_scored_by_key_fact_coverage():
    assert key_fact_coverage("Alaska Airlines lost a door plug [1].", DOOR, declined=False) == 1.0
    assert key_fact_coverage("An Alaska[1] Airlines jet landed.", DOOR, declined=False) == 0.5  # markers stripped
    assert key_fact_coverage("A Boeing jet lost a door panel.", DOOR, declined=False) == 0.5  # any alternative
    assert key_fact_coverage("Alaska Airlines lost a door plug.", DOOR, declined=True) == 0.0
    assert key_fact_coverage("Anything.", [], declined=False) is None
    three = [["Alaska Airlines"], ["door plug"], ["Portland"]]
    assert row_correct(True, [], "Alaska Airlines, Portland.", False, kind="summary", key_facts=three) is True  # 2/3
    assert row_correct(True, [], "A plane in Portland.", False, kind="summary", key_facts=three) is False  # 1/3
    assert row_correct(True, [], "Alaska Airlines lost a door plug.", True, kind="summary", key_facts=three) is False


def test_chitchat_is_right_when_the_reply_cites_nothing():
    assert row_correct(False, [], "You're welcome!", False, kind="chitchat") is True
    assert row_correct(False, [], "The articles don't answer this.", True, kind="chitchat") is True
    assert row_correct(False, [], "Glad to help [1].", False, kind="chitchat") is False
    assert row_correct(False, [], "Glad to help.", False, kind="chitchat", sources=[{"n": 1, "article_id": "a"}]) is False


def test_nearmiss_and_other_kinds_score_as_before():
    assert row_correct(False, [], "declined", True, kind="nearmiss") is True
    assert row_correct(False, [], "An answer [1].", False, kind="nearmiss") is False
    assert row_correct(True, ["$14.2 million"], "It cost $14.2 million [1].", False, kind="amount") is True
    assert row_correct(True, ["$14.2 million"], "It cost $14.2 million [1].", True, kind="amount") is False
    assert row_correct(True, [], "Anything.", False, kind="who") is None


# --- the runner records kind, coverage and conversational replies --------------------------------------
class _ChatAnswer(Answer):
    """An Answer with the engine's coming ``conversational`` field."""

    conversational: bool = True


def _trace(answer: Answer):
    from assistant.engine import Trace

    return Trace(answer=answer, context=[], hits=[], evidence=0.1)


def test_score_trace_records_kind_coverage_and_conversational(tmp_path):
    path = write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in [
        {"id": "c1", "kind": "chitchat", "question": "thanks!", "answers": [], "gold_sources": [], "answerable": False,
         "unanswerable_kind": "chitchat"},
        {"id": "s1", "kind": "summary", "question": "what happened with the door?", "answers": [], "key_facts": DOOR,
         "gold_sources": ["art"], "answerable": True},
    ]))
    chat, summary = load_set(path)
    reply = score_trace(chat, _trace(_ChatAnswer(question="thanks!", standalone_question="thanks!", answer="You're welcome!")),
                        5.0, SourceTexts(_FakeStore()))
    assert reply["kind"] == "chitchat" and reply["conversational"] is True and reply["declined"] is False
    assert reply["correct"] is True and reply["key_fact_coverage"] is None
    told = Answer(question="q", standalone_question="q", answer="Alaska Airlines lost a door plug. [1]",
                  sources=[Source(n=1, article_id="art", title="Fest", quote="q")], retrieved=["art"])
    scored = score_trace(summary, _trace(told), 5.0, SourceTexts(_FakeStore()))
    assert scored["conversational"] is False  # today's Answer has no such field
    assert scored["kind"] == "summary" and scored["key_facts"] == DOOR
    assert scored["key_fact_coverage"] == 1.0 and scored["correct"] is True
    # Small talk to an answerable question is a false decline, and not right.
    chatted = score_trace(summary, _trace(_ChatAnswer(question="q", standalone_question="q", answer="Hi there!")), 5.0, SourceTexts(_FakeStore()))
    assert chatted["key_fact_coverage"] == 0.0 and chatted["correct"] is False
    assert chatted["citations"] == {"cited": 0, "supported": 0, "sentences": 0, "sentences_supported": 0}
    assert compute_metrics([chatted])["false_decline_rate"] == 1.0


# --- metrics by kind ------------------------------------------------------------------------------------
def _chitchat(**fields) -> dict:
    return row(answerable=False, answers=[], gold_sources=[], answer_in_context=None, kind="chitchat",
               unanswerable_kind="chitchat", **fields)


def test_conversational_replies_count_as_declines():
    rows = [
        _chitchat(answer="You're welcome!", conversational=True, correct=True),
        _chitchat(answer="Thanks to you [1].", correct=False),
        row(answer="Hello!", conversational=True, correct=False),  # answerable: a false decline
        row(answer="Gold it is. [1]", correct=True),
    ]
    m = compute_metrics(rows)
    assert m["decline_accuracy"] == 0.5 and m["decline_accuracy.chitchat"] == 0.5
    assert m["false_decline_rate"] == 0.5
    assert m["answer_words_mean"] == pytest.approx((3 + 3) / 2)  # the conversational replies are not answers
    assert [r["answer"] for r in failed_rows(rows)] == ["Thanks to you [1].", "Hello!"]


def test_right_by_kind_and_over_answerable_kinds():
    rows = [
        row(kind="amount", correct=True), row(kind="amount", correct=False), row(kind="amount", correct=True),
        row(kind="yesno", correct=False),
        row(kind="summary", answers=[], key_fact_coverage=1.0, correct=True),
        row(kind="summary", answers=[], key_fact_coverage=0.5, correct=True),
        row(kind="summary", answers=[], key_fact_coverage=0.0, correct=False),
        _chitchat(correct=True, declined=True),
        row(kind="nearmiss", answerable=False, answers=[], gold_sources=[], declined=False, correct=False),
    ]
    kinds = kind_metrics(rows)
    assert list(kinds["right_by_kind"]) == ["amount", "yesno", "summary", "summary_right", "chitchat", "nearmiss"]
    assert kinds["right_by_kind"]["amount"] == pytest.approx(2 / 3)
    assert kinds["right_by_kind"]["summary"] == pytest.approx(1.5 / 3)  # mean coverage
    assert kinds["right_by_kind"]["summary_right"] == pytest.approx(2 / 3)  # share covering >= 0.5
    assert kinds["right_by_kind"]["chitchat"] == 1.0 and kinds["right_by_kind"]["nearmiss"] == 0.0
    assert kinds["questions_by_kind"] == {"amount": 3, "yesno": 1, "summary": 3, "summary_right": 3, "chitchat": 1, "nearmiss": 1}
    assert kinds["right_answerable_kinds"] == pytest.approx(4 / 7)  # unanswerable kinds are not counted
    assert kind_metrics([row(correct=True), row(kind=None, correct=True)]) is None

    header, table = kind_table_rows(kinds)
    assert header == ["kind", "n", "right"]
    assert table[0] == ["amount", "3", "0.667"] and table[2] == ["summary (mean key-fact coverage)", "3", "0.500"]
    assert table[-1] == ["answerable, all kinds", "", "0.571"]
    report = build_report(set_path="r.jsonl", corpus=None, settings={}, metrics=compute_metrics(rows), rows=rows, kinds=kinds)
    text = markdown_report(report)
    assert "## Right by kind" in text and "| summary_right (coverage >= 0.5) | 3 | 0.667 |" in text
    assert "### q (answerable, kind yesno)" in text


# --- several sets ---------------------------------------------------------------------------------------
def test_means_over_sets_skip_missing_values():
    assert mean_values([{"a": 1.0, "b": None}, {"a": 0.0, "b": 0.5, "c": None}]) == {"a": 0.5, "b": 0.5, "c": None}
    merged = mean_values([{"rate": 1.0, "false": 0.0}, {"rate": 0.5, "rate.chitchat": 1.0, "false": 0.5}])
    assert list(merged) == ["rate", "rate.chitchat", "false"]  # a key of one set only stays where that set has it
    one = {"right_by_kind": {"who": 1.0, "yesno": 0.5}, "questions_by_kind": {"who": 2, "yesno": 4}, "right_answerable_kinds": 0.75}
    two = {"right_by_kind": {"who": 0.0}, "questions_by_kind": {"who": 3}, "right_answerable_kinds": None}
    assert mean_kind_metrics([one, None, two]) == {
        "right_by_kind": {"who": 0.5, "yesno": 0.5}, "questions_by_kind": {"who": 5, "yesno": 4}, "right_answerable_kinds": 0.75,
    }
    assert mean_kind_metrics([None, None]) is None


def test_multi_report_document_and_markdown():
    first = [row(correct=True), row(correct=False)]
    second = [row(correct=True, kind="who")]
    reports = [build_report(set_path=name, corpus=None, settings={}, metrics=compute_metrics(rows), rows=rows, kinds=kind_metrics(rows))
               for name, rows in (("a.jsonl", first), ("b.jsonl", second))]
    document = build_multi_report(reports)
    assert document["sets"] == reports and "calibration" not in document
    assert document["mean"]["answer_contains_gold"] == 0.75 and document["mean"]["questions"] == 1.5
    assert document["mean_kinds"]["right_by_kind"] == {"who": 1.0}
    text = multi_markdown_report(document)
    assert text.startswith("# Evaluation: mean over 2 sets (a.jsonl, b.jsonl)")
    assert "| answer_contains_gold | 0.750 |" in text and "| questions | 1.5 |" in text
    assert "# Evaluation: a.jsonl" in text and "# Evaluation: b.jsonl" in text


def test_fail_under_checks_every_set_and_names_the_one_that_misses():
    from eval.cli import _threshold_failures

    good = {"set": "a.jsonl", "metrics": {"recall@5": 0.9, "decline_accuracy.absent": 1.0}}
    bad = {"set": "b.jsonl", "metrics": {"recall@5": 0.5, "decline_accuracy.absent": 1.0}}
    assert _threshold_failures([good, bad], {"recall@5": 0.8}) == ["b.jsonl: recall@5 = 0.5 is under 0.8 by 0.3"]
    assert _threshold_failures([bad], {"recall@5": 0.8}) == ["recall@5 = 0.5 is under 0.8 by 0.3"]  # one set: as before
    with pytest.raises(ValueError, match=r"a.jsonl: --fail-under: unknown metric 'decline_accuracy.vague' \(kinds measured: absent\)"):
        _threshold_failures([good, bad], {"decline_accuracy.vague": 0.5})


# --- the real command -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eval_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("eval-kinds") / "data"
    return {**os.environ, "NEWSDESK_DATA_DIR": str(data)}


def test_corpus_count_must_be_none_one_or_one_per_set(eval_env):
    sample = "eval/sets/sample.jsonl"
    result = _eval(eval_env, sample, *["--corpus", "examples/articles"] * 3, set_path=sample)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "--corpus given 3 times for 2 sets: give it once (for every set) or once per set" in result.stderr


def _sample(*ids: str) -> list[dict]:
    lines = (REPO / "eval" / "sets" / "sample.jsonl").read_text().splitlines()
    by_id = {o["id"]: o for o in map(json.loads, filter(str.strip, lines))}
    return [by_id[i] for i in ids]


def test_eval_command_over_two_sets_on_their_own_corpora(eval_env, tmp_path):
    news = write(tmp_path / "news.jsonl", "\n".join(json.dumps(o) for o in _sample("s01", "s02", "s03", "s05")) + "\n")
    kinds = {"s11": "when", "s13": "amount", "s17": "amount", "s24": "nearmiss"}
    reader = [{**o, "kind": kinds[o["id"]]} for o in _sample(*kinds)] + [
        {"id": "rd-summary-01", "kind": "summary", "question": "What is happening at the Harbourfront Dumpling Festival?",
         "answers": [], "key_facts": [["Pier 4 Plaza"], ["48"]], "gold_sources": ["sample-dumpling-festival"], "answerable": True},
        {"id": "rd-yesno-01", "kind": "yesno", "question": "Does the Northshore Line get a new station?", "answers": ["yes"],
         "gold_sources": ["sample-northshore-timetable"], "answerable": True},
        {"id": "rd-chitchat-01", "kind": "chitchat", "question": "thanks!", "answers": [], "gold_sources": [],
         "answerable": False, "unanswerable_kind": "chitchat"},
    ]
    reader_set = write(tmp_path / "reader.jsonl", "\n".join(json.dumps(o) for o in reader) + "\n")
    small = tmp_path / "small-corpus"
    small.mkdir()
    for name in ("dumpling-festival.md", "library-cedar-point.md", "northshore-line-timetable.md"):
        shutil.copy(SAMPLE_ARTICLES / name, small / name)
    out, md = tmp_path / "report.json", tmp_path / "report.md"

    result = _eval(eval_env, str(reader_set), "--corpus", "examples/articles", "--corpus", str(small), "--calibrate",
                   "--output", str(out), "--markdown", str(md), "--fail-under", "recall@10=1.01", set_path=news)
    assert result.returncode == 2, result.stderr
    assert f"FAIL {news}: recall@10" in result.stderr and f"FAIL {reader_set}: recall@10" in result.stderr

    document = json.loads(out.read_text())
    first, second = document["sets"]
    assert (first["set"], first["corpus"], second["set"], second["corpus"]) == (str(news), "examples/articles", str(reader_set), str(small))
    assert first["settings"]["collection"] == "eval-examples-articles" != second["settings"]["collection"]
    assert second["ingest"]["added"] == 3 and first["metrics"]["questions"] == 4 and second["metrics"]["questions"] == 7
    for report in (first, second):
        assert compute_metrics(report["questions"]) == report["metrics"]
    assert document["mean"] == mean_values([first["metrics"], second["metrics"]])
    assert "kinds" not in first and list(second["kinds"]["right_by_kind"]) == [
        "when", "amount", "nearmiss", "summary", "summary_right", "yesno", "chitchat"]
    assert document["mean_kinds"] == mean_kind_metrics([second["kinds"]])
    assert [r["kind"] for r in second["questions"]][-3:] == ["summary", "yesno", "chitchat"]
    chat = second["questions"][-1]
    assert chat["correct"] is (not chat["sources"] and "[" not in chat["answer"])
    assert 0 <= document["calibration"]["threshold"] <= 1 and document["calibration"]["questions"] == 11

    assert f"{reader_set}: right by kind" in result.stdout and "answerable, all kinds" in result.stdout
    assert f"mean over 2 sets ({news}, {reader_set})" in result.stdout
    assert f"calibrated decline threshold ({news}): " in result.stdout
    assert "calibrated decline threshold (pooled over 2 sets): " in result.stdout
    text = md.read_text()
    assert text.startswith("# Evaluation: mean over 2 sets") and f"# Evaluation: {reader_set}" in text
