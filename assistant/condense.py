"""Follow-up rewriting: turn the latest question into one that stands alone, given the history.

Without an LLM the rewrite carries the previous user turn's key names and terms: a pronoun that refers
back ("it", "they", "its", "he", ...) is replaced by the main name of the earlier question (the whole
coordination when it named several: "France and the U.K."), and names or topic words the new question
lacks are appended in brackets, so retrieval sees the subject again. An elliptical follow-up ("And the
US?", "What about Canada?") is the earlier question with its subject replaced. Earlier turns are read
in order, each rewritten against the one before, so a third turn resolves through the second to the
entity the conversation is about. The condenser is a replaceable step: the engine takes any object
with ``condense(question, history)``.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

from assistant.answer import Turn
from assistant.answer_types import answer_type
from assistant.text import MONTHS, STOPWORDS, WEEKDAYS, terms, words

_PRONOUNS = {
    "it": "{}",
    "its": "{}'s",
    "they": "{}",
    "them": "{}",
    "their": "{}'s",
    "he": "{}",
    "him": "{}",
    "his": "{}'s",
    "she": "{}",
    "her": "{}'s",
    "there": "in {}",
}
_QUESTION_WORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do",
                   "is", "are", "was", "were", "can", "could", "will", "would", "should", "has", "have", "had"}
_NAME = re.compile(r"(?:[A-Z][\w’'.-]*)(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.-]*)*")


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[Turn]) -> str: ...


_NOT_A_REFERENT = _QUESTION_WORDS | {"the", "a", "an", "in", "on", "at", "and", "but"} | WEEKDAYS | MONTHS


def _names(text: str) -> list[str]:
    """Capitalised word runs (leading articles and question words dropped; dates are not names)."""
    out = []
    text = re.sub(r"\[\d+\]", " ", text)
    for match in _NAME.finditer(text):
        parts = match.group(0).rstrip(".").split()
        if len(parts) == 1 and re.search(r"(^|[.!?:]\s*[\"“‘']?)\s*$", text[: match.start()]):
            continue  # one capitalised word opening a sentence is usually just a word ("Riders on ...")
        while parts and parts[0].lower() in _NOT_A_REFERENT:
            parts = parts[1:]
        name = " ".join(parts)
        if name and (name.lower() not in STOPWORDS or name.isupper()) and name not in out:
            out.append(name)
    return out


def _referent(last_question: str, last_answer: str | None) -> list[str]:
    """Names a follow-up's pronoun may point at, most likely first: after a question that asked for a
    name the answer's subject ("Which line ...?" "The Northshore Line." -> "its timetable"), else the
    question's own subject ("What did France promise?" "Troops for Ukraine." -> "it" is France)."""
    asked = _names(last_question)
    answered = _names(last_answer) if last_answer and "don't answer" not in last_answer else []
    if answered and answer_type(last_question).kind == "name":
        return answered[:1] + [n for n in asked if n not in answered[:1]]
    return asked + [n for n in answered[:1] if n not in asked]


# "And the US?", "What about Canada?", "How about in Britain?": the earlier question, about another subject.
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?:in\s+|for\s+)?(.+?)\s*\??\s*$", re.I)
# A coordination of names: "France and the U.K.", "Israel and Hamas".
_COORDINATED = re.compile(r"((?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*)\s+and\s+((?:the\s+)?[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*)")


def _coordination(text: str) -> str | None:
    """The first "X and Y" of names in ``text``, as written ("France and the U.K.")."""
    match = _COORDINATED.search(re.sub(r"\[\d+\]", " ", text))
    if not match:
        return None
    left = match.group(1)
    words_left = left.split()
    if words_left and words_left[0].lower() in _NOT_A_REFERENT:  # "What France and ..." -> "France"
        left = " ".join(words_left[1:])
    return f"{left} and {match.group(2)}".strip() if left else None


def _subject_swap(earlier: str, subject: str) -> str | None:
    """``earlier`` with its first name (or coordination of names) replaced by ``subject``."""
    target = _coordination(earlier) or next(iter(_names(earlier)), None)
    if not target or target not in earlier:
        return None
    return earlier.replace(target, subject, 1)


class KeywordCondenser:
    """Rewrites follow-ups by carrying names and topic words from the previous user turn."""

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        # Read the conversation in order: each user turn is rewritten against the (rewritten) one
        # before it, so "it" in a third turn reaches the entity the first one named.
        standalone: str | None = None
        last_answer: str | None = None
        for turn in history:
            if not turn.content.strip():
                continue
            if turn.role == "user":
                standalone = turn.content if standalone is None else self._rewrite(turn.content, standalone, last_answer)
                last_answer = None
            else:
                last_answer = turn.content
        if standalone is None:
            return question
        return self._rewrite(question, standalone, last_answer)

    def _rewrite(self, question: str, last: str, last_answer: str | None) -> str:
        """``question`` made to stand alone after the user's earlier question ``last`` (already
        standalone) and the answer to it, if any."""
        ellipsis = _ELLIPSIS.match(question)
        if ellipsis and len(ellipsis.group(1).split()) <= 5:
            swapped = _subject_swap(last, ellipsis.group(1).rstrip("?. "))
            if swapped:
                return swapped
        names = _referent(last, last_answer)
        group = _coordination(last)
        if group and names and names[0] in group:
            names = [group] + [n for n in names if n not in group]
        rewritten = question
        replaced = False
        if names:
            main = names[0]
            def swap(match: re.Match) -> str:
                nonlocal replaced
                if replaced:
                    return match.group(0)
                replaced = True
                return _PRONOUNS[match.group(0).lower()].format(main)
            rewritten = re.sub(r"\b(" + "|".join(_PRONOUNS) + r")\b", swap, question, flags=re.I)

        present = set(terms(rewritten))
        carry = [n for n in names if not set(terms(n)) <= present]
        if replaced:
            extra = carry
        elif _names(question) or len(terms(question)) >= 4:
            return question  # names its own subject: it stands alone
        else:
            topic = [w for w in words(last) if terms(w) and terms(w)[0] not in present
                     and w.lower() not in _QUESTION_WORDS and not any(w in n for n in names)]
            extra = list(dict.fromkeys(carry + topic))
        return f"{rewritten} ({' '.join(extra)})" if extra else rewritten
