"""Publication dates as every loader stores them: ``YYYY-MM-DD`` or "" when unknown."""

from __future__ import annotations

from datetime import date, datetime

from dateutil import parser as date_parser


def normalise_date(value: object) -> str:
    """Best-effort ``YYYY-MM-DD`` for a publication date, or "" when it cannot be known.

    Dates only feed filtering and display, so an unparseable value degrades to "unknown" instead of
    failing the article. A value without a year (e.g. "January 5") is treated as unknown rather than
    guessed. Timestamps with an offset keep the calendar date as written (no conversion to UTC).
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return ""
    try:
        parsed = date_parser.parse(text, default=datetime(1, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return ""
    return "" if parsed.year == 1 else parsed.date().isoformat()
