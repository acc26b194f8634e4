"""Request and response models of the HTTP API (they are its OpenAPI schema, examples included).

The engine's own types (``Answer``, ``Source``, ``Turn``) are rendered as they are. Limits that come
from settings (question length, history turns) are built into the request models by
:func:`ask_request_model`, so the published schema states exactly what the server accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, create_model, field_validator

from assistant.answer import TOP_K_MAX, TOP_K_MIN, Answer, SearchFilters, Source, Turn

# Non-blank: at least one character that is not whitespace. Checked with Python's `re` (the engine
# strips with Python's idea of whitespace), and published as the schema's `pattern`.
NON_BLANK = r"\S"

EXAMPLE_QUESTION = "What did Canada promise in the Ukraine security guarantees?"


# ------------------------------------------------------------------------------------------ errors


class ErrorDetail(BaseModel):
    field: str = Field(description="The request field at fault, e.g. `question` or `history[2].role`.")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable: validation_error, unauthorized, not_found, ...")
    message: str = Field(description="For people; names the field for validation errors.")
    details: list[ErrorDetail] | None = Field(default=None, description="One entry per invalid field (422 only).")


class ErrorResponse(BaseModel):
    error: ErrorBody

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": {"code": "validation_error", "message": "question: must not be empty"}}]}
    )


# ------------------------------------------------------------------------------------------- ask


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


class AskRequest(BaseModel):
    """Base of the ``AskRequest`` model that :func:`ask_request_model` builds with the configured limits."""

    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={
            "examples": [
                {"question": EXAMPLE_QUESTION},
                {
                    "question": "And what about France?",
                    "history": [
                        {"role": "user", "content": EXAMPLE_QUESTION},
                        {"role": "assistant", "content": "Canada pledged ... [1]"},
                    ],
                    "top_k": 5,
                    "filters": {"since": "2025-01-01"},
                    "stream": False,
                },
            ]
        },
    )

    question: str
    history: list[Turn] = Field(default_factory=list)
    top_k: TopK | None = Field(default=None, description="Chunks handed to the answerer (default from settings).")
    filters: Filters | None = None
    stream: StrictBool = Field(default=False, description="Answer as Server-Sent Events instead of one JSON object.")

    def engine_args(self) -> tuple:
        """(question, history, top_k, filters) for ``Engine.ask`` / ``Engine.stream``."""
        filters = self.filters.to_engine() if self.filters is not None else None
        return self.question, list(self.history), self.top_k, filters


def ask_request_model(max_question_chars: int, max_history_turns: int) -> type[AskRequest]:
    return create_model(
        "AskRequest",
        __base__=AskRequest,
        __doc__="A question, with the earlier turns of the conversation when it is a follow-up.",
        question=(
            Annotated[str, Field(min_length=1, max_length=max_question_chars, pattern=NON_BLANK)],
            Field(description="The question (not blank).", examples=[EXAMPLE_QUESTION]),
        ),
        history=(
            Annotated[list[Turn], Field(max_length=max_history_turns)],
            Field(
                default_factory=list,
                description="Earlier turns, oldest first; a follow-up is understood in their context.",
            ),
        ),
    )


def _sse_event(event: str | None, data: dict) -> dict:
    """One Server-Sent Event as OpenAPI describes it: its ``event`` name and its JSON ``data``."""
    properties: dict[str, Any] = {
        "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data}
    }
    if event:
        properties["event"] = {"const": event}
    return {"type": "object", "required": ["data", *(["event"] if event else [])], "properties": properties}


_SOURCES_REF = {"type": "array", "items": {"$ref": "#/components/schemas/Source"}}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}

# The events of `POST /v1/ask` with "stream": true (one schema per event, as Open API 3.1 reads it).
ASK_EVENT_SCHEMA = {
    "anyOf": [
        _sse_event("sources", {"type": "object", "required": ["sources"], "properties": {"sources": _SOURCES_REF}}),
        _sse_event("delta", {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}),
        _sse_event("done", {"$ref": "#/components/schemas/Answer"}),
        _sse_event("error", _ERROR_REF),
    ]
}

_CHUNK = {
    "type": "object",
    "required": ["id", "object", "created", "model", "choices"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "chat.completion.chunk"},
        "created": {"type": "integer"},
        "model": {"type": "string"},
        "choices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "delta", "finish_reason"],
                "properties": {
                    "index": {"type": "integer"},
                    "delta": {
                        "type": "object",
                        "properties": {"role": {"const": "assistant"}, "content": {"type": "string"}},
                    },
                    "finish_reason": {"enum": ["stop", None]},
                },
            },
        },
        "sources": _SOURCES_REF,
    },
}

# The events of `POST /v1/chat/completions` with "stream": true: OpenAI's chunks, then `[DONE]`.
CHAT_EVENT_SCHEMA = {
    "anyOf": [
        _sse_event(None, _CHUNK),
        _sse_event(None, _ERROR_REF),
        {"type": "object", "required": ["data"], "properties": {"data": {"const": "[DONE]"}}},
    ]
}

SSE_EXAMPLE = (
    "event: sources\n"
    'data: {"sources": [{"n": 1, "article_id": "sample-guarantees-overview", "title": "...", "url": "", '
    '"published_at": "2025-09-04", "quote": "..."}]}\n\n'
    "event: delta\n"
    'data: {"text": "Canada pledged ... [1] "}\n\n'
    "event: done\n"
    'data: {"question": "...", "answer": "Canada pledged ... [1]", "sources": [...], ...}\n\n'
)


# ------------------------------------------------------------------------- OpenAI-compatible chat


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: StrictStr = Field(description="Only `text` parts are read; others are ignored.")
    text: StrictStr | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[ContentPart] | None = None
    name: StrictStr | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completions request. The last user message is the question, earlier user and
    assistant messages are the conversation, system messages are ignored; other OpenAI parameters
    (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "newsdesk",
                    "messages": [
                        {"role": "system", "content": "You are helpful."},
                        {"role": "user", "content": EXAMPLE_QUESTION},
                    ],
                    "stream": False,
                }
            ]
        },
    )

    model: StrictStr = Field(default="newsdesk", description="Echoed back; Newsdesk has one model.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False
    top_k: TopK | None = Field(default=None, description="Newsdesk extension: chunks handed to the answerer.")
    filters: Filters | None = Field(default=None, description="Newsdesk extension: search filters.")


class ChatResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatResponseMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    """OpenAI's ``chat.completion`` object, plus ``sources``: the numbered sources of the [n] markers."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "chatcmpl-0f1e2d",
                    "object": "chat.completion",
                    "created": 1767225600,
                    "model": "newsdesk",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "Canada pledged ... [1]"},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "sources": [
                        {"n": 1, "article_id": "sample-guarantees-overview", "title": "...", "url": "", "published_at": "2025-09-04", "quote": "..."}
                    ],
                }
            ]
        }
    )

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    sources: list[Source] = Field(default_factory=list, description="Newsdesk extension: the answer's numbered sources.")


