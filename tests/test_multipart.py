"""Questions that span articles: outlets and dates read from the question, one search per part, and
answers that cite every part (or decline naming the part nothing answers)."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.answering.citations import cited_sentences, normalise, supports
from assistant.understanding.outlets import OutletDirectory
from assistant.understanding.parts import dates_in, split_parts
from tests.conftest import write

STORED = [
    "The Verge",
    "Cnbc | World Business News Leader",
    "The Independent - Sports",
    "The Independent - Travel",
    "BBC News - Technology",
    "Fortune",
    "CBSSports.com",
    "Sporting News",
]


@pytest.fixture(scope="module")
def outlets():
    return OutletDirectory(STORED)


def names(outlets, question):
    return [m.outlet.name for m in outlets.mentions(question)]


def parts_of(outlets, question):
    """The question's parts, as asked at the end of 2023."""
    return split_parts(question, outlets, dt.date(2023, 12, 31))


def labels_of(outlets, question):
    return [p.label for p in parts_of(outlets, question).parts]


def test_outlets_are_found_by_the_names_readers_use(outlets):
    assert names(outlets, "Who was fined, as reported by CNBC and The Verge?") == ["Cnbc", "The Verge"]
    assert names(outlets, "What did the BBC say about the chip ban?") == ["BBC"]
    assert names(outlets, "Did CBSSports.com and Sporting News agree?") == ["CBSSports.com", "Sporting News"]
    # One outlet, several desks: the name covers them all; the full stored name only its own.
    independent = outlets.mentions("What did The Independent report on the match?")[0].outlet
    assert set(independent.sources) == {"The Independent - Sports", "The Independent - Travel"}
    sports = outlets.mentions("Does 'The Independent - Sports' article agree?")[0].outlet
    assert sports.sources == ("The Independent - Sports",)


def test_ordinary_words_are_not_outlets_unless_the_question_speaks_of_outlets(outlets):
    assert names(outlets, "Is the company on the verge of collapse?") == []
    assert names(outlets, "Did the lottery winner spend a fortune on cars?") == []
    assert names(outlets, "Fortune favours whom in the playoffs?") == []  # capitalised, but no report
    assert names(outlets, "What did Fortune report about the bank?") == ["Fortune"]
    assert names(outlets, "Who is the founder, according to Fortune and the Verge?") == ["Fortune", "The Verge"]
    # A name in quotes is a title; a reporting verb after a name makes it a publisher.
    assert names(outlets, "Did 'Fortune' and 'The Verge' agree on the founder?") == ["Fortune", "The Verge"]
    assert names(outlets, "a club named in 'Sporting News', 'Fortune', and 'BBC News - Technology'?") == [
        "Sporting News", "Fortune", "BBC News - Technology"]
    assert names(outlets, "Did Fortune recommend the fund after The Verge suggested it?") == ["Fortune", "The Verge"]
    assert names(outlets, "Did the 'fortune' cookie app win?") == []  # quoted, but not written as a name


def test_dates_are_read_with_and_without_years():
    reference = dt.date(2023, 12, 31)
    found = dates_in("published on October 4, 2023, then Oct. 6th, 9 November 2023, 2023-12-01 and in March 2023", reference)
    assert [(d.since, d.until) for d in found] == [
        (dt.date(2023, 10, 4), dt.date(2023, 10, 4)),
        (dt.date(2023, 10, 6), dt.date(2023, 10, 6)),
        (dt.date(2023, 11, 9), dt.date(2023, 11, 9)),
        (dt.date(2023, 12, 1), dt.date(2023, 12, 1)),
        (dt.date(2023, 3, 1), dt.date(2023, 3, 31)),
    ]
    # A day without a year that has not come yet this year is last year's.
    assert dates_in("the report of December 30", dt.date(2024, 1, 5))[0].since == dt.date(2023, 12, 30)
    assert dates_in("on February 30, 2023", reference) == []


def test_a_temporal_question_has_a_part_per_dated_report(outlets):
    plan = parts_of(
        outlets,
        "Between the Sporting News report on rookie odds published on October 4, 2023, and the Sporting News "
        "report on line shopping published on November 6, 2023, did the role of sportsbooks change?",
    )
    assert plan.spans_articles and [p.label for p in plan.parts] == [
        "Sporting News, October 4, 2023",
        "Sporting News, November 6, 2023",
    ]
    first, second = plan.parts
    assert "rookie odds" in first.query and "line shopping" not in first.query and "sportsbooks" in first.query
    assert "line shopping" in second.query and "rookie" not in second.query
    filters = first.filters(None)
    assert filters.sources == ("Sporting News",)
    assert (filters.since, filters.until) == (dt.date(2023, 10, 3), dt.date(2023, 10, 5))


