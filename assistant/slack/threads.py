"""Threads: a Slack thread (``conversations.replies``) becomes the engine's conversation history.

The thread itself is the only memory: the bot belongs in a thread when one of its messages is there
or someone mentioned it there, so any process (or a restarted one) decides the same way. People rarely
open threads in a direct message, so there the DM's own recent messages (``conversations.history``)
are the conversation instead.
"""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation
from typing import Iterable, Sequence

from assistant.answer import Turn

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
MAX_PAGES = 10


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and any(m.group(1) == user_id for m in _USER.finditer(text or ""))


def slack_to_plain(text: str, bot_user_id: str | None = None) -> str:
    """Slack message markup to the plain text the engine reads: the bot's own mention removed,
    other mentions as ``@name``, channel links as ``#name``, links as their label, entities decoded."""

    def user(match: re.Match) -> str:
        if bot_user_id and match.group(1) == bot_user_id:
            return " "
        return "@" + (match.group(2) or match.group(1))

    text = _USER.sub(user, text or "")
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)).lstrip("@"), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = html.unescape(text)
    return re.sub(r"[ \t]+", " ", text).strip()


def ts_key(ts: str | None) -> Decimal:
    """Slack timestamps ("1700000000.000100") compared exactly (floats lose the last digits)."""
    try:
        return Decimal(ts or "0")
    except InvalidOperation:
        return Decimal(0)


def is_own(message: dict, bot_user_id: str | None, bot_id: str | None) -> bool:
    return bool(
        (bot_user_id and message.get("user") == bot_user_id) or (bot_id and message.get("bot_id") == bot_id)
    )


def is_from_bot(message: dict) -> bool:
    """Any bot (this one included): such messages never trigger an answer."""
    return bool(message.get("bot_id") or message.get("bot_profile") or message.get("subtype") == "bot_message")


def _block_ids(message: dict) -> list[str]:
    return [b.get("block_id") or "" for b in message.get("blocks") or []]


def is_answer(message: dict) -> bool:
    """One of the bot's answers (see :mod:`assistant.slack.blocks`), not a placeholder or apology."""
    return any(bid.startswith("nd_answer") for bid in _block_ids(message))


def bot_in_thread(messages: Iterable[dict], bot_user_id: str | None, bot_id: str | None) -> bool:
    """Whether the bot has answered in this thread or been mentioned in it."""
    return any(is_own(m, bot_user_id, bot_id) or mentions(m.get("text", ""), bot_user_id) for m in messages)


def thread_history(
    messages: Sequence[dict],
    *,
    bot_user_id: str | None,
    bot_id: str | None,
    before_ts: str | None = None,
    max_turns: int = 50,
) -> list[Turn]:
    """The thread's messages before ``before_ts`` as turns, oldest first (at most ``max_turns``).

    People's messages are user turns (the bot's mention stripped); the bot's answers are assistant
    turns holding the answer text, not the sources; placeholders, apologies, notices and other bots'
    messages are left out."""
    limit = ts_key(before_ts) if before_ts else None
    turns: list[Turn] = []
    for message in sorted(messages, key=lambda m: ts_key(m.get("ts"))):
        if limit is not None and ts_key(message.get("ts")) >= limit:
            continue
        if is_own(message, bot_user_id, bot_id):
            if is_answer(message):
                content = slack_to_plain(message.get("text", ""))
                if content:
                    turns.append(Turn(role="assistant", content=content))
            continue
        if is_from_bot(message) or message.get("subtype") not in (None, "thread_broadcast", "file_share"):
            continue
        content = slack_to_plain(message.get("text", ""), bot_user_id)
        if content:
            turns.append(Turn(role="user", content=content))
    return turns[-max_turns:] if max_turns > 0 else []


def fetch_thread(client, channel: str, thread_ts: str, page_size: int = 200) -> list[dict]:
    """Every message of a thread (parent first), following ``conversations.replies`` pagination."""
    messages: list[dict] = []
    cursor = None
    for _ in range(MAX_PAGES):
        kwargs = {"channel": channel, "ts": thread_ts, "limit": page_size}
        if cursor:
            kwargs["cursor"] = cursor
        response = client.conversations_replies(**kwargs)
        messages.extend(response.get("messages") or [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return messages


def fetch_recent(client, channel: str, before_ts: str, window_s: float, limit: int = 100) -> list[dict]:
    """The conversation's top-level messages of the ``window_s`` seconds before ``before_ts``, newest
    first (one ``conversations.history`` page: more than ``limit`` messages is past any useful history)."""
    oldest = ts_key(before_ts) - Decimal(str(window_s))
    response = client.conversations_history(
        channel=channel, latest=before_ts, oldest=f"{max(oldest, Decimal(0)):.6f}", inclusive=False, limit=limit
    )
    return response.get("messages") or []
