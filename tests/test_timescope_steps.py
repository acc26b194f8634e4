"""Each step of reading time in questions on its own: the words around a phrase, dateparser's reading,
calendar arithmetic, one phrase -> a period, ranking and choosing (tests/test_timescope.py holds the
whole questions)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.understanding.timescope import calendar_dates, warm_up
from assistant.understanding.timescope.candidates import (
    Candidate,
    candidates,
    choose,
    newest_candidates,
    point_candidates,
    range_end,
)
from assistant.understanding.timescope.dateparsing import parse_date
from assistant.understanding.timescope.patterns import POINT
from assistant.understanding.timescope.periods import (
    add_months,
    month_end,
    relative_period,
    shift,
    upcoming_or_past,
    weekend,
    with_year,
)
from assistant.understanding.timescope.points import Point, find_points, resolve_point
from assistant.understanding.timescope.words import number, word_before, year_followed_ok

WED = date(2024, 2, 14)  # a Wednesday in a leap year
TUE = date(2026, 1, 20)  # a Tuesday in January
D = date


# --- the words around a phrase ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("What did Canada announce since March 1?", "March", ("since", 25)),
        ("What happened prior  to March 5?", "March", ("prior to", 14)),
        ("What did the council approve in early Dec.?", "Dec", ("in", 29)),  # "early" passed over
        ("What happened between Jan 5 and Jan 20?", "Jan 20", ("and", 32)),  # a range's second point
        ("Who won the Super Bowl in February?", "Super", ("", 12)),
    ],
)
def test_word_before(text, phrase, expected):
    assert word_before(text, text.index(phrase)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 2023", True),
        ("in 2023.", True),
        ("in 2023's budget", True),
        ("in 2023 the council", True),
        ("in 2023 federal income tax returns", False),
    ],
)
def test_year_followed_ok(text, expected):
    assert year_followed_ok(text, text.index("2023") + 4) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", 10), ("0", None), ("three", 3), ("a couple of", 2), ("a  few", 3), ("several", 5), ("dozen", None)],
)
def test_number(text, expected):
    assert number(text) == expected


# --- dateparser's reading ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want", "expected"),
    [
        ("January 5", "day", D(2024, 1, 5)),
        ("Feb 30", "day", None),  # no such day: not February
        ("March", "day", None),  # a day must name its day
        ("March 2024", "month", D(2024, 3, 1)),
        ("March", "month", D(2023, 3, 1)),  # the last March
        ("last Tuesday", "weekday", D(2024, 2, 13)),
        ("next Friday", "weekday", D(2024, 2, 16)),
    ],
)
def test_parse_date(text, want, expected):
    assert parse_date(text, WED, want) == expected


def test_warm_up_runs():
    assert warm_up() is None


# --- calendar arithmetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "ref", "saturday"),
    [
        ("last", WED, D(2024, 2, 10)),
        ("this", WED, D(2024, 2, 10)),  # midweek, "this weekend" is the one just past
        ("this", D(2024, 2, 16), D(2024, 2, 17)),  # on a Friday, the coming one
        ("this", D(2024, 2, 18), D(2024, 2, 17)),  # on the Sunday, the one under way
        ("next", WED, D(2024, 2, 17)),
        ("coming", D(2024, 2, 17), D(2024, 2, 24)),
        ("the", WED, D(2024, 2, 10)),
    ],
)
def test_weekend(direction, ref, saturday):
    assert weekend(direction, ref) == saturday


def _match(text: str, kind: str):
    (m,) = [m for m in POINT.finditer(text) if m.lastgroup == kind]
    return m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this week", (D(2024, 2, 8), WED)),  # the 7 days ending today
        ("last week", (D(2024, 2, 5), D(2024, 2, 11))),  # the previous calendar week
        ("the last week", (D(2024, 2, 8), WED)),  # rolling
        ("this month", (D(2024, 2, 1), WED)),
        ("last month", (D(2024, 1, 1), D(2024, 1, 31))),
        ("the past month", (D(2024, 1, 15), WED)),
        ("past 10 days", (D(2024, 2, 5), WED)),
        ("the last three months", (D(2023, 11, 15), WED)),
        ("past 24 hours", (D(2024, 2, 13), WED)),
        ("this year", (D(2024, 1, 1), WED)),
        ("last year", (D(2023, 1, 1), D(2023, 12, 31))),
        ("this decade", (D(2020, 1, 1), WED)),
        ("the past decade", (D(2014, 2, 15), WED)),
        ("next week", (D(2024, 2, 19), D(2024, 2, 25))),
        ("next month", (D(2024, 3, 1), D(2024, 3, 31))),
        ("next year", (D(2025, 1, 1), D(2025, 12, 31))),
        ("the next 3 days", (D(2024, 2, 15), D(2024, 2, 17))),
        ("the last days", None),  # a plural needs a count
        ("past 3 week", None),  # a count needs a plural
        ("to this day", None),  # not a period
        ("next 5 hours", None),  # hours only look back
    ],
)
def test_relative_period(text, expected):
    assert relative_period(_match(text, "rel"), WED) == expected


@pytest.mark.parametrize(
    ("day", "ref", "look_back", "expected"),
    [
        (D(2023, 2, 20), WED, False, D(2024, 2, 20)),  # within 30 days: the upcoming one
        (D(2023, 2, 20), WED, True, D(2023, 2, 20)),  # "since", "after": the last one
        (D(2023, 3, 20), WED, False, D(2023, 3, 20)),  # 35 days ahead: the last one
        (D(2023, 1, 10), D(2023, 12, 31), False, D(2024, 1, 10)),  # across the new year
        (D(2024, 2, 29), D(2025, 2, 14), False, D(2024, 2, 29)),  # no 29 February ahead
    ],
)
def test_upcoming_or_past(day, ref, look_back, expected):
    assert upcoming_or_past(day, ref, look_back=look_back) == expected


def test_calendar_helpers():
    assert with_year(D(2024, 1, 5), 2023) == D(2023, 1, 5)
    assert with_year(D(2024, 2, 29), 2023) == D(2023, 2, 28)
    assert month_end(D(2024, 2, 1)) == D(2024, 2, 29)
    assert month_end(D(2023, 2, 1)) == D(2023, 2, 28)
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2024, 1, 15), -2) == D(2023, 11, 15)
    assert add_months(D(2024, 12, 1), 1) == D(2025, 1, 1)
    assert shift(WED, "day", -10) == D(2024, 2, 4)
    assert shift(WED, "week", -1) == D(2024, 2, 7)
    assert shift(WED, "month", -1) == D(2024, 1, 14)
    assert shift(WED, "year", -1) == D(2023, 2, 14)


# --- one phrase -> a period -------------------------------------------------------------------------


def _resolved(text: str, ref: date = WED):
    """The first match's period as (since, until, relative, yearless, span), or None."""
    m = next(POINT.finditer(text))
    p = resolve_point(m, text, ref)
    return None if p is None else (p.since, p.until, p.relative, p.yearless, p.span)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # iso
        ("published on 2024-01-15", (D(2024, 1, 15), D(2024, 1, 15), False, False, False)),
        ("published on 2024-02-30", None),
        # month and day
        ("on February 20", (D(2024, 2, 20), D(2024, 2, 20), False, True, False)),  # upcoming
        ("since February 20", (D(2023, 2, 20), D(2023, 2, 20), False, True, False)),  # looks back
        ("on January 27, 2024", (D(2024, 1, 27), D(2024, 1, 27), False, False, False)),
        ("the January 6 committee", None),  # an attribute
        ("may 3 be", None),  # bare and lower case: a modal
        # day and month
        ("on 21 January 2024", (D(2024, 1, 21), D(2024, 1, 21), False, False, False)),
        ("the 3rd of March", (D(2024, 3, 3), D(2024, 3, 3), False, True, False)),
        ("the top 3 March Madness teams", None),
        # month and year
        ("in March 2024", (D(2024, 3, 1), D(2024, 3, 31), False, False, False)),
        ("the January 2024 floods", None),
        # a month alone
        ("in January", (D(2024, 1, 1), D(2024, 1, 31), False, True, False)),
        ("in early Dec.", (D(2023, 12, 1), D(2023, 12, 31), False, True, False)),
        ("Theresa May", None),
        ("since may have", None),
        # years and decades
        ("in 2023", (D(2023, 1, 1), D(2023, 12, 31), False, False, False)),
        ("in the 1990s", (D(1990, 1, 1), D(1999, 12, 31), False, False, False)),
        ("between 2002-2010", (D(2002, 1, 1), D(2010, 12, 31), False, False, True)),
        ("in 2023-24", (D(2023, 1, 1), D(2024, 12, 31), False, False, True)),
        ("in 2010-2002", None),
        ("the 2024 Polar Bear Plunge", None),
        # weekdays
        ("on Monday", (D(2024, 2, 12), D(2024, 2, 12), True, False, False)),
        ("on Wednesday", (WED, WED, True, False, False)),  # asked on a Wednesday: today
        ("last Wednesday", (D(2024, 2, 7), D(2024, 2, 7), True, False, False)),
        ("Super Tuesday", None),
        ("the Sunday Times", None),
        # today, yesterday, ...
        ("yesterday", (D(2024, 2, 13), D(2024, 2, 13), True, False, False)),
        ("last night", (D(2024, 2, 13), D(2024, 2, 13), True, False, False)),
        ("tomorrow", (D(2024, 2, 15), D(2024, 2, 15), True, False, False)),
        ("USA Today", None),
        ("Florida Today", None),
        ("the Today show", None),
        # weekends
        ("over the weekend", (D(2024, 2, 10), D(2024, 2, 11), True, False, False)),
        # relative periods
        ("this week", (D(2024, 2, 8), WED, True, False, False)),
        ("the last days", None),
        # ago
        ("3 days ago", (D(2024, 2, 11), D(2024, 2, 11), True, False, False)),
        ("two weeks ago", (D(2024, 1, 28), D(2024, 2, 3), True, False, False)),
        ("2 months ago", (D(2023, 12, 1), D(2023, 12, 31), True, False, False)),
        ("50 years ago", None),
        ("up 5% from a month ago", None),  # a comparison
    ],
)
def test_resolve_point(text, expected):
    assert _resolved(text) == expected


