"""What the API takes as a URL to fetch (``POST /v1/documents``, ``POST /v1/feeds``): how many, how
long, and the pattern it is checked against and publishes."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

# At most this many URLs in one request: each is fetched (and a feed's pages with it) while the request waits.
MAX_URLS_PER_REQUEST = 50
MAX_URL_CHARS = 2000
MAX_URL_LINES = 200  # lines of a text box, blank ones included: at most MAX_URLS_PER_REQUEST of them URLs

# What the API takes for a URL: http:// or https://, a host part in ASCII (international names in
# their xn-- form; no [IPv6] literals), then a path without spaces or control characters. Whatever else
# can go wrong with a URL (a name that does not resolve, a private address, a 404) is found when it is
# fetched and reported beside the others, never as a 422.
# The characters refused after the host are listed, not written \s: Python's \s and a JSON Schema
# validator's (ECMA) differ (U+0085, U+FEFF), and the published pattern must refuse what this one does.
WEB_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:@-]+"
    r"(?:[/?#][^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*)?$"
)
_WEB_URL = re.compile(WEB_URL_PATTERN)


def _web_url(value: str) -> str:
    if not _WEB_URL.match(value):
        shown = value if len(value) <= 200 else value[:200] + "..."
        raise ValueError(f"{shown!r} is not an http:// or https:// URL with a host")
    return value


def checked_web_url(value: str) -> str:
    """``value`` when it is a URL the API fetches (as an item of ``urls`` must be), else ValueError naming it."""
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"{value[:200] + '...'!r} is longer than {MAX_URL_CHARS} characters")
    return _web_url(value)


# The pattern is checked by `_web_url` (so the message names the URL) and published as the schema's `pattern`.
WebUrl = Annotated[
    StrictStr,
    Field(min_length=1, max_length=MAX_URL_CHARS, json_schema_extra={"pattern": WEB_URL_PATTERN}),
    AfterValidator(_web_url),
]
