"""``/healthz`` and ``/readyz``: liveness and readiness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assistant.api.schemas.errors import ErrorBody


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(default="ok", description="`degraded`: alive, but the store does not answer.")
    error: ErrorBody | None = Field(default=None, description="What does not answer (only when `degraded`).")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, bool] = Field(description="`store`: the store answers; `models`: the engine is loaded.")
    error: ErrorBody | None = None
