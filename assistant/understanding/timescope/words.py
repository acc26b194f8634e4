"""The words in and around a time phrase: the preposition before it, what follows a year, a count.

Whether a phrase is a time at all often depends on its neighbours ("in 2023" is, "the 2023 Games"
is not), and whether it is a bound or a range on the word before it ("since March 1", "between Jan 5
and Jan 20"). These read those words; the steps in :mod:`.points` and :mod:`.candidates` decide.
"""

from __future__ import annotations

import re

from assistant.understanding.timescope.patterns import AFTER_RANGE_JOIN, AFTER_YEAR_OK, NUMBER_WORDS, WORD_BEFORE


def word_before(question: str, start: int) -> tuple[str, int]:
    """The preposition right before ``start`` (lower case, "" if none) and where it starts."""
    window_start = max(0, start - 30)
    m = WORD_BEFORE.search(question, window_start, start)
    if m is None:
        if AFTER_RANGE_JOIN.search(question, max(0, start - 60), start):
            return "and", start
        return "", start
    return re.sub(r"\s+", " ", m.group("w").lower()), m.start()


def year_followed_ok(q: str, end: int) -> bool:
    """Whether what follows a year at ``end`` lets it be a time: "in 2023." and "in 2023 the ...", not
    "in 2023 federal income tax returns" (a year followed by a noun names a thing)."""
    rest = q[end:]
    if re.match(r"'s\b|\s*[,.;:?!)]|\s*$", rest):
        return True
    word = re.match(r"\s+([A-Za-z]+)", rest)
    return word is not None and word.group(1).lower() in AFTER_YEAR_OK


def number(text: str) -> int | None:
    """The count a number phrase gives ("10", "three", "a couple of", "several"); None for zero or an
    unknown word."""
    text = re.sub(r"\s+", " ", text.lower()).replace("a couple", "couple").replace(" of", "").replace("a few", "few")
    if text.isdigit():
        return int(text) or None
    return NUMBER_WORDS.get(text)
