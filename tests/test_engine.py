"""The engine over the bundled sample articles: cited answers, declines, follow-ups."""

from __future__ import annotations

import pytest

from assistant.answer import Turn
from assistant.answering.citations import cited_sentences, normalise, supports
from tests.conftest import SAMPLE_ARTICLES


@pytest.fixture
def sample_engine(ingester, engine):
    ingester.ingest_paths([SAMPLE_ARTICLES])
    return engine


def assert_citations_verified(answer, store):
    numbers = {s.n for s in answer.sources}
    assert numbers == set(range(1, len(answer.sources) + 1))
    pieces = cited_sentences(answer.answer)
    assert pieces and all(marks for _sentence, marks in pieces), "every sentence carries a citation"
    for sentence, marks in pieces:
        for n in marks:
            assert n in numbers, f"[{n}] names no source"
            source = answer.sources[n - 1]
            text = store.article_text(source.article_id)
            assert normalise(source.quote) in normalise(text), "quote is verbatim from its article"
            assert supports(sentence, text)


def test_cited_answer(sample_engine, store):
    answer = sample_engine.ask("How much does Canada plan to invest in defence over the next five years?")
    assert not answer.declined and answer.generator == "extractive"
    assert "$81.8-billion" in answer.answer
    assert answer.sources[0].article_id == "sample-canada-defence-spending"
    assert answer.sources[0].url.startswith("https://example.org/") and answer.sources[0].published_at == "2026-01-08"
    assert answer.retrieved[0] == "sample-canada-defence-spending" and len(answer.retrieved) <= 10
    assert len(answer.answer.split()) <= 80 + 3 and set(answer.timings_ms) >= {"retrieve", "answer", "total"}
    assert_citations_verified(answer, store)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("When does the Cedar Point library branch open?", "February 14"),
        ("How many food vendors will take part in the Harbourfront Dumpling Festival?", "48"),
        ("Which new station opens on the Northshore Line?", "Gull Street"),
    ],
)
def test_answers_quote_the_fact(sample_engine, store, question, expected):
    answer = sample_engine.ask(question)
    assert not answer.declined and expected in answer.answer
    assert_citations_verified(answer, store)


@pytest.mark.parametrize(
    "question",
    ["Who won the 2026 Eurovision Song Contest?", "Which team won the 2026 Super Bowl?"],
)
def test_declines_when_sources_do_not_answer(sample_engine, question):
    answer = sample_engine.ask(question)
    assert answer.declined
    assert "don't answer" in answer.answer and "[" not in answer.answer
    assert len(answer.sources) <= 3  # the closest sources, for the reader to check


def test_follow_up_is_rewritten_from_history(sample_engine, store):
    history = [
        Turn(role="user", content="Which rail line is getting a new timetable in March?"),
        Turn(role="assistant", content="The Northshore Line."),
    ]
    answer = sample_engine.ask("When does its new timetable take effect?", history)
    assert "Northshore Line" in answer.standalone_question
    assert answer.retrieved[0] == "sample-northshore-timetable"
    assert not answer.declined and "March 2" in answer.answer
    assert_citations_verified(answer, store)


def test_standalone_question_is_left_alone(sample_engine):
    history = [{"role": "user", "content": "What did Canada promise?"}, {"role": "assistant", "content": "A force."}]
    answer = sample_engine.ask("Where will the Harbourfront Dumpling Festival be held?", history)
    assert answer.standalone_question == answer.question


def test_empty_store_declines(engine):
    answer = engine.ask("What did Canada promise?")
    assert answer.declined and answer.sources == [] and answer.retrieved == []


def test_empty_question_is_an_error(engine):
    with pytest.raises(ValueError, match="question is empty"):
        engine.ask("   ")


def test_filters_restrict_both_retrievers(sample_engine):
    import datetime as dt

    from assistant.answer import SearchFilters

    question = "When does the Cedar Point library branch open?"
    late = SearchFilters(since=dt.date(2026, 1, 12))
    for mode in ("dense", "bm25", "hybrid"):
        hits = sample_engine.retrieve(question, mode=mode, filters=late)
        assert hits and all(h.node.metadata["published_day"] >= 20260112 for h in hits), mode
    early = SearchFilters(until=dt.date(2026, 1, 8))
    assert all(0 < h.node.metadata["published_day"] <= 20260108 for h in sample_engine.retrieve(question, filters=early))
    only = SearchFilters(source="No Such Wire")
    answer = sample_engine.ask(question, filters=only)
    assert answer.declined and answer.retrieved == []


def test_stream_events_rebuild_the_answer(sample_engine):
    events = list(sample_engine.stream("How many food vendors will take part in the Harbourfront Dumpling Festival?"))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    done = events[-1][1]
    assert "".join(data for kind, data in events if kind == "delta") == done.answer
    assert events[0][1] == done.sources
