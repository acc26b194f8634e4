"""Follow-up rewriting: turn the latest question into one that stands alone, given the history.

Without an LLM the rewrite carries the previous user turn's key names and terms: a pronoun that refers
back ("it", "they", "its", "he", ...) is replaced by the main name of the earlier question, and names or
topic words the new question lacks are appended in brackets, so retrieval sees the subject again.
The condenser is a replaceable step: the engine takes any object with ``condense(question, history)``.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

from assistant.answer import Turn
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
        if name and name.lower() not in STOPWORDS and name not in out:
            out.append(name)
    return out


def _referent(last_question: str, last_answer: str | None) -> list[str]:
    """Names a follow-up's pronoun may point at, most likely first: after a "which/who/what" question
    the answer's subject ("Which line ...?" "The Northshore Line." -> "its timetable"), else the
    question's own subject."""
    asked = _names(last_question)
    answered = _names(last_answer) if last_answer and "don't answer" not in last_answer else []
    if answered and re.match(r"\s*(which|who|what)\b", last_question, re.I):
        return answered[:1] + [n for n in asked if n not in answered[:1]]
    return asked + [n for n in answered[:1] if n not in asked]


class KeywordCondenser:
    """Rewrites follow-ups by carrying names and topic words from the previous user turn."""

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        previous = [t.content for t in history if t.role == "user" and t.content.strip()]
        if not previous:
            return question
        last = previous[-1]
        answers = [t.content for t in history if t.role == "assistant"]
        last_answer = answers[-1] if answers and history[-1].role == "assistant" else None
        names = _referent(last, last_answer)
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
