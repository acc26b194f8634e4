"""The embedded default answerer: judges whether the retrieved sentences answer the question, and
quotes the few that do.

No LLM: every sentence of the answer is a verbatim quote from a retrieved chunk, followed by the
``[n]`` of the article it came from. Answering has two steps, and the LLM answerer shares the first:

1. **Judging** (:meth:`ExtractiveAnswerer.judge`): each sentence of the retrieved chunks is scored by
   how much of the question it covers (stemmed content words; rare words, names, numbers and the asked
   verb weighted up: :mod:`assistant.understanding.question`), how close the embedder puts it to the question
   (all-MiniLM-L6-v2 was trained on question–answer pairs; the best few sentences are embedded at
   query time), whether it holds the kind of thing the question asks for (:mod:`assistant.understanding.answer_types`)
   and how well its chunk ranked. A question about something new ("this week", "the latest") prefers
   sentences of articles near the newest that matched, by how sure it is of its time. A sentence that only refers back
   ("She won ...") is scored with the sentence before it, and a quotation is scored whole, with its
   speaker (:mod:`.scoring`). The sources then vote: a candidate of the asked kind that several articles repeat is
   probably the answer (redundancy, as in the AskMSR web QA system). The best sentence's answerability
   is the *evidence* (:mod:`.judgement`); under ``decline_threshold`` the question is declined.
2. **Composing** (:meth:`ExtractiveAnswerer.compose`, :mod:`.composing`): the best sentence first, then up to two more
   that score within ``follow_ratio`` of it, under ``max_words``. Summaries and timelines quote each
   story's lede instead (:meth:`ExtractiveAnswerer.compose_summary`, :mod:`.summary`).

The class holds the tunable weights and thresholds (plain attributes: a copy may change one, as the
engine's answerer for parts of a question does) and calls the steps in order, passing them in.
"""

from __future__ import annotations

from typing import Callable

from llama_index.core.schema import NodeWithScore

from assistant.answer import Source
from assistant.answering.extractive.composing import (
    DECLINE_TEXT,
    Draft,
    asks_for_a_figure,
    choose_lead,
    cited,
    reason_after,
    typed_companion,
    with_followers,
    with_full_name,
)
from assistant.answering.extractive.judgement import (
    Judgement,
    names_its_kind,
    not_stating,
    answerability,
    evidence_of,
    holds_asked_kind,
    rate_answerability,
)
from assistant.answering.extractive.scoring import ScoredSentence, Similarity, embed_best, score_chunks, vote
from assistant.answering.extractive.sources import newest_day_of, closest_sources
from assistant.answering.extractive.summary import best_stories, summarise
from assistant.settings import Settings
from assistant.understanding.question import Question, analyse, flat_idf


def _default(field_name: str):
    # The answerer's defaults are the settings' defaults (class-level field defaults: no environment is
    # read), so an answerer built without the engine behaves like the engine's.
    return Settings.model_fields[field_name].default


