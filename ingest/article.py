"""The record every loader produces and every later stage consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One news article, normalised from whatever file it came from.

    ``id`` is stable across runs: the article's own id, else its url, else the path it was read from
    (plus the line number for JSONL rows without id/url), so re-ingesting finds the same record.
    """

    id: str
    text: str
    title: str
    url: str = ""
    published_at: str = ""  # ISO date (YYYY-MM-DD) or "" when unknown
    source: str = ""  # publisher / outlet; never an author
    path: str = ""  # the file or URL the article was read from, used by --prune
    authors: tuple[str, ...] = ()  # bylines, kept apart from the publisher

    def as_json(self) -> dict:
        """The article in the JSON article format ingest reads (.json/.jsonl, ``POST /v1/documents``)."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "published_at": self.published_at,
            "source": self.source,
            "authors": list(self.authors),
            "text": self.text,
        }

    @property
    def embedded_hash(self) -> str:
        """Hash of what the chunks' embedded text is made of (body, title, date). When only the rest
        changes (publisher, bylines, url, where the file lives), the chunks keep their vectors."""
        return _digest(self.title, self.published_at, self.text)

    @property
    def legacy_content_hash(self) -> str:
        """``content_hash`` as stores written before bylines were kept apart computed it: the authors
        stood in for a missing publisher, and had no part of their own. Lets an upgraded ingest see that
        such an article's chunks are still right, and relabel them instead of embedding them again."""
        return _digest(self.title, self.url, self.published_at, self.source or ", ".join(self.authors), self.text)

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index; a change in any of it re-embeds the article.
        Bylines count only when present, so articles without them keep their earlier hash."""
        byline = ("\x1f".join(self.authors),) if self.authors else ()
        return _digest(self.title, self.url, self.published_at, self.source, self.text, tail=byline)


def _digest(*parts: str, tail: tuple[str, ...] = ()) -> str:
    """SHA-256 of ``parts``, each followed by a NUL, then ``tail`` as it is."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    for part in tail:
        h.update(part.encode("utf-8"))
    return h.hexdigest()


@dataclass(frozen=True)
class LoadFailure:
    """An input that could not be turned into an article; reported, never fatal to the run."""

    path: str
    error: str
    line: int | None = None

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "error": self.error}


UNDATED = "undated"  # the kind of warning an article without a published date gets (ingest.dates)


@dataclass(frozen=True)
class LoadWarning:
    """An input that was read but looks wrong (say a body far shorter than its page): ingested, and reported."""

    path: str  # the file path or URL
    message: str
    line: int | None = None  # the JSONL line the article was read from
    kind: str = ""  # UNDATED for an undated article, which the ingest summary also counts; else ""

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "warning": self.message}


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)

    def extend(self, other: "LoadResult") -> None:
        self.articles.extend(other.articles)
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)
