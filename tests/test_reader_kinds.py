"""What readers ask besides quiz facts: small talk, yes/no verdicts, whose words a quote is, summaries,
soft recency, a sentence under a heading. Hand-made chunks for the answerer; the real engine (real
embedder, real Chroma) for the paths that run through it."""

from __future__ import annotations

import json

from llama_index.core.schema import NodeWithScore, TextNode

from assistant.understanding.answer_types import speaker
from assistant.understanding.small_talk import small_talk_reply
from assistant.answering.extractive import ExtractiveAnswerer, with_verdict
from assistant.understanding.question import recency_strength
from assistant.understanding.summary_requests import summary_topic
from assistant.answering.verdicts import verdict, yes_no
from tests.conftest import write


def _hit(article_id: str, text: str, title: str = "", day: int = 0) -> NodeWithScore:
    meta = {"article_id": article_id, "title": title, "published_day": day}
    return NodeWithScore(node=TextNode(id_=f"{article_id}::0", text=text, metadata=meta), score=1.0)


def test_small_talk_gets_a_reply_and_questions_do_not():
    for message in ("thanks!", "Thank you so much", "hi", "hello there", "ok", "cool, got it", "bye", "who are you?"):
        assert small_talk_reply(message), message
    assert "welcome" in small_talk_reply("thanks!").lower()
    for message in ("thanks, and who won?", "hi, what did Canada promise?", "ok what about France", "Who won?"):
        assert small_talk_reply(message) is None, message


def test_a_verdict_only_where_the_sentence_states_the_asked_event():
    asked = yes_no("Did anybody die in the collapse?")
    assert asked is not None
    assert verdict(asked, "Two workers died in the collapse on Tuesday, officials said.") == "Yes"
    assert verdict(asked, "Nobody died in the collapse, the fire service said.") == "No"
    assert verdict(asked, "The collapse closed the road for a week.") is None, "no word of dying: no verdict"
    asked = yes_no("Did the United States agree to send troops?")
    assert verdict(asked, "The United States has agreed to help monitor a truce.") is None, "another event: no verdict"
    assert verdict(asked, "The United States did not agree to send troops to the region.") == "No"
    assert yes_no("Who agreed to send troops?") is None


def test_a_yes_no_answer_leads_with_its_verdict_or_gives_the_evidence_alone():
    answerer = ExtractiveAnswerer(decline_threshold=0.0)
    hits = [_hit("a", "The Harbour Line ferry was cancelled on Friday because of the storm, the operator said.")]
    judged = answerer.judge("Was the Harbour Line ferry cancelled on Friday?", hits)
    draft = with_verdict("Was the Harbour Line ferry cancelled on Friday?", answerer.compose(judged), judged)
    assert draft.text.startswith("Yes — The Harbour Line ferry was cancelled")
    judged = answerer.judge("Was the Harbour Line ferry sold on Friday?", hits)
    draft = with_verdict("Was the Harbour Line ferry sold on Friday?", answerer.compose(judged), judged)
    assert not draft.text.startswith(("Yes", "No")), "a verdict is never guessed"


def test_a_quote_is_given_to_its_speaker_only():
    assert speaker('"We will not back down," Mayor Ana Ruiz said.').endswith("Ana Ruiz")
    assert speaker("Whatever the council says, he argued, Ruiz has no plan.") == "he"
    assert speaker("The council met on Tuesday.") is None
    hits = [
        _hit("a", "Whatever the council says in public, he argued, Ruiz has shown she is not ready to compromise. "
                  '"The budget is balanced and the pools stay open," Ruiz told reporters on Monday.'),
    ]
    answer, _sources, declined, _ = ExtractiveAnswerer(max_sentences=1, decline_threshold=0.0).answer("What did Ruiz say?", hits)
    assert not declined and "pools stay open" in answer and "he argued" not in answer


def test_a_sentence_under_a_heading_is_quoted_with_it():
    text = "Jaws (1975)\nThis is the definitive summer blockbuster, and the first film of its kind, critics agree."
    answer, *_ = ExtractiveAnswerer(max_sentences=1, decline_threshold=0.0).answer(
        "Which movie is considered the first summer blockbuster?", [_hit("a", text)]
    )
    assert "Jaws" in answer


