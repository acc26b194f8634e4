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

from assistant.understanding.answer_types import HOW_MEASURES, AnswerType, answer_type
from assistant.understanding.quantities import Quantity, quantities
from assistant.text import ALIAS_TERMS, terms, term_words, words

# Words that ask about what is new, by how sure they are of the time they mean: a named recent time
# ("this week", "yesterday") is sure; "the latest" or "recently" leans towards the newest stories; a
# bare "new" or "now" is often part of a name or a description ("best new artist", "the new party")
# and only nudges. In an archive nobody knows which week "this week" was, so none of them filters.
_RECENT_SURE = re.compile(r"\b(this|last|past) (week|weekend|month)\b|\b(today|yesterday|tonight)\b", re.I)
_RECENT_LEANING = re.compile(r"\b(recently|latest|newest|most recent|just)\b", re.I)
_RECENT_NUDGE = re.compile(r"\b(new|newly|now|current|currently|upcoming|this year|next (week|month))\b", re.I)


def recency_strength(question: str) -> float:
    """How strongly ``question`` asks about what is new, in [0, 1] (0: it does not)."""
    if _RECENT_SURE.search(question):
        return 1.0
    if _RECENT_LEANING.search(question):
        return 0.5
    return 0.25 if _RECENT_NUDGE.search(question) else 0.0


# "What did the US pledge?", "How much will Canada invest ...?", "How many people did the storm kill?":
# after the auxiliary and its subject (a name, or a determiner, perhaps an adjective or two, and a noun)
# comes the verb the answer completes. It is what the question asks about; a sentence without it is about
# something else. ("How much did the new library cost?": "new" describes the subject; "cost" is asked.)
_ADJECTIVES = ("new|old|former|first|last|next|top|big|biggest|largest|latest|other|same|local|federal|national|"
               "international|current|recent|upcoming|proposed|planned|two|three")
_ADJECTIVE = re.compile(rf"\b(?:{_ADJECTIVES})\b")
_PREDICATE = re.compile(
    r"^\W*(?i:what|how (?:much|many)(?: [a-z]+)?|which [a-z]+|who|whom|when|where|why)\s+"
    r"(?i:did|does|do|will|would|has|have|had|can|could|should|(is|are|was|were))\s+"
    r"((?:the|a|an|its|his|her|their)\s+(?:(?:[A-Z][\w.’'-]*\s+)+|(?:(?:" + _ADJECTIVES + r")\s+){0,2}[a-z][\w-]*\s+)|"
    r"(?:[A-Z][\w.’'-]*\s+)*)"
    r"([a-z][a-z-]+)\b"
)
# Another form of a question's word counts this share of it, when the shorter form has MIN_PREFIX letters.
PREFIX_CREDIT = 0.5
MIN_PREFIX = 6
# How much more a named subject of the asked verb weighs than other names.
SUBJECT_BOOST = 2.0
# Before a noun, not a verb: "its promise", "the pledge".
_DETERMINERS = frozenset("the a an its his her their our this that these those".split())


# "What is the role of the supply centres?": a noun that frames the question names the kind of answer
# wanted (a description), not the topic; an article says what the centres do without writing "role".
_FRAME = re.compile(
    r"\b(?:what|which)(?:[’']s|\s+(?:is|was|are|were|will be))\s+(?:the\s+)?(role|purpose|point|aim|goal|"
    r"significance|importance|meaning|function|job|nature|idea|focus|status)s?\s+of\b",
    re.I,
)
FRAME_WEIGHT = 0.3
# "How much", "how many", "how long": the word after "how" asks for a quantity; the sentence that gives
# it rarely repeats it ("cost $14.2 million"), so it is no content word of the question.
_HOW = re.compile(rf"\bhow\s+({HOW_MEASURES}|soon|early)\b", re.I)

# The context a condensed follow-up carries in brackets ("When is it? (Harbourfront Dumpling Festival)").
_CARRIED = re.compile(r"\s*\(([^()]*)\)\s*$")


@dataclass
class Question:
    text: str
    weights: dict[str, float]  # stemmed content word -> weight (rarity, raised for names and numbers)
    atype: AnswerType
    words: set[str] = field(default_factory=set)  # lower-cased words, to tell new names from the question's own
    recency: float = 0.0  # how strongly it asks about something new (recency_strength)
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
        """Weighted share of the question's words among ``sentence_terms``; a word found only as another
        form of itself ("threaten" for "threats": the stemmer keeps them apart) counts half."""
        found = 0.0
        for term, weight in self.weights.items():
            if term in sentence_terms:
                found += weight
            elif len(term) >= MIN_PREFIX and any(_same_word(term, other) for other in sentence_terms):
                found += PREFIX_CREDIT * weight
        return found / self.total


def _same_word(a: str, b: str) -> bool:
    """Whether two stems are forms of one word: one begins the other, and the shorter is long enough
    not to be a mere beginning ("threat"/"threaten", not "state"/"statement": both must be 6+ letters)."""
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter) >= MIN_PREFIX and longer.startswith(shorter) and len(longer) - len(shorter) <= 3


def flat_idf(_term: str) -> float:
    return 1.0


def analyse(question: str, idf: Callable[[str], float] = flat_idf) -> Question:
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
    if predicate and predicate.group(1) and not predicate.group(3).endswith(("ing", "ed", "en")):
        # After "is", "was": "What is Canada sending?", "Where was he arrested?" ask a verb; "What is the
        # estimated cost of ...?" asks a noun, and names no subject that does anything.
        predicate = None
    verb = terms(predicate.group(3)) if predicate else []
    # The subject is kept even when the verb is a stop word ("What did Putin say?"): the speaker asked about.
    subject: set[str] = set(terms(_ADJECTIVE.sub(" ", predicate.group(2)))) if predicate else set()
    if verb and verb[0] in weights:
        weights[verb[0]] *= 1.5
        named.add(verb[0])
    for term in subject & named:
        # Who does the asked thing weighs more than the thing done: "What did France promise?" is not
        # answered by what Canada promised, however well that sentence matches "promise".
        weights[term] *= SUBJECT_BOOST
    for how in _HOW.finditer(question):
        for term in terms(how.group(1)):
            weights.pop(term, None)
            named.discard(term)
    for frame in _FRAME.finditer(question):
        for term in terms(frame.group(1)):
            if term in weights:
                weights[term] *= FRAME_WEIGHT
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
        recency=recency_strength(question),
        asked_weights=asked_weights,
        predicate=verb[0] if verb and subject else None,
        subject=subject,
        # A follow-up's carried words are a bag of keywords (no units to read): its own words give them.
        quantities=quantities(question[: carried.start()] if carried else question),
    )


def sentence_terms(text: str) -> set[str]:
    return set(terms(text))
