"""Which sentences of a chunk may be quoted at all, and where a sentence begins and ends.

These are the rules of the text, not of the question: a sentence that is a heading, a dateline, a
question the article asks, what a page says about itself or a line planted for a model is never
quoted, whatever it is asked. Scoring (:mod:`.scoring`), composing (:mod:`.composing`) and summaries
(:mod:`.summary`) all read sentences through them.
"""

from __future__ import annotations

import re
from typing import Iterator

from assistant.answering.injection import addresses_the_assistant
from assistant.text import sentence_spans

# A sentence ends in . ! or ? (perhaps inside closing quotes or brackets). Headings, captions, link
# texts ("REQUIRED READING: ...") and sentences cut at a chunk's edge do not, and are not quoted.
TERMINATED = re.compile(r"[.!?][\"”’')\]]*$")
# A wire dateline opening a story ("LAS VEGAS ‒", "BANGUI, Central African Republic (AP) —") says where
# it was filed, not what happened: it is not quoted, and its place does not answer "which city".
DATELINE = re.compile(r"^[A-Z][A-Z.'’\- ]+[A-Z.](?:,\s+[A-Z][\w.\- ]*?)?(?:\s+\([A-Za-z]+\))?\s*[—–‒]+\s+(?=[A-Z\"“])")
# A sentence that opens like this refers back to something the sentence, heading or list item before it
# named ("She was named director of the year", "The comedian will return", "This is the definitive summer
# classic" under "Jaws (1975)"); when that something is the answer, what comes before is quoted too.
REFERS_BACK = re.compile(r"^(?:He|She|They|His|Her|Their|It|Its|This|These|The\s+(?:[A-Z][\w\-]*\s+)*[a-z][\w\-]*)\b")
# A heading or list item ("Jaws (1975) — June 5", "1. Taylor Swift"): a short line of its own.
HEADING_WORDS = 12
# What a page says about itself, not news: never quoted.
BOILERPLATE = re.compile(
    r"^\W*(?:editor[’']s note|this (?:page|article|story|post) (?:is|was|has been|contains|includes|may)|"
    r"(?:sign up|subscribe|click here|read more|follow us|watch:|listen:|related:|see also|copyright|all rights reserved)|"
    r"(?:this|the) (?:story|article) has been updated|.{0,40}contributed to this (?:report|story)|"
    r"here(?:[’']s| is| are) (?:what|everything|all) (?:we know|you need to know|to know)|what (?:we know|to know)\b)",
    re.I,
)
# A sentence that asks rather than tells ("Who first proposed the plan?"): it never answers.
ASKS = re.compile(r"\?[\"”’')\]]*$")
# A person's full name: capitalised given name(s), perhaps a middle initial, then the surname.
FULL_NAME = re.compile(r"\b(?:[A-Z][a-z]+\s+(?:[A-Z]\.\s+)?)+([A-Z][a-z][\w’'-]*)\b")
# A quotation runs over several sentences when the breaker splits inside it; a unit is closed again
# after this many sentences even if its quotes never balance (a stray quote mark in the source).
_MAX_QUOTE_SENTENCES = 4


def quotable_sentences(text: str, units: list[tuple[int, int]], seen: set[str]) -> Iterator[tuple[int, int, str]]:
    """(index of its unit, end of its unit, sentence) for each unit of ``text`` that may be quoted, its
    dateline removed; none already in ``seen``, which each one yielded joins (a sentence that several
    chunks share is scored once)."""
    for i, (start, end) in enumerate(units):
        sentence = DATELINE.sub("", text[start:end].strip(), count=1)
        if sentence.endswith(":") and i + 1 < len(units):
            # A lead that sets up its answer ("The winners were:"): read on into what it sets up.
            sentence = DATELINE.sub("", " ".join(text[start : units[i + 1][1]].split()), count=1)
        if len(sentence.split()) < 4 or sentence in seen or not TERMINATED.search(sentence):
            continue
        if ASKS.search(sentence) or BOILERPLATE.search(sentence):
            continue  # a question the article asks, or what a page says about itself
        if addresses_the_assistant(sentence):
            continue  # an instruction planted for a model ("cite source [9]") is not news to quote
        seen.add(sentence)
        yield i, end, sentence


def quote_units(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, with a quotation that the sentence breaker split kept whole:
    '“Do we have the bench strength? Well, we've been building that bench,” Carney said.' is one unit,
    so a quote is never cut from its speaker. A line break always ends a unit."""
    units: list[tuple[int, int]] = []
    open_quote = False
    merged = 0
    previous_end = 0
    for start, end in sentence_spans(text):
        new_line = "\n" in text[previous_end:start]
        if units and open_quote and not new_line and merged < _MAX_QUOTE_SENTENCES - 1:
            units[-1] = (units[-1][0], end)
            merged += 1
        else:
            units.append((start, end))
            merged = 0
            open_quote = False
        previous_end = end
        open_quote = _toggles_quote(text[start:end], open_quote)
    return units


def _toggles_quote(piece: str, open_quote: bool) -> bool:
    """Whether a quotation is still open after ``piece``, given whether it was open before."""
    for char in piece:
        if char == "“":
            open_quote = True
        elif char == "”":
            open_quote = False
        elif char == '"':
            open_quote = not open_quote
    return open_quote
