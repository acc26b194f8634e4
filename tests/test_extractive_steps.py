"""The extractive answerer's steps, one at a time, on hand-made chunks and sentences (no store, no
embedder). What the whole answerer does with them is tests/test_extractive.py's and
tests/test_reader_kinds.py's; the values asserted here are what the steps gave when they were split
out of the one module (assistant/answering/extractive/, 2026), so a change to one shows up here first."""

from __future__ import annotations

import pytest
from llama_index.core.schema import NodeWithScore, TextNode

from assistant.answering.extractive import DECLINE_TEXT, Draft, ExtractiveAnswerer, Judgement, ScoredSentence, dated_label, led_by
from assistant.answering.extractive.composing import asks_for_a_figure, choose_lead, cited, with_followers
from assistant.answering.extractive.judgement import (
    names_its_kind,
    not_stating,
    answerability,
    evidence_of,
    holds_asked_kind,
    of_kind_in,
)
from assistant.answering.extractive.scoring import _with_the_one_before, embed_best, score_chunks, vote
from assistant.answering.extractive.sentences import quotable_sentences, quote_units
from assistant.answering.extractive.sources import age_days_of, newest_day_of, source_for, closest_sources
from assistant.answering.extractive.summary import best_stories, lede, summarise
from assistant.understanding.question import analyse


def _hit(article_id: str, text: str = "x", **meta) -> NodeWithScore:
    return NodeWithScore(node=TextNode(id_=f"{article_id}::0", text=text, metadata={"article_id": article_id, **meta}), score=1.0)


def _scored(text: str, article_id: str = "a", score: float = 1.0, **fields) -> ScoredSentence:
    return ScoredSentence(text, 0, _hit(article_id), coverage=fields.pop("coverage", 0.5), score=score, **fields)


# --- sentences -----------------------------------------------------------------------------------------
def test_quote_units_keep_a_split_quotation_whole_and_end_at_a_line_break():
    text = "“Do we have the bench strength? Well, we've been building that bench,” Carney said. He left.\nNext line? Yes."
    assert [text[s:e] for s, e in quote_units(text)] == [
        "“Do we have the bench strength? Well, we've been building that bench,” Carney said.",
        "He left.",
        "Next line?",
        "Yes.",
    ]


def test_quotable_sentences_skip_what_is_never_quoted_and_read_on_after_a_colon():
    text = (
        "The winners were:\nThe Tern crew and the Gull crew.\nWho won the cup today then?\n"
        "Sign up for our harbour newsletter today.\nToo short here.\nThe Tern crew won the harbour regatta cup.\n"
        "Harbour Regatta Cup\nREQUIRED READING: the best regatta stories"
    )
    seen = {"The Tern crew won the harbour regatta cup."}  # already scored from another chunk
    assert list(quotable_sentences(text, quote_units(text), seen)) == [
        (0, 17, "The winners were: The Tern crew and the Gull crew."),
        (1, 50, "The Tern crew and the Gull crew."),
    ]
    assert seen == {"The Tern crew won the harbour regatta cup.", "The winners were: The Tern crew and the Gull crew.",
                    "The Tern crew and the Gull crew."}


# --- scoring -------------------------------------------------------------------------------------------
def test_a_sentence_that_refers_back_is_read_with_the_sentence_or_heading_before_it():
    q = analyse("Who won the harbour rowing award?")

    def widened(text: str, match: float = 0.5):
        units = quote_units(text)
        return _with_the_one_before(q, text, units, 1, units[1][1], match)

    assert widened("Mara Quill coached the Tern crew for ten years. She won the harbour rowing award on Friday.") == (
        "Mara Quill coached the Tern crew for ten years. She won the harbour rowing award on Friday.", 1.0)
    assert widened("Mara Quill, coach\nShe won the harbour rowing award on Friday.") == (
        "Mara Quill, coach She won the harbour rowing award on Friday.", 1.0)  # under a heading
    assert widened("Did anyone coach the Tern crew? She won the harbour rowing award on Friday.") is None
    assert widened("Mara Quill coached the Tern crew for ten years. She won the harbour rowing award on Friday.", 1.0) is None


SCORING = dict(recent_half_life_days=30.0, quantity_weight=0.3, long_sentence_words=40, type_weight=0.4, rank_decay=0.1,
               predicate_weight=0.5)
REGATTA = [
    _hit("a", "The harbour regatta cup final was won by the Tern crew on Saturday.", published_day=20260110),
    _hit("b", "The harbour regatta cup final was won by the Tern crew on a Sunday.", published_day=20251211),
    _hit("c", "The harbour regatta cup final was won by the Tern crew one Monday."),
]


