"""The one Answer type that flows from the engine to the CLI, the API, Slack and the evaluator."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

# The time a question is about, as the engine read it (assistant.understanding.timescope finds it).
TimeScopeKind = Literal["window", "recent"]


class TimeScope(BaseModel):
    """The time a question is about: ``window`` (calendar dates, hard limits) or ``recent``
    (relative to when it is asked: a preference; no dates for "latest"/"recently")."""

    phrase: str = Field(description="The words that say it, as in the question.")
    since: dt.date | None = Field(default=None, description="First day of the period (inclusive).")
    until: dt.date | None = Field(default=None, description="Last day of the period (inclusive).")
    kind: TimeScopeKind = Field(
        description='"window": the question names calendar dates or periods (hard limits); "recent": '
        "relative to when it is asked, or only the newest preferred (a preference, not a filter)."
    )
    reference: dt.date = Field(description="The day relative expressions were resolved against.")
    applied: bool = Field(
        default=True,
        description="False when a calendar window held no article, so every date was searched instead.",
    )

    @property
    def upcoming(self) -> bool:
        """The period starts after the reference day: nothing is published in it yet."""
        return self.since is not None and self.since > self.reference

    def without_filter_words(self, question: str) -> str:
        """``question`` without this window's words when it filters the search ("in January"): the
        filter has done their work, and no sentence that answers needs to repeat them."""
        if self.kind != "window" or not self.applied or not self.phrase:
            return question
        start = question.lower().find(self.phrase.lower())
        if start < 0:
            return question
        rest = question[:start] + question[start + len(self.phrase) :]
        return " ".join(rest.split()).replace(" ?", "?") or question

    def describe(self) -> str:
        if self.since is None and self.until is None:
            return f"newest first ({self.phrase})"
        if self.since and self.until:
            span = str(self.since) if self.since == self.until else f"{self.since} to {self.until}"
        elif self.since:
            span = f"since {self.since}"
        else:
            span = f"until {self.until}"
        if self.kind == "recent":
            span = f"preferring {span}"
        if not self.applied:
            return f"all dates: no article was published {span} ({self.phrase})"
        return f"{span} ({self.phrase})"


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AlsoIn(BaseModel):
    """Another outlet's copy of a source's story (a syndicated or republished copy of the same text)."""

    title: str = Field(description="The copy's own headline.")
    url: str = Field(default="", description="Where the copy was published.")
    source: str = Field(default="", description="The copy's publisher.")


class Source(BaseModel):
    n: int = Field(description="The number used in the answer's [n] markers, 1..N.")
    article_id: str
    title: str
    url: str = ""
    published_at: str = ""
    source: str = Field(default="", description="The publisher (outlet) of the article.")
    authors: list[str] = Field(default_factory=list, description="The article's bylines, when known.")
    also_in: list[AlsoIn] = Field(
        default_factory=list,
        description="Other copies of the same story in the archive (syndicated elsewhere); only this one is quoted.",
    )
    quote: str = Field(description="The passage of the article that supports the citation, verbatim.")


def source_details(metadata: dict[str, Any]) -> dict[str, Any]:
    """The publisher, bylines and other copies of a retrieved chunk's article, as Source fields: the
    chunk carries the publisher; the retriever adds ``authors`` and ``also_in`` from the article
    manifest (:func:`assistant.retrieval.hybrid.one_per_cluster`)."""
    return {
        "source": str(metadata.get("source") or ""),
        "authors": list(metadata.get("authors") or []),
        "also_in": [AlsoIn.model_validate(copy) for copy in metadata.get("also_in") or []],
    }


class Verification(BaseModel):
    """What checking a generated answer's citations removed (zeros for extractive answers)."""

    dropped_citations: int = Field(default=0, description="[n] markers removed: no such source, or it does not support the sentence.")
    removed_sentences: int = Field(default=0, description="Generated sentences removed for want of a supporting citation.")
    recited_sentences: int = Field(
        default=0, description="Generated sentences whose own citation did not support them, cited to a source that does."
    )


class Answer(BaseModel):
    question: str
    standalone_question: str = Field(description="The question after follow-up rewriting.")
    answer: str = Field(description="Answer text with inline [n] citation markers.")
    sources: list[Source] = Field(default_factory=list)
    retrieved: list[str] = Field(default_factory=list, description="Article ids ranked by the retriever, top 10.")
    declined: bool = False
    conversational: bool = Field(
        default=False, description="A reply to small talk (\"thanks\", \"hi\"): nothing was looked up and nothing is cited."
    )
    generator: str = Field(default="extractive", description='"extractive", or "llm:<model>" for a generated answer.')
    fallback_reason: str | None = Field(
        default=None, description="Why the extractive answer stands in for the configured LLM (unreachable, error, timeout); null otherwise."
    )
    verification: Verification = Field(default_factory=Verification)
    time_scope: TimeScope | None = Field(
        default=None,
        description="The dates the question speaks of, as searched: a calendar window (\"in January\") filters what "
        "was published; a relative one (\"this week\", \"the latest\") prefers newer articles. Null when it names no time.",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)


# The chunks one question may hand the answerer: the API's `top_k` and `newsdesk ask --top-k` alike.
TOP_K_MIN, TOP_K_MAX = 1, 50


class SearchFilters(BaseModel):
    """Restrict retrieval to articles published in a date range and/or from one source."""

    since: dt.date | None = Field(default=None, description="Published on or after this date (YYYY-MM-DD).")
    until: dt.date | None = Field(default=None, description="Published on or before this date (YYYY-MM-DD).")
    source: str | None = Field(default=None, description="Only articles whose source is exactly this.")
    # One outlet may be stored under several source values ("The Independent - Sports", "... - Travel"):
    # the engine narrows a question that names it to all of them (assistant.understanding.outlets).
    sources: tuple[str, ...] | None = Field(default=None, description="Only articles whose source is one of these.")

    def is_empty(self) -> bool:
        return self.since is None and self.until is None and not self.source and not self.sources

    def admits(self, metadata: dict) -> bool:
        """Whether a chunk with this metadata passes (the same test the vector store applies)."""
        day = int(metadata.get("published_day") or 0)
        if self.since and day < day_number(self.since):
            return False
        if self.until and (day == 0 or day > day_number(self.until)):
            return False
        if self.sources and metadata.get("source") not in self.sources:
            return False
        return not self.source or metadata.get("source") == self.source


def day_number(date: dt.date) -> int:
    return date.year * 10000 + date.month * 100 + date.day


def published_day(iso_date: str) -> int:
    """YYYYMMDD as an int (0 when unknown): Chroma compares numbers, not strings, in range filters."""
    digits = (iso_date or "").replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def day_date(day: int) -> dt.date | None:
    """The date of a YYYYMMDD day number (None for 0 or a malformed day)."""
    try:
        return dt.date(day // 10000, day // 100 % 100, day % 100) if day else None
    except ValueError:
        return None
