"""A question's time scope as search filters: the window a calendar period filters by (with a margin
for previews and reports), and the window a relative time prefers."""

from __future__ import annotations

import datetime as dt

from assistant.answer import SearchFilters, TimeScope

# Days before and after a period named in a question that its previews and reports may be published.
EVENT_MARGIN_DAYS = 7

def search_window(filters: SearchFilters | None, scope: TimeScope | None) -> SearchFilters | None:
    """The user's filters narrowed to the calendar window the question names ("in January")."""
    if scope is None or scope.kind != "window" or scope.upcoming:
        return filters  # an upcoming window has nothing published in it yet: it cannot filter
    merged = (filters or SearchFilters()).model_copy()
    # A date in a question is usually the event's: previews come out before it and reports after it
    # ("the show that began airing on Jan. 7"), so a period keeps a margin on both sides; a bound the
    # question sets itself ("since March 1", "before June") is kept exactly.
    phrase = scope.phrase.lower()
    exact_since = phrase.startswith(("since", "after", "from"))
    exact_until = phrase.startswith(("before", "until", "till", "by "))
    margin = dt.timedelta(days=EVENT_MARGIN_DAYS)
    since = scope.since if exact_since or scope.since is None else scope.since - margin
    until = scope.until if exact_until or scope.until is None else scope.until + margin
    if since and (merged.since is None or since > merged.since):
        merged.since = since
    if until and (merged.until is None or until < merged.until):
        merged.until = until
    return merged


def preferred_window(scope: TimeScope | None) -> SearchFilters | None:
    """The window a relative time ("this week", "yesterday") prefers; None for "the latest", which
    only asks for the newest, or for calendar windows, which filter."""
    if scope is None or scope.kind != "recent" or (scope.since is None and scope.until is None):
        return None
    return SearchFilters(since=scope.since, until=scope.until)
