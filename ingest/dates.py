"""Publication dates as every loader stores them: ``YYYY-MM-DD`` or "" when unknown, and the warning an
article without one gets."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import PurePath

from dateutil import parser as date_parser

from ingest.article import UNDATED, Article, LoadWarning

# How to date an article, by the format it was read from (a URL gets no advice: its page is not ours to edit).
_FRONT_MATTER = "give it front matter with 'published_at: YYYY-MM-DD' (between '---' lines at the top)"
_JSON_FIELD = 'give it a "published_at": "YYYY-MM-DD" field'
_HTML_META = 'give the page <meta property="article:published_time" content="YYYY-MM-DD">'
_HOW_TO_DATE = {
    ".md": _FRONT_MATTER,
    ".markdown": _FRONT_MATTER,
    ".txt": _FRONT_MATTER,
    ".json": _JSON_FIELD,
    ".jsonl": _JSON_FIELD,
    ".html": _HTML_META,
    ".htm": _HTML_META,
}


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


def undated_warnings(article: Article, given: object = None, line: int | None = None, where: str = "") -> list[LoadWarning]:
    """The warning for an article without a usable published date (``[]`` for a dated one).

    Why warn: retrieval prefers newer articles and filters by date when a question names a period, so
    an undated article gains nothing from recency and drops out of such questions. Ingested silently
    beside dated articles it is rarely cited, and nobody learns why. ``given`` is the date as written,
    when there was one that could not be read; ``line`` the JSONL line, ``where`` the item of a JSON list.
    """
    if article.published_at:
        return []
    if given is None or str(given).strip() == "":
        problem = "no published date"
    else:
        problem = f"published date {str(given).strip()!r} cannot be read as a date with a year"
    message = f"{problem}, so it is ranked as neither new nor old, and left out when a question names a period"
    how = _how_to_date(article.path)
    message = (f"{where}: " if where else "") + message + (f"; {how}" if how else "")
    return [LoadWarning(path=article.path, message=message, line=line, kind=UNDATED)]


def _how_to_date(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return ""
    return _HOW_TO_DATE.get(PurePath(path).suffix.lower(), "")
