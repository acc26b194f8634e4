"""The parts of a question that spans articles: which outlet and which date each part speaks of, and
the words that are its own.

"Between the Sporting News report on rookie odds published on October 4, 2023, and the Sporting News
report on line shopping published on November 6, 2023, was ...?" has two parts, each an outlet, a day
and its own topic; "Does the Yahoo News article say A, while the Engadget article suggests B?" has two,
an outlet and a claim each; "Who ..., as reported by Fortune, The Verge and TechCrunch?" has three
outlets that share one question. A part is an outlet the question names (with the date it gives that
outlet's report, if any); a question that names no outlet but two or more dates has a part per date.

Each part owns the words from its outlet's name to the next part's, up to its date: what comes after
the last date, and before the first part, belongs to every part. A part whose own words are too few
to search by ("CBSSports.com published on ... and the report from") is searched by the whole question.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property

from assistant.answer import SearchFilters
from assistant.understanding.outlets import Mention, Outlet, OutletDirectory
from assistant.text import terms
from assistant.understanding.timescope import calendar_dates

# A report may carry the next day's date where the event was late in the day, or another time zone's;
# when nothing came out within that, a question's date may be the event's: a week either side.
DAY_MARGIN = 1
WIDE_MARGIN = 7
# Own words a part needs to be searched by them rather than by the whole question.
MIN_OWN_TERMS = 2
# Terms a clause of a name question needs to be searched on its own (assistant.answering.multipart.search_clauses).
MIN_CLAUSE_TERMS = 3
# Words that frame a part rather than say what it is about.
_FRAMING = re.compile(
    r"\b(?:articles?|reports?|reported|reporting|published|pieces?|stories|story|coverage|news source|according to|"
    r"as reported by|by both|from both|both)\b",
    re.I,
)


@dataclass(frozen=True)
class DateMention:
    since: dt.date
    until: dt.date
    start: int
    end: int
    text: str


@dataclass
class Part:
    """One part of a question: the outlet and dates it names, and the words to search it by."""

    outlet: Outlet | None
    date: DateMention | None
    query: str
    own_words: bool  # searched by its own words (else by the whole question)

    @property
    def label(self) -> str:
        """How an answer names the part: "TechCrunch, October 4, 2023"."""
        pieces = [self.outlet.name] if self.outlet else []
        if self.date is not None:
            pieces.append(self.date.text)
        return ", ".join(pieces) or "the articles"

    def filters(self, base: SearchFilters | None, margin_days: int = DAY_MARGIN) -> SearchFilters:
        """``base`` narrowed to this part's outlet and to its date, ``margin_days`` either side."""
        merged = (base or SearchFilters()).model_copy()
        if self.outlet is not None:
            merged.sources = self.outlet.sources
        if self.date is not None:
            since = self.date.since - dt.timedelta(days=margin_days)
            until = self.date.until + dt.timedelta(days=margin_days)
            merged.since = max(since, merged.since) if merged.since else since
            merged.until = min(until, merged.until) if merged.until else until
        return merged


@dataclass
class QuestionParts:
    question: str
    parts: list[Part] = field(default_factory=list)
    searchable: str = ""  # the whole question without outlet names, dates and framing words

    @property
    def spans_articles(self) -> bool:
        return len(self.parts) >= 2

    @cached_property
    def named_sources(self) -> tuple[str, ...]:
        """Every stored source value of the outlets the parts name."""
        return tuple(sorted({s for p in self.parts if p.outlet is not None for s in p.outlet.sources}))

    @cached_property
    def clauses(self) -> list[str]:
        """The question's descriptive clauses (outlets, dates and framing words gone): split at commas,
        semicolons and the words that join clauses, each kept when it has MIN_CLAUSE_TERMS terms."""
        pieces = (c.strip() for c in _CLAUSE_BREAK.split(self.searchable))
        return [c for c in pieces if len(set(terms(c))) >= MIN_CLAUSE_TERMS]


def dates_in(question: str, reference: dt.date) -> list[DateMention]:
    """The calendar dates ``question`` names (:func:`assistant.understanding.timescope.calendar_dates`)."""
    return [DateMention(first, last, start, end, question[start:end]) for start, end, first, last in calendar_dates(question, reference)]