def test_find_points_keeps_the_times_in_order():
    q = "Did Theresa May speak on Monday or in the 1990s?"
    assert find_points(q, WED) == [
        Point(25, 31, D(2024, 2, 12), D(2024, 2, 12), True),
        Point(38, 47, D(1990, 1, 1), D(1999, 12, 31), False),
    ]


# --- ranges, bounds, windows ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ref", "expected"),
    [
        ("between Jan 5 and Jan 20", WED, (D(2024, 1, 20), False)),  # the next point
        ("from Jan 5 to 20", WED, (D(2024, 1, 20), False)),  # a bare day: the first point's month
        ("between Jan 25 and 3", WED, None),  # a bare day before the first
        ("from Feb 10 to 30", WED, None),  # no such day
        ("from Monday to Wednesday", WED, (WED, True)),
    ],
)
def test_range_end(text, ref, expected):
    points = find_points(text, ref)
    last = range_end(text, points[0], points[1] if len(points) > 1 else None)
    assert (None if last is None else (last.until, last.relative)) == expected


@pytest.mark.parametrize(
    ("text", "ref", "expected"),
    [
        ("since March 1", WED, [Candidate(3, 0, 13, D(2023, 3, 1), None, "window")]),
        ("since Monday", TUE, [Candidate(3, 0, 12, D(2026, 1, 19), None, "recent")]),
        ("since 2030", WED, []),  # looks back on nothing
        ("after Jan. 15", WED, [Candidate(3, 0, 13, D(2024, 1, 16), None, "window")]),
        ("before Jan. 15", WED, [Candidate(3, 0, 14, None, D(2024, 1, 14), "window")]),
        ("prior to 2023", WED, [Candidate(3, 0, 13, None, D(2022, 12, 31), "window")]),
        ("until January 10", TUE, [Candidate(3, 0, 16, None, D(2026, 1, 10), "window")]),
        ("in January", WED, [Candidate(2, 0, 10, D(2024, 1, 1), D(2024, 1, 31), "window")]),
        ("this week", WED, [Candidate(1, 0, 9, D(2024, 2, 8), WED, "recent")]),
        ("between Jan 5 and Jan 20", WED, [Candidate(4, 0, 24, D(2024, 1, 5), D(2024, 1, 20), "window")]),
        # a yearless start takes the year of the end, or the year before when it would run backwards
        ("from August 15th to August 18th, 2024", TUE,
         [Candidate(4, 0, 37, D(2024, 8, 15), D(2024, 8, 18), "window")]),
        ("between December 20 and January 5", TUE,
         [Candidate(4, 0, 33, D(2025, 12, 20), D(2026, 1, 5), "window")]),
        # weekdays a week apart at most: the start goes back a week
        ("between Monday and Wednesday", TUE, [Candidate(4, 0, 28, D(2026, 1, 12), D(2026, 1, 14), "recent")]),
        ("between 1900 and 2000 troops", WED, []),
        ("between 2020 and 2022", WED, [Candidate(4, 0, 21, D(2020, 1, 1), D(2022, 12, 31), "window")]),
    ],  # fmt: skip
)
def test_point_candidates(text, ref, expected):
    assert list(point_candidates(text, find_points(text, ref), ref)) == expected


