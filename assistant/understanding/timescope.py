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

How phrases are found and resolved
    A small regex finds the candidate phrases (month names and abbreviations, weekday names,
    "since/before/after/until/between ... and ...", "last/this/past/next N units", years 19xx/20xx
    after a preposition); the calendar expressions among them (months, days, weekdays) are handed to
    dateparser, with a fixed language (English: no language detection), ``RELATIVE_BASE`` = the
    reference day and ``PREFER_DATES_FROM="past"``. Relative periods ("this week", "past 10 days")
    are calendar arithmetic on the reference day: dateparser gives one instant for them, and which
    window they mean (a rolling week, the previous calendar month) is a choice made here.

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
    * One scope per question: a range or bound first, then a calendar window, then a dated recent
      window, then a bare preference for the newest; the earliest in the question among equals.
    * Not understood (no scope, or only the part that is): seasons ("this summer"), quarters
      ("Q1 2024"), "the end of January", "the first week of March", numeric dates other than ISO
      ("1/15/2024"), "the day before yesterday", upcoming periods in the plural ("in the coming
      weeks"). A day window is the day named, with no slack for reports published the day after.

dateparser is imported on first use (it takes a fraction of a second), its language data is in
the package (no network), and a parse costs well under a millisecond per phrase once warm
(:func:`warm_up` pays the first-use cost at start-up).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from functools import lru_cache
from typing import Literal, NamedTuple

from assistant.answer import TimeScope, TimeScopeKind

# A day without a year that falls this few days after the reference is the upcoming one.
UPCOMING_DAYS = 30
# An archive whose newest article is older than this (against the clock) answers as of that day.
ARCHIVE_AFTER_DAYS = 30


def reference_date(today_setting: dt.date | None, newest_article: dt.date | None, clock_today: dt.date) -> dt.date:
    """The day relative expressions ("this week", "yesterday") count from.

    1. ``today_setting`` (``NEWSDESK_TODAY``) when it is set: a pinned day always wins.
    2. Else the clock's today, unless the store is an archive — its newest article is more than
       30 days before the clock's today — and then that newest article's day: an archive answers as
       of its own last day, the way the recency prior counts age back from the newest article.
    3. An empty or undated store (``newest_article`` None) uses the clock's today.
    """
    if today_setting is not None:
        return today_setting
    if newest_article is not None and (clock_today - newest_article).days > ARCHIVE_AFTER_DAYS:
        return newest_article
    return clock_today


# --- the phrases -------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_NUM = (
    r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"a\s+few|few|several|a\s+couple\s+of|a\s+couple|couple\s+of)"
)
_UNIT = r"(?:hours?|days?|weeks?|months?|years?|decades?)"
_END = r"(?![\w-]*\d)(?!-\w)\b"  # not the start of "2023-24", "5th-largest", a longer number

# Each alternative is one "point": a period with a first and a last day. Named groups say which.
_POINT = re.compile(
    "|".join(
        [
            rf"(?P<iso>\b{_YEAR}-[01]\d-[0-3]\d\b)",
            rf"(?P<md>\b(?P<md_m>{_MONTH})\s+(?P<md_d>{_DAY})(?:,?\s+(?P<md_y>{_YEAR}))?{_END})",
            rf"(?P<dm>\b(?P<dm_d>{_DAY})\s+(?P<dm_of>of\s+)?(?P<dm_m>{_MONTH})(?:,?\s+(?P<dm_y>{_YEAR}))?{_END})",
            rf"(?P<my>\b(?P<my_m>{_MONTH})(?:\s+of|,)?\s+(?P<my_y>{_YEAR}){_END})",
            rf"(?P<mon>\b(?P<mon_m>{_MONTH})(?!\w))",
            rf"(?P<decade>\b(?:the\s+)?(?P<decade_y>(?:19|20)\d0)'?s\b)",
            rf"(?P<years>\b(?P<years_a>{_YEAR})\s*[-–—/]\s*(?P<years_b>{_YEAR}|\d\d){_END})",  # 2002-2010, 2023-24
            rf"(?P<year>\b(?P<year_y>{_YEAR}){_END})",
            rf"(?P<wd>\b(?:(?P<wd_dir>last|this|next|past)\s+)?(?P<wd_d>{_WEEKDAY})\b)",
            r"(?P<day>\b(?:today|tonight|yesterday|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening))\b)",
            r"(?P<wkend>\b(?P<wkend_dir>this\s+past|this|last|past|next|coming|the)\s+weekend\b)",
            # "this week", "last month", "the past year", "the past 10 days", "next week"
            rf"(?P<rel>\b(?P<rel_the>the\s+)?(?P<rel_dir>this\s+past|this|last|past|previous|next|coming|following)"
            rf"\s+(?:(?P<rel_n>{_NUM})\s+)?(?P<rel_u>{_UNIT})\b(?!\s+of\b))",
            rf"(?P<ago>\b(?P<ago_n>{_NUM})\s+(?P<ago_u>days?|weeks?|months?|years?)\s+ago\b)",
        ]
    ),
    re.IGNORECASE,
)

