"""Rewriting the follow-up so that it stands alone (the context it lacks is appended after it, by
:mod:`assistant.understanding.condense.context`). In order:

1. An elliptical follow-up ("And the US?", "What about Canada?") is the earlier question with its subject
   replaced (``ellipsis_swap``).
2. A question that names its own subject and refers back to nothing is left alone
   (``names_its_own_subject``).
3. Otherwise the words that only link it to the conversation ("And", "So") are dropped and each pronoun
   is replaced by the most recent mention that agrees with it (``substitute`` over ``candidates``, the
   referent chosen by ``referent``), unless the pronoun is one that stays (``pronoun_stays``)."""

from __future__ import annotations

import re
from typing import Sequence

from assistant.text import STOPWORDS
from assistant.understanding.condense.exchange import Exchange
from assistant.understanding.condense.mentions import Mention, mentions_in
from assistant.understanding.condense.vocabulary import (
    ASKS_ITS_NAME,
    BE_BEFORE,
    DUMMY_THERE,
    ELLIPSIS,
    NEUTER,
    OPENER,
    PERSONAL,
    PLURAL,
    POSSESSIVE,
    PRONOUN,
    QUESTION_WORDS,
    REFERS_BACK,
    SAID,
    THERE_AFTER,
)
from assistant.understanding.condense.words import word_terms_of


class Swapped(str):
    """An elliptical follow-up rewritten as the earlier question about its subject: it carries nothing."""


def rewrite(question: str, exchanges: list[Exchange]) -> str:
    """``question`` with its references resolved against ``exchanges`` (``question`` itself, the same
    object, when it stands alone); the context is not appended yet."""
    swapped = ellipsis_swap(question, exchanges)
    if swapped is not None:
        return swapped
    if names_its_own_subject(question):
        return question  # names its own subject and refers back to nothing: it stands alone
    rewritten = capitalise(OPENER.sub("", question)) or question
    return substitute(rewritten, candidates(exchanges))


def ellipsis_swap(question: str, exchanges: Sequence[Exchange]) -> Swapped | None:
    """Rule: an elliptical follow-up ("And the US?", "What about Canada?") is the last question with its
    subject replaced; None when ``question`` is no such ellipsis or the last question has no name."""
    ellipsis = ELLIPSIS.match(question)
    if ellipsis:
        subject = ellipsis.group(1).rstrip("?. ")
        if len(subject.split()) <= 5 and not any(w.lower() in QUESTION_WORDS for w in subject.split()):
            swapped = subject_swap(exchanges[-1].standalone, subject)
            if swapped:
                return Swapped(swapped)
    return None


def names_its_own_subject(question: str) -> bool:
    """Rule: a question that names its own subject and refers back to nothing stands alone."""
    return bool(mentions_in(question)) and not REFERS_BACK.search(question)


def candidates(exchanges: list[Exchange]) -> list[Mention]:
    """Rule: the mentions a follow-up's pronoun may refer to, most likely first: what the last answer
    named when it was asked for a name, the last question's mentions, then the earlier exchanges'."""
    out: list[Mention] = []
    seen: set[str] = set()
    for exchange in reversed(exchanges):
        for mention in (exchange.answer_subject(), *exchange.mentions):
            if mention is not None and mention.text.lower() not in seen:
                seen.add(mention.text.lower())
                out.append(mention)
    return out


def subject_swap(earlier: str, subject: str) -> str | None:
    """``earlier`` with its first name (or coordination of names) replaced by ``subject``."""
    target = next((m.text for m in mentions_in(earlier) if not m.phrase), None)
    if not target or target not in earlier:
        return None
    return earlier.replace(target, subject, 1)


def capitalise(text: str) -> str:
    """``text`` with its first letter upper-case: the question after its opener ("and how many ...")."""
    return text[:1].upper() + text[1:]


