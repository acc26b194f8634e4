"""Time in questions: "this week", "in January", "since March 1", "the latest" -> a ``TimeScope``.

Exports :func:`parse_time_scope` (the scope a question's time words give), :func:`calendar_dates`
(the days and months a question names in full, for questions across articles), :func:`reference_date`
(the day relative words count from) and :func:`warm_up` (dateparser's first-use cost paid at
start-up). The rules are in :mod:`.parser`; each step is its own module:

* :mod:`.patterns` — what time phrases look like (regexes, word lists);
* :mod:`.words` — the words around a phrase (the preposition before it, what follows a year, counts);
* :mod:`.points` — find and resolve: each phrase -> the period it names, one step per kind;
* :mod:`.dateparsing` — dateparser's reading of a calendar phrase (imported lazily, one at a time);
* :mod:`.periods` — calendar arithmetic for relative periods, weekends, months, upcoming days;
* :mod:`.candidates` — rank (range, bound, window, newest) and choose one scope;
* :mod:`.reference` — the reference day;
* :mod:`.filters` — a scope as search filters: the window a period filters by, the one a relative time prefers.

Only the engine and the understanding/answering parts may import this package, and it imports
nothing from ``assistant.engine``, ``assistant.api``, ``assistant.slack`` or ``assistant.cli``.
"""

from __future__ import annotations

from assistant.understanding.timescope.filters import preferred_window, search_window
from assistant.understanding.timescope.parser import calendar_dates, parse_time_scope, warm_up
from assistant.understanding.timescope.periods import UPCOMING_DAYS
from assistant.understanding.timescope.reference import ARCHIVE_AFTER_DAYS, reference_date

__all__ = [
    "ARCHIVE_AFTER_DAYS",
    "UPCOMING_DAYS",
    "calendar_dates",
    "parse_time_scope",
    "preferred_window",
    "reference_date",
    "search_window",
    "warm_up",
]
