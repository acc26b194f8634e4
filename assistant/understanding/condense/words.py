"""The words of a text as the rules read them: every other step works on these tokens (a word, its
possessive ending, the punctuation after it), on the stems of words (``assistant.text.terms``, as retrieval
reads them), and on the tests of a single word here (capitalised, an acronym, a verb form)."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.text import terms
from assistant.understanding.condense.vocabulary import ABBREVIATIONS, CITATION, PARTICIPLES, POSSESSIVE_MARK, WORD

# A text's words, each (the word, its possessive ending or "", the punctuation after it or "").
Tokens = tuple[tuple[str, str, str], ...]


@lru_cache(maxsize=2048)
def tokenize(text: str) -> Tokens:
    """(word, its possessive ending or "", the punctuation after it or "") for each word of ``text``."""
    out: list[tuple[str, str, str]] = []
    for raw in WORD.findall(CITATION.sub(" ", text)):
        if not raw[0].isalnum():
            if out:
                out[-1] = (out[-1][0], out[-1][1], out[-1][2] + raw)
            continue
        raw = raw.lstrip("'’")
        if raw[-1:] in "'’" and raw[-2:-1] != "s":
            raw = raw[:-1]  # a closing quote: 'kill screen'
        if not raw:
            continue
        possessive = POSSESSIVE_MARK.search(raw)
        mark = possessive.group(0) if possessive else ""
        word = raw[: len(raw) - len(mark)] if mark else raw
        punct = ""
        if word.endswith(".") and not (
            word.count(".") > 1 or len(word) <= 2 or word[:-1].lower() in ABBREVIATIONS
        ):
            word, punct = word[:-1], "."
        if word:
            out.append((word, mark, punct))
    return tuple(out)


def opens_sentence(tokens: Tokens, index: int) -> bool:
    """Whether ``tokens[index]`` opens a sentence: first, or after an end mark, a colon or semicolon, an
    opening quote or bracket."""
    return index == 0 or any(c in tokens[index - 1][2] for c in ".!?:;\"“‘(")


def capitalised(word: str) -> bool:
    """Whether a word opens with a capital: the mark of a name's word."""
    return word[:1].isupper()


def acronym(word: str) -> bool:
    """"US", "IRS", "U.K.": capitals that are a name even when their letters spell a word."""
    return len(word) >= 2 and word.isupper()


def continues_name(word: str) -> bool:
    """Whether a word may continue a name: capitalised, or a number ("House Bill 235", "10Best")."""
    return capitalised(word) or word[:1].isdigit()


def verbal(word: str) -> bool:
    """Whether a word looks like a verb form ("taking", "started", "held") rather than a noun."""
    return word in PARTICIPLES or word.endswith(("ing", "ed"))


# Cached: the rules stem the same words again for every turn of a conversation.
@lru_cache(maxsize=16384)
def word_terms(word: str) -> tuple[str, ...]:
    """The stemmed content words of one word (none for a stop word)."""
    return tuple(terms(word))


def word_terms_of(text: str) -> list[str]:
    """The stemmed content words of ``text``'s words (letters first), in order."""
    return [t for word in re.findall(r"[A-Za-z][\w'’-]*", text) for t in word_terms(word)]