def substitute(question: str, candidates: list[Mention]) -> str:
    """Rule: each pronoun that has an agreeing candidate is replaced by it, the first time only ("many of
    his duties while he's away" -> "many of King Charles's duties while he's away"): "there" by "in" and
    the place, a possessive by the owner's possessive ("Apple's products"). The pronouns that stay are
    ``pronoun_stays``'s."""
    used: set[str] = set()
    keep_name = ASKS_ITS_NAME.search(question)

    def swap(match: re.Match) -> str:
        if pronoun_stays(question, match, keep_name):
            return match.group(0)
        pronoun = match.group(1).lower()
        mention = referent(pronoun, question[match.end() :], candidates)
        if mention is None or mention.text in used:
            return match.group(0)
        used.add(mention.text)
        if pronoun == "there":
            return f"in {mention.text}"
        if pronoun in POSSESSIVE or (pronoun == "her" and possessive_her(question, match.end())):
            return possessive_of(mention)
        return mention.text

    return PRONOUN.sub(swap, question)


def pronoun_stays(question: str, match: re.Match, keep_name: re.Match | None) -> bool:
    """Rule: a pronoun is left as it is when it points nowhere ("Is there ...?", "up there"), when its
    name is what is asked (inside ``keep_name``, the question's ``ASKS_ITS_NAME`` match: "What's his
    name?"), when it is a contraction ("he's") or stands for the question's own subject ("its own",
    "Which carrier said it ...?", the cleft "Whose network was it that ...?")."""
    pronoun = match.group(1).lower()
    before = question[: match.start()]
    if pronoun == "there" and (DUMMY_THERE.match(question, match.start()) or THERE_AFTER.search(before)):
        return True
    if keep_name and keep_name.start() <= match.start() < keep_name.end():
        return True
    after = question[match.end() :]
    if match.group(2) or re.match(r"\s+own\b", after, re.I) or SAID.search(before):
        return True
    if pronoun == "it" and BE_BEFORE.search(before) and re.match(r"\s+(?:that|who)\b", after, re.I):
        return True  # "Whose network was it that went down?": a cleft, "it" stands for the answer
    return False


def referent(pronoun: str, after: str, candidates: list[Mention]) -> Mention | None:
    """Rule: what ``pronoun`` (with the text ``after`` it) stands for: the first candidate name that
    agrees with it, else the first that may (``agrees``, not strict), else the first noun phrase that
    agrees; None when none does."""
    # A possessive cannot stand for what it possesses: "its new timetable" is not "the new
    # timetable's new timetable".
    owned = set(word_terms_of(after[:40])) if pronoun in POSSESSIVE else set()
    candidates_here = [m for m in candidates if not (owned and set(word_terms_of(m.text)) <= owned)]
    named = [m for m in candidates_here if not m.common]
    return (
        next((m for m in named if agrees(m, pronoun)), None)
        or next((m for m in named if agrees(m, pronoun, strict=False)), None)
        or next((m for m in candidates_here if m.common and agrees(m, pronoun)), None)
    )


def agrees(mention: Mention, pronoun: str, strict: bool = True) -> bool:
    """Whether ``pronoun`` may stand for ``mention``: "he"/"she" for a person (of that sex when the
    first name tells), "it" for a thing, "they" for a group or a coordination, "there" for a place.
    Not ``strict``: a name of no known kind may be a person ("Kamila Valieva") or a thing, and a plural
    name a company ("Alaska Airlines")."""
    if pronoun in PERSONAL:
        return (mention.kind == "person" or not strict and mention.kind == "name" and " " in mention.text) and (
            mention.gender in (None, PERSONAL[pronoun])
        )
    if pronoun in NEUTER:
        return mention.kind == "thing" or not strict and (
            mention.kind == "name" or mention.kind == "group" and not mention.common and " and " not in mention.text
        )
    if pronoun in PLURAL:
        return mention.kind == "group"
    if pronoun == "there":
        return mention.kind == "place"
    return False


def possessive_of(mention: Mention) -> str:
    """"King Charles" -> "King Charles's"; a plural name takes the apostrophe alone ("the Chiefs'")."""
    if mention.kind == "group" and mention.text.endswith("s") and " and " not in mention.text:
        return f"{mention.text}'"
    return f"{mention.text}'s"


def possessive_her(question: str, end: int) -> bool:
    """Whether the "her" ending at ``end`` is a possessive ("her duties"), not an object ("beat her")."""
    following = re.match(r"\s+([A-Za-z][\w'’-]*)", question[end:])
    if not following:
        return False
    word = following.group(1).lower()
    return word not in STOPWORDS and word not in QUESTION_WORDS and not word.endswith("ly")