CHAT_SSE_EXAMPLE = (
    'data: {"id": "chatcmpl-0f1e2d", "object": "chat.completion.chunk", "created": 1767225600, "model": "newsdesk", '
    '"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}], "sources": [...]}\n\n'
    'data: {"id": "chatcmpl-0f1e2d", "object": "chat.completion.chunk", ..., "choices": [{"index": 0, "delta": {"content": "Canada pledged ... [1] "}, "finish_reason": null}]}\n\n'
    'data: {"id": "chatcmpl-0f1e2d", "object": "chat.completion.chunk", ..., "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
    "data: [DONE]\n\n"
)


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "newsdesk"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ------------------------------------------------------------------------------------- documents


class Document(BaseModel):
    """One ingested article (its text lives in the store as chunks)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "https://example.org/newsdesk-sample/france-uk-troop-pledges",
                    "title": "France and the UK pledge troops",
                    "url": "https://example.org/newsdesk-sample/france-uk-troop-pledges",
                    "published_at": "2025-09-04",
                    "source": "Example Wire",
                    "chunks": 3,
                }
            ]
        }
    )

    id: str = Field(description="Stable id: the article's own id, else its url, else where it came from.")
    title: str
    url: str = ""
    published_at: str = Field(default="", description="YYYY-MM-DD, or empty when unknown.")
    source: str = ""
    chunks: int = Field(description="Chunks indexed for this article.")


class DocumentList(BaseModel):
    total: int = Field(description="Documents in the store (all pages).")
    offset: int
    limit: int
    items: list[Document]


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


class IngestRequest(BaseModel):
    """Articles in the JSON article format that ``newsdesk ingest`` reads from .json/.jsonl files,
    and/or URLs to fetch them from (article pages, feeds, sitemaps, home pages)."""

    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={
            # One of the two at least (both is fine).
            "anyOf": [{"required": ["articles"]}, {"required": ["urls"]}, {"required": ["url_lines"]}],
            "examples": [
                {
                    "articles": [
                        {
                            "id": "wire-2025-0412",
                            "title": "City opens new library",
                            "url": "https://example.org/news/library",
                            "published_at": "2025-04-12",
                            "source": "Example Wire",
                            "text": "The city opened its new library on Saturday ...",
                        }
                    ]
                },
                {"urls": ["https://example.org/news/rss.xml", "https://example.org/news/2025/04/library-opens.html"]},
                {"url_lines": ["https://example.org/news/rss.xml", "", "example.org/news/library-opens"]},
            ],
        },
    )

    articles: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Each an object with `text` (or `body`, required) and optional `id`, `title`, `url`, "
            "`published_at` (or `date`), `source`, `authors`. Without `id` and `url`, the id is derived "
            "from the text. An article that cannot be read is reported in `failed`; the others are ingested."
        ),
    )
    urls: list[WebUrl] = Field(
        default_factory=list,
        max_length=MAX_URLS_PER_REQUEST,
        description=(
            "URLs to fetch and extract, like `newsdesk ingest URL...`: an article page is one article; a "
            "feed (RSS/Atom), a sitemap or a home page (through the feeds it links) is the stories it "
            "lists. A URL that cannot be fetched or read is reported in `failed` with its `url`; the "
            "others are ingested. Private and loopback addresses are refused unless "
            "NEWSDESK_FETCH_ALLOW_PRIVATE is set. One URL that is not http(s) makes the request a 422 "
            "(nothing is fetched); `url_lines` reports it apart instead."
        ),
    )
    url_lines: list[StrictStr] = Field(
        default_factory=list,
        max_length=MAX_URL_LINES,
        description=(
            "URLs as a person typed them, one item per line of a text box (the web page's \"Add articles\"). "
            "Each is trimmed and a blank one skipped; one that is not an http(s) URL is listed in `failed` "
            "with its `line` (its 1-based position here) while the others are fetched like `urls`, and a "
            f"failed fetch is listed with its `line` too. At most {MAX_URLS_PER_REQUEST} URLs in `urls` and "
            "`url_lines` together."
        ),
    )


class IngestFailure(BaseModel):
    index: int | None = Field(
        default=None, description="Position of the article in the request's `articles`; null for a URL."
    )
    url: str | None = Field(
        default=None, description="The URL that failed (one of `urls`, or a page a feed listed); null for an article."
    )
    line: int | None = Field(
        default=None, description="The 1-based item of `url_lines` that failed (not a URL, or not fetched); null otherwise."
    )
    error: str


class IngestWarning(BaseModel):
    url: str = Field(description="The URL the warning is about.")
    message: str = Field(description="Read and ingested, but something looked wrong (say a body far shorter than its page).")


class IngestResponse(BaseModel):
    """The ingest summary: what changed in the store."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"added": 1, "updated": 0, "unchanged": 0, "deleted": 0, "chunks": 2, "ids": ["wire-2025-0412"], "failed": [], "warnings": []},
                {
                    "added": 2,
                    "updated": 0,
                    "unchanged": 1,
                    "deleted": 0,
                    "chunks": 7,
                    "ids": ["https://example.org/news/a", "https://example.org/news/b", "https://example.org/news/c"],
                    "failed": [{"index": None, "url": "https://example.org/news/gone", "error": "HTTP 404 Not Found"}],
                    "warnings": [],
                },
            ]
        }
    )

    added: int
    updated: int
    unchanged: int
    deleted: int
    chunks: int = Field(description="Chunks embedded and written by this request.")
    ids: list[str] = Field(
        default_factory=list, description="Ids of the accepted articles: `articles` in request order, then those read from `urls`."
    )
    failed: list[IngestFailure]
    warnings: list[IngestWarning] = Field(default_factory=list)


