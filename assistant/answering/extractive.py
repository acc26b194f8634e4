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
   speaker. The sources then vote: a candidate of the asked kind that several articles repeat is
   probably the answer (redundancy, as in the AskMSR web QA system). The best sentence's answerability
   is the *evidence*; under ``decline_threshold`` the question is declined.
2. **Composing** (:meth:`ExtractiveAnswerer.compose`): the best sentence first, then up to two more
   that score within ``follow_ratio`` of it, under ``max_words``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Sequence

from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant.answer import Source, day_date, source_details
from assistant.understanding.answer_types import candidates, speaker, speaks_for, type_match
from assistant.answering.injection import addresses_the_assistant
from assistant.understanding.quantities import states_any
from assistant.understanding.question import Question, analyse
from assistant.settings import Settings
from assistant.answering.summaries import LEDE_MIN_WORDS, MAX_STORIES, STORY_RATIO
from assistant.text import sentence_spans, terms
from assistant.answering.verdicts import verdict, yes_no

DECLINE_TEXT = "The ingested articles don't answer this question."

# A sentence ends in . ! or ? (perhaps inside closing quotes or brackets). Headings, captions, link
# texts ("REQUIRED READING: ...") and sentences cut at a chunk's edge do not, and are not quoted.
_TERMINATED = re.compile(r"[.!?][\"”’')\]]*$")
# A wire dateline opening a story ("LAS VEGAS ‒", "BANGUI, Central African Republic (AP) —") says where
# it was filed, not what happened: it is not quoted, and its place does not answer "which city".
_DATELINE = re.compile(r"^[A-Z][A-Z.'’\- ]+[A-Z.](?:,\s+[A-Z][\w.\- ]*?)?(?:\s+\([A-Za-z]+\))?\s*[—–‒]+\s+(?=[A-Z\"“])")
# A sentence that opens like this refers back to something the sentence, heading or list item before it
# named ("She was named director of the year", "The comedian will return", "This is the definitive summer
# classic" under "Jaws (1975)"); when that something is the answer, what comes before is quoted too.
_REFERS_BACK = re.compile(r"^(?:He|She|They|His|Her|Their|It|Its|This|These|The\s+(?:[A-Z][\w\-]*\s+)*[a-z][\w\-]*)\b")
# A heading or list item ("Jaws (1975) — June 5", "1. Taylor Swift"): a short line of its own.
HEADING_WORDS = 12
# What a page says about itself, not news: never quoted.
_BOILERPLATE = re.compile(
    r"^\W*(?:editor[’']s note|this (?:page|article|story|post) (?:is|was|has been|contains|includes|may)|"
    r"(?:sign up|subscribe|click here|read more|follow us|watch:|listen:|related:|see also|copyright|all rights reserved)|"
    r"(?:this|the) (?:story|article) has been updated|.{0,40}contributed to this (?:report|story)|"
    r"here(?:[’']s| is| are) (?:what|everything|all) (?:we know|you need to know|to know)|what (?:we know|to know)\b)",
    re.I,
)
# A sentence holding the asked figure leads when its answerability is at least this share of the best.
FIGURE_RATIO = 0.5
# A lede is among an article's first few sentences (past captions and a standfirst), or it has none.
LEDE_WITHIN = 8
# A sentence that asks rather than tells ("Who first proposed the plan?"): it never answers.
_ASKS = re.compile(r"\?[\"”’')\]]*$")
# A person's full name: capitalised given name(s), perhaps a middle initial, then the surname.
_FULL_NAME = re.compile(r"\b(?:[A-Z][a-z]+\s+(?:[A-Z]\.\s+)?)+([A-Z][a-z][\w’'-]*)\b")
# A quotation runs over several sentences when the breaker splits inside it; a unit is closed again
# after this many sentences even if its quotes never balance (a stray quote mark in the source).
_MAX_QUOTE_SENTENCES = 4


