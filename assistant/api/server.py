"""``newsdesk serve``: uvicorn running the app factory (once per worker process)."""

from __future__ import annotations

APP_FACTORY = "assistant.api.app:create_app"


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the HTTP API. Each worker process builds its own app (engine, models) through the factory;
    several workers (or hosts) share one store through a Chroma server (``NEWSDESK_CHROMA_HOST``)."""
    import uvicorn

    from assistant.api.app import check_sync_every
    from assistant.settings import get_settings

    settings = get_settings()
    check_sync_every(settings)  # once, here: not as a traceback in every worker
    if not settings.chroma_host:
        if workers > 1:
            raise ValueError(
                f"--workers {workers}: worker processes cannot share the local store {settings.chroma_path} "
                "(each would see only its own writes); run a Chroma server and set NEWSDESK_CHROMA_HOST, or serve one worker"
            )
        from assistant.library import claim_local_store

        # The one worker runs in this process: a store another process holds is one line here, not a
        # traceback from the app factory.
        claim_local_store(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=max(1, workers),
        log_level="info",
        timeout_graceful_shutdown=10,
    )