def _scores(question: str, unreported: frozenset[str] = frozenset()):
    return [(s.hit.node.metadata["article_id"], round(s.score, 6), s.age_days, round(s.fit, 6))
            for s in score_chunks(analyse(question), REGATTA, 20260110, unreported, **SCORING)]


def test_score_chunks_discounts_lower_ranks_older_articles_when_asked_for_news_and_articles_silent_on_its_figures():
    # By rank alone: 1 / (1 + 0.1 * rank).
    assert _scores("Who won the harbour regatta cup final?") == [("a", 0.6, 0, 1.0), ("b", 0.545455, 30, 1.0), ("c", 0.5, None, 1.0)]
    # "this week": halved per half-life (30 days) behind the newest; an undated article counts as one half-life.
    assert _scores("Who won the harbour regatta cup final this week?") == [
        ("a", 0.6, 0, 1.0), ("b", 0.272727, 30, 0.5), ("c", 0.25, None, 0.5)]
    # An article that states none of the question's figures loses quantity_weight of its score.
    assert _scores("Who won the harbour regatta cup final?", frozenset({"a"})) == [
        ("b", 0.545455, 30, 1.0), ("c", 0.5, None, 1.0), ("a", 0.42, 0, 0.7)]


def _three_crews() -> list[ScoredSentence]:
    return [_scored("Fans cheered the Gull crew at the harbour.", "a", 1.0),
            _scored("The Tern crew won the harbour regatta cup.", "b", 0.8),
            _scored("After the final the Tern crew lifted the cup.", "c", 0.7)]


def test_sources_vote_for_the_candidate_answer_they_repeat():
    scored = _three_crews()
    vote(scored, analyse("Which crew won the harbour regatta cup final?"), 15, 0.6)
    # "tern" has the most votes (0.8 + 0.7 from two articles): its sentences gain the full 1 + 0.6.
    assert [s.text[:8] for s in scored] == ["Fans che", "The Tern", "After th"]
    assert [s.score for s in scored] == pytest.approx([1.4, 1.28, 1.12])


def test_only_the_best_few_are_embedded_and_the_similarity_reorders_them():
    scored = _three_crews()
    embed_best(analyse("Which crew won the harbour regatta cup final?"), scored, lambda q, texts: [0.1, 0.9][: len(texts)], 2, 1.0)
    assert [(s.text[:8], s.dense) for s in scored] == [("The Tern", 0.9), ("Fans che", 0.1), ("After th", None)]
    assert [s.score for s in scored] == pytest.approx([1.52, 1.1, 0.7])


# --- the judgement -------------------------------------------------------------------------------------
def test_answerability_is_the_logistic_model_scaled_by_what_the_question_says_of_the_article():
    s = _scored("t", coverage=0.5, match=1.0, dense=0.4, age_days=30)
    assert answerability(s) == pytest.approx(0.35198557710397094)
    assert answerability(_scored("t", coverage=0.0, match=0.5)) == pytest.approx(0.01623847641623578)
    s.fit = 0.5
    assert answerability(s) == pytest.approx(0.35198557710397094 / 2)
    assert ExtractiveAnswerer().answerability(s) == answerability(s)


def test_evidence_is_the_best_answerability_among_the_top_few():
    scored = [_scored("s", answerability=x) for x in (0.2, 0.5, 0.1, 0.9)]
    assert evidence_of(scored, 3) == 0.5 and evidence_of([], 3) == 0.0
    assert ExtractiveAnswerer().evidence(scored) == 0.5  # evidence_sentences = 3
    assert Judgement("q", [], scored).most_answerable().answerability == 0.5
    assert Judgement("q", []).most_answerable() is None


def test_the_asked_kind_is_held_by_the_best_few_or_by_a_sentence_of_the_leads_article():
    scored = [_scored("The plug came off over Portland.", "a", 1.0, match=0.5, answerability=0.5),
              _scored("The plug weighed 63 pounds.", "b", 0.9, match=1.0, answerability=0.1),
              _scored("It was a 63-pound plug.", "a", 0.8, match=1.0, answerability=0.2),
              _scored("Other.", "c", 0.7, match=0.5, answerability=0.1)]
    assert [s.text for s in of_kind_in(scored[0], scored, 20)] == ["It was a 63-pound plug."]
    assert list(of_kind_in(scored[0], scored, 2)) == []  # beyond the companion window
    assert holds_asked_kind(scored, 1, 20)  # through the lead's article
    assert not holds_asked_kind(scored, 1, 2)
    assert holds_asked_kind(scored, 2, 2)  # among the best two


