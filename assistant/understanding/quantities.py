"""The quantities a question names ("22 states", "a 10-year deal", "about 11%") and whether a text states them.

A quantity pins down which event a question is about: "Which state was hit after 22 states raised their
minimum wage?" is about a report that says *22 states*; an article on a bank's "$18-$22" pay or on
"23 states" shares the question's words but reports something else. So an article that states none of
a question's quantities, with its unit, is less likely to answer it (the answerer weighs that as
evidence, not as a veto: a report may word the figure otherwise or leave it out).

Years are not quantities here (they are dates: :mod:`assistant.understanding.timescope`), and neither are ordinals
("the 15th"), nor numbers a question spells out. In the text checked, number words up to ninety-nine
count as their digits ("three days", "ten-year"), as news copy spells small numbers out; text2num, the
library for this, leaves hyphenated and small ones alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import sentence_spans, stem

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|%|[A-Za-z]+")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_ORDINAL_SUFFIXES = frozenset({"th", "st", "nd", "rd", "s"})  # "15th", "1990s": not a unit
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS)} | {word: 20 + 10 * i for i, word in enumerate(_TENS)}
_TENS_TOKENS = frozenset((str(20 + 10 * i), True) for i in range(len(_TENS)))
UNIT_WINDOW = 3  # words after a number in which its unit may come ("22 U.S. states")


@dataclass(frozen=True)
class Quantity:
    value: str  # digits, thousands separators removed: "112000", "81.8"
    unit: str | None  # the stem of the word after it ("state", "year", "percent"); None when none follows

    def __str__(self) -> str:
        return f"{self.value} {self.unit}" if self.unit else self.value


def _tokens(text: str, number_words: bool = True) -> list[tuple[str, bool]]:
    """(token, is_number) pairs: numbers as digits (number words too, with ``number_words``), words
    lower-cased, % as "percent"."""
    out: list[tuple[str, bool]] = []
    for raw in _TOKEN.findall(text):
        word = raw.lower()
        if raw[0].isdigit():
            out.append((raw.replace(",", ""), True))
        elif raw == "%":
            out.append(("percent", False))
        elif number_words and word in NUMBER_WORDS:
            value = NUMBER_WORDS[word]
            if 1 <= value <= 9 and out and out[-1] in _TENS_TOKENS:
                out[-1] = (str(int(out[-1][0]) + value), True)  # "twenty-two"
            else:
                out.append((str(value), True))
        else:
            out.append((word, False))
    return out


def _unit_after(tokens: list[tuple[str, bool]], i: int) -> str | None:
    if i + 1 < len(tokens) and not tokens[i + 1][1] and tokens[i + 1][0] not in _ORDINAL_SUFFIXES:
        return stem(tokens[i + 1][0])
    return None


def _words_after(tokens: list[tuple[str, bool]], i: int) -> list[str]:
    """The stems of the few words after the number at ``i``, up to the next number (whose unit they are)."""
    after = []
    for token, is_number in tokens[i + 1 : i + 1 + UNIT_WINDOW]:
        if is_number:
            break
        after.append(stem(token))
    return after


def quantities(text: str) -> tuple[Quantity, ...]:
    """The quantities ``text`` gives in digits, in order, without years and ordinals. A number spelled
    out in a question ("Two planes collided") is left out: news style spells out small counts, which
    reports of the same event give in other words ("a jet and a coast guard plane"); a figure in digits
    ("22 states", "a 10-year deal") is the specific one the reports state."""
    found: list[Quantity] = []
    # A unit never comes from the next sentence: "died this week at age 84. Under which president ...".
    for start, end in sentence_spans(text):
        tokens = _tokens(text[start:end], number_words=False)
        for i, (token, is_number) in enumerate(tokens):
            if not is_number:
                continue
            following = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            if _YEAR.fullmatch(token) or following in _ORDINAL_SUFFIXES:
                continue
            quantity = Quantity(token, _unit_after(tokens, i))
            if quantity not in found:
                found.append(quantity)
    return tuple(found)


def states_any(text: str, wanted: tuple[Quantity, ...]) -> bool:
    """Whether ``text`` states at least one of ``wanted``: its number, and its unit among the few words
    after it. True when nothing is wanted."""
    if not wanted:
        return True
    tokens = _tokens(text)
    for i, (token, is_number) in enumerate(tokens):
        if not is_number:
            continue
        for quantity in wanted:
            if token != quantity.value:
                continue
            if quantity.unit is None:
                return True
            if quantity.unit in _words_after(tokens, i):
                return True
    return False