# Words that only prefer the newest.
_NEWEST = re.compile(
    r"\b(?:most\s+recent(?:ly)?|latest|newest|recently|lately|(?:in\s+)?recent\s+(?:days|weeks|months|years)|"
    r"(?:the\s+)?last\s+time|recent)\b",
    re.IGNORECASE,
)

# The word right before a point (an "early"/"mid"/"late" between them is passed over).
_WORD_BEFORE = re.compile(
    r"\b(?P<w>since|after|before|until|till|til|through|prior\s+to|up\s+to|between|from|in|during|"
    r"throughout|on|over|within|for|early|mid|late|earlier|so\s+far)[\s-]+(?:(?:early|mid|late)[\s-]+)?$",
    re.IGNORECASE,
)
# The second point of "between X and Y" / "from X to Y" follows one of these.
_RANGE_JOIN = re.compile(r"\s*(?:\band\b|\bto\b|\bthrough\b|\buntil\b|\btill\b|-|–|—)\s*", re.IGNORECASE)
_AFTER_RANGE_JOIN = re.compile(
    r"\b(?:between|from)\s+\S.{0,30}?(?:\s(?:and|to|through|until|till)\s+|\s*[-–—]\s*)$", re.IGNORECASE
)
_BARE_DAY = re.compile(rf"(?P<d>{_DAY}){_END}", re.IGNORECASE)
_ATTRIBUTIVE = re.compile(r"\b(?:the|a|an|this|that|its|their|his|her|our)\s+$", re.IGNORECASE)
_COMPARISON = re.compile(r"\b(?:than|from|with|to|versus|vs\.?)\s+$", re.IGNORECASE)

_LOOK_BACK = frozenset({"since", "after", "from", "between"})
_BOUND_WORDS = frozenset({"since", "after", "before", "until", "till", "til", "through", "prior to", "up to"})
# What may stand before a year or a month named alone ("in 2023", "since March", "early January").
_YEAR_WORDS = _BOUND_WORDS | {"in", "during", "throughout", "between", "from", "and"}
_MONTH_WORDS = _YEAR_WORDS | {"early", "mid", "late"}

# A year after a preposition still names a thing when a noun follows it ("in 2023 federal income
# tax returns"); these words may follow a year that is a time.
_AFTER_YEAR_OK = frozenset(
    "the a an and or but to in on at for of from by with was were is are be been did does do has have "
    "had will would could should can may might when what which who whom whose where why how after "
    "before than as compared versus vs so while because according alone only until since through "
    "onwards onward ago up it its this that these those there they he she we you i".split()
)
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 3, "several": 5, "couple": 2,
}  # fmt: skip
# Names built on weekdays, and newspapers named after them.
_WEEKDAY_NAME_BEFORE = re.compile(
    r"\b(?:super|black|good|cyber|ash|fat|giving|easter|holy|maundy|bloody|blue|palm|whit|shrove|mail\s+on)\s+$",
    re.IGNORECASE,
)
_WEEKDAY_NAME_AFTER = re.compile(
    r"\s+(?:Times|Telegraph|Mirror|Express|Post|Herald|Independent|Mail|People|Sport|Star|World|Tribune|"
    r"Night\s+Football)\b"
)
_TODAY_NAME_BEFORE = re.compile(r"\b(?:usa|psychology|marketing|the)\s+$", re.IGNORECASE)

