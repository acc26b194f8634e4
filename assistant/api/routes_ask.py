"""``POST /v1/ask``: a question in, the engine's ``Answer`` out (JSON, or Server-Sent Events)."""

# No `from __future__ import annotations`: FastAPI reads the body type of routes built in a function.

import json
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from assistant.answer import Answer
from assistant.api import Services, get_services
from assistant.api.errors import error_responses, stream_failure
from assistant.api.schemas import ASK_EVENT_SCHEMA, SSE_EXAMPLE, ask_request_model
from assistant.settings import Settings

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event: an ``event:`` line and one JSON ``data:`` line."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def build_router(settings: Settings) -> APIRouter:
    AskRequest = ask_request_model(settings.max_question_chars, settings.max_history_turns)
    router = APIRouter(tags=["ask"])

    @router.post(
        "/v1/ask",
        response_model=Answer,
        summary="Ask a question",
        responses={
            200: {
                "description": "The Answer as JSON; with `\"stream\": true`, Server-Sent Events instead.",
                "content": {"text/event-stream": {"schema": ASK_EVENT_SCHEMA, "example": SSE_EXAMPLE}},
            },
            **error_responses(401, 413, 422, 500, 503),
        },
    )
    async def ask(body: AskRequest, request: Request, services: Services = Depends(get_services)):
        """Answer a question from the ingested articles, with numbered citations.

        The answer text carries `[n]` markers; `sources[n-1]` is the article and the verbatim passage
        behind each. When the articles do not support an answer, `declined` is true and `answer` says
        so (its `sources` are then the closest matches). A follow-up ("and France?") is understood in
        the context of `history` — the service keeps no conversation state of its own.

        Example:

            curl -s localhost:8000/v1/ask -H 'Content-Type: application/json' \\
                 -d '{"question": "What did Canada promise in the Ukraine security guarantees?"}'

        With `"stream": true` the response is `text/event-stream`: one `sources` event
        (`{"sources": [...]}`), `delta` events (`{"text": "..."}`) whose texts concatenated are the
        answer, then `done` with the complete Answer. With an LLM configured the deltas are its raw
        tokens and `done` carries the checked answer (unsupported citations dropped, sources
        renumbered): show `done`'s answer and sources in place of what was streamed. A failure
        mid-stream is an `error` event (`{"error": {"code", "message"}}`).
        """
        question, history, top_k, filters = body.engine_args()
        if body.stream:
            events = _events(services, request, question, history, top_k, filters)
            return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)
        answer = await services.run_engine(services.engine.ask, question, history, top_k, filters)
        services.metrics.observe_answer(answer)
        return answer

    return router


async def _events(services: Services, request: Request, *args) -> AsyncIterator[str]:
    # Engine.stream is a sync generator doing CPU-bound work: each step runs in a worker thread.
    try:
        async for kind, payload in services.iterate_engine(services.engine.stream(*args)):
            if kind == "sources":
                yield sse("sources", {"sources": [s.model_dump(mode="json") for s in payload]})
            elif kind == "delta":
                yield sse("delta", {"text": payload})
            elif kind == "done":
                services.metrics.observe_answer(payload)
                yield sse("done", payload.model_dump(mode="json"))
    except Exception as exc:  # noqa: BLE001 - the status line is sent: the failure becomes an event
        yield sse("error", stream_failure(exc, request.state.request_id, "streaming an answer"))