def test_which_questions_ask_for_a_figure():
    kinds = {q: (asks_for_a_figure(analyse(q).atype), names_its_kind(analyse(q).atype)) for q in (
        "How much did the library cost?", "When did it open?", "What time does it leave?", "Which state passed it?",
        "Which museum holds it?", "Who won?", "Why did it close?")}
    # (leads with a sentence holding one, declined without one)
    assert kinds == {
        "How much did the library cost?": (True, True), "When did it open?": (True, True),
        "What time does it leave?": (True, False), "Which state passed it?": (True, False),
        "Which museum holds it?": (True, False), "Who won?": (False, False), "Why did it close?": (False, False)}
    assert asks_for_a_figure(None) is False


def test_articles_that_state_none_of_the_questions_figures():
    q = analyse("Which 22 states sued over the rule?")
    hits = [_hit("a", title="22 states sue"), _hit("b", title="States sue"), _hit("c", title="Suit"), _hit("b")]
    texts = {"a": "", "b": "Several states filed.", "c": "In all, 22 states filed suit."}
    asked: list[list[str]] = []

    def article_texts(ids):
        asked.append(ids)
        return {i: texts[i] for i in ids}

    assert not_stating(q, hits, article_texts) == frozenset({"b"})
    assert asked == [["a", "b", "c"]], "each article's text is fetched once"
    assert not_stating(analyse("Which states sued?"), hits, article_texts) == frozenset() and len(asked) == 1


# --- composing -----------------------------------------------------------------------------------------
def test_the_lead_is_a_figure_first_then_the_subject_doing_the_asked_thing_then_the_most_answerable():
    best = [_scored("a1", "a", match=0.5, answerability=0.6),
            _scored("b1", "b", match=1.0, answerability=0.35),
            _scored("c1", "c", match=0.5, answerability=0.4, states=True)]
    assert choose_lead(best, True, 0.3).text == "b1"  # holds the figure, passes, and >= FIGURE_RATIO of the best
    assert choose_lead(best, True, 0.5).text == "a1"  # the figure's sentence does not pass
    assert choose_lead(best, False, 0.3).text == "c1"  # states what was asked, and passes
    assert choose_lead(best, False, 0.5).text == "a1"


def test_followers_add_new_words_on_the_subject_within_the_limits():
    lead = _scored("Canada has promised the harbour fund more money this year.", "a", 1.0, answerability=0.6)
    scored = [
        lead,
        _scored("Canada has promised the harbour fund more money again.", "a", 0.95, answerability=0.6),  # < 3 new words
        _scored("Rain delayed the start by an hour, organisers said afterwards.", "b", 0.9, answerability=0.6),  # off subject
        _scored("The fund trained staff at Gull Point boathouse all winter.", "a", 0.8, answerability=0.6),
        _scored("Filler sentence with many brand new words here and there.", "a", 0.75, answerability=0.01),  # answers too little
        _scored("Canada will also train harbour pilots from next spring onwards.", "c", 0.7, answerability=0.6),
        _scored("A sentence scoring under the follow ratio of the lead.", "a", 0.4, answerability=0.6),
    ]
    subject = analyse("What did Canada promise the harbour fund?").subject
    assert subject == {"canada"}

    def followers(max_sentences=5, max_words=80):
        return [s.text[:12] for s in with_followers([lead], scored, subject, max_sentences=max_sentences, follow_ratio=0.5,
                                                    min_answerability=0.1, max_words=max_words)]

    assert followers() == ["Canada has p", "The fund tra", "Canada will "]
    assert followers(max_sentences=2) == ["Canada has p", "The fund tra"]
    assert followers(max_words=21) == ["Canada has p", "The fund tra"]


def test_cited_numbers_each_article_once_in_order_of_first_citation():
    draft = cited([_scored("First.", "a"), _scored("Second.", "b"), _scored("Third.", "a")], 0.6)
    assert draft.text == "First. [1] Second. [2] Third. [1]"
    assert [(s.n, s.article_id, s.quote) for s in draft.sources] == [(1, "a", "First."), (2, "b", "Second.")]
    assert (draft.declined, draft.evidence) == (False, 0.6)


def test_a_verdict_leads_the_draft_only_when_there_is_one():
    draft = Draft("Text [1].", [], False, 0.5)
    assert led_by("Yes", draft).text == "Yes — Text [1]." and draft.text == "Text [1]."
    assert led_by(None, draft) is draft


# --- sources -------------------------------------------------------------------------------------------
def test_each_article_is_numbered_once_and_labelled_by_outlet_and_day():
    a = _hit("a", title="T", url="u", published_at="2026-01-07T10:00:00", source="Wire")
    b = _hit("b")
    sources = []
    assert [source_for(sources, h, q).n for h, q in ((a, " First quote.\n"), (b, "b"), (a, "again"))] == [1, 2, 1]
    assert [(s.n, s.article_id, s.quote, s.source, s.published_at) for s in sources] == [
        (1, "a", "First quote.", "Wire", "2026-01-07T10:00:00"), (2, "b", "b", "", "")]
    assert (dated_label(a), dated_label(a, "Other"), dated_label(b)) == ("Wire, 2026-01-07", "Other, 2026-01-07", "")


