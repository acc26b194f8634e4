"""Multi-article sets (multihop-dev style): verdict golds scored by the leading verdict, numbers per
question type, every gold article in the top 10, chunk-level retrieval by gold facts, and the
per-type table in the reports and in `newsdesk eval`'s output. Every item here is made up."""

from __future__ import annotations

import json
import os

import pytest

from eval.metrics import (
    chunk_metrics,
    compute_metrics,
    fact_in_chunk,
    first_fact_rank,
    is_known_metric,
    leading_verdict,
    mean_type_metrics,
    retrieval_metrics,
    row_correct,
    type_metrics,
    verdict_gold,
)
from eval.report import build_multi_report, build_report, markdown_report, multi_markdown_report, type_table_rows
from eval.runner import SetFormatError, evaluate, load_set
from tests.conftest import write
from tests.test_eval import _eval, _FakeStore, row

# --- verdict golds --------------------------------------------------------------------------------------
def test_a_no_gold_is_scored_by_the_leading_verdict_without_a_kind():
    assert row_correct(True, ["no"], "No. The two reports disagree on the date [1].", False) is True
    # It contains the word "no", but its verdict is "yes": wrong (substring matching took it as right).
    assert row_correct(True, ["no"], "Yes, although no figure is given [1].", False) is False
    assert row_correct(True, ["No"], "There is no sign of it [1].", False) is False  # no leading verdict
    assert row_correct(True, ["no"], "No.", True) is False  # declined
    assert row_correct(True, ["Yes"], "[1] yes: both say so.", False) is True


def test_verdict_like_golds_map_to_yes_or_no():
    for gold in ("Yes", "yes", "True", "Consistent", "Consistently", "Agree", "Agreement", "Align", "Same", "Similar"):
        assert verdict_gold([gold]) == "yes", gold
    for gold in ("No", "no", "False", "Inconsistent", "Disagree"):
        assert verdict_gold([gold]) == "no", gold
    # Choice golds that state no verdict, and the null gold, are matched as text.
    for gold in ("Different", "Change", "Before", "Larger", "Some Outlet", "Insufficient information."):
        assert verdict_gold([gold]) is None, gold
    assert verdict_gold([]) is None and verdict_gold(["yes", "true"]) == "yes" and verdict_gold(["yes", "no"]) is None
    assert row_correct(True, ["Consistent"], "Yes. Both reports describe the same plan [1].", False) is True
    assert row_correct(True, ["Consistent"], "Consistent: both say the plan holds [1].", False) is True
    assert row_correct(True, ["Consistent"], "Inconsistent, the second report drops it [1].", False) is False
    assert row_correct(True, ["Before"], "It came before the second report [1].", False) is True  # contains the gold
    assert leading_verdict("True, they both report it.") == "yes" and leading_verdict("Nothing here.") is None


# --- retrieval: every gold article, and chunks holding a gold fact -----------------------------------------
def test_all_gold_at_10_needs_every_gold_article_in_the_top_10():
    rows = [
        row(retrieved=["a", "x", "b"], gold_sources=["a", "b"]),  # both
        row(retrieved=["a", "x"], gold_sources=["a", "b"]),  # one of two: a recall@1 hit, not all gold
        row(retrieved=["x"] * 10 + ["b"], gold_sources=["b"]),  # the 11th does not count
        row(retrieved=["c"], gold_sources=["c"], baselines={"bm25": ["x"]}),
        row(answerable=False, retrieved=["a"], gold_sources=[], answers=[]),  # not counted
    ]
    for r in rows[:3]:
        r["baselines"] = {"bm25": r["retrieved"][:1]}
    m = retrieval_metrics(rows)
    assert m["all_gold@10"] == pytest.approx(2 / 4) and m["recall@10"] == pytest.approx(3 / 4)
    assert retrieval_metrics(rows, key="bm25")["all_gold@10"] == 0.0  # no question has all its gold first
    assert compute_metrics(rows)["all_gold@10"] == pytest.approx(0.5)
    assert retrieval_metrics([row(answerable=False, gold_sources=[])])["all_gold@10"] is None


def test_a_chunk_is_relevant_when_it_holds_a_gold_fact_whitespace_ignored():
    fact = "The ferry will run every  twenty minutes\nfrom June."
    assert fact_in_chunk("Officials said: The ferry will run every twenty\tminutes from June. More later.", [fact])
    assert fact_in_chunk("The ferrywillrunevery twentyminutesfrom June.", [fact])  # spaces removed entirely
    assert not fact_in_chunk("The ferry will run every thirty minutes from June.", [fact])
    assert not fact_in_chunk("the ferry will run every twenty minutes from june.", [fact])  # case counts
    assert not fact_in_chunk("anything", ["", "  "])
    chunks = ["Nothing here.", "Still nothing.", "Then: The ferry will run every twenty minutes from June.", "x"]
    assert first_fact_rank(chunks, ["no such fact", fact]) == 3
    assert first_fact_rank(chunks, [fact], k=2) is None and first_fact_rank([], [fact]) is None


