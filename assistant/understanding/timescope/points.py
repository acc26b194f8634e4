"""Find and resolve: each phrase :data:`.patterns.POINT` matches -> the period it names, a :class:`Point`.

One step per kind of phrase (the named alternative of ``POINT`` that matched). Each step first
decides whether the phrase is a time here at all — a name ("Theresa May", "Super Tuesday", "USA
Today"), an attribute ("the January 6 committee") or a modal ("may") is not — and then resolves it
against the reference day: calendar dates through dateparser (:mod:`.dateparsing`), relative ones by
calendar arithmetic (:mod:`.periods`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from assistant.understanding.timescope.dateparsing import parse_date
from assistant.understanding.timescope.patterns import (
    ATTRIBUTIVE,
    COMPARISON,
    LOOK_BACK,
    MONTH_WORDS,
    POINT,
    TODAY_NAME_BEFORE,
    WEEKDAY_NAME_AFTER,
    WEEKDAY_NAME_BEFORE,
    YEAR_WORDS,
)
from assistant.understanding.timescope.periods import (
    ONE_DAY,
    add_months,
    month_end,
    relative_period,
    upcoming_or_past,
    weekend,
)
from assistant.understanding.timescope.words import number, word_before, year_followed_ok


class Point(NamedTuple):
    """The period one phrase names: where the phrase stands and its first and last day."""

    start: int
    end: int
    since: dt.date
    until: dt.date
    relative: bool  # counted from the reference ("Tuesday", "last week"), not a calendar date
    yearless: bool = False  # a day or month whose year was not given ("August 15th")
    span: bool = False  # a range in itself ("2002-2010")


def find_points(question: str, ref: dt.date) -> list[Point]:
    """Every phrase in ``question`` that names a time here, resolved against ``ref``, in order."""
    return [p for m in POINT.finditer(question) if (p := resolve_point(m, question, ref)) is not None]


def resolve_point(m: re.Match, q: str, ref: dt.date) -> Point | None:
    """The period one regex match names, or None when it is not a time here (a name, a modal)."""
    kind, start = m.lastgroup, m.start()
    word, _ = word_before(q, start)
    before = q[max(0, start - 30) : start]
    if kind == "iso":
        return _iso_day(m, ref)
    if kind in ("md", "dm"):
        return _month_day(m, ref, word, before)
    if kind == "my":
        return _month_year(m, ref, word, before)
    if kind == "mon":
        return _month_alone(m, q, ref, word)
    if kind in ("year", "decade", "years"):
        return _years(m, q, word)
    if kind == "wd":
        return _weekday(m, q, ref, before)
    if kind == "day":
        return _day_word(m, q, ref, before)
    if kind == "wkend":
        return _weekend(m, ref)
    if kind == "rel":
        return _relative(m, ref)
    if kind == "ago":
        return _ago(m, ref, before)
    return None


def _calendar_point(m: re.Match, first: dt.date | None, last: dt.date | None, **flags) -> Point | None:
    return None if first is None or last is None else Point(m.start(), m.end(), first, last, False, **flags)


def _relative_point(m: re.Match, first: dt.date, last: dt.date) -> Point:
    return Point(m.start(), m.end(), first, last, True)


def _iso_day(m: re.Match, ref: dt.date) -> Point | None:
    """"2024-01-15": that day (the only numeric date read)."""
    day = parse_date(m.group("iso"), ref, "day")
    return _calendar_point(m, day, day)


def _month_day(m: re.Match, ref: dt.date, word: str, before: str) -> Point | None:
    """"on February 3", "the 3rd of March", "January 27, 2024": that day; without a year the most
    recent one, or the upcoming one within 30 days unless the phrase looks back."""
    kind = m.lastgroup
    month = m.group(f"{kind}_m")
    if not word:
        # Bare, a date needs a capitalised month ("may 3 ..." is a modal), and a month first must
        # not be an attribute: "the January 6 committee", "the March 5 primary". A day first
        # needs an ordinal, "of" or a year ("the 3rd of March"; "the top 3 March Madness teams").
        if not month[:1].isupper() or (kind == "md" and ATTRIBUTIVE.search(before)):
            return None
        if kind == "dm" and not (m.group("dm_of") or not m.group("dm_d").isdigit() or m.group("dm_y")):
            return None
    day = parse_date(m.group(kind), ref, "day")
    yearless = m.group(f"{kind}_y") is None
    if day is not None and yearless:
        day = upcoming_or_past(day, ref, look_back=word in LOOK_BACK)
    return _calendar_point(m, day, day, yearless=yearless)


def _month_year(m: re.Match, ref: dt.date, word: str, before: str) -> Point | None:
    """"March 2024", "November of 2012": the whole month; not as an attribute ("the January 2024
    floods")."""
    month = m.group("my_m")
    if not word and (not month[:1].isupper() or ATTRIBUTIVE.search(before)):
        return None  # "the January 2024 floods"
    first = parse_date(f"{month} {m.group('my_y')}", ref, "month")
    return _calendar_point(m, first, month_end(first) if first else None)


def _month_alone(m: re.Match, q: str, ref: dt.date, word: str) -> Point | None:
    """"in January", "since March", "early Dec.": the most recent such month, only after a
    preposition or early/mid/late; "May" only before punctuation or the end ("since may have")."""
    month = m.group("mon_m")
    end = m.end()
    if word not in MONTH_WORDS:
        return None  # a month name alone: "Theresa May", "the Women's March", "March Madness"
    if month[:1] == "m" and month.lower() == "may" and not re.match(r"\s*(?:[,.;:?!)]|$)", q[end:]):
        return None  # "since may have", "before may be"
    first = parse_date(month, ref, "month")
    return _calendar_point(m, first, month_end(first) if first else None, yearless=True)


def _years(m: re.Match, q: str, word: str) -> Point | None:
    """"in 2023", "in the 1990s", "between 2002-2010": whole years, only after a preposition and not
    followed by a noun."""
    kind, end = m.lastgroup, m.end()
    if word not in YEAR_WORDS or not year_followed_ok(q, end):
        return None  # "the 2024 Polar Bear Plunge", "in 2023 federal income tax returns"
    if kind == "years":
        first, last = m.group("years_a"), m.group("years_b")
        first, last = int(first), int(first[:2] + last if len(last) == 2 else last)
        return _calendar_point(m, dt.date(first, 1, 1), dt.date(last, 12, 31), span=True) if first < last else None
    y = int(m.group(f"{kind}_y"))
    return _calendar_point(m, dt.date(y, 1, 1), dt.date(y + (9 if kind == "decade" else 0), 12, 31))


def _weekday(m: re.Match, q: str, ref: dt.date, before: str) -> Point | None:
    """"on Tuesday", "last Friday": the most recent one (today when asked on that weekday, never
    today after "last"); not in names ("Super Tuesday", "the Sunday Times")."""
    end = m.end()
    if WEEKDAY_NAME_BEFORE.search(before) or WEEKDAY_NAME_AFTER.match(q, end):
        return None  # Super Tuesday, Black Friday, the Sunday Times
    direction = (m.group("wd_dir") or "").lower()
    name = m.group("wd_d")
    text = f"{'next' if direction == 'next' else 'last'} {name}" if direction in ("last", "next", "past") else name
    day = parse_date(text, ref, "weekday")
    if day is None:
        return None
    if direction in ("", "this") and day.weekday() == ref.weekday():
        day = ref  # "on Wednesday", asked on a Wednesday, is today
    return _relative_point(m, day, day)


def _day_word(m: re.Match, q: str, ref: dt.date, before: str) -> Point | None:
    """"today", "yesterday", "last night", "tomorrow": that day; not in names ("USA Today")."""
    start, end = m.start(), m.end()
    if (
        TODAY_NAME_BEFORE.search(before)
        or re.match(r"\s+show\b", q[end:], re.IGNORECASE)
        or (q[start].isupper() and re.search(r"\b[A-Z][\w.]*\s+$", before))
    ):
        return None  # USA Today, Florida Today, India Today, the Today show
    w = m.group("day").lower()
    day = ref + dt.timedelta(days=-1 if w.startswith(("yesterday", "last")) else 1 if w == "tomorrow" else 0)
    return _relative_point(m, day, day)


def _weekend(m: re.Match, ref: dt.date) -> Point:
    """"this weekend", "over the weekend": its Saturday and Sunday."""
    first = weekend(re.sub(r"\s+", " ", m.group("wkend_dir").lower()), ref)
    return _relative_point(m, first, first + ONE_DAY)


def _relative(m: re.Match, ref: dt.date) -> Point | None:
    """"this week", "last month", "the past 10 days": the window :func:`.periods.relative_period` gives."""
    span = relative_period(m, ref)
    return _relative_point(m, *span) if span else None


def _ago(m: re.Match, ref: dt.date, before: str) -> Point | None:
    """"N days / weeks / months ago": that day, the week around it, that calendar month; never years
    or a comparison ("than a year ago")."""
    if COMPARISON.search(before):
        return None  # "up 5% from a year ago": a comparison, about now
    n = number(m.group("ago_n"))
    unit = m.group("ago_u").lower().rstrip("s")
    if n is None or unit == "year":
        return None  # "50 years ago": see the rules in assistant.understanding.timescope.parser
    if unit == "day":
        day = ref - dt.timedelta(days=n)
        return _relative_point(m, day, day)
    if unit == "week":
        mid = ref - dt.timedelta(days=7 * n)
        return _relative_point(m, mid - dt.timedelta(days=3), mid + dt.timedelta(days=3))
    first = add_months(ref.replace(day=1), -n)
    return _relative_point(m, first, month_end(first))
