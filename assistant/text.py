"""Sentence boundaries and index terms, shared by the chunker, the answerer and the evaluator."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[A-Za-z0-9]+(?:['’][A-Za-z]+)?")

# Words that carry no topic in a question or a sentence (function words and quiz phrasing).
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up us very was we were what when where which while who whom why will with
    would you your yours yourself yourselves said says say according week recently""".split()
)


# Capitalised words that date things rather than name them.
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
MONTHS = frozenset("january february march april may june july august september october november december".split())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in ``text``; a line break always ends a sentence.

    Bling Fire's sentence breaker handles abbreviations (Mr., U.S., Jan.) and runs at megabytes per
    second, so splitting at query time costs well under a millisecond per chunk.
    """
    import blingfire

    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = line.index(stripped[0])
            _, offsets = blingfire.text_to_sentences_and_offsets(stripped)  # character offsets
            spans.extend((offset + lead + s, offset + lead + e) for s, e in offsets if e > s)
        offset += len(line) + 1
    return spans


def split_sentences(text: str) -> list[str]:
    """Pieces that cover ``text`` exactly, one per sentence (trailing whitespace kept).

    This is the chunker's sentence function: llama-index's ``SentenceSplitter`` re-joins the pieces, so
    nothing may be dropped.
    """
    spans = sentence_spans(text)
    if not spans:
        return [text] if text else []
    pieces = []
    starts = [s for s, _ in spans[1:]] + [len(text)]
    prev = 0
    for start in starts:
        if start > prev:
            pieces.append(text[prev:start])
            prev = start
    return pieces


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# Names written several ways in news copy ("the U.S.", "US", "the United States"): each way becomes one
# index term, so a question in one spelling matches a source in another. Case-sensitive where the short
# form is also a word ("US" is the country, "us" the pronoun).
_ALIASES = [
    (re.compile(r"\bU\.\s?S\.(?:\s?A\.)?|\bUSA\b|\bUS\b|\bUnited States(?: of America)?\b"), "unitedstates"),
    (re.compile(r"\bU\.\s?K\.|\bUK\b|\bUnited Kingdom\b|\b(?:Great )?Britain\b"), "unitedkingdom"),
    (re.compile(r"\bU\.\s?N\.|\bUN\b|\bUnited Nations\b"), "unitednations"),
    (re.compile(r"\bE\.\s?U\.|\bEU\b|\bEuropean Union\b"), "europeanunion"),
    (re.compile(r"\bU\.\s?A\.\s?E\.|\bUAE\b|\bUnited Arab Emirates\b"), "unitedarabemirates"),
]
ALIAS_TERMS = frozenset(term for _, term in _ALIASES)


def canonical_names(text: str) -> str:
    """``text`` with each alias of a country or union written as its one index term."""
    for pattern, term in _ALIASES:
        text = pattern.sub(f" {term} ", text)
    return text


_US = re.compile(r"\bUS\b")


def for_embedding(text: str) -> str:
    """``text`` as the embedder should read it: its word pieces are lower-cased, so "US" would be the
    pronoun "us"; written "U.S." as news copy does, it is the country."""
    return _US.sub("U.S.", text)


def _keeps_acronym(word: str, shouting: bool) -> bool:
    # A capitalised acronym is a name even when its letters spell a stop word ("IT", "WHO"); in a
    # headline set in capitals every word is capitalised, so there it proves nothing.
    return len(word) >= 2 and word.isupper() and not shouting


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    # The stemmer knows "'s" but not the typographic "’s" news copy is set in: "Kelce’s" is "Kelce's".
    return _stemmer().stemWord(word.lower().replace("’", "'"))


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text`` (stop words dropped, aliases made one term), in order."""
    return [term for _word, term in term_words(text)]


_APOSTROPHE = re.compile(r"['’]")


def _content(word: str) -> bool:
    """Not a stop word, nor one with a clitic ("what's", "it's", "who’s"; "Canada's" is content)."""
    lowered = word.lower()
    return lowered not in STOPWORDS and _APOSTROPHE.split(lowered, maxsplit=1)[0] not in STOPWORDS


def term_words(text: str, keep_stopwords: bool = False) -> list[tuple[str, str]]:
    """(word as written, its index term) for each content word of ``text`` (every word with
    ``keep_stopwords``), in order. An alias
    ("U.S.", "Britain") comes back as its one term, written as in :data:`_ALIASES`."""
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 20 and sum(c.isupper() for c in letters) > 0.5 * len(letters)
    out = []
    for word in words(canonical_names(text)):
        if word in ALIAS_TERMS:
            out.append((word, word))
        elif keep_stopwords or _content(word) or _keeps_acronym(word, shouting):
            out.append((word, stem(word)))
    return out
