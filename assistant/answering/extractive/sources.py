"""What a retrieved chunk says of its article (id, day, age), and the numbered sources an answer cites.

A chunk (a llama-index ``NodeWithScore``) carries its article's metadata; an answer cites articles, not
chunks, so every sentence of one article shares one ``[n]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant.answer import Source, day_date, source_details
from assistant.text import sentence_spans

if TYPE_CHECKING:
    from assistant.answering.extractive.scoring import ScoredSentence


def article_id_of(hit: NodeWithScore) -> str:
    return hit.node.metadata.get("article_id", hit.node.node_id)


def day_of(hit: NodeWithScore) -> int:
    return int(hit.node.metadata.get("published_day") or 0)


def newest_day_of(hits: Sequence[NodeWithScore]) -> int:
    return max((day_of(h) for h in hits), default=0)


def age_days_of(hit: NodeWithScore, newest: int) -> int | None:
    """Days between the hit's article and the newest day (None when either is undated)."""
    day, last = day_date(day_of(hit)), day_date(newest)
    return (last - day).days if day and last else None


def source_for(sources: list[Source], hit: NodeWithScore, quote: str) -> Source:
    """The source numbered for this hit's article, adding it (with this quote) on first citation."""
    meta = hit.node.metadata
    article_id = article_id_of(hit)
    for source in sources:
        if source.article_id == article_id:
            return source
    source = Source(
        n=len(sources) + 1,
        article_id=article_id,
        title=meta.get("title", ""),
        url=meta.get("url", ""),
        published_at=meta.get("published_at", ""),
        **source_details(meta),
        quote=quote.strip(),  # a sentence can end a paragraph with its line break
    )
    sources.append(source)
    return source


def closest_sources(scored: list[ScoredSentence], hits: list[NodeWithScore], limit: int = 3) -> list[Source]:
    """The sources a decline lists: the articles of the best-scoring sentences, then of the best chunks."""
    sources: list[Source] = []
    for sentence in scored:
        if len(sources) >= limit:
            break
        source_for(sources, sentence.hit, sentence.text)
    for hit in hits:  # too little overlap to pick sentences: fall back to the chunks' openings
        if len(sources) >= limit:
            break
        text = hit.node.get_content(metadata_mode=MetadataMode.NONE)
        spans = sentence_spans(text)
        source_for(sources, hit, text[spans[0][0] : spans[0][1]].strip() if spans else text[:200])
    return sources


def dated_label(hit: NodeWithScore, outlet: str | None = None) -> str:
    """"TechCrunch, 2023-10-04": an outlet (default the article's) and the article's day, as answers
    across articles and timelines label their sentences (citations.cited_sentences reads it as such)."""
    meta = hit.node.metadata
    day = str(meta.get("published_at") or "")[:10]
    return ", ".join(p for p in (outlet or str(meta.get("source") or ""), day) if p)
