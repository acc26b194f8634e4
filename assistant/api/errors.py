"""Every error the API returns is JSON ``{"error": {"code": "...", "message": "..."}}``.

Validation errors (422) name the field (``"question: must not be empty"``) and list each problem in
``error.details``; HTTP errors keep their headers (``WWW-Authenticate``, ``Allow``); a Chroma server
or an embedding server that does not answer is a 503 naming it, with ``Retry-After`` (an outage, not
a fault of the request); anything unexpected becomes a 500 whose message carries the request id
that the log line carries too.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from assistant.api.schemas import ErrorResponse
from assistant.outages import OUTAGES, RETRY_AFTER_S

log = logging.getLogger("assistant.api")

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

DESCRIPTIONS = {
    401: "Missing or invalid API key (only when NEWSDESK_API_KEYS is set).",
    404: "No such document.",
    413: "Request body larger than NEWSDESK_MAX_BODY_BYTES.",
    422: "Invalid request; the message names the field.",
    500: "Unexpected error; the message carries the request id found in the server log.",
    503: "The Chroma server or the embedding server is unavailable (the message names it): try again after "
    "`Retry-After` seconds.",
}


class ApiError(Exception):
    """An error a route raises on purpose; rendered as the JSON error body with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def unavailable(exc: Exception) -> ApiError:
    return ApiError(503, "unavailable", str(exc), headers={"Retry-After": str(RETRY_AFTER_S)})


def stream_failure(exc: Exception, request_id: str, doing: str) -> dict:
    """Logged, and the error event of a stream whose status line is already sent (called in its
    ``except``): an outage named in one line, anything else a 500's message and a traceback."""
    if isinstance(exc, OUTAGES):
        log.warning("error while %s (request id %s): %s", doing, request_id, exc)
        return error_body("unavailable", str(exc))
    log.exception("error while %s (request id %s)", doing, request_id)
    return error_body("internal_error", f"internal error (request id {request_id})")


def invalid(field: str, message: str) -> ApiError:
    """A 422 about one field, worded like the validation errors of the request models."""
    return ApiError(422, "validation_error", f"{field}: {message}", details=[{"field": field, "message": message}])


def error_body(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, details: list | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry of a route: each status with the error model (for OpenAPI and schemathesis)."""
    return {status: {"model": ErrorResponse, "description": DESCRIPTIONS.get(status, CODES.get(status, ""))} for status in statuses}


# ------------------------------------------------------------------------------------ validation


def field_name(loc: Iterable[Any]) -> str:
    """``("body", "history", 3, "role")`` -> ``"history[3].role"``; the request part is dropped."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if not parts or (where == "body" and all(isinstance(p, int) for p in parts)):
            return "body"
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def field_message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "json_invalid":
        return f"invalid JSON ({ctx.get('error', 'cannot be parsed')})"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else f"must be at least {ctx.get('min_length')} characters"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == r"\S":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} items"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return "must be a JSON object"
    message = str(error.get("msg", "is invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message[:1].lower() + message[1:]


def validation_details(errors: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    details = []
    for error in errors:
        details.append({"field": field_name(error.get("loc", ())), "message": field_message(error)})
    return details


# ------------------------------------------------------------------------------------ handlers


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        # One line, no traceback: during an outage every request lands here, and the cause is known.
        log.warning("503 for %s %s (request id %s): %s", request.method, request.url.path,
                    getattr(request.state, "request_id", "-"), exc)
        error = unavailable(exc)
        return error_response(error.status, error.code, error.message, error.headers)

    for outage in OUTAGES:
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5]) or "invalid request"
        if len(details) > 5:
            message += f"; and {len(details) - 5} more"
        return error_response(422, "validation_error", message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status, headers = exc.status_code, dict(exc.headers or {})
        if status == 400:  # FastAPI's "error parsing the body" (e.g. not UTF-8): bad JSON, so 422
            detail = "invalid JSON (the body could not be decoded)"
            return error_response(422, "validation_error", f"body: {detail}", details=[{"field": "body", "message": detail}])
        code = CODES.get(status, f"http_{status}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if status == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}"
        if status == 405:
            # Starlette names the methods of one route; a path served by several lists them all.
            headers["Allow"] = allowed_methods(request)
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return error_response(status, code, message, headers)


def allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (asked of the router, however routers nest)."""
    methods = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            methods.append(method)
    return ", ".join(methods)
