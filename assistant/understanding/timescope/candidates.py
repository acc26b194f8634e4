"""Rank and choose: resolved points -> ranked candidate scopes -> the one the question is about.

The word before a point makes it a range ("between X and Y", "from X to Y"), a bound ("since X",
"before X", "until X") or a plain window; words like "the latest" add a bare preference for the
newest. Each reading is a :class:`Candidate` with a rank, and one wins: a range first, then a bound,
then a calendar window, then a dated recent window, then the bare preference; the earliest in the
question among equals.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Iterator, NamedTuple

from assistant.answer import TimeScopeKind
from assistant.understanding.timescope.patterns import BARE_DAY, BOUND_WORDS, NEWEST, RANGE_JOIN
from assistant.understanding.timescope.periods import ONE_DAY, with_year
from assistant.understanding.timescope.points import Point
from assistant.understanding.timescope.words import word_before


class Candidate(NamedTuple):
    """One reading of a question's time words, ranked; the winner becomes the TimeScope."""

    rank: int  # 4 range, 3 bound, 2 calendar window, 1 recent window, 0 "latest"
    start: int
    end: int
    since: dt.date | None
    until: dt.date | None
    kind: TimeScopeKind


def candidates(question: str, points: list[Point], ref: dt.date) -> Iterator[Candidate]:
    """Every reading of ``question``'s time words, in the order :func:`choose` breaks ties by: the
    points' ranges, bounds and windows in question order, then the words that prefer the newest."""
    yield from point_candidates(question, points, ref)
    yield from newest_candidates(question)


def choose(cands: Iterable[Candidate]) -> Candidate | None:
    """One scope per question: the highest rank, the first among equals."""
    best: Candidate | None = None
    for cand in cands:
        if best is None or cand.rank > best.rank:  # among equals the earliest stays
            best = cand
    return best


def point_candidates(question: str, points: list[Point], ref: dt.date) -> Iterator[Candidate]:
    """Each point read by the word before it: a range with the point after it, a bound, or a window."""
    range_ends: set[int] = set()
    for i, p in enumerate(points):
        if p.start in range_ends:
            continue
        word, start = word_before(question, p.start)
        if word in ("between", "from"):
            last = range_end(question, p, points[i + 1] if i + 1 < len(points) else None)
            if last is not None:
                range_ends.add(last.start)
                cand = _range(p, last, start)
                if cand is not None:
                    yield cand
                continue
            if word == "between" and not p.span:
                continue  # "between 1900 and 2000 troops"
        cand = _bound_or_window(p, word, start, ref)
        if cand is not None:
            yield cand


def newest_candidates(question: str) -> Iterator[Candidate]:
    """"recently", "the latest", "the most recent": a bare preference for the newest (rank 0)."""
    for m in NEWEST.finditer(question):
        yield Candidate(0, m.start(), m.end(), None, None, "recent")


def range_end(question: str, first: Point, nxt: Point | None) -> Point | None:
    """The point closing "between X and Y" / "from X to Y", or a bare day ("between Jan 5 and 20")."""
    join = RANGE_JOIN.match(question, first.end)
    if join is None:
        return None
    if nxt is not None and nxt.start == join.end():
        return nxt
    day = BARE_DAY.match(question, join.end())
    if day is not None and first.since == first.until and not first.relative:
        try:  # the first point's month
            last = first.since.replace(day=int(re.match(r"\d+", day.group("d")).group()))
        except ValueError:
            return None
        return Point(join.end(), day.end(), last, last, False) if last >= first.since else None
    return None


def _range(first: Point, last: Point, start: int) -> Candidate | None:
    """"between X and Y" / "from X to Y" (rank 4), a yearless start put in the end's year or the
    year before; None when it still runs backwards."""
    kind: TimeScopeKind = "recent" if first.relative else "window"
    since, until = first.since, last.until
    if first.yearless and not last.yearless and not last.relative:
        since = with_year(since, until.year)  # "from August 15th to August 18th, 2024"
    if since > until and first.yearless:
        since = with_year(since, since.year - 1)  # "between December 20 and January 5"
    elif since > until and first.relative:
        since -= dt.timedelta(days=7)  # "between Monday and Wednesday", asked on a Tuesday
    if since > until:
        return None
    return Candidate(4, start, last.end, since, until, "recent" if first.relative and last.relative else kind)


def _bound_or_window(p: Point, word: str, start: int, ref: dt.date) -> Candidate | None:
    """"since X", "after X", "before X", "until X" (rank 3) or the point's own window (2 calendar, 1
    recent); "since" a day after the reference looks back on nothing."""
    kind: TimeScopeKind = "recent" if p.relative else "window"
    if word == "since":
        if p.since <= ref:  # "since 2030" looks back on nothing
            return Candidate(3, start, p.end, p.since, None, kind)
        return None
    if word == "after":
        return Candidate(3, start, p.end, p.until + ONE_DAY, None, kind)
    if word in ("before", "prior to"):
        return Candidate(3, start, p.end, None, p.since - ONE_DAY, kind)
    if word in BOUND_WORDS:  # until, till, through, up to
        return Candidate(3, start, p.end, None, p.until, kind)
    return Candidate(2 if kind == "window" else 1, start, p.end, p.since, p.until, kind)
