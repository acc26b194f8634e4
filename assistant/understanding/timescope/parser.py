"""Time in questions: "this week", "in January", "since March 1", "the latest" -> a :class:`TimeScope`.

A question's time words say which articles it is about. Two kinds, which the engine treats
differently:

``window``
    The question names calendar dates or periods: "in January", "in March 2024", "on February 3",
    "since March 1", "before Jan. 15", "between Jan 5 and Jan 20", "in 2023", "in the 1990s".
    These are hard limits on what was published.
``recent``
    The question counts from the day it is asked: "today", "yesterday", "this week", "last month",
    "over the past 10 days", "on Tuesday", "two weeks ago" (``since``/``until`` hold the window it
    means), or only prefers the newest: "recently", "the latest", "the most recent", "newest" (no
    dates). An archive's questions may have been asked on another day than the one they are
    resolved against, so the engine uses these as a preference, not a filter.

How phrases are found and resolved (one module per step)
    1. Find and resolve (:mod:`.points`): a small regex (:mod:`.patterns`) finds the candidate phrases
       (month names and abbreviations, weekday names, "since/before/after/until/between ... and
       ...", "last/this/past/next N units", years 19xx/20xx after a preposition), and each is
       checked against its neighbours (:mod:`.words`) and resolved to a period. The calendar
       expressions among them (months, days, weekdays) are handed to dateparser
       (:mod:`.dateparsing`), with a fixed language (English: no language detection),
       ``RELATIVE_BASE`` = the reference day and ``PREFER_DATES_FROM="past"``. Relative periods
       ("this week", "past 10 days") are calendar arithmetic on the reference day (:mod:`.periods`):
       dateparser gives one instant for them, and which window they mean (a rolling week, the
       previous calendar month) is decided there.
    2. Rank (:mod:`.candidates`): the word before each period makes it a range, a bound or a
       window; words like "the latest" add a bare preference for the newest.
    3. Choose (:mod:`.candidates`): one scope by the priority below.

Rules worth knowing
    * A month without a year is the most recent such month on or before the reference (asked in
      February 2024, "in January" is January 2024, "in March" March 2023, "in February" February
      2024, the whole month). A day without a year is likewise the most recent such day, except that
      a day within the next 30 days is the upcoming one ("on February 20" asked on February 14 is
      that February 20: questions ask about scheduled events) unless it follows "since" or "after",
      which look back. A window that starts after the reference is ``upcoming``: nothing is published
      in it yet, so it cannot filter publication dates.
    * "this week" is the 7 days ending on the reference day, "this month" / "this year" run from
      their first day to the reference day, "the past week" / "the past N days|weeks|months|years"
      (and "in the last ...") are rolling windows ending on it; "last week" / "last month" /
      "last year" (no "the") are the previous calendar week (Monday to Sunday), month and year.
    * Years count only after a preposition: "in 2023", "during 2023", "since 2023", "before 2023",
      "between 2020 and 2022". A year or date used as part of a name, or as an attribute after "the",
      is not a time scope: "the 2024 Polar Bear Plunge", "the 2026 Games", "2023 federal income tax
      returns", "the January 6 committee", "the March 5 primary". Nor is a year followed by a noun
      ("in 2023 federal income tax returns"), nor a duration ("17 years").
    * "May" counts only as a date: "in May", "May 3", "May 2024" ("Theresa May", "may" do not).
      Other bare month names likewise need a day or a year beside them, or a preposition before
      them ("the Women's March" is not a month).
    * "N days / weeks / months ago" is a recent window around that day, week or calendar month;
      "N years ago" is ignored: in news questions it dates an anniversary's past event ("50 years
      ago") or a comparison ("than a year ago"), while the articles asked about are today's.
      Comparisons ("than / from / compared with a week ago") are ignored for every unit.
    * A weekday ("on Tuesday", "Friday") is the most recent one, today when asked on that weekday;
      "last Tuesday" is never today. "Super Tuesday", "Black Friday", "the Sunday Times" are names.
    * One scope per question: a range first, then a bound, then a calendar window, then a dated
      recent window, then a bare preference for the newest; the earliest in the question among equals.
    * Not understood (no scope, or only the part that is): seasons ("this summer"), quarters
      ("Q1 2024"), "the end of January", "the first week of March", numeric dates other than ISO
      ("1/15/2024"), "the day before yesterday", upcoming periods in the plural ("in the coming
      weeks"). A day window is the day named, with no slack for reports published the day after.

dateparser is imported on first use (it takes a fraction of a second), its language data is in
the package (no network), and a parse costs well under a millisecond per phrase once warm
(:func:`warm_up` pays the first-use cost at start-up). The day relative words count from is
:func:`.reference.reference_date`.
"""

from __future__ import annotations

import datetime as dt

from assistant.answer import TimeScope
from assistant.understanding.timescope.candidates import candidates, choose
from assistant.understanding.timescope.patterns import POINT
from assistant.understanding.timescope.periods import with_year
from assistant.understanding.timescope.points import find_points, resolve_point


def parse_time_scope(question: str, reference: dt.date) -> TimeScope | None:
    """The time ``question`` is about, resolved against ``reference`` (see the module docstring);
    None when it says nothing about time."""
    if isinstance(reference, dt.datetime):
        reference = reference.date()
    points = find_points(question, reference)  # 1. find and resolve
    best = choose(candidates(question, points, reference))  # 2. rank, 3. choose
    if best is None:
        return None
    return TimeScope(
        phrase=question[best.start : best.end].strip(),
        since=best.since,
        until=best.until,
        kind=best.kind,
        reference=reference,
    )


def calendar_dates(question: str, reference: dt.date) -> list[tuple[int, int, dt.date, dt.date]]:
    """Every calendar day or month ``question`` names in full ("October 4, 2023", "Oct. 6th", "9
    November 2023", "2023-10-04", "March 2023"), as (start, end, first day, last day), in order: the
    report dates of a question across articles (:mod:`assistant.understanding.parts`). A day without a year is the
    last one on or before ``reference``: a report is read after it comes out. Not relative times,
    years, weekdays or a month named alone."""
    if isinstance(reference, dt.datetime):
        reference = reference.date()
    found = []
    for match in POINT.finditer(question):
        if match.lastgroup not in ("iso", "md", "dm", "my"):
            continue
        point = resolve_point(match, question, reference)
        if point is None:
            continue
        first, last = point.since, point.until
        if point.yearless and first > reference:
            first = last = with_year(first, first.year - 1)
        found.append((point.start, point.end, first, last))
    return found


def warm_up() -> None:
    """Import dateparser and load its English data now (a fraction of a second) rather than on the
    first question that names a month."""
    parse_time_scope("What happened on January 5 and in March?", dt.date(2024, 2, 14))