_ONE_DAY = dt.timedelta(days=1)


class _Point(NamedTuple):
    start: int
    end: int
    since: dt.date
    until: dt.date
    relative: bool  # counted from the reference ("Tuesday", "last week"), not a calendar date
    yearless: bool = False  # a day or month whose year was not given ("August 15th")
    span: bool = False  # a range in itself ("2002-2010")


class _Candidate(NamedTuple):
    rank: int  # 4 range, 3 bound, 2 calendar window, 1 recent window, 0 "latest"
    start: int
    end: int
    since: dt.date | None
    until: dt.date | None
    kind: TimeScopeKind


def parse_time_scope(question: str, reference: dt.date) -> TimeScope | None:
    """The time ``question`` is about, resolved against ``reference`` (see the module docstring);
    None when it says nothing about time."""
    if isinstance(reference, dt.datetime):
        reference = reference.date()
    best: _Candidate | None = None
    for cand in _candidates(question, reference):
        if best is None or cand.rank > best.rank:  # among equals the earliest stays
            best = cand
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
    for match in _POINT.finditer(question):
        if match.lastgroup not in ("iso", "md", "dm", "my"):
            continue
        point = _point(match, question, reference)
        if point is None:
            continue
        first, last = point.since, point.until
        if point.yearless and first > reference:
            first = last = _with_year(first, first.year - 1)
        found.append((point.start, point.end, first, last))
    return found


def warm_up() -> None:
    """Import dateparser and load its English data now (a fraction of a second) rather than on the
    first question that names a month."""
    parse_time_scope("What happened on January 5 and in March?", dt.date(2024, 2, 14))


def _word_before(question: str, start: int) -> tuple[str, int]:
    """The preposition right before ``start`` (lower case, "" if none) and where it starts."""
    window_start = max(0, start - 30)
    m = _WORD_BEFORE.search(question, window_start, start)
    if m is None:
        if _AFTER_RANGE_JOIN.search(question, max(0, start - 60), start):
            return "and", start
        return "", start
    return re.sub(r"\s+", " ", m.group("w").lower()), m.start()


def _candidates(question: str, ref: dt.date):
    points = [p for m in _POINT.finditer(question) if (p := _point(m, question, ref)) is not None]
    range_ends: set[int] = set()
    for i, p in enumerate(points):
        if p.start in range_ends:
            continue
        word, start = _word_before(question, p.start)
        kind: TimeScopeKind = "recent" if p.relative else "window"
        if word in ("between", "from"):
            last = _range_end(question, p, points[i + 1] if i + 1 < len(points) else None)
            if last is not None:
                range_ends.add(last.start)
                since, until = p.since, last.until
                if p.yearless and not last.yearless and not last.relative:
                    since = _with_year(since, until.year)  # "from August 15th to August 18th, 2024"
                if since > until and p.yearless:
                    since = _with_year(since, since.year - 1)  # "between December 20 and January 5"
                elif since > until and p.relative:
                    since -= dt.timedelta(days=7)  # "between Monday and Wednesday", asked on a Tuesday
                if since > until:
                    continue
                yield _Candidate(4, start, last.end, since, until, "recent" if p.relative and last.relative else kind)
                continue
            if word == "between" and not p.span:
                continue  # "between 1900 and 2000 troops"
        if word == "since":
            if p.since <= ref:  # "since 2030" looks back on nothing
                yield _Candidate(3, start, p.end, p.since, None, kind)
        elif word == "after":
            yield _Candidate(3, start, p.end, p.until + _ONE_DAY, None, kind)
        elif word in ("before", "prior to"):
            yield _Candidate(3, start, p.end, None, p.since - _ONE_DAY, kind)
        elif word in _BOUND_WORDS:  # until, till, through, up to
            yield _Candidate(3, start, p.end, None, p.until, kind)
        else:
            yield _Candidate(2 if kind == "window" else 1, start, p.end, p.since, p.until, kind)
    for m in _NEWEST.finditer(question):
        yield _Candidate(0, m.start(), m.end(), None, None, "recent")


