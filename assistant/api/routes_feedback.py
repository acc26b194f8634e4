"""``POST /v1/feedback``: a 👍/👎 on an answer, appended to the same ``feedback.jsonl`` as Slack's
(:func:`assistant.slack.feedback.record_feedback`), with the front end named (``"source": "web"``)."""

# No `from __future__ import annotations`: FastAPI reads the body type of routes built in a function.

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from assistant.api import Services, get_services
from assistant.api.errors import error_responses
from assistant.settings import Settings
from assistant.slack.feedback import record_feedback


class FeedbackRequest(BaseModel):
    """A verdict on one answer, with the question and answer it is about."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"verdict": "up", "question": "Who will monitor the ceasefire?", "answer": "... [1]", "answer_id": "a1b2c3"}]
        },
    )

    verdict: Literal["up", "down"]
    question: str = Field(min_length=1, max_length=10_000)
    answer: str = Field(max_length=20_000)  # a body of the longest fields stays under the 1 MB request cap
    answer_id: str = Field(default="", max_length=100, description="The front end's id of the answer (recorded as `ts`).")
    conversation_id: str = Field(default="", max_length=100, description="The conversation it belongs to (recorded as `thread_ts`).")
    front_end: Literal["web"] = Field(default="web", description="Recorded as the record's `source`.")


class FeedbackResponse(BaseModel):
    recorded: bool = True
    time: str = Field(description="When the verdict was recorded (UTC).")


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post(
        "/v1/feedback", response_model=FeedbackResponse, summary="Record 👍/👎 on an answer", responses=error_responses(401, 413, 422, 500)
    )
    def feedback(body: FeedbackRequest, request: Request, services: Services = Depends(get_services)) -> FeedbackResponse:
        """Append a verdict to the feedback log (`feedback.jsonl` in the data folder), the same log and
        record shape as the Slack buttons, with `"source": "web"`.

        Example: `curl -s localhost:8000/v1/feedback -H 'Content-Type: application/json'
        -d '{"verdict": "up", "question": "...", "answer": "..."}'` → `{"recorded": true, "time": "..."}`
        """
        record = record_feedback(
            services.settings.feedback_log,
            verdict=body.verdict,
            question=body.question,
            answer=body.answer,
            user="",  # the page knows no user; the key, when there is one, is not written down
            channel=body.front_end,
            ts=body.answer_id,
            thread_ts=body.conversation_id or None,
            request_id=request.state.request_id,
            source=body.front_end,
        )
        return FeedbackResponse(time=record["time"])

    return router
