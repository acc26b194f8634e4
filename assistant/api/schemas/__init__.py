"""Request and response models of the HTTP API (they are its OpenAPI schema, examples included).

The engine's own types (``Answer``, ``Source``, ``Turn``) are rendered as they are. Limits that come
from settings (question length, history turns) are built into the request models by
:func:`ask_request_model`, so the published schema states exactly what the server accepts.

One module per area of the API: :mod:`.ask` (``POST /v1/ask``), :mod:`.chat` (the OpenAI-compatible
chat and models), :mod:`.documents` (``/v1/documents``), :mod:`.feeds` (``/v1/feeds``, ``/v1/feeds/sync``),
:mod:`.health` (``/healthz``, ``/readyz``), :mod:`.errors` (the error envelope of every route);
:mod:`.shared` holds what ask and chat share (``top_k``, ``filters``, the SSE event shape) and
:mod:`.urls` what the API takes as a URL.

Every public name is re-exported here: the routes (``assistant.api.routes_*``), ``assistant.api.errors``
and the CLI import them from ``assistant.api.schemas``, not from the modules beneath it.
"""

from assistant.answer import Answer
from assistant.api.schemas.ask import ASK_EVENT_SCHEMA, SSE_EXAMPLE, AskRequest, ask_request_model
from assistant.api.schemas.chat import (
    CHAT_EVENT_SCHEMA,
    CHAT_SSE_EXAMPLE,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    ChatResponseMessage,
    ContentPart,
    ModelCard,
    ModelList,
)
from assistant.api.schemas.documents import (
    DeleteResponse,
    Document,
    DocumentList,
    IngestFailure,
    IngestRequest,
    IngestResponse,
    IngestWarning,
)
from assistant.api.schemas.errors import ErrorBody, ErrorDetail, ErrorResponse
from assistant.api.schemas.feeds import (
    EXAMPLE_FEED_URL,
    Feed,
    FeedAddRequest,
    FeedDeleteResponse,
    FeedList,
    FeedSyncRequest,
    FeedSyncResult,
    SyncResponse,
)
from assistant.api.schemas.health import Health, Readiness
from assistant.api.schemas.shared import EXAMPLE_QUESTION, NON_BLANK, Filters, TopK
from assistant.api.schemas.urls import (
    MAX_URL_CHARS,
    MAX_URL_LINES,
    MAX_URLS_PER_REQUEST,
    WEB_URL_PATTERN,
    WebUrl,
    checked_web_url,
)

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