class ExtractiveAnswerer:
    def __init__(
        self,
        max_sentences: int = _default("max_answer_sentences"),
        max_words: int = _default("max_answer_words"),
        decline_threshold: float = _default("decline_threshold"),
        follow_ratio: float = _default("answer_follow_ratio"),
        embedded_sentences: int = _default("answer_embedded_sentences"),
        recent_half_life_days: float = _default("recent_half_life_days"),
    ):
        # A further sentence joins the answer only when it scores within follow_ratio of the best:
        # more sentences catch more answers but make the reader work harder.
        self.follow_ratio = follow_ratio
        self.type_weight = 0.4  # how much holding the asked-for kind of thing counts
        self.rank_decay = 0.1  # how much a lower-ranked chunk's sentences are discounted
        self.long_sentence_words = 40  # longer sentences are discounted: they crowd others out of the answer
        # How much a sentence gains for holding the candidate answer the top sentences repeat most
        # (1 + consensus_weight at most), and how many top sentences vote.
        self.consensus_weight = 0.6
        self.consensus_voters = 15
        # How many of the best sentences are embedded and compared with the question (0: none). The
        # embedder is the expensive part of a query; a handful of short sentences costs a few ms.
        self.embedded_sentences = embedded_sentences
        self.dense_weight = 1.0  # how much the embedder's similarity moves a sentence's score
        # A sentence in which the question's subject does the asked thing ("Canada has promised ...")
        # gains this share: the sentence that answers "What did Canada promise?" usually says so.
        self.predicate_weight = 0.5
        # For a question about something new, a sentence's score halves every this many days its article
        # is older than the newest that matched (at full strength: "this week"; less for "the latest").
        self.recent_half_life_days = recent_half_life_days
        # The share of its score a sentence loses when its article states none of the question's figures.
        self.quantity_weight = 0.3
        self.max_sentences = max_sentences
        # A follower must answer at least this share as well as the bar a lead must pass: below it, filler.
        self.follower_gate = 0.5
        # Whether a lead without the asked kind of thing is followed by its article's sentence that has
        # one, looked for among this many best-scoring sentences (composing.typed_companion).
        self.companions = True
        self.companion_window = 20
        # Whether a question asking for a figure or a date is declined when no sentence that would be
        # quoted holds one (judgement.holds_asked_kind).
        self.typed_decline = True
        self.evidence_sentences = 3  # the evidence is the best answerability among this many top sentences
        self.max_words = max_words
        self.decline_threshold = decline_threshold

    def answer(
        self,
        question: str,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = flat_idf,
        similarity: Similarity | None = None,
    ) -> tuple[str, list[Source], bool, float]:
        """Judge and compose in one call: (answer text with [n] markers, sources, declined, evidence)."""
        draft = self.compose(self.judge(question, hits, idf, similarity))
        return draft.text, draft.sources, draft.declined, draft.evidence

    # --- judging -------------------------------------------------------------------------------------
    def judge(
        self,
        question: str | Question,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = flat_idf,
        similarity: Similarity | None = None,
        newest_day: int = 0,
        article_texts: Callable[[list[str]], dict[str, str]] | None = None,
    ) -> Judgement:
        """Score the sentences of ``hits`` and weigh the evidence. ``newest_day`` (YYYYMMDD): the newest
        article among everything that matched, which ages are counted from (default: among ``hits``).
        ``article_texts`` (article ids -> their whole texts) lets the judge check that an article states
        the quantities the question names (:mod:`assistant.understanding.quantities`); without it, none is checked."""
        q = question if isinstance(question, Question) else analyse(question, idf)
        unreported = not_stating(q, hits, article_texts) if article_texts is not None else frozenset()
        scored = self.score_sentences(q, hits, idf, similarity, newest_day, unreported)
        evidence = self.evidence(scored, hits)
        declined = not scored or evidence < self.decline_threshold
        if (not declined and self.typed_decline and names_its_kind(q.atype)
                and not holds_asked_kind(scored, self.evidence_sentences, self.companion_window)):
            declined = True  # the story is there, the asked figure or place is not: a near miss
        return Judgement(q.text, list(hits), scored, evidence, declined, asked=q)

    def score_sentences(
        self,
        question: str | Question,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = flat_idf,
        similarity: Similarity | None = None,
        newest_day: int = 0,
        unreported: frozenset[str] = frozenset(),
    ) -> list[ScoredSentence]:
        """Every sentence of ``hits`` worth quoting, scored, best first; none from the articles in
        ``unreported`` (ones that cannot report the asked event)."""
        q = question if isinstance(question, Question) else analyse(question, idf)
        scored = score_chunks(
            q, hits, newest_day or newest_day_of(hits), unreported,
            recent_half_life_days=self.recent_half_life_days, quantity_weight=self.quantity_weight,
            long_sentence_words=self.long_sentence_words, type_weight=self.type_weight,
            rank_decay=self.rank_decay, predicate_weight=self.predicate_weight,
        )
        if similarity is not None and self.embedded_sentences > 0 and scored:
            embed_best(q, scored, similarity, self.embedded_sentences, self.dense_weight)
        if q.atype.kind not in (None, "quote", "reason") and self.consensus_weight > 0:
            vote(scored, q, self.consensus_voters, self.consensus_weight)
        rate_answerability(scored, q)
        return scored

    def answerability(self, s: ScoredSentence) -> float:
        """The probability that the sentence answers the question (:func:`.judgement.answerability`)."""
        return answerability(s)

    def evidence(self, scored: list[ScoredSentence], hits: list | None = None) -> float:
        """How strongly the retrieved text answers the question, in [0, 1]: the answerability of the
        best few sentences: the ones the answer would quote from."""
        return evidence_of(scored, self.evidence_sentences)

    # --- composing -----------------------------------------------------------------------------------
    def compose(self, judgement: Judgement) -> Draft:
        """The answer the judgement supports: a decline with the closest sources, or the best sentence
        and up to two more, each followed by its source's [n]."""
        scored = judgement.scored
        if judgement.declined or not scored:
            return Draft(DECLINE_TEXT, self.closest_sources(scored, judgement.hits), True, judgement.evidence)
        passes = self.decline_threshold
        atype = judgement.asked.atype if judgement.asked is not None else None
        figure = asks_for_a_figure(atype)
        lead = choose_lead(scored[: self.evidence_sentences], figure, passes)
        scored = [lead] + [s for s in scored if s is not lead]
        chosen: list[ScoredSentence] = [lead]
        subject = judgement.asked.subject if judgement.asked is not None else set()
        if atype is not None and atype.kind == "reason" and lead.match < 1.0:
            chosen += reason_after(lead, judgement.asked, self.max_words)
        elif self.companions and (figure or (atype is not None and (atype.person or atype.place))) and lead.match < 1.0:
            chosen += typed_companion(lead, scored, self.max_words, self.companion_window)
        chosen = with_followers(chosen, scored, subject, max_sentences=self.max_sentences, follow_ratio=self.follow_ratio,
                                min_answerability=self.follower_gate * passes, max_words=self.max_words)
        if judgement.asked is not None and judgement.asked.atype.person:
            chosen = with_full_name(chosen, self.max_words)
        return cited(chosen, judgement.evidence)

    def compose_summary(
        self,
        judgement: Judgement,
        article_texts: Callable[[list[str]], dict[str, str]],
        stories: list | None = None,
        oldest_first: bool = False,
    ) -> Draft:
        """A summary: the lede of each story, newest first, each cited. ``stories``: the hits to summarise
        (the newest ``MAX_STORIES`` articles among them); default the articles of the judgement's best sentences, each kept when its best
        sentence scores at least ``STORY_RATIO`` of the best one's (a decline when the judgement declined).
        ``oldest_first``: a timeline: the same stories in the order they came out, each labelled with
        its outlet and day."""
        if stories is None:
            if judgement.declined or not judgement.scored:
                return self.compose(judgement)
            stories, fallback = best_stories(judgement)
        else:
            fallback = {}
        return summarise(judgement, stories, fallback, article_texts, oldest_first,
                         max_words=self.max_words, decline_threshold=self.decline_threshold)

    def closest_sources(self, scored: list[ScoredSentence], hits: list[NodeWithScore], limit: int = 3) -> list[Source]:
        """The sources a decline lists (:func:`.sources.closest_sources`)."""
        return closest_sources(scored, hits, limit)
