"""Scoring the sentences of the retrieved chunks against the question, in three passes.

1. :func:`score_chunks`: each quotable sentence by how much of the question it covers, whether it holds
   the kind of thing asked for, its chunk's rank, its article's age (for a question about something
   new) and whether its article states the question's figures.
2. :func:`embed_best`: the best few are compared with the question in the embedder's space.
3. :func:`vote`: the sources vote for the candidate answer they repeat (redundancy, as in the AskMSR
   web QA system).

The weights each pass uses are the answerer's (:class:`~.answerer.ExtractiveAnswerer`), passed in by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant.answering.extractive.sentences import (
    ASKS,
    REFERS_BACK,
    TERMINATED,
    HEADING_WORDS,
    quotable_sentences,
    quote_units,
)
from assistant.answering.extractive.sources import age_days_of, article_id_of
from assistant.text import terms
from assistant.understanding.answer_types import candidates, speaker, speaks_for, type_match
from assistant.understanding.question import Question

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


def _coverage(q: Question, sentence: str) -> tuple[float, int]:
    """(weighted share of the question's words the sentence has, how many other words it has)."""
    sentence_terms = set(terms(sentence))
    return q.coverage(sentence_terms), len(sentence_terms - set(q.weights))


def score_chunks(
    q: Question,
    hits: list[NodeWithScore],
    newest: int,
    unreported: frozenset[str],
    *,
    recent_half_life_days: float,
    quantity_weight: float,
    long_sentence_words: int,
    type_weight: float,
    rank_decay: float,
    predicate_weight: float,
) -> list[ScoredSentence]:
    """Every sentence of ``hits`` worth quoting, scored by its words, best first. ``newest`` (YYYYMMDD):
    the day ages are counted from; ``unreported``: the articles that state none of the question's figures."""
    atype = q.atype
    scored: list[ScoredSentence] = []
    seen: set[str] = set()
    for rank, hit in enumerate(hits):
        age = age_days_of(hit, newest)
        # Asked about something new: an older story's sentences weigh less, by how sure the question
        # is of its time; an undated article is neither new nor old.
        behind = recent_half_life_days if age is None else max(0, age)  # newer than the newest counted: 0
        staleness = 0.5 ** (q.recency * behind / recent_half_life_days)
        # A question's figures ("22 states") are evidence of which event it means, not a veto: an
        # article may word them otherwise ("twenty-two states") or give them elsewhere.
        stated = 1.0 if article_id_of(hit) not in unreported else 1.0 - quantity_weight
        text = hit.node.get_content(metadata_mode=MetadataMode.NONE)
        units = quote_units(text)
        for i, end, sentence in quotable_sentences(text, units, seen):
            refers_back = atype.kind is not None and i > 0 and REFERS_BACK.match(sentence)
            coverage, novel = _coverage(q, sentence)
            if (coverage == 0 or novel == 0) and not refers_back:
                continue  # nothing of the question, or nothing but it: not worth typing
            match = type_match(atype, sentence, q.words)
            if match < 1.0 and refers_back:
                # "She won the award." does not say who; with the sentence (or heading) before it, it may.
                widened = _with_the_one_before(q, text, units, i, end, match)
                if widened is not None:
                    sentence, match = widened
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
            length = min(1.0, long_sentence_words / len(sentence.split()))
            fit = 1.0 - type_weight + type_weight * match
            prior = 1.0 / (1.0 + rank_decay * rank)
            score = coverage * fit * length * prior * staleness * stated
            if states:
                score *= 1.0 + predicate_weight
            scored.append(
                ScoredSentence(sentence, rank, hit, coverage, score, match=match, age_days=age, states=states,
                               fit=staleness * stated)
            )
    scored.sort(key=lambda s: s.score, reverse=True)
    return scored


def _with_the_one_before(
    q: Question, text: str, units: list[tuple[int, int]], i: int, end: int, match: float
) -> tuple[str, float] | None:
    """(the unit before and unit ``i`` as one sentence, its match) when that holds the asked kind of thing
    better than unit ``i`` alone (``match``) and what comes before is a sentence or a heading; else None.
    ``end``: where unit ``i`` ends."""
    window = " ".join(text[units[i - 1][0] : end].split())
    before = text[units[i - 1][0] : units[i - 1][1]].strip()
    heading = not TERMINATED.search(before) and len(before.split()) <= HEADING_WORDS
    if heading or (TERMINATED.search(before) and not ASKS.search(before)):
        window_match = type_match(q.atype, window, q.words)
        if window_match > match:
            return window, window_match
    return None


def embed_best(q: Question, scored: list[ScoredSentence], similarity: Similarity, embedded_sentences: int, dense_weight: float) -> None:
    """Compare the best ``embedded_sentences`` with the question in the embedder's space; re-sorts ``scored``."""
    best = scored[:embedded_sentences]
    for sentence, sim in zip(best, similarity(q.text, [s.text for s in best])):
        sentence.dense = float(sim)
        sentence.score *= 1.0 + dense_weight * max(0.0, sentence.dense)
    scored.sort(key=lambda s: s.score, reverse=True)


def vote(scored: list[ScoredSentence], q: Question, consensus_voters: int, consensus_weight: float) -> None:
    """Raise the top sentences that hold the candidate answer most repeated across articles (each
    article votes once per candidate, with its best sentence's score); re-sorts ``scored``."""
    voters = scored[:consensus_voters]
    found_in = [candidates(s.text, q.words, q.atype) for s in voters]
    votes: dict[str, float] = {}
    counted: set[tuple[str, str]] = set()
    for sentence, found in zip(voters, found_in):
        article = article_id_of(sentence.hit)
        for candidate in found:
            if (candidate, article) not in counted:
                counted.add((candidate, article))
                votes[candidate] = votes.get(candidate, 0.0) + sentence.score
    if not votes:
        return
    most = max(votes.values())
    for sentence, found in zip(voters, found_in):
        support = max((votes[c] for c in found), default=0.0)
        sentence.score *= 1.0 + consensus_weight * support / most
    scored.sort(key=lambda s: s.score, reverse=True)