def test_chunk_hits_and_mrr_over_rows_with_gold_facts():
    rows = [
        row(chunk_rank=1, baselines_chunk_rank={"bm25": None, "dense": 2}),
        row(chunk_rank=4, baselines_chunk_rank={"bm25": 1, "dense": 5}),
        row(chunk_rank=7, baselines_chunk_rank={"bm25": 10, "dense": None}),
        row(chunk_rank=None, baselines_chunk_rank={"bm25": None, "dense": None}),
        row(),  # no gold facts: not scored on chunks
    ]
    m = chunk_metrics(rows)
    assert m == {"chunk_hits@4": 0.5, "chunk_hits@10": 0.75, "chunk_mrr@10": pytest.approx((1 + 1 / 4 + 1 / 7) / 4)}
    assert chunk_metrics(rows, key="bm25") == {"chunk_hits@4": 0.25, "chunk_hits@10": 0.5, "chunk_mrr@10": pytest.approx(1.1 / 4)}
    assert chunk_metrics(rows, key="dense")["chunk_hits@4"] == 0.25
    assert {k: v for k, v in compute_metrics(rows).items() if k.startswith("chunk_")} == m
    assert chunk_metrics([row()]) == {} and "chunk_hits@4" not in compute_metrics([row()])  # sets without facts
    assert is_known_metric("chunk_hits@10") and is_known_metric("all_gold@10")


# --- per question type ------------------------------------------------------------------------------------
def _typed(question_type: str, **fields) -> dict:
    if question_type == "null":
        fields = {"answerable": False, "answers": [], "gold_sources": [], "unanswerable_kind": "absent", **fields}
    return row(question_type=question_type, **fields)


def test_numbers_per_question_type():
    rows = [
        _typed("inference", correct=True, retrieved=["a", "b"], gold_sources=["a", "b"]),
        _typed("inference", correct=False, declined=True, retrieved=["a"], gold_sources=["a", "b"]),
        _typed("comparison", correct=True, retrieved=["a"], gold_sources=["a"]),
        _typed("comparison", correct=False, retrieved=["a"], gold_sources=["a"]),
        _typed("comparison", correct=True, retrieved=["x"], gold_sources=["a"]),
        _typed("null", correct=True, declined=True),
        _typed("null", correct=False),
    ]
    types = type_metrics(rows)
    assert list(types["by_type"]) == ["inference", "comparison", "null"]
    assert types["by_type"]["inference"] == {"questions": 2, "declined": 0.5, "answer_right": 0.5, "all_gold@10": 0.5,
                                             "false_decline_rate": 0.5}
    comparison = types["by_type"]["comparison"]
    assert comparison["answer_right"] == pytest.approx(2 / 3) and comparison["all_gold@10"] == pytest.approx(2 / 3)
    assert comparison["declined"] == 0.0 and comparison["false_decline_rate"] == 0.0
    assert types["by_type"]["null"] == {"questions": 2, "declined": 0.5, "answer_right": 0.5, "all_gold@10": None,
                                        "false_decline_rate": None}
    assert types["all"]["questions"] == 7 and types["all"]["answer_right"] == pytest.approx(4 / 7)
    assert types["all"]["false_decline_rate"] == pytest.approx(1 / 5)
    assert type_metrics([row(), row(question_type=None)]) is None

    header, table = type_table_rows(types)
    assert header == ["type", "n", "declined", "right", "all_gold@10", "false_decline_rate"]
    assert table[0] == ["inference", "2", "0.500", "0.500", "0.500", "0.500"]
    assert table[2] == ["null", "2", "0.500", "0.500", "—", "—"] and table[-1][:2] == ["all types", "7"]

    report = build_report(set_path="m.jsonl", corpus=None, settings={}, metrics=compute_metrics(rows), rows=rows, types=types)
    assert report["types"] == types
    text = markdown_report(report)
    assert "## By question type" in text
    assert "| type | n | declined | right | all_gold@10 | false_decline_rate |" in text
    assert "| comparison | 3 | 0.000 | 0.667 | 0.667 | 0.000 |" in text
    assert "### q (answerable, type inference)" in text  # failed questions name their type

    other = [_typed("comparison", correct=False, retrieved=["a"], gold_sources=["a"])]
    second = build_report(set_path="n.jsonl", corpus=None, settings={}, metrics=compute_metrics(other), rows=other,
                          types=type_metrics(other))
    document = build_multi_report([report, second])
    assert document["mean_types"] == mean_type_metrics([types, second["types"]])
    assert document["mean_types"]["by_type"]["comparison"]["questions"] == 4
    assert document["mean_types"]["by_type"]["comparison"]["answer_right"] == pytest.approx(1 / 3)
    assert document["mean_types"]["by_type"]["null"]["questions"] == 2  # only the first set has it
    assert "## By question type (mean over the sets)" in multi_markdown_report(document)
    assert mean_type_metrics([None]) is None


