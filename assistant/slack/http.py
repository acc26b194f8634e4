"""Slack over HTTP: the Bolt app at ``POST /slack/events`` of a FastAPI app (events, interactivity
and the slash command all use that one URL).

slack-bolt's FastAPI adapter (``slack_bolt.adapter.fastapi.SlackRequestHandler``) calls the sync
``App.dispatch`` straight from its ``async`` handler, which would stall the server's event loop while
a request is verified and acknowledged (up to Slack's 3 s, plus the first ``auth.test``). The handler
below is that adapter with ``dispatch`` moved to the thread pool; request and response conversion
are the adapter's own.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from fastapi import FastAPI, Request
from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from assistant.slack import SlackConfigError
from assistant.slack.app import build_bolt_app

log = logging.getLogger("assistant.slack")

EVENTS_PATH = "/slack/events"


class ThreadedSlackRequestHandler(SlackRequestHandler):
    """The FastAPI adapter, with the blocking ``App.dispatch`` run in a worker thread."""

    async def handle(self, req: Request, addition_context_properties: Optional[Dict[str, Any]] = None) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        bolt_request = (to_bolt_request(req, body, addition_context_properties) if addition_context_properties
                        else to_bolt_request(req, body))
        bolt_response = await run_in_threadpool(self.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)


def mount_slack(app: FastAPI, engine, settings, *, path: str = EVENTS_PATH, client=None) -> App:
    """Mount the Slack app at ``POST {path}``; returns the Bolt app.

    Needs ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET``. The bot token is checked (``auth.test``)
    on the first request, not here, so the API starts even while Slack is unreachable."""
    missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.slack_bot_token),
                                        ("SLACK_SIGNING_SECRET", settings.slack_signing_secret)) if not value]
    if missing:
        raise SlackConfigError(f"{' and '.join(missing)} not set: Slack events over HTTP need the bot token and "
                               "the signing secret (Basic Information → App Credentials)")
    bolt_app = build_bolt_app(settings, engine, client=client, verify_token=False)
    handler = ThreadedSlackRequestHandler(bolt_app)

    async def slack_events(req: Request) -> Response:
        return await handler.handle(req)

    app.add_api_route(path, slack_events, methods=["POST"], include_in_schema=False, name="slack_events")
    app.state.slack_app = bolt_app
    log.info("Slack events mounted at POST %s", path)
    return bolt_app
