"""What it means for a source to support a sentence, and how answers are split into cited sentences.

Shared by the evaluator (citation precision and recall) and by tests: one definition everywhere.
An extractive sentence is supported when it occurs verbatim (whitespace-normalised) in the source's
text; a generated sentence when most of its content words occur in the source's text.
"""

from __future__ import annotations

import re

from assistant.text import terms

_MARKER = re.compile(r"\s*\[(\d+)\]")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, the [n] numbers that follow it) for each cited stretch of the answer.

    The answer is cut after each run of markers: "A. [1] B [2][3]" -> [("A.", [1]), ("B", [2, 3])];
    trailing text without a marker comes back with an empty list.
    """
    out: list[tuple[str, list[int]]] = []
    pos = 0
    for match in re.finditer(r"(?:\s*\[\d+\])+", answer):
        sentence = answer[pos : match.start()].strip()
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


def supports(sentence: str, source_text: str, min_overlap: float = 0.8) -> bool:
    """True when ``source_text`` supports ``sentence``: quoted verbatim, or (for generated text) at least
    ``min_overlap`` of the sentence's content words occur in the source."""
    if normalise(sentence) in normalise(source_text):
        return True
    sentence_terms = set(terms(sentence))
    if not sentence_terms:
        return False
    source_terms = set(terms(source_text))
    return len(sentence_terms & source_terms) / len(sentence_terms) >= min_overlap