def test_one_outlet_with_two_report_dates_has_a_part_per_report(outlets):
    plan = parts_of(
        outlets,
        "Did the Sporting News article on the rookie race published on October 4, 2023, and the one on line "
        "shopping published on November 6, 2023, agree about sportsbooks?",
    )
    assert [p.label for p in plan.parts] == ["Sporting News, October 4, 2023", "Sporting News, November 6, 2023"]
    assert "rookie race" in plan.parts[0].query and "line shopping" not in plan.parts[0].query
    assert "line shopping" in plan.parts[1].query and "rookie" not in plan.parts[1].query
    # a date joined to a report's date by "and" is another report's
    joined = "Was Fortune's reporting on October 31, 2023, and December 15, 2023, on the bank consistent?"
    assert labels_of(outlets, joined) == ["Fortune, October 31, 2023", "Fortune, December 15, 2023"]


def test_a_name_asked_by_several_descriptions_is_searched_clause_by_clause(outlets):
    from assistant.answering.multipart import describes_by_clauses

    plan = parts_of(
        outlets,
        "Which bank, accused of hiding its trading losses according to Fortune, and praised for its new savings app "
        "by The Verge, was fined last week?",
    )
    assert describes_by_clauses(plan)
    assert [c.removesuffix(" by") for c in plan.clauses] == ["accused of hiding its trading losses", "praised for its new savings app"]
    assert set(plan.named_sources) == {"Fortune", "The Verge"}
    comparison = parts_of(outlets, "Does the Fortune article say the bank hid its losses, while The Verge says it did not?")
    assert not describes_by_clauses(comparison)  # yes or no: no name to describe
    dated = parts_of(outlets, "Which bank, hiding losses, did the Fortune report of October 4, 2023, and the Verge "
                              "report of November 6, 2023, describe as a fraud?")
    assert [p.label for p in dated.parts] == ["Fortune, October 4, 2023", "The Verge, November 6, 2023"]
    assert not describes_by_clauses(dated)  # its reports are named by date


def test_covering_leads_with_the_best_part_then_each_clause_then_the_named_outlets():
    from llama_index.core.schema import NodeWithScore, TextNode

    from assistant.answering.multipart import PartResult, covering

    def hit(node_id, score, source):
        return NodeWithScore(node=TextNode(id_=node_id, text=node_id, metadata={"source": source}), score=score)

    first = PartResult(None, [hit("a1", 0.2, "Fortune"), hit("a2", 0.1, "Fortune")])
    second = PartResult(None, [hit("b1", 0.5, "The Verge")])
    rest = [hit("x1", 0.9, "Elsewhere"), hit("a2", 0.1, "Fortune"), hit("b2", 0.3, "The Verge")]
    clauses = [[hit("c1", 0.05, "Fortune")], []]
    merged = [h.node.node_id for h in covering([first, second], rest, clauses, ("Fortune", "The Verge"))]
    assert merged == ["b1", "a1", "c1", "b2", "a2", "x1"]
    # without named outlets the rest goes by score alone
    assert [h.node.node_id for h in covering([first, second], rest)] == ["b1", "a1", "x1", "b2", "a2"]


def test_a_date_of_the_event_is_not_a_report_date(outlets):
    question = ("Which company, covered by The Verge for its store and by CNBC for a product on sale starting "
                "November 16, 2023, made these moves?")
    assert labels_of(outlets, question) == ["The Verge", "Cnbc"]


def test_a_comparison_has_a_part_per_claim_and_a_shared_inference_asks_the_whole(outlets):
    comparison = parts_of(
        outlets,
        "Does the Fortune article say the bank hid its losses, while the CNBC article reports that regulators knew?",
    )
    assert [p.own_words for p in comparison.parts] == [True, True]
    assert "hid its losses" in comparison.parts[0].query and "regulators" not in comparison.parts[0].query
    assert "regulators knew" in comparison.parts[1].query
    inference = parts_of(outlets, "Who is the trader accused of hiding losses, as reported by Fortune and The Verge?")
    assert [p.label for p in inference.parts] == ["Fortune", "The Verge"]
    for part in inference.parts:  # the outlets share the whole question
        assert "trader accused of hiding losses" in part.query and "Fortune" not in part.query and "Verge" not in part.query


ARTICLES = {
    "gazette-ferry.md": """---
id: gazette-ferry
title: "Ferry fares to climb in spring"
url: https://example.org/gazette/ferry-fares
published_at: 2025-03-02
source: Harbor Gazette
---
Mayor Ilse Okafor said on Saturday that fares on the Lindqvist Sound ferry will rise by a third in April, the first increase in nine years.

Okafor told the council that fuel and repairs to the older of the two boats had outrun the ferry's budget.
""",
    "ledger-ferry.md": """---
id: ledger-ferry
title: "Fewer riders on the Sound ferry this winter"
url: https://example.org/ledger/ferry-riders
published_at: 2025-03-20
source: Valley Ledger
---
Ridership on the Lindqvist Sound ferry fell by a fifth over the winter, figures released by the harbour office show.

Mayor Ilse Okafor blamed the drop on storms that cancelled dozens of crossings in January and February.
""",
    "ledger-orchard.md": """---
id: ledger-orchard
title: "Orchard growers expect an early bloom"
url: https://example.org/ledger/orchard
published_at: 2025-03-18
source: Valley Ledger
---
Apple growers in the upper valley expect blossoms two weeks early after a mild February, the growers' cooperative said.
""",
}


