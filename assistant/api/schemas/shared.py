"""What the question-asking requests share: the non-blank rule and example question, ``top_k`` and
``filters`` (used by ``POST /v1/ask`` and ``POST /v1/chat/completions`` alike), and how a Server-Sent
Event is described in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, field_validator

from assistant.answer import TOP_K_MAX, TOP_K_MIN, SearchFilters

# Non-blank: at least one character that is not whitespace. Checked with Python's `re` (the engine
# strips with Python's idea of whitespace), and published as the schema's `pattern`.
NON_BLANK = r"\S"

EXAMPLE_QUESTION = "What did Canada promise in the Ukraine security guarantees?"


def _json_integer(value: Any) -> Any:
    # A JSON integer (5, or 5.0 which JSON Schema counts as one), never "5" or true.
    if isinstance(value, (str, bool, bytes)):
        raise ValueError("must be an integer")
    return value


TopK = Annotated[int, Field(ge=TOP_K_MIN, le=TOP_K_MAX), BeforeValidator(_json_integer)]


def _strict_date(value: Any) -> Any:
    # JSON has no date type: only "YYYY-MM-DD" strings (or null) are dates here, never numbers.
    if value is not None and not isinstance(value, (str, dt.date)):
        raise ValueError("must be a date as a YYYY-MM-DD string")
    return value


class Filters(BaseModel):
    """Restrict retrieval to a publication date range and/or one source (all optional)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"since": "2025-01-01", "until": "2025-12-31", "source": "Example Wire"}]},
    )

    since: dt.date | None = Field(default=None, description="Published on or after this date (YYYY-MM-DD).")
    until: dt.date | None = Field(default=None, description="Published on or before this date (YYYY-MM-DD).")
    source: StrictStr | None = Field(default=None, description="Only articles whose source is exactly this.")

    _dates = field_validator("since", "until", mode="before")(_strict_date)

    def to_engine(self) -> SearchFilters:
        return SearchFilters(since=self.since, until=self.until, source=self.source)


def sse_event(event: str | None, data: dict) -> dict:
    """One Server-Sent Event as OpenAPI describes it: its ``event`` name and its JSON ``data``."""
    properties: dict[str, Any] = {
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    }
    if event:
        properties["event"] = {"const": event}
    return {"type": "object", "required": ["data", *(["event"] if event else [])], "properties": properties}


SOURCES_REF = {"type": "array", "items": {"$ref": "#/components/schemas/Source"}}
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
