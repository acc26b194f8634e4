"""Follow-up sets: items that take their gold from a referenced question (``ref`` + ``--refs``), asked
in their conversation or, with ``standalone``, as the referenced question alone; and the real
follow-up set over the RealTimeQA dev questions (skipped where ../shared/data is absent)."""

from __future__ import annotations

import json

import pytest

from eval.metrics import contains_answer
from eval.runner import SetFormatError, evaluate, load_set
from tests.conftest import REPO, RTQA, write

FOLLOWUPS = REPO / "eval" / "sets" / "rtqa-followups.jsonl"

REFS = [
    {"id": "r1", "question": "Where will the dumpling festival be held?", "answers": ["Pier 4 Plaza"],
     "gold_sources": ["art"], "answerable": True, "gold_sources_related": ["old"]},
    {"id": "r2", "question": "Who won the 2026 song contest?", "answers": [], "gold_sources": [],
     "answerable": False, "unanswerable_kind": "absent"},
]
HISTORY = [{"role": "user", "content": "Tell me about the festival"}, {"role": "assistant", "content": "It runs two days."}]
SET = [
    {"id": "f1", "ref": "r1", "history": HISTORY, "question": "Where is it?"},
    {"id": "f2", "ref": "r2", "question": "And who won it?"},
    {"id": "own", "question": "How many vendors?", "answers": ["48"], "gold_sources": ["art"], "answerable": True,
     "history": HISTORY},
]


def _jsonl(objs) -> str:
    return "\n".join(json.dumps(o) for o in objs) + "\n"


@pytest.fixture
def files(tmp_path):
    return write(tmp_path / "set.jsonl", _jsonl(SET)), write(tmp_path / "refs.jsonl", _jsonl(REFS))


def test_items_with_a_ref_take_its_gold_and_keep_their_conversation(files):
    set_path, refs = files
    f1, f2, own = load_set(set_path, refs=refs)
    assert (f1.id, f1.ref, f1.question, f1.history) == ("f1", "r1", "Where is it?", HISTORY)
    assert (f1.answers, f1.gold_sources, f1.answerable, f1.unanswerable_kind) == (["Pier 4 Plaza"], ["art"], True, None)
    assert (f2.question, f2.history, f2.answerable, f2.unanswerable_kind) == ("And who won it?", [], False, "absent")
    # An item without a ref keeps its own fields.
    assert (own.ref, own.answers, own.answerable, own.history) == (None, ["48"], True, HISTORY)


def test_standalone_asks_the_referenced_question_alone(files):
    set_path, refs = files
    f1, f2, own = load_set(set_path, refs=refs, standalone=True)
    assert (f1.id, f1.ref, f1.question, f1.history) == ("f1", "r1", "Where will the dumpling festival be held?", [])
    assert f1.answers == ["Pier 4 Plaza"] and f2.question == "Who won the 2026 song contest?"
    assert own.question == "How many vendors?" and own.history == HISTORY  # no ref: asked as written


def test_report_rows_keep_the_ref_and_the_engine_sees_only_question_and_history(files):
    from tests.test_eval import _FakeEngine, _FakeStore

    set_path, refs = files
    engine = _FakeEngine()
    rows = evaluate(engine, _FakeStore(), load_set(set_path, refs=refs, standalone=True))
    assert [r["ref"] for r in rows] == ["r1", "r2", None] and [r["id"] for r in rows] == ["f1", "f2", "own"]
    assert rows[0]["correct"] is True and rows[1]["unanswerable_kind"] == "absent"
    assert engine.calls[0] == {"question": "Where will the dumpling festival be held?", "history": [], "top_k": None}
    assert "r1" not in json.dumps(engine.calls) and "Pier 4" not in json.dumps(engine.calls[:1])


@pytest.mark.parametrize(
    "line, refs_given, message",
    [
        ({"id": "f9", "ref": "nope", "question": "Where?"}, True, "unknown ref 'nope' (no question with that id in "),
        ({"id": "f9", "ref": "r1", "question": "Where?"}, False, "'ref' 'r1' needs a refs file (--refs REFS.jsonl)"),
        ({"id": "f9", "ref": "r1", "question": "Where?", "answers": ["X"]}, True, "'answers' comes from the ref 'r1'"),
        ({"id": "f9", "ref": "r1", "question": "Where?", "answerable": True}, True, "'answerable' comes from the ref 'r1'"),
        ({"id": "f9", "ref": "", "question": "Where?"}, True, "'ref' must be a non-empty string"),
        ({"id": "f9", "question": "Where?"}, True, "missing 'answerable'"),  # no ref: answerable stays required
    ],
)
def test_bad_refs_are_reported_with_file_and_line(tmp_path, line, refs_given, message):
    set_path = write(tmp_path / "set.jsonl", _jsonl([SET[2], line]))  # line 1 needs no refs
    refs = write(tmp_path / "refs.jsonl", _jsonl(REFS)) if refs_given else None
    with pytest.raises(SetFormatError) as info:
        load_set(set_path, refs=refs)
    assert f"{set_path}:2: " in str(info.value) and message in str(info.value)
    if "unknown ref" in message:
        assert str(refs) in str(info.value)