# --- the set file and the runner --------------------------------------------------------------------------
FACTS = [{"id": "art", "fact": "The festival is at   Pier 4\nPlaza."}, {"id": "other", "fact": "A fact no chunk holds."}]
ITEMS = [
    {"id": "m1", "question": "Where is the festival, as both outlets say?", "answers": ["Pier 4 Plaza"],
     "gold_sources": ["art", "other"], "answerable": True, "question_type": "inference", "gold_facts": FACTS},
    {"id": "m2", "question": "Do both outlets put the festival on the pier?", "answers": ["no"],
     "gold_sources": ["art"], "answerable": True, "question_type": "comparison", "gold_facts": FACTS[:1]},
    {"id": "m3", "question": "Who headlined?", "answers": ["Insufficient information."], "gold_sources": [],
     "answerable": False, "unanswerable_kind": "absent", "question_type": "null", "gold_facts": []},
    {"id": "m4", "question": "How many vendors?", "answers": ["48"], "gold_sources": ["art"], "answerable": True},
]


def test_question_type_and_gold_facts_are_parsed_and_optional(tmp_path):
    items = load_set(write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in ITEMS)))
    assert [i.question_type for i in items] == ["inference", "comparison", "null", None]
    assert items[0].gold_facts == FACTS and items[2].gold_facts == [] and items[3].gold_facts == []
    refs = write(tmp_path / "refs.jsonl", json.dumps(ITEMS[0]) + "\n")
    followup = {"id": "f1", "ref": "m1", "question": "And where is it?", "history": []}
    (taken,) = load_set(write(tmp_path / "f.jsonl", json.dumps(followup) + "\n"), refs=refs)
    assert taken.question_type == "inference" and taken.gold_facts == FACTS
    with pytest.raises(SetFormatError, match="'gold_facts' comes from the ref 'm1'"):
        load_set(write(tmp_path / "g.jsonl", json.dumps({**followup, "gold_facts": FACTS}) + "\n"), refs=refs)


@pytest.mark.parametrize("bad", [
    {"gold_facts": "a sentence"},
    {"gold_facts": ["a sentence"]},
    {"gold_facts": [{"id": "a"}]},
    {"gold_facts": [{"id": "a", "fact": ""}]},
    {"gold_facts": [{"id": 3, "fact": "x"}]},
])
def test_malformed_gold_facts_name_the_line(tmp_path, bad):
    path = write(tmp_path / "set.jsonl", json.dumps(ITEMS[3]) + "\n" + json.dumps({**ITEMS[0], **bad}) + "\n")
    with pytest.raises(SetFormatError) as info:
        load_set(path)
    assert f"{path}:2:" in str(info.value) and "'gold_facts' must be a list of" in str(info.value)


class _ChunkEngine:
    """The stand-in engine of tests.test_eval, with several fused hits, and baselines that return hits."""

    def run(self, question, history=None, top_k=None):
        from assistant.answer import Answer, Source
        from assistant.engine import Trace

        answer = Answer(question=question, standalone_question=question, answer="Yes, the festival is at Pier 4 Plaza. [1]",
                        sources=[Source(n=1, article_id="art", title="Fest", quote="The festival is at Pier 4 Plaza.")],
                        retrieved=["art", "x"])
        hits = self._hits("The vendors are many.", "It opens in May. The festival is at Pier 4 Plaza. It has 48 vendors.")
        return Trace(answer=answer, context=hits[:1], hits=hits, evidence=0.7)

    def retrieve(self, query, mode="hybrid"):
        if mode == "bm25":
            return self._hits("The festival is at Pier 4 Plaza.")
        return self._hits(*["Nothing about it."] * 10, "The festival is at Pier 4 Plaza.")  # the 11th is past the top 10

    @staticmethod
    def _hits(*texts):
        from llama_index.core.schema import NodeWithScore, TextNode

        return [NodeWithScore(node=TextNode(id_=f"art::{i}", text=text, metadata={"article_id": "art" if i else "x"}), score=1.0)
                for i, text in enumerate(texts)]