def test_boilerplate_and_questions_an_article_asks_are_never_quoted():
    text = (
        "Editor's note: This page is a summary of news on the Harbour Line strike. "
        "Who first proposed the strike? "
        "Ferry crews on the Harbour Line walked out on Monday over pay, the union said."
    )
    answer, *_ = ExtractiveAnswerer(max_sentences=3, decline_threshold=0.0).answer("Why did the Harbour Line crews strike?", [_hit("a", text)])
    assert answer.startswith("Ferry crews on the Harbour Line walked out")
    assert "Editor" not in answer and "Who first proposed" not in answer


def test_recency_is_a_preference_by_how_sure_the_question_is():
    assert recency_strength("Who won the award this week?") == 1.0
    assert recency_strength("What is the latest on the strike?") == 0.5
    assert recency_strength("Who was named best new artist?") == 0.25
    assert recency_strength("Who was named best artist?") == 0.0
    # An older article still answers a "new" question when it is what matched: nothing is dropped.
    hits = [_hit("old", "The Marlow Party was announced by the Harbour mayor as a new political party.", day=20240101),
            _hit("newer", "The Harbour mayor opened a bakery on the pier on Tuesday.", day=20240601)]
    answer, _s, declined, _ = ExtractiveAnswerer(max_sentences=1, decline_threshold=0.0).answer(
        "What is the name of the new political party announced by the Harbour mayor?", hits
    )
    assert not declined and "Marlow Party" in answer


def test_summary_requests_are_read_for_their_topic():
    assert summary_topic("What happened with the Harbour Line strike?") == "the Harbour Line strike"
    assert summary_topic("Summarize the agreement") == "the agreement"
    assert summary_topic("what are the main points") == ""
    assert summary_topic("What's the latest on the ferry fares?") == "the ferry fares"
    assert summary_topic("What's new?") == ""
    assert summary_topic("Who won the regatta?") is None


def test_the_engine_summarises_with_ledes_newest_first_and_answers_small_talk(ingester, engine, tmp_path):
    articles = [
        {"id": "strike-1", "title": "Harbour Line ferry crews strike over pay", "published_at": "2026-03-02",
         "text": "Ferry crews on the Harbour Line walked out on Monday over pay, stranding thousands of commuters. "
                 "The union said talks had failed after six weeks. The operator called the strike unnecessary."},
        {"id": "strike-2", "title": "Harbour Line strike ends with a pay deal", "published_at": "2026-03-05",
         "text": "The Harbour Line ferry strike ended on Thursday after crews accepted a 6 percent pay rise. "
                 "Services will return to the normal timetable on Friday, the operator said."},
        {"id": "bakery", "title": "Pier bakery opens", "published_at": "2026-03-04",
         "text": "A bakery opened on the pier on Wednesday, selling bread and buns to ferry passengers."},
    ]
    write(tmp_path / "in" / "articles.jsonl", "\n".join(json.dumps(a) for a in articles))
    assert ingester.ingest_paths([tmp_path / "in"]).failed == []

    summary = engine.ask("What happened with the Harbour Line strike?")
    assert not summary.declined
    assert summary.answer.index("strike ended on Thursday") < summary.answer.index("walked out on Monday"), "newest first"
    assert [s.article_id for s in summary.sources] == ["strike-2", "strike-1"]
    assert "bakery" not in summary.answer

    thanks = engine.ask("thanks!")
    assert thanks.conversational and not thanks.sources and "[" not in thanks.answer and not thanks.declined


def test_a_question_on_a_new_story_carries_nothing_from_the_last_one(ingester, engine, tmp_path):
    articles = [
        {"id": "festival", "title": "Dumpling festival returns to the waterfront", "published_at": "2026-01-20",
         "text": "The dumpling festival returns on May 16 with 48 food vendors on the waterfront, organisers said."},
        {"id": "comet", "title": "Science centre opens comet exhibit", "published_at": "2026-01-10",
         "text": "The science centre will open its comet exhibit on Saturday, January 24, with a model of a comet nucleus."},
    ]
    write(tmp_path / "in" / "articles.jsonl", "\n".join(json.dumps(a) for a in articles))
    assert ingester.ingest_paths([tmp_path / "in"]).failed == []
    history = [{"role": "user", "content": "How many vendors will the dumpling festival have?"},
               {"role": "assistant", "content": "The dumpling festival returns on May 16 with 48 food vendors. [1]"}]
    answer = engine.ask("When does the comet exhibit open?", history)
    assert answer.standalone_question == "When does the comet exhibit open?"
    assert "January 24" in answer.answer
    # A follow-up that continues the story still gets its topic.
    followup = engine.ask("When does it start?", history)
    assert "May 16" in followup.answer, followup.standalone_question


