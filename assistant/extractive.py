"""The embedded default answerer: quotes the few retrieved sentences that best answer the question.

No LLM: every sentence of the answer is a verbatim quote from a retrieved chunk, followed by the
``[n]`` of the article it came from. A sentence is scored by how much of the question it covers
(stemmed content words, names weighted up), whether it holds the kind of thing the question asks for
(:mod:`assistant.answer_types`: a number for "how many", a person for "who", a US state for "which
state", ...), whether it says something the question does not already say, and how well its chunk
ranked. A sentence that only refers back ("She won ...") is scored, and quoted, with the sentence
before it. Then the sources vote: a candidate of the asked kind that several articles' well-scoring
sentences repeat is probably the answer, so the sentences holding it move up (redundancy, as in the
AskMSR web QA system). When the evidence scores under ``decline_threshold`` the answerer declines
instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant.answer import Source
from assistant.answer_types import AnswerType, answer_type, candidates, type_match
from assistant.settings import Settings
from assistant.text import sentence_spans, terms, words

DECLINE_TEXT = "The ingested articles don't answer this question."

# A sentence ends in . ! or ? (perhaps inside closing quotes or brackets). Headings, captions, link
# texts ("REQUIRED READING: ...") and sentences cut at a chunk's edge do not, and are not quoted.
_TERMINATED = re.compile(r"[.!?][\"”’')\]]*$")
# A wire dateline opening a story ("LAS VEGAS ‒", "BANGUI, Central African Republic (AP) —") says where
# it was filed, not what happened: it is not quoted, and its place does not answer "which city".
_DATELINE = re.compile(r"^[A-Z][A-Z.'’\- ]+[A-Z.](?:,\s+[A-Z][\w.\- ]*?)?(?:\s+\([A-Za-z]+\))?\s*[—–‒]+\s+(?=[A-Z\"“])")
# A sentence that opens like this refers back to something the sentence before it named ("She was
# named director of the year", "The comedian will return"); when that something is the answer, the
# sentence before it is quoted too.
_REFERS_BACK = re.compile(r"^(?:He|She|They|His|Her|Their|The\s+(?:[A-Z][\w\-]*\s+)*[a-z][\w\-]*)\b")


@dataclass
class ScoredSentence:
    text: str
    hit_rank: int
    hit: NodeWithScore
    coverage: float  # weighted share of the question's content words the sentence contains
    score: float


def _question_weights(question: str, idf: Callable[[str], float]) -> dict[str, float]:
    """Weight of each stemmed content word of the question: its rarity in the corpus, raised for
    names and numbers (they pin down the event the question is about)."""
    weights: dict[str, float] = {}
    for i, word in enumerate(words(question)):
        t = terms(word)
        if not t:
            continue
        boost = 1.5 if (i > 0 and word[0].isupper()) or any(c.isdigit() for c in word) else 1.0
        weights[t[0]] = max(weights.get(t[0], 0.0), boost * idf(t[0]))
    return weights


def _flat_idf(_term: str) -> float:
    return 1.0


def _default(field: str):
    # The answerer's defaults are the settings' defaults (class-level field defaults: no environment is
    # read), so an answerer built without the engine behaves like the engine's.
    return Settings.model_fields[field].default


class ExtractiveAnswerer:
    def __init__(
        self,
        max_sentences: int = _default("max_answer_sentences"),
        max_words: int = _default("max_answer_words"),
        decline_threshold: float = _default("decline_threshold"),
        follow_ratio: float = _default("answer_follow_ratio"),
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
        self.max_sentences = max_sentences
        self.max_words = max_words
        self.decline_threshold = decline_threshold

    def score_sentences(
        self, question: str, hits: list[NodeWithScore], idf: Callable[[str], float] = _flat_idf
    ) -> list[ScoredSentence]:
        weights = _question_weights(question, idf)
        total = sum(weights.values()) or 1.0
        atype = answer_type(question)
        question_words = {w.lower() for w in words(question)}
        scored: list[ScoredSentence] = []
        seen: set[str] = set()
        for rank, hit in enumerate(hits):
            text = hit.node.get_content(metadata_mode=MetadataMode.NONE)
            spans = sentence_spans(text)
            for i, (start, end) in enumerate(spans):
                sentence = _DATELINE.sub("", text[start:end].strip(), count=1)
                if len(sentence.split()) < 4 or sentence in seen or not _TERMINATED.search(sentence):
                    continue
                seen.add(sentence)
                refers_back = atype.kind == "name" and i > 0 and _REFERS_BACK.match(sentence)
                coverage, novel = self._coverage(sentence, weights, total)
                if (coverage == 0 or novel == 0) and not refers_back:
                    continue  # nothing of the question, or nothing but it: not worth typing
                match = type_match(atype, sentence, question_words)
                if match < 1.0 and refers_back:
                    # "She won the award." does not say who; with the sentence before it, it may.
                    window = " ".join(text[spans[i - 1][0] : end].split())
                    before = text[spans[i - 1][0] : spans[i - 1][1]].strip()
                    if _TERMINATED.search(before) and not before.endswith("?"):
                        window_match = type_match(atype, window, question_words)
                        if window_match > match:
                            sentence, match = window, window_match
                            coverage, novel = self._coverage(sentence, weights, total)
                if coverage == 0 or novel == 0:
                    continue
                length = min(1.0, self.long_sentence_words / len(sentence.split()))
                fit = 1.0 - self.type_weight + self.type_weight * match
                prior = 1.0 / (1.0 + self.rank_decay * rank)
                scored.append(ScoredSentence(sentence, rank, hit, coverage, coverage * fit * length * prior))
        scored.sort(key=lambda s: s.score, reverse=True)
        if atype.kind is not None and self.consensus_weight > 0:
            self._vote(scored, question_words, atype)
        return scored

    @staticmethod
    def _coverage(sentence: str, weights: dict[str, float], total: float) -> tuple[float, int]:
        """(weighted share of the question's words the sentence has, how many other words it has)."""
        sentence_terms = set(terms(sentence))
        matched = sum(w for t, w in weights.items() if t in sentence_terms)
        return matched / total, len(sentence_terms - set(weights))

    def _vote(self, scored: list[ScoredSentence], question_words: set[str], atype: AnswerType) -> None:
        """Raise the top sentences that hold the candidate answer most repeated across articles (each
        article votes once per candidate, with its best sentence's score); re-sorts ``scored``."""
        voters = scored[: self.consensus_voters]
        found_in = [candidates(s.text, question_words, atype) for s in voters]
        votes: dict[str, float] = {}
        counted: set[tuple[str, str]] = set()
        for sentence, found in zip(voters, found_in):
            article = sentence.hit.node.metadata.get("article_id", sentence.hit.node.node_id)
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

    def evidence(self, scored: list[ScoredSentence], hits: list) -> float:
        """How strongly the retrieved text answers the question, in [0, 1]; compared with the threshold."""
        if not scored:
            return 0.0
        # How much of the question the sources cover, whatever kind of thing the best sentence holds:
        # asking for a kind of thing they do not name is the answer's problem, not a sign of no answer.
        coverage = max(s.coverage for s in scored)
        dense = max((getattr(h, "dense_score", None) or 0.0) for h in hits[:3]) if hits else 0.0
        return 0.6 * coverage + 0.4 * max(dense, 0.0)

    def answer(
        self, question: str, hits: list[NodeWithScore], idf: Callable[[str], float] = _flat_idf
    ) -> tuple[str, list[Source], bool, float]:
        """(answer text with [n] markers, numbered sources, declined, evidence score).

        ``idf`` gives a stemmed term's rarity in the corpus (the BM25 index's statistics)."""
        scored = self.score_sentences(question, hits, idf)
        evidence = self.evidence(scored, hits)
        if evidence < self.decline_threshold or not scored:
            return DECLINE_TEXT, self.closest_sources(scored, hits), True, evidence

        chosen: list[ScoredSentence] = [scored[0]]
        n_words = len(scored[0].text.split())
        covered = set(terms(scored[0].text))
        for candidate in scored[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if candidate.score < self.follow_ratio * scored[0].score:
                break
            extra = len(candidate.text.split())
            new_terms = set(terms(candidate.text)) - covered
            if n_words + extra > self.max_words or len(new_terms) < 3:
                continue
            if any(candidate.text in c.text or c.text in candidate.text for c in chosen):
                continue  # a sentence and the look-back window that holds it: quote it once
            chosen.append(candidate)
            n_words += extra
            covered |= new_terms

        sources: list[Source] = []
        parts: list[str] = []
        for sentence in chosen:
            source = _source_for(sources, sentence.hit, sentence.text)
            parts.append(f"{sentence.text} [{source.n}]")
        return " ".join(parts), sources, False, evidence

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


def _source_for(sources: list[Source], hit: NodeWithScore, quote: str) -> Source:
    """The source numbered for this hit's article, adding it (with this quote) on first citation."""
    meta = hit.node.metadata
    article_id = meta.get("article_id", hit.node.node_id)
    for source in sources:
        if source.article_id == article_id:
            return source
    source = Source(
        n=len(sources) + 1,
        article_id=article_id,
        title=meta.get("title", ""),
        url=meta.get("url", ""),
        published_at=meta.get("published_at", ""),
        quote=quote,
    )
    sources.append(source)
    return source