class DeleteResponse(BaseModel):
    deleted: str = Field(description="Id of the removed document.")


# ----------------------------------------------------------------------------------------- feeds

EXAMPLE_FEED_URL = "https://example.org/news/rss.xml"


class Feed(BaseModel):
    """One feed subscription and how its syncs went (kept in the store, shared by every process)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": EXAMPLE_FEED_URL,
                    "name": "Example Wire",
                    "status": "ok",
                    "added_at": "2026-03-02T09:00:00+00:00",
                    "last_attempt": "2026-03-06T12:30:00+00:00",
                    "last_success": "2026-03-06T12:30:00+00:00",
                    "last_error": "",
                    "failures": 0,
                    "next_due": "",
                    "entries_seen": 20,
                    "etag": '"5f1c-61a"',
                    "last_modified": "Fri, 06 Mar 2026 12:20:00 GMT",
                }
            ]
        }
    )

    url: str = Field(description="The subscribed URL (RSS, Atom, a sitemap or a home page).")
    name: str = ""
    status: Literal["new", "ok", "failing"] = Field(description="`new`: never synced; `failing`: the last sync failed.")
    added_at: str = Field(default="", description="When it was subscribed (ISO 8601, UTC).")
    last_attempt: str = ""
    last_success: str = ""
    last_error: str = Field(default="", description="Why the last sync failed; empty after a success.")
    failures: int = Field(default=0, description="Failed syncs in a row.")
    next_due: str = Field(default="", description="A failing feed is left alone by scheduled syncs until then; empty when due.")
    entries_seen: int = Field(default=0, description="Entries the feed listed at its last successful sync.")
    etag: str = Field(default="", description="The feed's validators, sent back so an unchanged feed costs a 304.")
    last_modified: str = ""


class FeedList(BaseModel):
    total: int
    items: list[Feed] = Field(description="Oldest subscription first.")


class FeedAddRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", regex_engine="python-re", json_schema_extra={"examples": [{"url": EXAMPLE_FEED_URL, "name": "Example Wire"}]}
    )

    url: WebUrl = Field(description="The feed's URL: RSS, Atom, a sitemap, or a home page (its feeds are found).")
    name: StrictStr = Field(default="", max_length=200, description="A name to list it by; given again, it renames.")


class FeedDeleteResponse(BaseModel):
    deleted: str = Field(description="The URL no longer subscribed.")


class FeedSyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"urls": [EXAMPLE_FEED_URL]}]})

    urls: list[Annotated[StrictStr, Field(min_length=1, max_length=MAX_URL_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_URLS_PER_REQUEST,
        description="Only these subscriptions (each must be subscribed); absent or empty: every one.",
    )


class FeedSyncResult(BaseModel):
    url: str
    status: Literal["ok", "not_modified", "failed", "skipped"] = Field(
        description="`not_modified`: the feed answered 304, nothing was fetched again; `failed`: see `error`."
    )
    added: int
    updated: int
    unchanged: int
    error: str = Field(default="", description="Why the feed could not be read (`failed`).")
    problems: list[str] = Field(
        default_factory=list, description="Read, but some entries had trouble: a page that failed, an entry stored from the feed's own text."
    )


class SyncResponse(BaseModel):
    """What one sync did: totals over the feeds, then each feed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": 3,
                    "updated": 0,
                    "unchanged": 0,
                    "failed": 0,
                    "feeds": [
                        {"url": EXAMPLE_FEED_URL, "status": "ok", "added": 3, "updated": 0, "unchanged": 0, "error": "", "problems": []}
                    ],
                }
            ]
        }
    )

    added: int
    updated: int
    unchanged: int
    failed: int = Field(description="Feeds that failed.")
    feeds: list[FeedSyncResult]


# ---------------------------------------------------------------------------------------- health


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(default="ok", description="`degraded`: alive, but the store does not answer.")
    error: ErrorBody | None = Field(default=None, description="What does not answer (only when `degraded`).")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool] = Field(description="`store`: the store answers; `models`: the engine is loaded.")
    error: ErrorBody | None = None


__all__ = [
    "Answer",
    "AskRequest",
    "ask_request_model",
    "ChatCompletion",
    "ChatCompletionRequest",
    "Document",
    "DocumentList",
    "ErrorResponse",
    "Feed",
    "FeedList",
    "SyncResponse",
    "IngestRequest",
    "IngestResponse",
]