def test_newest_candidates():
    assert list(newest_candidates("The latest and most recent news, recently")) == [
        Candidate(0, 4, 10, None, None, "recent"),
        Candidate(0, 15, 26, None, None, "recent"),
        Candidate(0, 33, 41, None, None, "recent"),
    ]
    assert list(newest_candidates("What is the capital of Australia?")) == []


def test_candidates_are_the_points_then_the_newest():
    q = "The latest since March 1"
    assert list(candidates(q, find_points(q, WED), WED)) == [
        Candidate(3, 11, 24, D(2023, 3, 1), None, "window"),
        Candidate(0, 4, 10, None, None, "recent"),
    ]


def test_choose_the_highest_rank_and_the_first_among_equals():
    first = Candidate(2, 0, 5, D(2024, 1, 1), D(2024, 1, 31), "window")
    second = Candidate(2, 10, 15, D(2023, 3, 1), D(2023, 3, 31), "window")
    bound = Candidate(3, 20, 30, D(2023, 3, 1), None, "window")
    latest = Candidate(0, 0, 6, None, None, "recent")
    assert choose([latest, first, second]) == first
    assert choose([latest, first, second, bound]) == bound
    assert choose([]) is None


# --- the dates a question across articles names -----------------------------------------------------


def test_calendar_dates():
    q = "Between the report published on October 4, 2023, and the one on Oct. 6th, what changed?"
    assert calendar_dates(q, WED) == [
        (32, 47, D(2023, 10, 4), D(2023, 10, 4)),
        (64, 72, D(2023, 10, 6), D(2023, 10, 6)),
    ]
    # A day without a year is the last one on or before the reference, never the upcoming one.
    assert calendar_dates("the report of February 20", WED) == [(14, 25, D(2023, 2, 20), D(2023, 2, 20))]
    assert calendar_dates("in March 2023, on 9 November 2023 and on 2023-10-04", WED) == [
        (3, 13, D(2023, 3, 1), D(2023, 3, 31)),
        (18, 33, D(2023, 11, 9), D(2023, 11, 9)),
        (41, 51, D(2023, 10, 4), D(2023, 10, 4)),
    ]
    assert calendar_dates("the March 2023 report", WED) == []  # an attribute, as in parse_time_scope
    # Not relative times, years, weekdays or a month named alone.
    assert calendar_dates("this week, in 2023, on Monday and in January", WED) == []


