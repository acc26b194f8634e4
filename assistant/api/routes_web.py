"""The web page at ``/`` (ask, read citations, manage sources) and its assets, served from the package.

The page and its assets need no API key (they hold no secret: the page asks for a key and sends it to
the ``/v1`` routes). Every response carries a Content-Security-Policy that forbids inline script and
anything not served by Newsdesk itself, so an article's text can never run as code in the page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from assistant.settings import Settings

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

# Only what the page itself loads: fetches go to the same origin, no frames, no plugins, no inline code.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Assets change with the package; a quick revalidation (ETag, 304) keeps reloads cheap and fresh.
    "Cache-Control": "no-cache",
}

# The files the page is made of, with their types: nothing else under assistant/web/ is served.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
    "thumb-up.svg": "image/svg+xml",  # 👍/👎 as icons: emoji need a font the machine may lack
    "thumb-down.svg": "image/svg+xml",
}


def _file(name: str, media_type: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type=media_type, headers=PAGE_HEADERS)


def _asset(name: str, media_type: str):
    """A route endpoint for one asset (a closure: FastAPI would read parameters as query fields)."""

    def asset() -> FileResponse:
        return _file(name, media_type)

    return asset


def build_router(settings: Settings) -> APIRouter:
    """``GET /`` (the page) and ``GET /web/<asset>``; left out of the OpenAPI document."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def page() -> FileResponse:
        return _file("index.html", "text/html; charset=utf-8")

    for name, media_type in ASSETS.items():
        router.add_api_route(f"/web/{name}", _asset(name, media_type), methods=["GET"], name=f"web:{name}")

    return router
