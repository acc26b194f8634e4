"""Newsdesk in Slack: mentions, DMs, thread follow-ups, feedback buttons and ``/newsdesk``.

* :mod:`assistant.slack.app` builds the Bolt app and registers every listener (one place);
* :mod:`assistant.slack.blocks` renders answers as Block Kit (pure functions, no Slack I/O);
* :mod:`assistant.slack.threads` turns a thread into engine history and decides if the bot belongs;
* :mod:`assistant.slack.dedupe` keeps cross-process state (event claims, answers awaiting "Post");
* :mod:`assistant.slack.feedback` appends 👍/👎 verdicts to the feedback log;
* :mod:`assistant.slack.http` mounts the app at ``POST /slack/events`` on a FastAPI app;
* :mod:`assistant.slack.socket_mode` runs it over Socket Mode (``newsdesk slack``).
"""

from __future__ import annotations


class SlackConfigError(RuntimeError):
    """Slack is misconfigured (a token missing, wrong or unreachable): the message says which and how."""