def test_rows_carry_the_type_and_the_rank_of_the_first_chunk_holding_a_gold_fact(tmp_path):
    items = load_set(write(tmp_path / "set.jsonl", "\n".join(json.dumps(o) for o in ITEMS)))
    rows = evaluate(_ChunkEngine(), _FakeStore(), items, compare=["bm25", "dense"])
    assert [r["question_type"] for r in rows] == ["inference", "comparison", "null", None]
    assert rows[0]["chunk_rank"] == 2 and rows[1]["chunk_rank"] == 2  # whitespace in the fact ignored
    assert rows[0]["baselines_chunk_rank"] == {"bm25": 1, "dense": None}
    # Not scored on chunks: the null question, and the item without gold facts.
    assert "chunk_rank" not in rows[2] and "chunk_rank" not in rows[3] and "baselines_chunk_rank" not in rows[3]
    assert all("gold_facts" not in r for r in rows)  # only the rank goes into the report
    assert rows[0]["correct"] is True and rows[1]["correct"] is False  # "Yes, ..." for a "no" gold
    m = compute_metrics(rows)
    assert m["chunk_hits@4"] == 1.0 and m["chunk_mrr@10"] == 0.5 and m["all_gold@10"] == pytest.approx(2 / 3)


# --- the real command ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eval_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("eval-multihop") / "data"
    return {**os.environ, "NEWSDESK_DATA_DIR": str(data)}


FESTIVAL = "sample-dumpling-festival"
TRAINS = "sample-northshore-timetable"
SET = [
    {"id": "h1", "question": "Which agency runs the line that serves the bay where the dumpling festival is held?",
     "answers": ["Tidewater Regional Transit"], "gold_sources": [TRAINS, FESTIVAL], "answerable": True,
     "question_type": "inference", "gold_facts": [
         {"id": FESTIVAL, "fact": "The festival, run by the Marlow Bay Chamber of   Commerce, drew about 52,000 people last year."},
         {"id": TRAINS, "fact": "when Tidewater Regional Transit introduces a new\ntimetable"}]},
    {"id": "h2", "question": "Do both the dumpling festival and the new Northshore timetable start in 2026?",
     "answers": ["Yes"], "gold_sources": [FESTIVAL, TRAINS], "answerable": True, "question_type": "comparison",
     "gold_facts": [{"id": TRAINS, "fact": "a new stop called Gull Street station opens"}]},
    {"id": "h3", "question": "Who won the dumpling-folding contest in 2025?", "answers": ["Insufficient information."],
     "gold_sources": [], "answerable": False, "unanswerable_kind": "absent", "question_type": "null", "gold_facts": []},
]


def test_eval_command_reports_the_per_type_table_and_chunk_metrics(eval_env, tmp_path):
    set_path = write(tmp_path / "multihop.jsonl", "\n".join(json.dumps(o) for o in SET) + "\n")
    out, md = tmp_path / "report.json", tmp_path / "report.md"
    result = _eval(eval_env, "--corpus", "examples/articles", "--compare", "bm25,dense", "--output", str(out),
                   "--markdown", str(md), set_path=set_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert compute_metrics(report["questions"]) == report["metrics"]
    assert {"all_gold@10", "chunk_hits@4", "chunk_hits@10", "chunk_mrr@10"} <= set(report["metrics"])
    for mode in ("bm25", "dense"):
        assert {"all_gold@10", "chunk_hits@4", "chunk_hits@10", "chunk_mrr@10"} <= set(report["baselines"][mode])
    assert list(report["types"]["by_type"]) == ["inference", "comparison", "null"]
    assert report["types"] == type_metrics(report["questions"])
    answerable = [r for r in report["questions"] if r["answerable"]]
    assert all(set(r["baselines_chunk_rank"]) == {"bm25", "dense"} for r in answerable)
    assert any(r["chunk_rank"] is not None for r in answerable)  # the facts are sentences of the articles
    assert "chunk_rank" not in report["questions"][2]

    assert f"{set_path}: by question type" in result.stdout
    assert "all_gold@10" in result.stdout and "chunk_hits@10" in result.stdout
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("type "))
    assert header.split() == ["type", "n", "declined", "right", "all_gold@10", "false_decline_rate"]
    assert any(line.split()[:2] == ["comparison", "1"] for line in lines)
    assert any(line.split()[:3] == ["all", "types", "3"] for line in lines)
    text = md.read_text()
    assert "## By question type" in text and "| null | 1 |" in text
    assert "| chunk_hits@10 |" in text and "| metric | hybrid | bm25 | dense |" in text

    # A chunk-level threshold on a set without gold facts is a null metric: it misses (exit 2), not an error.
    plain = write(tmp_path / "plain.jsonl", json.dumps({k: v for k, v in SET[0].items() if k != "gold_facts"}) + "\n")
    missed = _eval(eval_env, "--corpus", "examples/articles", "--fail-under", "chunk_hits@10=0.5", set_path=plain)
    assert missed.returncode == 2, missed.stderr
    assert "FAIL chunk_hits@10 is null" in missed.stderr and "Traceback" not in missed.stderr