# The answerability model (see ExtractiveAnswerer.answerability): logistic regression (L2 0.1) of
# "answerable" on the features of the sentence the evidence is read from, refitted 2026-12-05 on both
# RealTimeQA dev splits pooled (rtqa-dev 141 questions, rtqa-dev2 308; bench/fit_answerability.py).
# Fitted on one split and calibrated there, it does not carry to the other (rtqa-dev2 is harder: a
# six-month archive): leave-one-split-out, decline accuracy 0.56 on rtqa-dev and 0.69 on rtqa-dev2 at
# false-decline rates 0.03 and 0.22; 10-fold over both, 0.54 at 0.10. (A fifth feature, how far a
# sentence falls short of the asked kind, got a positive weight and let "how many" be answered by a
# sentence with no number: left out.) Refit when the features change.
ANSWERABILITY = {"bias": -4.432, "coverage": 3.956, "dense": 4.956, "match": 0.656, "age": -1.620}

Similarity = Callable[[str, list[str]], list[float]]  # (question, texts) -> cosine similarity of each


@dataclass
class ScoredSentence:
    text: str
    hit_rank: int
    hit: NodeWithScore
    coverage: float  # weighted share of the question's content words the sentence contains
    score: float
    match: float = 0.5  # holds the kind of thing asked for (answer_types.type_match)
    dense: float | None = None  # cosine similarity to the question, for the sentences embedded
    answerability: float = 0.0  # how well it answers the question, in [0, 1]: the evidence it gives
    age_days: int | None = None  # how much older its article is than the newest that matched
    states: bool = False  # the question's subject does the asked thing in it ("Canada has promised")
    # What the question says of its article, beyond the sentence's words: how much its age fits a
    # question about something new, and whether it states the question's figures (1.0: no doubt).
    fit: float = 1.0


@dataclass
class Judgement:
    """What the judge found in the retrieved chunks: every scored sentence (best first), the evidence
    (the best sentence's answerability) and whether that is too weak to answer from."""

    question: str
    hits: list
    scored: list[ScoredSentence] = field(default_factory=list)
    evidence: float = 0.0
    declined: bool = True
    asked: Question | None = None  # the question as analysed (weights, answer type)

    def most_answerable(self, among: int = 3) -> ScoredSentence | None:
        """The most answerable of the ``among`` best-scoring sentences (None when nothing scored)."""
        return max(self.scored[:among], key=lambda s: s.answerability, default=None)


@dataclass
class Draft:
    """An answer before it becomes an Answer: text with [n] markers and its numbered sources."""

    text: str
    sources: list[Source]
    declined: bool
    evidence: float


def _default(field_name: str):
    # The answerer's defaults are the settings' defaults (class-level field defaults: no environment is
    # read), so an answerer built without the engine behaves like the engine's.
    return Settings.model_fields[field_name].default


