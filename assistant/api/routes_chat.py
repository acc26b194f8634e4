"""``POST /v1/chat/completions`` and ``GET /v1/models``: OpenAI-compatible, so any OpenAI client or chat
UI can use Newsdesk as a model. Sources ride along in an extra top-level ``sources`` field."""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import json
import time
import uuid
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from assistant.answer import Turn
from assistant.api import Services, get_services
from assistant.api.errors import error_responses, invalid, stream_failure
from assistant.api.routes_ask import SSE_HEADERS
from assistant.api.schemas import (
    CHAT_EVENT_SCHEMA,
    CHAT_SSE_EXAMPLE,
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatResponseMessage,
    ModelCard,
    ModelList,
)
from assistant.settings import Settings

MODEL_ID = "newsdesk"


def conversation(body: ChatCompletionRequest, settings: Settings) -> tuple[str, list[Turn]]:
    """(question, history): the last user message, and the user/assistant messages before it."""
    last = next((i for i in range(len(body.messages) - 1, -1, -1) if body.messages[i].role == "user"), None)
    if last is None:
        raise invalid("messages", "must contain a user message (the question)")
    question = body.messages[last].text()
    if not question.strip():
        raise invalid(f"messages[{last}].content", "must not be empty")
    if len(question) > settings.max_question_chars:
        raise invalid(f"messages[{last}].content", f"must be at most {settings.max_question_chars} characters")
    history = [
        Turn(role=m.role, content=m.text()) for m in body.messages[:last] if m.role in ("user", "assistant")
    ]
    if len(history) > settings.max_history_turns:
        raise invalid("messages", f"must have at most {settings.max_history_turns} user/assistant turns before the question")
    return question, history


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["openai-compatible"])

    @router.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        summary="Chat completion (OpenAI-compatible)",
        responses={
            200: {
                "description": "A `chat.completion`; with `\"stream\": true`, `chat.completion.chunk` events ending with `data: [DONE]`.",
                "content": {"text/event-stream": {"schema": CHAT_EVENT_SCHEMA, "example": CHAT_SSE_EXAMPLE}},
            },
            **error_responses(401, 413, 422, 500, 503),
        },
    )
    async def chat_completions(
        body: ChatCompletionRequest, request: Request, services: Services = Depends(get_services)
    ):
        """Newsdesk as an OpenAI chat model.

        The last `user` message is the question; earlier `user`/`assistant` messages are the
        conversation it follows; `system` messages are ignored. The reply's content is the answer
        with `[n]` markers, and the top-level `sources` field lists what they point to.

        Example with the `openai` Python client:

            from openai import OpenAI
            client = OpenAI(base_url="http://localhost:8000/v1", api_key="<key or anything>")
            reply = client.chat.completions.create(
                model="newsdesk",
                messages=[{"role": "user", "content": "What did Canada promise?"}],
            )
            print(reply.choices[0].message.content, reply.sources)

        With `"stream": true`: `chat.completion.chunk` events ending with `data: [DONE]`; the first
        chunk carries the sources the streamed `[n]` refer to, the last (`finish_reason: "stop"`) the
        answer's final sources (the same with the extractive answerer; with an LLM, after its citations
        are checked). An error mid-stream is `data: {"error": {...}}`.
        """
        question, history = conversation(body, services.settings)
        filters = body.filters.to_engine() if body.filters is not None else None
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if body.stream:
            chunks = _chunks(services, request, completion_id, created, body.model, question, history, body.top_k, filters)
            return StreamingResponse(chunks, media_type="text/event-stream", headers=SSE_HEADERS)
        answer = await services.run_engine(services.engine.ask, question, history, body.top_k, filters)
        services.metrics.observe_answer(answer)
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=body.model,
            choices=[ChatChoice(message=ChatResponseMessage(content=answer.answer))],
            sources=answer.sources,
        )

    @router.get("/v1/models", response_model=ModelList, summary="List models (OpenAI-compatible)", responses=error_responses(401, 500))
    async def list_models() -> ModelList:
        """The one model Newsdesk serves, for chat UIs that ask which models exist.

        Example: `curl -s localhost:8000/v1/models` → `{"object": "list", "data": [{"id": "newsdesk", ...}]}`
        """
        return ModelList(data=[ModelCard(id=MODEL_ID)])

    return router


def _data(payload: Any) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def _chunks(services: Services, request: Request, completion_id: str, created: int, model: str, *args) -> AsyncIterator[str]:
    def chunk(delta: dict, finish_reason: str | None = None, **extra: Any) -> str:
        return _data(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
                **extra,
            }
        )

    try:
        async for kind, payload in services.iterate_engine(services.engine.stream(*args)):
            if kind == "sources":
                yield chunk({"role": "assistant", "content": ""}, sources=[s.model_dump(mode="json") for s in payload])
            elif kind == "delta":
                yield chunk({"content": payload})
            elif kind == "done":
                services.metrics.observe_answer(payload)
                # The streamed text is the model's raw reply; the verified answer (citations checked,
                # unsupported sentences removed) rides along for clients that can show it instead.
                yield chunk(
                    {}, "stop",
                    sources=[s.model_dump(mode="json") for s in payload.sources],
                    answer=payload.answer, generator=payload.generator, fallback_reason=payload.fallback_reason,
                )
        yield "data: [DONE]\n\n"
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the failure goes in the stream
        yield _data(stream_failure(exc, request.state.request_id, "streaming a chat completion"))