def _range_end(question: str, first: _Point, nxt: _Point | None) -> _Point | None:
    """The point closing "between X and Y" / "from X to Y", or a bare day ("between Jan 5 and 20")."""
    join = _RANGE_JOIN.match(question, first.end)
    if join is None:
        return None
    if nxt is not None and nxt.start == join.end():
        return nxt
    day = _BARE_DAY.match(question, join.end())
    if day is not None and first.since == first.until and not first.relative:
        try:  # the first point's month
            last = first.since.replace(day=int(re.match(r"\d+", day.group("d")).group()))
        except ValueError:
            return None
        return _Point(join.end(), day.end(), last, last, False) if last >= first.since else None
    return None


def _point(m: re.Match, q: str, ref: dt.date) -> _Point | None:
    """The period one regex match names, or None when it is not a time here (a name, a modal)."""
    kind, start, end = m.lastgroup, m.start(), m.end()
    word, _ = _word_before(q, start)
    before = q[max(0, start - 30) : start]

    def calendar_point(first: dt.date | None, last: dt.date | None, **flags) -> _Point | None:
        return None if first is None or last is None else _Point(start, end, first, last, False, **flags)

    def relative_point(first: dt.date, last: dt.date) -> _Point:
        return _Point(start, end, first, last, True)

    if kind == "iso":
        day = _parse(m.group(kind), ref, "day")
        return calendar_point(day, day)

    if kind in ("md", "dm"):
        month = m.group(f"{kind}_m")
        if not word:
            # Bare, a date needs a capitalised month ("may 3 ..." is a modal), and a month first must
            # not be an attribute: "the January 6 committee", "the March 5 primary". A day first
            # needs an ordinal, "of" or a year ("the 3rd of March"; "the top 3 March Madness teams").
            if not month[:1].isupper() or (kind == "md" and _ATTRIBUTIVE.search(before)):
                return None
            if kind == "dm" and not (m.group("dm_of") or not m.group("dm_d").isdigit() or m.group("dm_y")):
                return None
        day = _parse(m.group(kind), ref, "day")
        yearless = m.group(f"{kind}_y") is None
        if day is not None and yearless:
            day = _upcoming_or_past(day, ref, look_back=word in _LOOK_BACK)
        return calendar_point(day, day, yearless=yearless)

    if kind == "my":
        month = m.group("my_m")
        if not word and (not month[:1].isupper() or _ATTRIBUTIVE.search(before)):
            return None  # "the January 2024 floods"
        first = _parse(f"{month} {m.group('my_y')}", ref, "month")
        return calendar_point(first, _month_end(first) if first else None)

    if kind == "mon":
        month = m.group("mon_m")
        if word not in _MONTH_WORDS:
            return None  # a month name alone: "Theresa May", "the Women's March", "March Madness"
        if month[:1] == "m" and month.lower() == "may" and not re.match(r"\s*(?:[,.;:?!)]|$)", q[end:]):
            return None  # "since may have", "before may be"
        first = _parse(month, ref, "month")
        return calendar_point(first, _month_end(first) if first else None, yearless=True)

    if kind in ("year", "decade", "years"):
        if word not in _YEAR_WORDS or not _year_followed_ok(q, end):
            return None  # "the 2024 Polar Bear Plunge", "in 2023 federal income tax returns"
        if kind == "years":
            first, last = m.group("years_a"), m.group("years_b")
            first, last = int(first), int(first[:2] + last if len(last) == 2 else last)
            return calendar_point(dt.date(first, 1, 1), dt.date(last, 12, 31), span=True) if first < last else None
        y = int(m.group(f"{kind}_y"))
        return calendar_point(dt.date(y, 1, 1), dt.date(y + (9 if kind == "decade" else 0), 12, 31))

    if kind == "wd":
        if _WEEKDAY_NAME_BEFORE.search(before) or _WEEKDAY_NAME_AFTER.match(q, end):
            return None  # Super Tuesday, Black Friday, the Sunday Times
        direction = (m.group("wd_dir") or "").lower()
        name = m.group("wd_d")
        text = f"{'next' if direction == 'next' else 'last'} {name}" if direction in ("last", "next", "past") else name
        day = _parse(text, ref, "weekday")
        if day is None:
            return None
        if direction in ("", "this") and day.weekday() == ref.weekday():
            day = ref  # "on Wednesday", asked on a Wednesday, is today
        return relative_point(day, day)

    if kind == "day":
        if (
            _TODAY_NAME_BEFORE.search(before)
            or re.match(r"\s+show\b", q[end:], re.IGNORECASE)
            or (q[start].isupper() and re.search(r"\b[A-Z][\w.]*\s+$", before))
        ):
            return None  # USA Today, Florida Today, India Today, the Today show
        w = m.group(kind).lower()
        day = ref + dt.timedelta(days=-1 if w.startswith(("yesterday", "last")) else 1 if w == "tomorrow" else 0)
        return relative_point(day, day)

    if kind == "wkend":
        first = _weekend(re.sub(r"\s+", " ", m.group("wkend_dir").lower()), ref)
        return relative_point(first, first + _ONE_DAY)

    if kind == "rel":
        span = _relative_period(m, ref)
        return relative_point(*span) if span else None

    if kind == "ago":
        if _COMPARISON.search(before):
            return None  # "up 5% from a year ago": a comparison, about now
        n = _number(m.group("ago_n"))
        unit = m.group("ago_u").lower().rstrip("s")
        if n is None or unit == "year":
            return None  # "50 years ago": see the module docstring
        if unit == "day":
            day = ref - dt.timedelta(days=n)
            return relative_point(day, day)
        if unit == "week":
            mid = ref - dt.timedelta(days=7 * n)
            return relative_point(mid - dt.timedelta(days=3), mid + dt.timedelta(days=3))
        first = _add_months(ref.replace(day=1), -n)
        return relative_point(first, _month_end(first))
    return None


