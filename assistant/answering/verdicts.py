"""Yes/no questions: a verdict only where the quoted sentence plainly states one.

"Did anybody die in the crash?" is answered "Yes — " and the sentence that says people died, or "No — "
and the sentence that says nobody did. Without an LLM the verdict is read from the sentence's own
words: it names the asked event (the question's main verb, and its subject when the question names
one) and either negates it near the verb ("did not die", "never won", "no one was hurt") or does not.
Where the sentence does not name the asked event the answer gives the evidence with no verdict: a
guessed "Yes" is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import ALIAS_TERMS, STOPWORDS, term_words

_YES_NO = re.compile(
    r"^\W*(?:so\s+|and\s+|but\s+)?(did|does|do|is|are|was|were|has|have|had|will|would|can|could|should|may|might|"
    r"must)(?:n[’']t)?\s+(.+?)\W*$",
    re.I,
)
# Words whose presence before the asked verb negates it.
_NEGATIONS = frozenset("not never no nobody none neither nor without n't didn't doesn't don't wasn't weren't "
                       "isn't aren't hasn't haven't hadn't won't wouldn't can't couldn't cannot".split())
# Subjects that stand for "someone": "Did anybody die?" is answered by any sentence saying people died.
_ANYONE = frozenset("anyone anybody someone somebody any anything something people".split())
NEGATION_WINDOW = 4  # words before the verb in which a negation counts


@dataclass(frozen=True)
class YesNo:
    subject: frozenset[str]  # the stems of the subject's content words (empty: "anybody")
    verb: str  # the stem of the asked verb, or of the first content word after the subject
    content: frozenset[str]  # every content stem of the question


def yes_no(question: str) -> YesNo | None:
    """The asked event of a yes/no question ("Did Canada promise troops?"), or None for other questions."""
    match = _YES_NO.match(question.strip())
    if not match:
        return None
    rest = term_words(match.group(2), keep_stopwords=True)
    if not rest:
        return None
    # The subject runs to the first lower-case content word after at least one word ("the US", "Canada",
    # "anybody"); that word is the asked verb or predicate ("promise", "running", "cancelled").
    subject: list[str] = []
    verb = None
    for i, (word, term) in enumerate(rest):
        if i > 0 and word[0].islower() and word not in ALIAS_TERMS and word.lower() not in STOPWORDS | _ANYONE:
            verb = term
            break
        if word.lower() not in STOPWORDS and word.lower() not in _ANYONE:
            subject.append(term)
    if verb is None:
        return None
    content = frozenset(t for w, t in rest if w.lower() not in STOPWORDS | _ANYONE)
    return YesNo(frozenset(subject), verb, content)


def verdict(asked: YesNo, sentence: str) -> str | None:
    """"Yes" or "No" when ``sentence`` names the asked event (its verb, and its subject when the question
    names one) and affirms or negates it; None when it does not plainly say."""
    tokens = term_words(sentence, keep_stopwords=True)
    lowered = [w.lower().replace("’", "'") for w, _t in tokens]
    terms = [t for _w, t in tokens]
    if asked.subject and not asked.subject & set(terms):
        return None
    if not asked.content <= set(terms):
        return None  # the sentence leaves out part of the asked event ("agreed to monitor", asked "agreed to send troops")
    # "died" and "death" share no stem: the verb must be in the sentence as the question words it.
    for i, term in enumerate(terms):
        if term != asked.verb:
            continue
        before = lowered[max(0, i - NEGATION_WINDOW) : i]
        if any(w in _NEGATIONS or w.endswith("n't") for w in before):
            return "No"
        return "Yes"
    return None
