"""What it means for a source to support a sentence, and how answers are split into cited sentences.

Shared by the evaluator (citation precision and recall) and by tests: one definition everywhere.
An extractive sentence is supported when it occurs verbatim (whitespace-normalised) in the source's
text; a generated sentence when most of its content words occur in the source's text and every
number it states does too (a sentence that gets the words right and the date or amount wrong is the
error readers are least likely to catch).
"""

from __future__ import annotations

import re

from assistant.text import terms

_MARKER = re.compile(r"\s*\[(\d+)\]")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# "one" is left out: it is as often a pronoun ("no one", "one of them") as a number.
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split()) if i >= 2}


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


# "TechCrunch, 2023-10-06: " before a quoted sentence names its source by the source's own metadata
# (the labels of answers across articles and of timelines); it is no claim of the source's text.
# The separators between labelled parts go with it.
_LABEL = re.compile(r"^[·—–\s]*(?:(?:[^\s:\[\]][^:\[\]]{0,60}?,\s+)?\d{4}-\d{2}-\d{2}:\s+)?")


def without_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers (and the space before each)."""
    return _MARKER.sub("", text)


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, the [n] numbers that follow it) for each cited stretch of the answer.

    The answer is cut after each run of markers: "A. [1] B [2][3]" -> [("A.", [1]), ("B", [2, 3])];
    trailing text without a marker comes back with an empty list.
    """
    out: list[tuple[str, list[int]]] = []
    pos = 0
    for match in re.finditer(r"(?:\s*\[\d+\])+", answer):
        sentence = _LABEL.sub("", answer[pos : match.start()].strip())
        numbers = [int(n) for n in _MARKER.findall(match.group(0))]
        if sentence:
            out.append((sentence, numbers))
        elif out:
            out[-1][1].extend(numbers)
        pos = match.end()
    tail = answer[pos:].strip()
    if tail:
        out.append((tail, []))
    return out


def supports(sentence: str, source_text: str, min_overlap: float = 0.8, given: str = "") -> bool:
    """True when ``source_text`` supports ``sentence``: quoted verbatim, or (for generated text) at least
    ``min_overlap`` of the sentence's content words occur in the source.

    ``given`` is the question: what a reply repeats of it ("The purpose of the 2024 plunge was ...")
    is not a claim, so only the words and numbers it adds must come from the source — and it must add
    some (a reply that only restates the question supports nothing)."""
    if normalise(sentence) in normalise(source_text):
        return True
    asked = set(terms(given))
    sentence_terms = set(terms(sentence)) - asked
    if not sentence_terms:
        return False
    if not numbers(sentence) - numbers(given) <= numbers(source_text):
        return False
    source_terms = set(terms(source_text))
    return len(sentence_terms & source_terms) / len(sentence_terms) >= min_overlap


def numbers(text: str) -> set[str]:
    """The numbers a text states, as digits without thousands separators or leading zeros ("2,000"
    and "2000" agree, so do "05" and "5"; "five" is "5")."""
    found = {m.group(0).replace(",", "").lstrip("0") or "0" for m in _NUMBER.finditer(text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return found