def test_ages_count_from_the_newest_day_and_undated_articles_have_none():
    assert age_days_of(_hit("a", published_day=20260101), 20260110) == 9
    assert age_days_of(_hit("a"), 20260110) is None
    assert newest_day_of([_hit("a", published_day=20260101), _hit("b", published_day=20260105), _hit("c")]) == 20260105
    assert newest_day_of([]) == 0


def test_a_decline_lists_the_best_sentences_articles_then_the_chunks_openings():
    scored = [_scored("Quote a.", "a"), _scored("Quote a2.", "a")]
    hits = [_hit("b", "First of b. Second of b."), _hit("c", ""), _hit("d", "Of d.")]
    assert [(s.n, s.article_id, s.quote) for s in closest_sources(scored, hits)] == [
        (1, "a", "Quote a."), (2, "b", "First of b."), (3, "c", "")]
    assert [s.article_id for s in closest_sources(scored, hits, limit=2)] == ["a", "b"]


# --- summaries -----------------------------------------------------------------------------------------
ARTICLES = {
    "a": "Old news\nThe Tern crew won the harbour regatta cup on Saturday in a close race.",
    "b": "The Gull crew finished second in the harbour regatta cup after a late surge on Saturday.",
    "c": "Short one.",
}
STORIES = [
    _hit("a", "chunk a", title="Old news", published_day=20260101, published_at="2026-01-01", source="Wire"),
    _hit("b", "chunk b", published_day=20260103, published_at="2026-01-03T09:00:00", source="Post"),
    _hit("c", "chunk c", published_day=20260102),
    _hit("a", "another chunk of a", published_day=20260101),
]


def _texts(ids):
    return {i: ARTICLES[i] for i in ids}


def test_a_lede_is_an_early_sentence_that_reads_as_one():
    article = "Harbour news\nLISBON — The Tern crew won the harbour regatta cup on Saturday in a close race. More followed later."
    assert lede(article, "Harbour news", 80) == "The Tern crew won the harbour regatta cup on Saturday in a close race."
    assert lede(article, "Harbour news", 5) is None  # too long to quote
    assert lede("Who won the cup on Saturday evening at the harbour?\nSign up for our newsletter to read more today.", "", 80) is None


def test_a_summary_quotes_each_articles_lede_newest_first_and_a_timeline_oldest_first_with_labels():
    judged = Judgement("q", STORIES, [], 0.3, False)
    news = summarise(judged, STORIES, {}, _texts, False, max_words=80, decline_threshold=0.4)
    assert news.text == ("The Gull crew finished second in the harbour regatta cup after a late surge on Saturday. [1] "
                         "The Tern crew won the harbour regatta cup on Saturday in a close race. [2]")
    assert [s.article_id for s in news.sources] == ["b", "a"] and news.evidence == 0.4 and not news.declined
    timeline = summarise(judged, STORIES, {}, _texts, True, max_words=80, decline_threshold=0.4)
    assert timeline.text == (
        "Wire, 2026-01-01: The Tern crew won the harbour regatta cup on Saturday in a close race. [1] · "
        "Post, 2026-01-03: The Gull crew finished second in the harbour regatta cup after a late surge on Saturday. [2]")
    # An article without a lede is quoted by its fallback sentence, or left out; nothing left: a decline.
    assert "Fallback sentence for c. [2]" in summarise(judged, STORIES, {"c": "Fallback sentence for c."}, _texts, False,
                                                       max_words=80, decline_threshold=0.4).text
    for stories in ([], [STORIES[2]]):
        assert summarise(judged, stories, {}, _texts, False, max_words=80, decline_threshold=0.4) == Draft(DECLINE_TEXT, [], True, 0.3)


def test_the_stories_summarised_are_the_articles_of_the_best_sentences():
    scored = [ScoredSentence("a best", 0, STORIES[0], 0, 1.0), ScoredSentence("b best", 1, STORIES[1], 0, 0.6),
              ScoredSentence("a second", 0, STORIES[3], 0, 0.55), ScoredSentence("c best", 2, STORIES[2], 0, 0.2)]
    stories, fallback = best_stories(Judgement("q", STORIES, scored, 0.5, False))
    assert [h.node.metadata["article_id"] for h in stories] == ["a", "b"]  # c under STORY_RATIO (0.4) of the best
    assert fallback == {"a": "a best", "b": "b best"}