def _weekend(direction: str, ref: dt.date) -> dt.date:
    """The Saturday of the weekend meant."""
    wd = ref.weekday()  # Monday 0 .. Sunday 6
    if direction == "this" and wd in (5, 6):
        return ref - dt.timedelta(days=wd - 5)
    if (direction == "this" and wd == 4) or direction in ("next", "coming"):
        return ref + dt.timedelta(days=(5 - wd) % 7 or 7)  # the coming one
    return ref - dt.timedelta(days=(wd - 5) % 7 or 7)  # the one just past: last, past, over the weekend


def _relative_period(m: re.Match, ref: dt.date) -> tuple[dt.date, dt.date] | None:
    """"this week", "last month", "the past 10 days", "next year" -> (first day, last day)."""
    direction = re.sub(r"\s+", " ", m.group("rel_dir").lower())
    unit = m.group("rel_u").lower()
    plural = unit.endswith("s")
    unit = unit.rstrip("s")
    n_text = m.group("rel_n")
    n = _number(n_text) if n_text else 1
    if n is None or (plural and not n_text) or (not plural and n_text and n != 1):
        return None  # "the last days of", "past 3 week"
    if not n_text and unit in ("day", "hour"):
        return None  # "to this day", "the last day": not a period
    if direction == "this past":
        direction = "past"
    elif direction in ("next", "coming", "following"):
        direction = "next"
    elif direction in ("last", "previous") and (m.group("rel_the") or n_text):
        direction = "past"  # "in the last week", "the last 3 months" roll back; "last week" is the calendar one
    if unit == "hour":
        return (ref - dt.timedelta(days=-(-n // 24)), ref) if direction == "past" else None
    if unit == "decade":
        if direction == "this":
            return dt.date(ref.year // 10 * 10, 1, 1), ref
        unit, n, n_text = "year", 10 * n, n_text or "ten"
        direction = "next" if direction == "next" else "past"
    if direction == "this":
        first = {"week": ref - dt.timedelta(days=6), "month": ref.replace(day=1), "year": ref.replace(month=1, day=1)}
        return first[unit], ref
    if direction == "past":
        return _shift(ref, unit, -n) + _ONE_DAY, ref
    if direction in ("last", "previous"):  # the previous calendar week (Monday to Sunday), month, year
        if unit == "week":
            monday = ref - dt.timedelta(days=ref.weekday() + 7)
            return monday, monday + dt.timedelta(days=6)
        if unit == "month":
            first = _add_months(ref.replace(day=1), -1)
            return first, _month_end(first)
        return dt.date(ref.year - 1, 1, 1), dt.date(ref.year - 1, 12, 31)
    # next: the next calendar week, month or year; "the next N units" from tomorrow
    if not n_text and unit == "week":
        monday = ref + dt.timedelta(days=7 - ref.weekday())
        return monday, monday + dt.timedelta(days=6)
    if not n_text and unit == "month":
        first = _add_months(ref.replace(day=1), 1)
        return first, _month_end(first)
    if not n_text and unit == "year":
        return dt.date(ref.year + 1, 1, 1), dt.date(ref.year + 1, 12, 31)
    return ref + _ONE_DAY, _shift(ref, unit, n)


# --- helpers -----------------------------------------------------------------------------------------


def _year_followed_ok(q: str, end: int) -> bool:
    rest = q[end:]
    if re.match(r"'s\b|\s*[,.;:?!)]|\s*$", rest):
        return True
    word = re.match(r"\s+([A-Za-z]+)", rest)
    return word is not None and word.group(1).lower() in _AFTER_YEAR_OK


def _number(text: str) -> int | None:
    text = re.sub(r"\s+", " ", text.lower()).replace("a couple", "couple").replace(" of", "").replace("a few", "few")
    if text.isdigit():
        return int(text) or None
    return _NUMBER_WORDS.get(text)


def _upcoming_or_past(day: dt.date, ref: dt.date, look_back: bool) -> dt.date:
    """dateparser gave the most recent such day; the same day in the coming 30 days is meant instead
    unless the phrase looks back ("since", "after", the start of a range)."""
    if look_back:
        return day
    for year in (ref.year, ref.year + 1):
        try:
            ahead = day.replace(year=year)
        except ValueError:  # 29 February
            continue
        if ref < ahead <= ref + dt.timedelta(days=UPCOMING_DAYS):
            return ahead
    return day


def _with_year(day: dt.date, year: int) -> dt.date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def _month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def _shift(day: dt.date, unit: str, n: int) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=n)
    if unit == "week":
        return day + dt.timedelta(days=7 * n)
    if unit == "month":
        return _add_months(day, n)
    return _add_months(day, 12 * n)


# --- dateparser --------------------------------------------------------------------------------------

_lock = threading.Lock()  # dateparser's parsers are shared between threads: one phrase at a time


@lru_cache(maxsize=8)
def _parsers(reference: dt.date) -> dict:
    """dateparser's parsers for one reference day; dateparser is imported here, on first use."""
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": dt.datetime(reference.year, reference.month, reference.day),
        "PREFER_DATES_FROM": "past",  # "January" is the last January, "Tuesday" the last Tuesday
        "PREFER_DAY_OF_MONTH": "first",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PARSERS": ["absolute-time"],  # the phrases are dates; no timestamps, no "2 days ago"
    }
    loose = DateDataParser(languages=["en"], settings=settings)
    # A day must name its day and month: "Feb 30" fails instead of falling back to February.
    strict_day = DateDataParser(languages=["en"], settings={**settings, "REQUIRE_PARTS": ["day", "month"]})
    return {"day": strict_day, "month": loose, "weekday": loose}


@lru_cache(maxsize=4096)
def _parse(text: str, reference: dt.date, want: Literal["day", "month", "weekday"]) -> dt.date | None:
    """dateparser's reading of one phrase: the day it names, or the first day of the month it names."""
    parser = _parsers(reference)[want]
    with _lock:
        data = parser.get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    if want == "month":
        return data.date_obj.date().replace(day=1) if data.period == "month" else None
    return data.date_obj.date() if data.period == "day" else None
