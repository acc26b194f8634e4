"""What a question asks about: its weighted words, the verb it asks about, the kind of answer it wants.

The answerer and the answerability judge read a question through this one analysis. A word weighs by
its rarity in the corpus, and more when it pins down which event the question is about: a name
(capitalised words after the first, acronyms, "the U.S."), a number, or the verb the answer completes
("What did the US *pledge*?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from assistant.answer_types import AnswerType, answer_type
from assistant.quantities import Quantity, quantities
from assistant.text import ALIAS_TERMS, terms, term_words, words

# Words that ask about what is new ("this week", "the latest", "the new ..."): an article far older than
# the rest of what matched cannot answer them.
_RECENT = re.compile(
    r"\b(this|last|past) (week|weekend|month)\b|\b(today|yesterday|tonight|recently|latest|newest|just|"
    r"this year|most recent|upcoming|next month|next week|new|newly|now|current|currently)\b",
    re.I,
)
# "What did the US pledge?", "How much will Canada invest ...?", "How many people did the storm kill?":
# after the auxiliary and its subject (a name, or a determiner and a noun) comes the verb the answer
# completes. It is what the question asks about; a sentence without it is about something else.
_PREDICATE = re.compile(
    r"^\W*(?i:what|how (?:much|many)(?: [a-z]+)?|which [a-z]+|who|whom|when|where|why)\s+"
    r"(?i:did|does|do|will|would|has|have|had|can|could|should|is|are|was|were)\s+"
    r"((?:the|a|an|its|his|her|their)\s+(?:(?:[A-Z][\w.’'-]*\s+)+|[a-z][\w-]*\s+)|(?:[A-Z][\w.’'-]*\s+)*)"
    r"([a-z][a-z-]+)\b"
)
# Before a noun, not a verb: "its promise", "the pledge".
_DETERMINERS = frozenset("the a an its his her their our this that these those".split())


# The context a condensed follow-up carries in brackets ("When is it? (Harbourfront Dumpling Festival)").
_CARRIED = re.compile(r"\s*\(([^()]*)\)\s*$")


@dataclass
class Question:
    text: str
    weights: dict[str, float]  # stemmed content word -> weight (rarity, raised for names and numbers)
    atype: AnswerType
    words: set[str] = field(default_factory=set)  # lower-cased words, to tell new names from the question's own
    recent: bool = False  # asks about something new ("this week", "the latest")
    predicate: str | None = None  # the verb the answer completes ("pledg" in "What did the US pledge?")
    subject: set[str] = field(default_factory=set)  # the terms of its subject ({"unitedstates"})
    quantities: tuple[Quantity, ...] = ()  # the quantities it names ("22 states"): its event states them

    def states_predicate(self, sentence: str) -> bool:
        """Whether the sentence says the subject did the asked thing: a subject term shortly before
        the predicate used as a verb ("the U.S. has pledged", "Canada has promised"; not "Canada can
        deliver on its promise"), as the sentence that answers usually does."""
        if not self.predicate:
            return False
        tokens = term_words(sentence, keep_stopwords=True)
        for i, (word, term) in enumerate(tokens):
            if term != self.predicate or (i and tokens[i - 1][0].lower() in _DETERMINERS):
                continue
            if any(t in self.subject for _w, t in tokens[max(0, i - 5) : i]):
                return True
        return False

    asked_weights: dict[str, float] = field(default_factory=dict)  # without the words a follow-up carries

    def asked_coverage(self, sentence_terms: set[str]) -> float:
        """Coverage counting only the question as asked and the names it carries: a follow-up's
        carried topic words find the story but are not what is asked."""
        total = sum(self.asked_weights.values()) or 1.0
        return sum(w for t, w in self.asked_weights.items() if t in sentence_terms) / total

    @property
    def total(self) -> float:
        return sum(self.weights.values()) or 1.0

    def coverage(self, sentence_terms: set[str]) -> float:
        """Weighted share of the question's words among ``sentence_terms``."""
        return sum(w for t, w in self.weights.items() if t in sentence_terms) / self.total


def _flat_idf(_term: str) -> float:
    return 1.0


def analyse(question: str, idf: Callable[[str], float] = _flat_idf) -> Question:
    weights: dict[str, float] = {}
    named: set[str] = set()
    opening = (words(question) or [""])[0]
    for i, (word, term) in enumerate(term_words(question)):
        is_name = word[0].isupper() or word in ALIAS_TERMS or any(c.isdigit() for c in word)
        if i == 0 and word == opening and not word.isupper() and word not in ALIAS_TERMS:
            is_name = False  # capitalised because it opens the question
        boost = 1.5 if is_name else 1.0
        weights[term] = max(weights.get(term, 0.0), boost * idf(term))
        if is_name:
            named.add(term)
    predicate = _PREDICATE.search(question)
    verb = terms(predicate.group(2)) if predicate else []
    subject: set[str] = set()
    if verb and verb[0] in weights:
        weights[verb[0]] *= 1.5
        named.add(verb[0])
        subject = set(terms(predicate.group(1)))
    carried = _CARRIED.search(question)
    asked_weights = dict(weights)
    if carried:
        carried_terms = {t for w, t in term_words(carried.group(1)) if not (w[0].isupper() or w in ALIAS_TERMS)}
        own = {t for _w, t in term_words(question[: carried.start()])}
        asked_weights = {t: w for t, w in weights.items() if t in own or t not in carried_terms}
    return Question(
        text=question,
        weights=weights,
        atype=answer_type(question),
        words={w.lower() for w in words(question)},
        recent=bool(_RECENT.search(question)),
        asked_weights=asked_weights,
        predicate=verb[0] if verb and subject else None,
        subject=subject,
        # A follow-up's carried words are a bag of keywords (no units to read): its own words give them.
        quantities=quantities(question[: carried.start()] if carried else question),
    )


def sentence_terms(text: str) -> set[str]:
    return set(terms(text))
