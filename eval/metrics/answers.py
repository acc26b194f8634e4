"""Is an answer right: text matching (markers stripped, case and punctuation ignored, whole words),
verdicts (yes/no and their MultiHop-RAG synonyms), summaries' key-fact coverage, and
:func:`row_correct`, which picks the rule by the question's kind. Pure; used per row by the runner."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from assistant.answering.citations import without_markers

# A summary is right when it covers at least this share of its key facts.
SUMMARY_RIGHT = 0.5
# One-word golds read as a verdict, and the first words of an answer that state one. "yes"/"no" and
# "true"/"false"; and the golds of MultiHop-RAG's "A or B?" comparison and temporal questions ("is
# the portrayal consistent or inconsistent?", "do they agree, or present different reasons?"): the
# gold there is always the first-named option, the proposition asked about, so "Consistent",
# "Agree", "Align", "Same", ... mean "yes" and their opposites "no". Choice golds that are no verdict
# ("Before", "Larger", "Change", "Different", an outlet's name) are matched as text, as before.
VERDICT_WORDS = {
    **dict.fromkeys(("yes", "true", "consistent", "consistently", "agree", "agrees", "agreement", "align", "aligns",
                     "same", "similar"), "yes"),
    **dict.fromkeys(("no", "false", "inconsistent", "inconsistently", "disagree", "disagrees", "disagreement"), "no"),
}

_MARKERS = re.compile(r"\s*\[\d+\]")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# --- text matching -------------------------------------------------------------------------------
def strip_markers(text: str) -> str:
    """The answer text without its ``[n]`` citation markers."""
    return without_markers(text)


def match_key(text: str) -> str:
    """Lower-case, punctuation as spaces, whitespace collapsed: "$81.8-Billion" -> "81 8 billion"."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """True when ``text`` contains one of ``answers`` (case- and punctuation-insensitive, on word
    boundaries: gold "48" is not found in "1480")."""
    haystack = f" {match_key(text)} "
    for answer in answers:
        key = match_key(answer)
        if key and f" {key} " in haystack:
            return True
    return False


def answer_words(text: str) -> int:
    return len(strip_markers(text).split())


# --- per-row scoring (used by the runner; pure) -----------------------------------------------------
def leading_verdict(answer: str) -> str | None:
    """"yes" or "no" when the answer's first word states a verdict (markers stripped, punctuation
    ignored; "Consistent." and "True," count as the verdict they state, see ``VERDICT_WORDS``): a
    yes/no answer counts by the verdict it leads with, not by a "no" somewhere in its text."""
    words = match_key(strip_markers(answer)).split()
    return VERDICT_WORDS.get(words[0]) if words else None


def verdict_gold(answers: Sequence[str]) -> str | None:
    """"yes" or "no" when every gold answer is one verdict word (any case, punctuation ignored:
    "Yes", "no", "Consistent", "True" ...; see ``VERDICT_WORDS``) and they all state the same
    verdict; None otherwise (no golds, a gold of several words, mixed verdicts)."""
    verdicts = {VERDICT_WORDS.get(match_key(answer)) for answer in answers}
    if len(verdicts) == 1 and None not in verdicts:
        return verdicts.pop()
    return None


def key_fact_coverage(answer: str, key_facts: Sequence[Sequence[str]], declined: bool) -> float | None:
    """The share of ``key_facts`` the answer covers (a fact is a list of alternatives: covered when the
    answer contains any, as :func:`contains_answer` matches); 0 when declined, None without key facts."""
    if not key_facts:
        return None
    if declined:
        return 0.0
    text = strip_markers(answer)
    return sum(contains_answer(text, fact) for fact in key_facts) / len(key_facts)


def row_correct(
    answerable: bool,
    answers: Sequence[str],
    answer: str,
    declined: bool,
    kind: str | None = None,
    key_facts: Sequence[Sequence[str]] = (),
    sources: Sequence[dict] = (),
) -> bool | None:
    """Whether the reply is right for the question's ``kind``.

    chitchat: it cites nothing (no sources, no [n] marker). Other unanswerable questions: declined.
    Golds that are all verdict words ("yes", "No", "Consistent": :func:`verdict_gold`), whatever the
    kind: answered, leading with that verdict (:func:`leading_verdict`; "contains the gold" would
    take "Yes, ... no ..." for a "no"). summary with key facts: it covers at least ``SUMMARY_RIGHT``
    of them. Otherwise (and for sets without kinds): answered and containing a gold answer; None when
    the question names no gold answer.
    """
    if kind == "chitchat":
        return not sources and not _MARKERS.search(answer)
    if not answerable:
        return declined
    verdict = verdict_gold(answers)
    if verdict is not None:
        return (not declined) and leading_verdict(answer) == verdict
    if kind == "summary" and key_facts:
        return key_fact_coverage(answer, key_facts, declined) >= SUMMARY_RIGHT
    if not answers:
        return None
    return (not declined) and contains_answer(strip_markers(answer), answers)
