"""``POST /v1/chat/completions`` and ``GET /v1/models``: OpenAI's chat-completions shapes, with
Newsdesk's extensions (``top_k``, ``filters`` in the request; ``sources`` in the reply)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from assistant.answer import Source
from assistant.api.schemas.shared import ERROR_REF, SOURCES_REF, EXAMPLE_QUESTION, Filters, TopK, sse_event

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
        "sources": SOURCES_REF,
    },
}

# The events of `POST /v1/chat/completions` with "stream": true: OpenAI's chunks, then `[DONE]`.
CHAT_EVENT_SCHEMA = {
    "anyOf": [
        sse_event(None, _CHUNK),
        sse_event(None, ERROR_REF),
        {"type": "object", "required": ["data"], "properties": {"data": {"const": "[DONE]"}}},
    ]
}


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
