"""Calendar arithmetic on the reference day: relative periods, weekends, months, upcoming days.

dateparser gives one instant for "this week" or "the past 10 days"; which window such a phrase
means (a rolling week, the previous calendar month) is decided here, in plain date arithmetic.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from assistant.understanding.timescope.words import number

# A day without a year that falls this few days after the reference is the upcoming one.
UPCOMING_DAYS = 30

ONE_DAY = dt.timedelta(days=1)


def weekend(direction: str, ref: dt.date) -> dt.date:
    """The Saturday of the weekend meant."""
    wd = ref.weekday()  # Monday 0 .. Sunday 6
    if direction == "this" and wd in (5, 6):
        return ref - dt.timedelta(days=wd - 5)
    if (direction == "this" and wd == 4) or direction in ("next", "coming"):
        return ref + dt.timedelta(days=(5 - wd) % 7 or 7)  # the coming one
    return ref - dt.timedelta(days=(wd - 5) % 7 or 7)  # the one just past: last, past, over the weekend


def relative_period(m: re.Match, ref: dt.date) -> tuple[dt.date, dt.date] | None:
    """"this week", "last month", "the past 10 days", "next year" -> (first day, last day): "this" runs
    to the reference day, "the past/last N" rolls back, bare "last" is the previous calendar period.

    ``m`` is a match of the ``rel`` alternative of :data:`.patterns.POINT`."""
    direction = re.sub(r"\s+", " ", m.group("rel_dir").lower())
    unit = m.group("rel_u").lower()
    plural = unit.endswith("s")
    unit = unit.rstrip("s")
    n_text = m.group("rel_n")
    n = number(n_text) if n_text else 1
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
        # "this 2 days" / "this one day" name no period (and "this day" is turned away above).
        return (first[unit], ref) if unit in first else None
    if direction == "past":
        return shift(ref, unit, -n) + ONE_DAY, ref
    if direction in ("last", "previous"):  # the previous calendar week (Monday to Sunday), month, year
        if unit == "week":
            monday = ref - dt.timedelta(days=ref.weekday() + 7)
            return monday, monday + dt.timedelta(days=6)
        if unit == "month":
            first = add_months(ref.replace(day=1), -1)
            return first, month_end(first)
        return dt.date(ref.year - 1, 1, 1), dt.date(ref.year - 1, 12, 31)
    # next: the next calendar week, month or year; "the next N units" from tomorrow
    if not n_text and unit == "week":
        monday = ref + dt.timedelta(days=7 - ref.weekday())
        return monday, monday + dt.timedelta(days=6)
    if not n_text and unit == "month":
        first = add_months(ref.replace(day=1), 1)
        return first, month_end(first)
    if not n_text and unit == "year":
        return dt.date(ref.year + 1, 1, 1), dt.date(ref.year + 1, 12, 31)
    return ref + ONE_DAY, shift(ref, unit, n)


def upcoming_or_past(day: dt.date, ref: dt.date, look_back: bool) -> dt.date:
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


def with_year(day: dt.date, year: int) -> dt.date:
    """``day`` in another year; 29 February becomes the 28th where that year has none."""
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def month_end(first: dt.date) -> dt.date:
    """The last day of ``first``'s month."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, its day of month clipped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def shift(day: dt.date, unit: str, n: int) -> dt.date:
    """``day`` moved by ``n`` days, weeks, months or years (any other unit counts as years)."""
    if unit == "day":
        return day + dt.timedelta(days=n)
    if unit == "week":
        return day + dt.timedelta(days=7 * n)
    if unit == "month":
        return add_months(day, n)
    return add_months(day, 12 * n)