def test_the_words_that_frame_a_question_are_not_its_topic():
    from assistant.understanding.question import analyse

    assert set(analyse("How much did the new library cost?").weights) == {"new", "librari", "cost"}
    asked = analyse("How much did the new library cost?")
    assert asked.predicate == "cost" and asked.subject == {"librari"}, "an adjective is not the asked verb"
    assert "mani" not in analyse("How many people died in the fire?").weights
    framed = analyse("What is the role of the supply centres?").weights
    assert framed["role"] < 0.5 * framed["suppli"], "'the role of' asks for a description; the centres are the topic"
    assert "what" not in analyse("What's the purpose of the new law?").weights, "a stop word with a clitic is one"


def test_a_why_answer_reads_on_to_the_cause_and_followers_stay_on_the_subject():
    answerer = ExtractiveAnswerer(decline_threshold=0.0)
    hits = [_hit("a", "Reaching the harbour deal was a struggle for the council. Talks stalled for months over "
                      "the cost of dredging the channel. The deal was signed on Friday.")]
    draft = answerer.compose(answerer.judge("Why was reaching the harbour deal a struggle?", hits))
    assert draft.text.startswith("Reaching the harbour deal was a struggle") and "over the cost of dredging" in draft.text
    # The festival's sentence answers "how much ... cost in 2025" well enough to follow, but names no library.
    hits = [_hit("lib", "The Cedar Point library cost $14.2 million in 2025, the city said."),
            _hit("food", "In 2025, dumplings at the harbour festival cost $2 each.")]
    answerer = ExtractiveAnswerer(decline_threshold=0.05, follow_ratio=0.2)
    draft = answerer.compose(answerer.judge("How much did the library cost in 2025?", hits))
    assert "$14.2 million" in draft.text and "dumplings" not in draft.text, draft.text
    draft = answerer.compose(answerer.judge("How much did things cost in 2025?", hits))
    assert "dumplings" in draft.text, "with no subject named, a second story may follow"


def test_a_lead_without_the_asked_figure_brings_its_articles_sentence_that_has_it():
    answerer = ExtractiveAnswerer(decline_threshold=0.05)
    story = ("The door plug that blew off the Harbour Air jet over Portland was found in a teacher's backyard. "
             "Crews searched fields near the airport for two days. "
             "Investigators will examine the 63-pound plug at a laboratory in Seattle.")
    draft = answerer.compose(answerer.judge("How heavy was the door plug that blew off the Harbour Air jet?", [_hit("a", story)]))
    assert draft.text.startswith("The door plug that blew off") and "63-pound" in draft.text, draft.text
    assert "Crews searched" not in draft.text


def test_a_question_for_a_figure_the_articles_never_give_is_declined():
    answerer = ExtractiveAnswerer(decline_threshold=0.05)
    story = ("Coca-Cola Spiced will reach shelves across the country on Feb. 19, the company said. "
             "The raspberry-flavoured cola comes in regular and zero-sugar versions.")
    assert answerer.judge("How much does a can of Coca-Cola Spiced cost?", [_hit("a", story)]).declined
    assert not answerer.judge("When will Coca-Cola Spiced reach shelves?", [_hit("a", story)]).declined
    answerer.typed_decline = 0
    assert not answerer.judge("How much does a can of Coca-Cola Spiced cost?", [_hit("a", story)]).declined


def test_a_count_must_count_what_was_asked():
    from assistant.understanding.answer_types import answer_type, type_match

    asked = answer_type("How many Canadian troops will be deployed to Ukraine?")
    assert asked.counted == "troop"
    words = {"how", "many", "canadian", "troops", "will", "be", "deployed", "to", "ukraine"}
    assert type_match(asked, "Canada is among the more than 30 countries backing the guarantees.", words) == 0.5
    assert type_match(asked, "About 1,200 Canadian soldiers could deploy.", words) == 1.0, "the question's own word follows"
    assert type_match(asked, "Ottawa will send 400 more troops.", words) == 1.0
    assert answer_type("How many people died in the fire?").counted is None, "any count of people answers"
