"""``/healthz``, ``/readyz`` and ``/metrics``: for orchestrators and Prometheus; no API key needed."""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import anyio
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from assistant.api import Services, get_services
from assistant.api.errors import error_responses
from assistant.api.metrics import CONTENT_TYPE
from assistant.api.schemas import ErrorBody, Health, Readiness
from assistant.settings import Settings
from assistant.outages import StoreUnavailable

READY_TIMEOUT_S = 5.0
HEALTH_TIMEOUT_S = 2.0  # a liveness probe's own timeout is often 1-3 s

METRICS_EXAMPLE = (
    "# HELP newsdesk_http_requests_total HTTP requests by route template and status.\n"
    "# TYPE newsdesk_http_requests_total counter\n"
    'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="200"} 12.0\n'
    "# HELP newsdesk_documents Documents (articles) in the store.\n"
    "# TYPE newsdesk_documents gauge\n"
    "newsdesk_documents 10.0\n"
)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get(
        "/healthz", response_model=Health, response_model_exclude_none=True, summary="Liveness", responses=error_responses(500)
    )
    async def healthz(services: Services = Depends(get_services)) -> Health:
        """The process is up and serving: always 200, since restarting it would not help. When the
        store (the Chroma server) does not answer within 2 s, `"status": "degraded"` and an `error`
        naming it; requests that need the store then get 503 until it is back.

        Example: `curl -s localhost:8000/healthz` → `{"status": "ok"}`, or `{"status": "degraded",
        "error": {"code": "store_unavailable", "message": "the Chroma server at 127.0.0.1:8001 is unavailable (...)..."}}`
        """
        problem = await store_problem(services.engine, HEALTH_TIMEOUT_S) if services.engine is not None else ""
        if problem:
            return Health(status="degraded", error=ErrorBody(code="store_unavailable", message=problem))
        return Health()

    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="Readiness",
        responses={503: {"model": Readiness, "description": "Store unreachable or models not loaded."}, **error_responses(500)},
    )
    async def readyz(services: Services = Depends(get_services)):
        """Ready to answer: the engine and its models are loaded and the store answers (within 5 s).

        Example: `curl -s localhost:8000/readyz` → `{"status": "ready", "checks": {"models": true, "store": true}}`;
        otherwise 503 with `"status": "unavailable"` and an `error`.
        """
        engine = services.engine
        models = engine is not None and engine.embed_model is not None
        store, problem = False, ""
        if engine is not None:
            problem = await store_problem(engine, READY_TIMEOUT_S)
            store = not problem
        if not models:
            problem = "models not loaded"
        if models and store:
            return Readiness(status="ready", checks={"models": True, "store": True})
        body = Readiness(
            status="unavailable", checks={"models": models, "store": store}, error=ErrorBody(code="not_ready", message=problem)
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=503)

    @router.get(
        "/metrics",
        response_class=Response,
        summary="Prometheus metrics",
        responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}}}, **error_responses(500)},
    )
    async def metrics(services: Services = Depends(get_services)) -> Response:
        """Prometheus text: requests by route template and status, HTTP latency, engine latency per
        stage (condense, retrieve, answer, total), answers by outcome, documents and chunks in the store.

        Example: `curl -s localhost:8000/metrics`
        """
        text = await run_in_threadpool(services.metrics.render)
        return Response(text, media_type=CONTENT_TYPE)

    return router


async def store_problem(engine, timeout_s: float) -> str:
    """What keeps the engine's store from answering within ``timeout_s``, in one line ("" if it answers)."""
    with anyio.move_on_after(timeout_s):
        try:
            await anyio.to_thread.run_sync(engine.store.version, abandon_on_cancel=True)
            return ""
        except StoreUnavailable as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure means the store cannot be used
            return f"store unreachable: {type(exc).__name__}: {exc}"
    return f"store did not answer within {timeout_s:g} s"
