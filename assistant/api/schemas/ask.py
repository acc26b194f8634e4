"""``POST /v1/ask``: the request (its limits built in from settings by :func:`ask_request_model`) and
the events of its streamed answer. The answer itself is the engine's ``Answer``, rendered as it is."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

from assistant.answer import Turn
from assistant.api.schemas.shared import (
    ERROR_REF, SOURCES_REF, EXAMPLE_QUESTION, NON_BLANK, Filters, TopK, sse_event,
)  # fmt: skip


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


# The events of `POST /v1/ask` with "stream": true (one schema per event, as Open API 3.1 reads it).
ASK_EVENT_SCHEMA = {
    "anyOf": [
        sse_event("sources", {"type": "object", "required": ["sources"], "properties": {"sources": SOURCES_REF}}),
        sse_event("delta", {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}),
        sse_event("done", {"$ref": "#/components/schemas/Answer"}),
        sse_event("error", ERROR_REF),
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
