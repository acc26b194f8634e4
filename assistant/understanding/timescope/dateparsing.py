"""dateparser's reading of one calendar phrase ("January 5", "March 2024", "last Tuesday").

dateparser is imported on first use (it takes a fraction of a second), with a fixed language
(English: no language detection), ``RELATIVE_BASE`` = the reference day and
``PREFER_DATES_FROM="past"``; its language data is in the package (no network). A parse costs well
under a millisecond per phrase once warm. Only calendar expressions go through it: which window a
relative period means is decided in :mod:`.periods`.
"""

from __future__ import annotations

import datetime as dt
import threading
from functools import lru_cache
from typing import Literal

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
def parse_date(text: str, reference: dt.date, want: Literal["day", "month", "weekday"]) -> dt.date | None:
    """dateparser's reading of one phrase: the day it names, or the first day of the month it names."""
    parser = _parsers(reference)[want]
    with _lock:
        data = parser.get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    if want == "month":
        return data.date_obj.date().replace(day=1) if data.period == "month" else None
    return data.date_obj.date() if data.period == "day" else None
