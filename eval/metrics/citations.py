"""Citation counts of one answer (cited markers and sentences, and how many its sources support),
from which the report's citation_precision and citation_recall are summed."""

from __future__ import annotations

from typing import Sequence

from assistant.answering.citations import cited_sentences, supports


def citation_counts(answer: str, sources: Sequence[dict], source_text, question: str = "") -> dict[str, int]:
    """Citation counts of one (non-declined) answer.

    ``sources`` are the answer's sources as dicts (``n``, ``article_id``); ``source_text(article_id)``
    returns the article's text. Support is :func:`assistant.answering.citations.supports`, given ``question`` as
    verification gives it (what a reply repeats of the question is no claim to find in the source); an
    ``[n]`` naming no source is unsupported. Every sentence counts, trailing uncited text included.
    """
    by_n = {int(s["n"]): s for s in sources}
    cited = supported = sentences = sentences_supported = 0
    for sentence, numbers in cited_sentences(answer):
        sentences += 1
        any_support = False
        for n in numbers:
            cited += 1
            source = by_n.get(n)
            if source is not None and supports(sentence, source_text(source["article_id"]), given=question):
                supported += 1
                any_support = True
        sentences_supported += any_support
    return {"cited": cited, "supported": supported, "sentences": sentences, "sentences_supported": sentences_supported}