def test_a_bad_refs_file_is_reported_with_its_own_path_and_line(tmp_path, files):
    set_path, _ = files
    refs = write(tmp_path / "bad-refs.jsonl", _jsonl(REFS) + '{"id": "r3", "question": "Who?"}\n')
    with pytest.raises(SetFormatError, match=rf"{refs}:3: missing 'answerable'"):
        load_set(set_path, refs=refs)


# --- the real follow-up set ----------------------------------------------------------------------------
def test_followup_set_refers_to_answerable_dev_questions_in_its_own_words():
    questions = RTQA / "questions.jsonl"
    if not questions.exists():
        pytest.skip(f"../shared/data/rtqa-dev not present (looked for {questions}): follow-up set check skipped")
    dev = {q["id"]: q for q in map(json.loads, questions.read_text(encoding="utf-8").splitlines()) if q}
    raw = [json.loads(line) for line in FOLLOWUPS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(raw) >= 30
    for obj in raw:
        # Gold comes from the ref only: the file stores no answers, sources or labels of the data set.
        assert set(obj) == {"id", "ref", "history", "question"}, obj["id"]
        assert obj["ref"] in dev, f"{obj['id']}: unknown ref {obj['ref']}"
        ref = dev[obj["ref"]]
        assert ref["answerable"] is True, f"{obj['id']}: ref {obj['ref']} is unanswerable"
        assert obj["question"].strip().lower() != ref["question"].strip().lower(), obj["id"]
        assert obj["history"] and obj["history"][0]["role"] == "user" and obj["history"][-1]["role"] == "assistant", obj["id"]
        # The lead-in must not give away what the last turn asks for.
        said = " ".join(turn["content"] for turn in obj["history"])
        assert not contains_answer(said, ref["answers"]), f"{obj['id']}: the history states a gold answer of {obj['ref']}"
    assert len({obj["ref"] for obj in raw}) == len(raw)  # one conversation per dev question
    assert sum(len(obj["history"]) >= 4 for obj in raw) >= 8  # three-turn chains

    items = load_set(FOLLOWUPS, refs=questions)
    assert len(items) == len(raw) and all(item.answerable and item.answers and item.gold_sources for item in items)
    alone = load_set(FOLLOWUPS, refs=questions, standalone=True)
    assert [item.question for item in alone] == [dev[obj["ref"]]["question"] for obj in raw]
    assert not any(item.history for item in alone)


# --- the command ---------------------------------------------------------------------------------------
def test_eval_command_with_refs_and_standalone(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import SAMPLE_ARTICLES

    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    sample = REPO / "eval" / "sets" / "sample.jsonl"
    conversation = [{"role": "user", "content": "What is happening on the Northshore Line?"},
                    {"role": "assistant", "content": "A new timetable brings more frequent trains."}]
    followups = write(tmp_path / "followups.jsonl", _jsonl([
        {"id": "c1", "ref": "s16", "history": conversation, "question": "Which new station opens on it?"},
        {"id": "c2", "ref": "s24", "history": conversation, "question": "And what does a monthly pass cost?"},
    ]))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "assistant.cli", "eval", str(followups), *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)

    no_refs = run("--standalone")
    assert no_refs.returncode == 1 and "--standalone" in no_refs.stderr and "--refs" in no_refs.stderr
    missing = run()
    assert missing.returncode == 1 and f"{followups}:1: 'ref' 's16' needs a refs file" in missing.stderr

    out = tmp_path / "standalone.json"
    alone = run("--refs", str(sample), "--standalone", "--corpus", str(SAMPLE_ARTICLES), "--output", str(out))
    assert alone.returncode == 0, alone.stderr
    rows = json.loads(out.read_text())["questions"]
    by_id = {o["id"]: o for o in map(json.loads, sample.read_text().splitlines()) if o}
    assert [r["id"] for r in rows] == ["c1", "c2"] and [r["ref"] for r in rows] == ["s16", "s24"]
    assert [r["question"] for r in rows] == [by_id["s16"]["question"], by_id["s24"]["question"]]
    assert [r["history"] for r in rows] == [[], []]
    assert rows[0]["answers"] == by_id["s16"]["answers"] and rows[1]["answerable"] is False
