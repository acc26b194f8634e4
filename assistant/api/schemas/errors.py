"""The error envelope every route answers with (``{"error": {code, message, details}}``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
