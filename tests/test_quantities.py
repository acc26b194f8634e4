"""The quantities a question names, and how the judge weighs them: an article that states them is
preferred, one that does not is still heard (real embedder, real Chroma: the engine reads whole
articles from the store)."""

from __future__ import annotations

import json

import pytest

from assistant.understanding.quantities import Quantity, quantities, states_any
from tests.conftest import write


def test_a_question_names_its_figures_not_its_years_ordinals_or_spelled_counts():
    assert quantities("A total of 22 states raised their minimum wage in 2026. Which state pays most?") == (
        Quantity("22", "state"),
    )
    assert quantities("Who signed a 10-year deal, worth $81.8-billion, on the 15th?") == (
        Quantity("10", "year"),
        Quantity("81.8", "billion"),
    )
    assert quantities("Refunds are up by about 11% and 112,000 returns wait") == (
        Quantity("11", "percent"),
        Quantity("112000", "return"),
    )
    assert quantities("Two planes collided on a runway in the 1990s. Where?") == ()
    # A unit never comes from the next sentence.
    assert quantities("He died this week at age 84. Under which president did he serve?") == (Quantity("84", None),)


def test_a_text_states_a_quantity_in_digits_or_words_with_its_unit():
    assert states_any("Rain fell for three days straight.", quantities("within 3 days"))
    assert states_any("Twenty-two U.S. states raised pay.", quantities("22 states"))
    assert states_any("It agreed a ten-year deal.", quantities("a 10-year deal"))
    assert states_any("Refunds rose 11 percent.", quantities("up 11%"))
    # The number alone, or with another unit, is another fact.
    assert not states_any("Pay rose to $18-$22 an hour in 23 states.", quantities("22 states"))
    assert not states_any("The deal runs for 10 months.", quantities("a 10-year deal"))
    assert states_any("Nothing is asked.", ())


def test_a_figure_in_the_question_is_evidence_not_a_veto(settings, ingester, engine, tmp_path):
    articles = [
        {
            "id": "quantities/ferry-fares",
            "title": "Island ferry fares rise again",
            "published_at": "2026-03-02",
            "source": "Harbour Courier",
            "text": "Ferry fares to Gull Island rose for the third time this year, the operator said on Monday. "
            "A return ticket now costs $14, up from $12 in January. "
            "The operator blamed fuel prices and said the timetable stays the same.",
        },
        {
            "id": "quantities/bridge-toll",
            "title": "Toll on the Narrows bridge frozen for 12 months",
            "published_at": "2026-03-03",
            "source": "Harbour Courier",
            "text": "The toll on the Narrows bridge will stay at $3 for twelve months, the transport board "
            "decided on Tuesday. The board said a freeze would help commuters while the ferry fares rise.",
        },
        {
            "id": "quantities/mill-bridge",
            "title": "Old Mill bridge toll goes up",
            "published_at": "2026-03-03",
            "source": "Harbour Courier",
            "text": "The toll on the Old Mill bridge will rise to $5 in April, the county transport board said on Tuesday. "
            "The county said the money would pay for a new deck.",
        },
    ]
    folder = tmp_path / "quantities"
    write(folder / "articles.jsonl", "\n".join(json.dumps(a) for a in articles))
    assert ingester.ingest_paths([folder]).failed == []

    # Two bridges' tolls match; the article that states the question's figure (spelled out) leads.
    stated = engine.ask("The bridge toll stays put for 12 months. How much is the toll?")
    assert not stated.declined and stated.answer.startswith("The toll on the Narrows bridge"), stated.answer

    # No article says "8 ferry routes": a report may word a figure otherwise or leave it out, so the
    # fares article's evidence is weighed down, not zeroed (the rule used to veto it outright).
    plain = engine.ask("How much does a return ticket on the Gull Island ferry cost?")
    assert not plain.declined and "$14" in plain.answer
    question = "Fares rose on 8 routes. How much does a return ticket on the Gull Island ferry cost?"
    trace = engine.run(question)
    assert trace.answer.sources[0].article_id == "quantities/ferry-fares"
    idf = engine.bm25.stats().idf
    checked = engine.answerer.judge(question, trace.context, idf, engine._similarity, 0, engine.store.article_texts)
    unchecked = engine.answerer.judge(question, trace.context, idf, engine._similarity)
    assert checked.evidence == pytest.approx((1 - engine.answerer.quantity_weight) * unchecked.evidence, rel=0.01)


def test_a_follow_ups_carried_keywords_give_no_quantities():
    from assistant.understanding.question import analyse

    # The condenser carries the topic as a bag of keywords: "737 Portland" is no quantity with a unit.
    assert analyse("Which airline was operating that flight? (Boeing 737 Portland door panel)").quantities == ()
    assert analyse("How much does a 30-second spot cost? (Super Bowl advertising)").quantities == (
        Quantity("30", "second"),
    )