@pytest.fixture
def outlet_engine(ingester, engine, tmp_path):
    for name, text in ARTICLES.items():
        write(tmp_path / "articles" / name, text)
    ingester.ingest_paths([tmp_path / "articles"])
    return engine


def assert_cited_verbatim(answer, store):
    pieces = cited_sentences(answer.answer)
    assert pieces and all(marks for _sentence, marks in pieces), answer.answer
    for sentence, marks in pieces:
        for n in marks:
            assert supports(sentence, store.article_text(answer.sources[n - 1].article_id)), (sentence, n)
    for source in answer.sources:
        assert normalise(source.quote) in normalise(store.article_text(source.article_id))


def test_a_comparison_cites_each_outlet_without_a_guessed_verdict(outlet_engine, store):
    answer = outlet_engine.ask(
        "Does the Harbor Gazette article say the ferry fare will rise, while the Valley Ledger article "
        "reports that ferry ridership fell?"
    )
    assert not answer.declined, answer.answer
    assert {s.article_id for s in answer.sources} == {"gazette-ferry", "ledger-ferry"}
    assert answer.answer.startswith("Harbor Gazette, 2025-03-02: ") and "Valley Ledger, 2025-03-20: " in answer.answer
    assert not answer.answer.lower().startswith(("yes", "no"))
    assert_cited_verbatim(answer, store)


def test_a_shared_name_answers_who_both_outlets_wrote_about(outlet_engine, store):
    answer = outlet_engine.ask("Who is the official quoted on the Lindqvist Sound ferry by both the Harbor Gazette and the Valley Ledger?")
    assert not answer.declined, answer.answer
    assert answer.answer.startswith("Ilse Okafor [1][2]"), answer.answer
    # the Gazette's sentence ends a paragraph; the answer and the quotes keep none of its line breaks
    assert "\n" not in answer.answer and all(s.quote == s.quote.strip() for s in answer.sources)
    assert {s.source for s in answer.sources} == {"Harbor Gazette", "Valley Ledger"}
    assert_cited_verbatim(answer, store)


def test_a_report_that_is_not_stored_is_named_in_the_decline(outlet_engine):
    answer = outlet_engine.ask(
        "Between the Harbor Gazette report published on March 2, 2025, and the Harbor Gazette report "
        "published on June 9, 2025, did the ferry fares change?"
    )
    assert answer.declined
    assert "No article from Harbor Gazette published around June 9, 2025 is in the store." in answer.answer


def test_one_named_outlet_leads_the_search_without_shutting_out_the_rest(outlet_engine):
    answer = outlet_engine.ask("What did the Valley Ledger report about the ferry?")
    assert answer.retrieved[0] == "ledger-ferry"
    assert not answer.declined and answer.sources[0].source == "Valley Ledger"


def test_with_an_llm_a_question_across_articles_gets_the_comparing_prompt(outlet_engine):
    from assistant.answering.generative import GenerativeAnswerer
    from assistant.answering.multipart import covering, retrieve_parts

    question = (
        "Between the Harbor Gazette report of March 2, 2025 and the Valley Ledger report of March 20, 2025, "
        "did the news about the ferry get worse?"
    )
    bm25 = outlet_engine.bm25.get()
    plan = split_parts(question, outlet_engine._outlets(bm25), outlet_engine._reference_day())
    assert [p.label for p in plan.parts] == ["Harbor Gazette, March 2, 2025", "Valley Ledger, March 20, 2025"]
    found = retrieve_parts(plan, lambda q, filters: outlet_engine.retrieve(q, filters=filters, bm25=bm25), None)
    hits = covering(found.results, [])
    # both parts' best chunks lead, the better scored first
    assert {h.node.metadata["article_id"] for h in hits[:2]} == {"gazette-ferry", "ledger-ferry"}
    assert hits[0].score >= hits[1].score
    hits = sorted(hits[:2], key=lambda h: h.node.metadata["article_id"] != "gazette-ferry") + hits[2:]
    generative = GenerativeAnswerer(None, "none", outlet_engine.answerer)
    user = generative.prepare(question, hits, across=True).messages[-1].content
    system = generative.prepare(question, hits, across=True).messages[0].content
    assert "compares or connects several news articles" in system
    assert "Source [1]: Ferry fares to climb in spring — Harbor Gazette (published 2025-03-02)" in user
    assert "— Valley Ledger (published 2025-03-20)" in user


def test_how_a_story_changed_is_told_oldest_first_with_dates(outlet_engine, store):
    answer = outlet_engine.ask("How has the Lindqvist Sound ferry story changed since March?")
    assert not answer.declined, answer.answer
    assert answer.answer.startswith("Harbor Gazette, 2025-03-02: ")
    assert answer.answer.index("Harbor Gazette, 2025-03-02") < answer.answer.index("Valley Ledger, 2025-03-20")
    assert_cited_verbatim(answer, store)
