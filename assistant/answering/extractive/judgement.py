"""The answerability judgement: how likely each scored sentence answers the question, the evidence the
best few give, and whether that is too weak (or lacks the asked figure) to answer from.

The LLM answerer shares this judgement (:mod:`assistant.answering.generative`): whichever answerer is
configured, a question under the decline threshold is declined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

from llama_index.core.schema import NodeWithScore

from assistant.answering.extractive.scoring import ScoredSentence
from assistant.answering.extractive.sources import article_id_of
from assistant.text import terms
from assistant.understanding.quantities import states_any
from assistant.understanding.question import Question

# The answerability model (see answerability below): logistic regression (L2 0.1) of
# "answerable" on the features of the sentence the evidence is read from, refitted 2026-12-05 on both
# RealTimeQA dev splits pooled (rtqa-dev 141 questions, rtqa-dev2 308; bench/fit_answerability.py).
# Fitted on one split and calibrated there, it does not carry to the other (rtqa-dev2 is harder: a
# six-month archive): leave-one-split-out, decline accuracy 0.56 on rtqa-dev and 0.69 on rtqa-dev2 at
# false-decline rates 0.03 and 0.22; 10-fold over both, 0.54 at 0.10. (A fifth feature, how far a
# sentence falls short of the asked kind, got a positive weight and let "how many" be answered by a
# sentence with no number: left out.) Refit when the features change.
ANSWERABILITY = {"bias": -4.432, "coverage": 3.956, "dense": 4.956, "match": 0.656, "age": -1.620}


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


def answerability(s: ScoredSentence) -> float:
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


def rate_answerability(scored: list[ScoredSentence], q: Question) -> None:
    """Set each sentence's answerability (in place)."""
    for s in scored:
        s.answerability = answerability(s)
        if q.asked_weights != q.weights:  # a follow-up: its own words may answer where the carried ones don't
            asked = replace(s, coverage=q.asked_coverage(set(terms(s.text))))
            s.answerability = max(s.answerability, answerability(asked))


def evidence_of(scored: list[ScoredSentence], among: int) -> float:
    """How strongly the retrieved text answers the question, in [0, 1]: the answerability of the
    best ``among`` sentences: the ones the answer would quote from."""
    return max((s.answerability for s in scored[:among]), default=0.0)


def names_its_kind(atype) -> bool:
    """A question whose answer is a thing of a kind the answerer recognises surely: a figure or a date.
    Not names: "which airline" is answered by "Korea's largest airline", "which county" by
    "Staffordshire", and news names a person by surname alone; not times ("in what time": 3.13 seconds)."""
    return atype.kind in ("number", "date")


def holds_asked_kind(scored: list[ScoredSentence], evidence_sentences: int, companion_window: int) -> bool:
    """Whether the sentences an answer would quote hold the asked kind of thing: one of the best
    ``evidence_sentences``, or a sentence of the most answerable one's article (what
    :func:`~.composing.typed_companion` would add)."""
    best = scored[:evidence_sentences]
    if any(s.match >= 1.0 for s in best):
        return True
    return any(of_kind_in(max(best, key=lambda s: s.answerability), scored, companion_window))


def of_kind_in(lead: ScoredSentence, scored: list[ScoredSentence], companion_window: int) -> Iterator[ScoredSentence]:
    """The sentences of ``lead``'s article, among the ``companion_window`` best, that hold the asked
    kind of thing (best first), other than ``lead`` and what it already quotes."""
    article = article_id_of(lead.hit)
    for candidate in scored[:companion_window]:
        if candidate.match >= 1.0 and article_id_of(candidate.hit) == article and candidate.text not in lead.text:
            yield candidate


def not_stating(q: Question, hits: list[NodeWithScore], article_texts: Callable[[list[str]], dict[str, str]]) -> frozenset[str]:
    """The articles among ``hits`` that state none of the quantities the question names (in their title
    or anywhere in their text, as a quantity is often given once, higher up than the sentence that answers)."""
    if not q.quantities or not hits:
        return frozenset()
    titles: dict[str, str] = {}
    for hit in hits:
        titles.setdefault(article_id_of(hit), str(hit.node.metadata.get("title") or ""))
    texts = article_texts(list(titles))
    return frozenset(a for a, title in titles.items() if not states_any(f"{title}\n{texts.get(a, '')}", q.quantities))