def test_this_with_a_count_of_days_is_no_period_and_no_crash():
    # It raised KeyError('day') before, and the question failed with it.
    from assistant.understanding.timescope import parse_time_scope

    ref = date(2024, 2, 14)
    assert parse_time_scope("What happens this 2 days?", ref) is None
    assert parse_time_scope("What did they say this one day?", ref) is None


def test_a_named_period_filters_with_a_margin_and_a_stated_bound_exactly():
    from assistant.answer import SearchFilters
    from assistant.understanding.timescope import parse_time_scope, preferred_window, search_window
    from assistant.understanding.timescope.filters import EVENT_MARGIN_DAYS

    ref = date(2024, 2, 14)
    january = parse_time_scope("What happened in January?", ref)
    window = search_window(None, january)
    assert EVENT_MARGIN_DAYS == 7
    assert (window.since, window.until) == (date(2023, 12, 25), date(2024, 2, 7))  # January, a week each side
    since = search_window(SearchFilters(source="Harbor Gazette"), parse_time_scope("What changed since January 5?", ref))
    assert (since.since, since.until, since.source) == (date(2024, 1, 5), None, "Harbor Gazette")
    # A relative time prefers its window and does not filter by it.
    this_week = parse_time_scope("What happened this week?", ref)
    assert search_window(None, this_week) is None
    assert (preferred_window(this_week).since, preferred_window(this_week).until) == (date(2024, 2, 8), ref)
    assert preferred_window(january) is None and preferred_window(None) is None
