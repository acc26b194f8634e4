"""The one Answer type that flows from the engine to the CLI, the API, Slack and the evaluator."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class Source(BaseModel):
    n: int = Field(description="The number used in the answer's [n] markers, 1..N.")
    article_id: str
    title: str
    url: str = ""
    published_at: str = ""
    quote: str = Field(description="The passage of the article that supports the citation, verbatim.")


class Answer(BaseModel):
    question: str
    standalone_question: str = Field(description="The question after follow-up rewriting.")
    answer: str = Field(description="Answer text with inline [n] citation markers.")
    sources: list[Source] = Field(default_factory=list)
    retrieved: list[str] = Field(default_factory=list, description="Article ids ranked by the retriever, top 10.")
    declined: bool = False
    generator: str = "extractive"
    timings_ms: dict[str, float] = Field(default_factory=dict)