def split_parts(question: str, outlets: OutletDirectory, reference: dt.date) -> QuestionParts:
    """The parts of ``question`` (none when it names fewer than one outlet and fewer than two dates)."""
    mentions = outlets.mentions(question)
    dates: list[DateMention] = []
    for d in dates_in(question, reference):
        # "... published on October 31, 2023, and December 25, 2023": a date joined to a report's date
        # is another report's.
        joined = bool(dates) and _JOINED.fullmatch(question[dates[-1].end : d.start]) is not None
        if joined or _dates_a_report(question, d, mentions):
            dates.append(d)
    cuts = [(m.start, m.end) for m in mentions] + [(d.start, d.end) for d in dates]
    searchable = _searchable(question, cuts)
    anchors: list[Mention | DateMention] = list(mentions) if mentions else (list(dates) if len(dates) >= 2 else [])
    if not anchors:
        return QuestionParts(question, [], searchable)
    found: list[tuple[Outlet | None, DateMention | None, int, int]] = []
    tail_from = len(question)
    for i, anchor in enumerate(anchors):
        segment_end = anchors[i + 1].start if i + 1 < len(anchors) else len(question)
        if isinstance(anchor, Mention):
            outlet = anchor.outlet
            reports = [d for d in dates if anchor.end <= d.start < segment_end]
            if len(reports) >= 2:
                # "TechCrunch's reports of October 31 and of December 15": one part per report, each
                # with the words since the one before.
                for j, report in enumerate(reports):
                    found.append((outlet, report, reports[j - 1].end if j else anchor.end, report.end))
                if i + 1 == len(anchors):
                    tail_from = reports[-1].end
                continue
            date = reports[0] if reports else None
        else:
            outlet, date = None, anchor
        if date is None and isinstance(anchor, Mention) and _credits_before(question, anchor):
            # "... the age of 16, according to 'The Guardian', ...": the outlet is named after its claim.
            own_start = anchors[i - 1].end if i else 0
            found.append((outlet, None, own_start, anchor.start))
            continue
        own_end = date.end if date is not None else segment_end
        if i + 1 == len(anchors) and date is not None:
            tail_from = date.end  # after the last part's date: the question every part shares
        found.append((outlet, date, anchor.end, own_end))
    shared = _searchable(question[: anchors[0].start], []) + " " + _searchable(question[tail_from:], [])
    parts: list[Part] = []
    seen: set[tuple] = set()
    for outlet, date, own_start, own_end in found:
        own = _searchable(question[own_start:own_end], [(a - own_start, b - own_start) for a, b in cuts if own_start <= a < own_end])
        own_words = len(set(terms(own))) >= MIN_OWN_TERMS
        key = (outlet.sources if outlet else None, (date.since, date.until) if date else None, own if own_words else None)
        if key in seen:
            continue  # the same outlet named twice for the same thing
        seen.add(key)
        query = f"{own} {shared}".strip() if own_words else searchable
        parts.append(Part(outlet, date, query, own_words))
    return QuestionParts(question, parts, searchable)


def _credits_before(question: str, mention: Mention) -> bool:
    """Whether the outlet is credited after what it reported: "..., as reported by 'Fortune'," or
    "... according to The Guardian?" (not "covered by The Verge for ...", whose claim follows)."""
    before = question[max(0, mention.start - 30) : mention.start]
    after = question[mention.end : mention.end + 12]
    return bool(_CREDIT.search(before)) and bool(re.match(r"^['’”\"]?\s*(?:[,.;?]|and\b|$)", after))


_CREDIT = re.compile(r"\b(?:according to|reported by|as per|per|by|from)\s+(?:both\s+)?(?:the\s+)?['‘\"“]?$", re.I)


def _dates_a_report(question: str, date: DateMention, mentions: list[Mention]) -> bool:
    """Whether ``date`` says when a report came out ("published on October 4", "the report of May 2",
    "TechCrunch on October 7"), not when something it tells of happened ("available starting November 16")."""
    if any(m.end <= date.start and re.fullmatch(r"['’\"”]?,?\s*(?:on|from|of|dated)?\s*", question[m.end : date.start]) for m in mentions):
        return True
    return bool(_REPORT_DATE.search(question[max(0, date.start - 40) : date.start]))


_CLAUSE_BREAK = re.compile(r"[,;]|\b(?:and also|while also|while|but|whereas|as well as|and|who|whose|which|that)\b", re.I)

_JOINED = re.compile(r",?\s*(?:and|or|&)\s+(?:on\s+|of\s+|from\s+)?(?:the\s+)?", re.I)

_REPORT_DATE = re.compile(
    r"\b(?:published|dated|posted|released|reports?|reported|reporting|articles?|pieces?|stor(?:y|ies)|from|of)\s+"
    r"(?:on\s+|in\s+|from\s+)?(?:the\s+)?$",
    re.I,
)


def _searchable(text: str, cuts: list[tuple[int, int]]) -> str:
    """``text`` without the spans ``cuts`` (outlet names, dates) and without framing words."""
    pieces, at = [], 0
    for start, end in sorted(cuts):
        if start >= at:
            pieces.append(text[at:start])
            at = end
    pieces.append(text[at:])
    cleaned = _FRAMING.sub(" ", " ".join(pieces))
    cleaned = re.sub(r"\b(?:published\s+)?on\s*(?=[,.?]|$)", " ", cleaned)
    cleaned = re.sub(r"['‘’\"“”]\s*['‘’\"“”]|(?<=\s)['‘’](?=\s)", " ", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip(" ,;")
