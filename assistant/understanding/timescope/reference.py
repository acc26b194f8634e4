"""The day a question's relative time words ("this week", "yesterday") count from."""

from __future__ import annotations

import datetime as dt

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
