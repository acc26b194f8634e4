"""Request and response models of the HTTP API (they are its OpenAPI schema, examples included).

The engine's own types (``Answer``, ``Source``, ``Turn``) are rendered as they are. Limits that come
from settings (question length, history turns) are built into the request models by
:func:`ask_request_model`, so the published schema states exactly what the server accepts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, create_model, field_validator

from assistant.answer import Answer, SearchFilters, Source, Turn

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


TopK = Annotated[int, Field(ge=1, le=50), BeforeValidator(_json_integer)]


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


class IngestRequest(BaseModel):
    """Articles in the JSON article format that ``newsdesk ingest`` reads from .json/.jsonl files."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
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
                }
            ]
        },
    )

    articles: list[dict[str, Any]] = Field(
        description=(
            "Each an object with `text` (or `body`, required) and optional `id`, `title`, `url`, "
            "`published_at` (or `date`), `source`, `authors`. Without `id` and `url`, the id is derived "
            "from the text. An article that cannot be read is reported in `failed`; the others are ingested."
        ),
    )


class IngestFailure(BaseModel):
    index: int = Field(description="Position of the article in the request's `articles`.")
    error: str


class IngestResponse(BaseModel):
    """The ingest summary: what changed in the store."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"added": 1, "updated": 0, "unchanged": 0, "deleted": 0, "chunks": 2, "ids": ["wire-2025-0412"], "failed": []}
            ]
        }
    )

    added: int
    updated: int
    unchanged: int
    deleted: int
    chunks: int = Field(description="Chunks embedded and written by this request.")
    ids: list[str] = Field(default_factory=list, description="Ids of the accepted articles, in request order.")
    failed: list[IngestFailure]


class DeleteResponse(BaseModel):
    deleted: str = Field(description="Id of the removed document.")


# ---------------------------------------------------------------------------------------- health


class Health(BaseModel):
    status: Literal["ok"] = "ok"


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
    "IngestRequest",
    "IngestResponse",
]