def _flat_idf(_term: str) -> float:
    return 1.0


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
        # one, looked for among this many best-scoring sentences (_typed_companion).
        self.companions = True
        self.companion_window = 20
        # Whether a question asking for a figure or a date is declined when no sentence that would be
        # quoted holds one (_holds_asked_kind).
        self.typed_decline = True
        self.evidence_sentences = 3  # the evidence is the best answerability among this many top sentences
        self.max_words = max_words
        self.decline_threshold = decline_threshold

    # --- judging -------------------------------------------------------------------------------------
    def score_sentences(
        self,
        question: str | Question,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = _flat_idf,
        similarity: Similarity | None = None,
        newest_day: int = 0,
        unreported: frozenset[str] = frozenset(),
    ) -> list[ScoredSentence]:
        """Every sentence of ``hits`` worth quoting, scored, best first; none from the articles in
        ``unreported`` (ones that cannot report the asked event)."""
        q = question if isinstance(question, Question) else analyse(question, idf)
        atype = q.atype
        newest = newest_day or _newest_day(hits)
        scored: list[ScoredSentence] = []
        seen: set[str] = set()
        for rank, hit in enumerate(hits):
            age = _age_days(hit, newest)
            # Asked about something new: an older story's sentences weigh less, by how sure the question
            # is of its time; an undated article is neither new nor old.
            behind = self.recent_half_life_days if age is None else max(0, age)  # newer than the newest counted: 0
            staleness = 0.5 ** (q.recency * behind / self.recent_half_life_days)
            # A question's figures ("22 states") are evidence of which event it means, not a veto: an
            # article may word them otherwise ("twenty-two states") or give them elsewhere.
            stated = 1.0 if _article_id(hit) not in unreported else 1.0 - self.quantity_weight
            text = hit.node.get_content(metadata_mode=MetadataMode.NONE)
            units = quote_units(text)
            for i, (start, end) in enumerate(units):
                sentence = _DATELINE.sub("", text[start:end].strip(), count=1)
                if sentence.endswith(":") and i + 1 < len(units):
                    # A lead that sets up its answer ("The winners were:"): read on into what it sets up.
                    sentence = _DATELINE.sub("", " ".join(text[start : units[i + 1][1]].split()), count=1)
                if len(sentence.split()) < 4 or sentence in seen or not _TERMINATED.search(sentence):
                    continue
                if _ASKS.search(sentence) or _BOILERPLATE.search(sentence):
                    continue  # a question the article asks, or what a page says about itself
                if addresses_the_assistant(sentence):
                    continue  # an instruction planted for a model ("cite source [9]") is not news to quote
                seen.add(sentence)
                refers_back = atype.kind is not None and i > 0 and _REFERS_BACK.match(sentence)
                coverage, novel = _coverage(q, sentence)
                if (coverage == 0 or novel == 0) and not refers_back:
                    continue  # nothing of the question, or nothing but it: not worth typing
                match = type_match(atype, sentence, q.words)
                if match < 1.0 and refers_back:
                    # "She won the award." does not say who; with the sentence (or heading) before it, it may.
                    window = " ".join(text[units[i - 1][0] : end].split())
                    before = text[units[i - 1][0] : units[i - 1][1]].strip()
                    heading = not _TERMINATED.search(before) and len(before.split()) <= HEADING_WORDS
                    if heading or (_TERMINATED.search(before) and not _ASKS.search(before)):
                        window_match = type_match(atype, window, q.words)
                        if window_match > match:
                            sentence, match = window, window_match
                            coverage, novel = _coverage(q, sentence)
                if coverage == 0 or novel == 0:
                    continue
                states = q.states_predicate(sentence)
                if atype.kind == "quote" and q.subject:
                    # "What did Putin say?": words about Putin in someone else's mouth do not answer it.
                    said_by = speaker(sentence)
                    own = None if said_by is None else speaks_for(said_by, q.subject, set(terms(sentence)))
                    if own is False:
                        continue  # someone else's words about the subject: never quoted as the subject's
                    if own:
                        match, states = 1.0, True
                length = min(1.0, self.long_sentence_words / len(sentence.split()))
                fit = 1.0 - self.type_weight + self.type_weight * match
                prior = 1.0 / (1.0 + self.rank_decay * rank)
                score = coverage * fit * length * prior * staleness * stated
                if states:
                    score *= 1.0 + self.predicate_weight
                scored.append(
                    ScoredSentence(sentence, rank, hit, coverage, score, match=match, age_days=age, states=states,
                                   fit=staleness * stated)
                )
        scored.sort(key=lambda s: s.score, reverse=True)
        if similarity is not None and self.embedded_sentences > 0 and scored:
            self._embed_best(q, scored, similarity)
        if atype.kind not in (None, "quote", "reason") and self.consensus_weight > 0:
            self._vote(scored, q)
        for s in scored:
            s.answerability = self.answerability(s)
            if q.asked_weights != q.weights:  # a follow-up: its own words may answer where the carried ones don't
                asked = replace(s, coverage=q.asked_coverage(set(terms(s.text))))
                s.answerability = max(s.answerability, self.answerability(asked))
        return scored

    def _embed_best(self, q: Question, scored: list[ScoredSentence], similarity: Similarity) -> None:
        """Compare the best sentences with the question in the embedder's space; re-sorts ``scored``."""
        best = scored[: self.embedded_sentences]
        for sentence, sim in zip(best, similarity(q.text, [s.text for s in best])):
            sentence.dense = float(sim)
            sentence.score *= 1.0 + self.dense_weight * max(0.0, sentence.dense)
        scored.sort(key=lambda s: s.score, reverse=True)

    def answerability(self, s: ScoredSentence) -> float:
        """The probability that the sentence answers the question, from how much of the question it
        covers, how close the embedder puts it to the question, whether it holds the asked kind of
        thing, and how much older its article is than the newest that matched (news supersedes news).
        A logistic model over these four, fitted on the RealTimeQA dev set, version 2 (ANSWERABILITY)."""
        dense = s.dense if s.dense is not None else 0.0
        age = math.log1p(max(0, s.age_days or 0)) / 7.0  # 1.0 at about three years
        w = ANSWERABILITY
        logit = w["bias"] + w["coverage"] * s.coverage + w["dense"] * dense + w["match"] * s.match + w["age"] * age
        # An article too old for "this week", or silent on the question's "22 states", is weaker evidence.
        return s.fit / (1.0 + math.exp(-logit))

    def _vote(self, scored: list[ScoredSentence], q: Question) -> None:
        """Raise the top sentences that hold the candidate answer most repeated across articles (each
        article votes once per candidate, with its best sentence's score); re-sorts ``scored``."""
        voters = scored[: self.consensus_voters]
        found_in = [candidates(s.text, q.words, q.atype) for s in voters]
        votes: dict[str, float] = {}
        counted: set[tuple[str, str]] = set()
        for sentence, found in zip(voters, found_in):
            article = _article_id(sentence.hit)
            for candidate in found:
                if (candidate, article) not in counted:
                    counted.add((candidate, article))
                    votes[candidate] = votes.get(candidate, 0.0) + sentence.score
        if not votes:
            return
        most = max(votes.values())
        for sentence, found in zip(voters, found_in):
            support = max((votes[c] for c in found), default=0.0)
            sentence.score *= 1.0 + self.consensus_weight * support / most
        scored.sort(key=lambda s: s.score, reverse=True)

    def evidence(self, scored: list[ScoredSentence], hits: list | None = None) -> float:
        """How strongly the retrieved text answers the question, in [0, 1]: the answerability of the
        best few sentences: the ones the answer would quote from."""
        return max((s.answerability for s in scored[: self.evidence_sentences]), default=0.0)

    def judge(
        self,
        question: str | Question,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = _flat_idf,
        similarity: Similarity | None = None,
        newest_day: int = 0,
        article_texts: Callable[[list[str]], dict[str, str]] | None = None,
    ) -> Judgement:
        """Score the sentences of ``hits`` and weigh the evidence. ``newest_day`` (YYYYMMDD): the newest
        article among everything that matched, which ages are counted from (default: among ``hits``).
        ``article_texts`` (article ids -> their whole texts) lets the judge check that an article states
        the quantities the question names (:mod:`assistant.understanding.quantities`); without it, none is checked."""
        q = question if isinstance(question, Question) else analyse(question, idf)
        unreported = _not_stating(q, hits, article_texts) if article_texts is not None else frozenset()
        scored = self.score_sentences(q, hits, idf, similarity, newest_day, unreported)
        evidence = self.evidence(scored, hits)
        declined = not scored or evidence < self.decline_threshold
        if not declined and self.typed_decline and _names_its_kind(q.atype) and not self._holds_asked_kind(scored):
            declined = True  # the story is there, the asked figure or place is not: a near miss
        return Judgement(q.text, list(hits), scored, evidence, declined, asked=q)

    def _holds_asked_kind(self, scored: list[ScoredSentence]) -> bool:
        """Whether the sentences an answer would quote hold the asked kind of thing: one of the best few,
        or a sentence of the most answerable one's article (what _typed_companion would add)."""
        best = scored[: self.evidence_sentences]
        if any(s.match >= 1.0 for s in best):
            return True
        return any(self._of_kind_in(max(best, key=lambda s: s.answerability), scored))

    def _of_kind_in(self, lead: ScoredSentence, scored: list[ScoredSentence]) -> Iterator[ScoredSentence]:
        """The sentences of ``lead``'s article, among the ``companion_window`` best, that hold the asked
        kind of thing (best first), other than ``lead`` and what it already quotes."""
        article = _article_id(lead.hit)
        for candidate in scored[: self.companion_window]:
            if candidate.match >= 1.0 and _article_id(candidate.hit) == article and candidate.text not in lead.text:
                yield candidate

    # --- composing -----------------------------------------------------------------------------------
    def compose(self, judgement: Judgement) -> Draft:
        """The answer the judgement supports: a decline with the closest sources, or the best sentence
        and up to two more, each followed by its source's [n]."""
        scored = judgement.scored
        if judgement.declined or not scored:
            return Draft(DECLINE_TEXT, self.closest_sources(scored, judgement.hits), True, judgement.evidence)
        # The answer leads with the sentence most likely to answer, of the few best-scoring ones; one of
        # them that passes the threshold and in which the question's subject does the asked thing
        # ("Canada has promised ...") comes first: it states what was asked.
        # Before both, for a question that asks for a figure ("how much", "when") or a place of a kind
        # ("which state"), one that holds one: a sentence can cover every word of the question and still
        # not give the sum. (Not for people: "Vastakis was chosen" answers "who" though a surname alone is
        # no sure name.)
        best = scored[: self.evidence_sentences]
        passes = self.decline_threshold
        atype = judgement.asked.atype if judgement.asked is not None else None
        figure = atype is not None and (atype.kind in ("number", "date", "time") or bool(atype.places or atype.head))
        most = max(s.answerability for s in best)
        lead = max(best, key=lambda s: (figure and s.answerability >= max(passes, FIGURE_RATIO * most) and s.match >= 1.0,
                                        s.states and s.answerability >= passes, s.answerability))
        scored = [lead] + [s for s in scored if s is not lead]
        chosen: list[ScoredSentence] = [lead]
        subject = judgement.asked.subject if judgement.asked is not None else set()
        if atype is not None and atype.kind == "reason" and lead.match < 1.0:
            chosen += self._reason_after(lead, judgement.asked)
        elif self.companions and (figure or (atype is not None and (atype.person or atype.place))) and lead.match < 1.0:
            chosen += self._typed_companion(lead, scored)
        n_words = len(lead.text.split())
        covered = set(terms(lead.text))
        for candidate in scored[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if candidate.score < self.follow_ratio * scored[0].score:
                break
            if candidate.answerability < self.follower_gate * passes:
                continue  # a sentence that would not answer on its own is filler beside one that does
            if subject and _article_id(candidate.hit) != _article_id(lead.hit) and not subject & set(terms(candidate.text)):
                continue  # another story's sentence that never names who or what the question is about
            extra = len(candidate.text.split())
            new_terms = set(terms(candidate.text)) - covered
            if n_words + extra > self.max_words or len(new_terms) < 3:
                continue
            if any(candidate.text in c.text or c.text in candidate.text for c in chosen):
                continue  # a sentence and the look-back window that holds it: quote it once
            chosen.append(candidate)
            n_words += extra
            covered |= new_terms

        if judgement.asked is not None and judgement.asked.atype.person:
            chosen = self._with_full_name(chosen)

        sources: list[Source] = []
        parts: list[str] = []
        for sentence in chosen:
            source = _source_for(sources, sentence.hit, sentence.text)
            parts.append(f"{sentence.text} [{source.n}]")
        return Draft(" ".join(parts), sources, False, judgement.evidence)

    def _typed_companion(self, lead: ScoredSentence, scored: list[ScoredSentence]) -> list[ScoredSentence]:
        """For "how much", "when", "which museum", "who": when the lead tells the story without the asked
        kind of thing, the best sentence of the same article that holds one follows it. A report names
        the event once, fully, and gives its figure, place or person in a sentence of its own ("Investigators
        will examine the 63-pound plug"), which shares few of the question's words."""
        for candidate in self._of_kind_in(lead, scored):
            if len(lead.text.split()) + len(candidate.text.split()) <= self.max_words:
                return [candidate]
        return []

    def _reason_after(self, lead: ScoredSentence, asked: Question) -> list[ScoredSentence]:
        """For "why": when the lead restates what is asked without its cause ("The talks were not
        easy."), the sentence after it in the article, if that one gives a cause more plainly."""
        text = lead.hit.node.get_content(metadata_mode=MetadataMode.NONE)
        units = quote_units(text)
        for i, (start, end) in enumerate(units[:-1]):
            if " ".join(text[start:end].split()) != lead.text:
                continue
            after = " ".join(text[units[i + 1][0] : units[i + 1][1]].split())
            if (_TERMINATED.search(after) and not _ASKS.search(after) and not _BOILERPLATE.search(after)
                    and len(lead.text.split()) + len(after.split()) <= self.max_words
                    and type_match(asked.atype, after, asked.words) > lead.match):
                return [ScoredSentence(after, lead.hit_rank, lead.hit, coverage=0.0, score=0.0, match=1.0)]
            break
        return []

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
            best: dict[str, ScoredSentence] = {}
            for sentence in judgement.scored:
                best.setdefault(_article_id(sentence.hit), sentence)
            top = judgement.scored[0].score
            chosen = [s for s in best.values() if s.score >= STORY_RATIO * top][:MAX_STORIES]
            fallback = {_article_id(s.hit): s.text for s in chosen}
            stories = [s.hit for s in chosen]
        else:
            fallback = {}
        newest_first: dict[str, NodeWithScore] = {}
        for hit in sorted(stories, key=_day, reverse=True):  # newest first: news supersedes news
            newest_first.setdefault(_article_id(hit), hit)  # one lede per article
        stories = list(newest_first.values())[:MAX_STORIES]
        if oldest_first:
            stories.reverse()
        if not stories:
            return Draft(DECLINE_TEXT, [], True, judgement.evidence)
        texts = article_texts([_article_id(h) for h in stories])
        sources: list[Source] = []
        parts: list[str] = []
        for hit in stories:
            article = _article_id(hit)
            sentence = self._lede(texts.get(article, ""), str(hit.node.metadata.get("title") or "")) or fallback.get(article)
            if sentence:
                cited = f"{sentence} [{_source_for(sources, hit, sentence).n}]"
                parts.append(f"{dated_label(hit)}: {cited}" if oldest_first and dated_label(hit) else cited)
        if not parts:
            return Draft(DECLINE_TEXT, [], True, judgement.evidence)
        text = " · ".join(parts) if oldest_first else " ".join(parts)
        return Draft(text, sources, False, max(judgement.evidence, self.decline_threshold))

    def _lede(self, text: str, title: str) -> str | None:
        """The article's lede without its dateline, when it reads as one (not boilerplate, not too long)."""
        for start, end in quote_units(text)[:LEDE_WITHIN]:
            sentence = _DATELINE.sub("", text[start:end].strip(), count=1)
            if sentence == title.strip() or not _TERMINATED.search(sentence) or _ASKS.search(sentence):
                continue
            if len(sentence.split()) < LEDE_MIN_WORDS or _BOILERPLATE.search(sentence) or addresses_the_assistant(sentence):
                continue
            return sentence if len(sentence.split()) <= self.max_words else None
        return None

    def _with_full_name(self, chosen: list[ScoredSentence]) -> list[ScoredSentence]:
        """For a "who" question: when the lead calls someone by surname alone ("Boodram is one of 16
        contestants"), the sentence before it in the article that gives the full name ("Avi Boodram,
        a nurse from Dover, ...") follows it, as news copy names a person in full at first mention.
        Followers give way to it when the answer would run over ``max_words``."""
        lead = chosen[0]
        text = lead.hit.node.get_content(metadata_mode=MetadataMode.NONE)
        at = text.find(lead.text)
        if at <= 0:
            return chosen
        # A surname alone: a capitalised word with no other capitalised word beside it ("Boodram is").
        bare = set(re.findall(r"(?<![A-Za-z.]\s)(?<!^[A-Z]\s)\b([A-Z][a-z][\w’'-]*)\b(?!\s+[A-Z])", lead.text))
        bare = {w for w in bare if not re.search(rf"\b[A-Z][\w.]*\s+{re.escape(w)}\b", lead.text)}
        if not bare:
            return chosen
        for start, end in reversed(quote_units(text[:at])):  # the nearest earlier mention first
            sentence = " ".join(text[start:end].split())
            if not _TERMINATED.search(sentence) or sentence.endswith("?") or any(sentence in c.text or c.text in sentence for c in chosen):
                continue
            if any(m.group(1) in bare for m in _FULL_NAME.finditer(sentence)):
                if len(lead.text.split()) + len(sentence.split()) > self.max_words:
                    return chosen
                intro = ScoredSentence(sentence, lead.hit_rank, lead.hit, coverage=0.0, score=0.0)
                kept = [lead, intro]
                words = len(lead.text.split()) + len(sentence.split())
                for follower in chosen[1:]:
                    if words + len(follower.text.split()) <= self.max_words:
                        kept.append(follower)
                        words += len(follower.text.split())
                return kept
        return chosen

    def answer(
        self,
        question: str,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = _flat_idf,
        similarity: Similarity | None = None,
    ) -> tuple[str, list[Source], bool, float]:
        """Judge and compose in one call: (answer text with [n] markers, sources, declined, evidence)."""
        draft = self.compose(self.judge(question, hits, idf, similarity))
        return draft.text, draft.sources, draft.declined, draft.evidence

    def closest_sources(self, scored: list[ScoredSentence], hits: list[NodeWithScore], limit: int = 3) -> list[Source]:
        sources: list[Source] = []
        for sentence in scored:
            if len(sources) >= limit:
                break
            _source_for(sources, sentence.hit, sentence.text)
        for hit in hits:  # too little overlap to pick sentences: fall back to the chunks' openings
            if len(sources) >= limit:
                break
            text = hit.node.get_content(metadata_mode=MetadataMode.NONE)
            spans = sentence_spans(text)
            _source_for(sources, hit, text[spans[0][0] : spans[0][1]].strip() if spans else text[:200])
        return sources


def _names_its_kind(atype) -> bool:
    """A question whose answer is a thing of a kind the answerer recognises surely: a figure or a date.
    Not names: "which airline" is answered by "Korea's largest airline", "which county" by
    "Staffordshire", and news names a person by surname alone; not times ("in what time": 3.13 seconds)."""
    return atype.kind in ("number", "date")


def _coverage(q: Question, sentence: str) -> tuple[float, int]:
    """(weighted share of the question's words the sentence has, how many other words it has)."""
    sentence_terms = set(terms(sentence))
    return q.coverage(sentence_terms), len(sentence_terms - set(q.weights))


def quote_units(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, with a quotation that the sentence breaker split kept whole:
    '“Do we have the bench strength? Well, we've been building that bench,” Carney said.' is one unit,
    so a quote is never cut from its speaker. A line break always ends a unit."""
    units: list[tuple[int, int]] = []
    open_quote = False
    merged = 0
    previous_end = 0
    for start, end in sentence_spans(text):
        new_line = "\n" in text[previous_end:start]
        if units and open_quote and not new_line and merged < _MAX_QUOTE_SENTENCES - 1:
            units[-1] = (units[-1][0], end)
            merged += 1
        else:
            units.append((start, end))
            merged = 0
            open_quote = False
        previous_end = end
        open_quote = _toggles_quote(text[start:end], open_quote)
    return units


def _toggles_quote(piece: str, open_quote: bool) -> bool:
    """Whether a quotation is still open after ``piece``, given whether it was open before."""
    for char in piece:
        if char == "“":
            open_quote = True
        elif char == "”":
            open_quote = False
        elif char == '"':
            open_quote = not open_quote
    return open_quote


def _not_stating(q: Question, hits: list[NodeWithScore], article_texts: Callable[[list[str]], dict[str, str]]) -> frozenset[str]:
    """The articles among ``hits`` that state none of the quantities the question names (in their title
    or anywhere in their text, as a quantity is often given once, higher up than the sentence that answers)."""
    if not q.quantities or not hits:
        return frozenset()
    titles: dict[str, str] = {}
    for hit in hits:
        titles.setdefault(_article_id(hit), str(hit.node.metadata.get("title") or ""))
    texts = article_texts(list(titles))
    return frozenset(a for a, title in titles.items() if not states_any(f"{title}\n{texts.get(a, '')}", q.quantities))


def _article_id(hit: NodeWithScore) -> str:
    return hit.node.metadata.get("article_id", hit.node.node_id)


def _day(hit: NodeWithScore) -> int:
    return int(hit.node.metadata.get("published_day") or 0)


def _newest_day(hits: Sequence[NodeWithScore]) -> int:
    return max((_day(h) for h in hits), default=0)


def _age_days(hit: NodeWithScore, newest: int) -> int | None:
    """Days between the hit's article and the newest day (None when either is undated)."""
    day, last = day_date(_day(hit)), day_date(newest)
    return (last - day).days if day and last else None


def _source_for(sources: list[Source], hit: NodeWithScore, quote: str) -> Source:
    """The source numbered for this hit's article, adding it (with this quote) on first citation."""
    meta = hit.node.metadata
    article_id = _article_id(hit)
    for source in sources:
        if source.article_id == article_id:
            return source
    source = Source(
        n=len(sources) + 1,
        article_id=article_id,
        title=meta.get("title", ""),
        url=meta.get("url", ""),
        published_at=meta.get("published_at", ""),
        **source_details(meta),
        quote=quote.strip(),  # a sentence can end a paragraph with its line break
    )
    sources.append(source)
    return source


def dated_label(hit: NodeWithScore, outlet: str | None = None) -> str:
    """"TechCrunch, 2023-10-04": an outlet (default the article's) and the article's day, as answers
    across articles and timelines label their sentences (citations.cited_sentences reads it as such)."""
    meta = hit.node.metadata
    day = str(meta.get("published_at") or "")[:10]
    return ", ".join(p for p in (outlet or str(meta.get("source") or ""), day) if p)


def with_verdict(question: str, draft: Draft, judgement: Judgement) -> Draft:
    """A quoted answer to a yes/no question, led by "Yes — " or "No — " when its first sentence plainly
    states the asked event or its negation (:mod:`assistant.answering.verdicts`); otherwise as it was."""
    asked = yes_no(question)
    if asked is None or draft.declined:
        return draft
    lead = re.sub(r"\s*\[\d+\].*$", "", draft.text, flags=re.S)
    return led_by(verdict(asked, lead), draft)


def led_by(said: str | None, draft: Draft) -> Draft:
    """``draft`` led by the verdict ``said`` ("Yes — ..."), or as it was when there is none."""
    return replace(draft, text=f"{said} — {draft.text}") if said else draft
