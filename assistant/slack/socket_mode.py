"""Slack over Socket Mode (``newsdesk slack``): no public URL needed, a WebSocket to Slack instead.

Start-up checks, in order, each failing with a :class:`SlackConfigError` that names what to fix:
both tokens present; the app token looks like one (``xapp-``); the bot token accepted
(``auth.test``); the app token accepted (``apps.connections.open``). Only then does it block.
"""

from __future__ import annotations

import logging
import sys
import threading

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from assistant.slack import SlackConfigError
from assistant.slack.app import build_bolt_app, web_client

log = logging.getLogger("assistant.slack")


def _error(exc: SlackApiError) -> str:
    return (exc.response.get("error") if exc.response is not None else "") or str(exc)


def check_tokens(settings) -> None:
    missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.slack_bot_token),
                                        ("SLACK_APP_TOKEN", settings.slack_app_token)) if not value]
    if missing:
        raise SlackConfigError(
            f"{' and '.join(missing)} not set: Socket Mode needs the bot token (xoxb-…, OAuth & Permissions) "
            "and an app-level token (xapp-…, Basic Information → App-Level Tokens, scope connections:write)"
        )
    if not settings.slack_app_token.startswith("xapp-"):
        raise SlackConfigError("SLACK_APP_TOKEN is not an app-level token: it starts with xapp- "
                               "(Basic Information → App-Level Tokens, scope connections:write)")


def run_socket_mode(settings, engine=None, *, block: bool = True, stop: threading.Event | None = None):
    """Connect to Slack over Socket Mode and serve until interrupted (or ``stop`` is set).

    With ``block=False`` returns the connected :class:`SocketModeHandler` (call ``close()``)."""
    check_tokens(settings)
    client = web_client(settings)
    try:  # the bot token first, before models load: a typo fails in a second, not after a minute
        identity = client.auth_test()
    except SlackApiError as exc:
        raise SlackConfigError(f"Slack rejected SLACK_BOT_TOKEN ({_error(exc)}): check the bot token (xoxb-…)") from exc
    except OSError as exc:
        raise SlackConfigError(f"cannot reach the Slack Web API at {client.base_url}: {exc}") from exc

    if engine is None:
        from assistant.engine import Engine

        engine = Engine(settings)
    app = build_bolt_app(settings, engine, client=client, verify_token=False)
    handler = SocketModeHandler(app, settings.slack_app_token, web_client=client)
    try:
        handler.connect()
    except SlackApiError as exc:
        handler.close()
        raise SlackConfigError(
            f"Slack rejected SLACK_APP_TOKEN ({_error(exc)}): use an app-level token (xapp-…) of this app "
            "with the connections:write scope, and enable Socket Mode in the app settings"
        ) from exc
    except Exception as exc:
        handler.close()
        raise SlackConfigError(f"could not open the Socket Mode connection: {exc}") from exc
    log.info("Newsdesk connected to Slack over Socket Mode as %s (team %s)", identity.get("user"), identity.get("team"))
    if not block:
        return handler
    print(f"Newsdesk is connected to Slack over Socket Mode as @{identity.get('user')}. Ctrl-C to stop.",
          file=sys.stderr, flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()
    return None
