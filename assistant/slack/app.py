"""The Bolt app: every listener, registered in :func:`register_listeners`.

Sync Bolt with ``process_before_response=False``: each listener's ack function returns at once (for
events Bolt acknowledges before anything runs) and the work happens in lazy listeners, so Slack
always gets its answer within 3 seconds. The same app serves HTTP (:mod:`assistant.slack.http`) and
Socket Mode (:mod:`assistant.slack.socket_mode`).

Flow of a question: claim the event (cross-process, :mod:`assistant.slack.dedupe`), post a short
placeholder where the answer belongs, ask the engine (with the thread as history), then
``chat.update`` the placeholder with the answer — or with a notice naming the request id (Newsdesk is
unavailable while its store does not answer; otherwise an apology).
"""

from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.answer import Answer
from assistant.slack import SlackConfigError, blocks
from assistant.slack.dedupe import SlackState
from assistant.slack.feedback import record_feedback
from assistant.outages import OUTAGES
from assistant.slack.threads import (
    bot_in_thread,
    fetch_recent,
    fetch_thread,
    is_from_bot,
    mentions,
    slack_to_plain,
    thread_history,
)

log = logging.getLogger("assistant.slack")

COMMAND = "/newsdesk"
LISTENER_THREADS = 32  # ack functions and lazy listeners share Bolt's executor; keep acks unblocked
_ANSWERABLE_SUBTYPES = (None, "thread_broadcast", "file_share")


def web_client(settings, token: str | None = None) -> WebClient:
    """A Web API client for the bot token, at ``settings.slack_api_url`` when set."""
    kwargs = {"token": token or settings.slack_bot_token, "timeout": 30}
    if settings.slack_api_url:
        base = settings.slack_api_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"
    return WebClient(**kwargs)


def build_bolt_app(settings, engine, client: WebClient | None = None, *, verify_token: bool = True) -> App:
    """A Bolt app answering with ``engine``.

    ``verify_token`` calls ``auth.test`` now (a wrong bot token fails here, clearly); without it
    the first request does. Request signatures are checked with ``settings.slack_signing_secret``
    (HTTP only; Socket Mode needs none)."""
    if client is None:
        if not settings.slack_bot_token:
            raise SlackConfigError("SLACK_BOT_TOKEN is not set: the Slack app needs the bot token (xoxb-…)")
        client = web_client(settings)
    try:
        app = App(
            name="newsdesk",
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            process_before_response=False,
            token_verification_enabled=verify_token,
            listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="newsdesk-slack"),
        )
    except BoltError as exc:  # auth.test said no: name the variable to fix
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, SlackApiError):
            error = cause.response.get("error", "") if cause.response is not None else ""
            raise SlackConfigError(f"Slack rejected SLACK_BOT_TOKEN ({error or cause}): check the bot token "
                                   "(xoxb-…) under OAuth & Permissions") from exc
        raise
    except OSError as exc:  # URLError, timeouts: Slack unreachable
        raise SlackConfigError(f"cannot reach the Slack Web API at {client.base_url}: {exc}") from exc
    register_listeners(app, engine, settings)
    return app


def failure_notice(exc: Exception, what: str, request_id: str) -> str:
    """Logged (called in the ``except``), and what the asker is told: a store or an embedding server
    that does not answer is an outage to wait out, said so; anything else, an apology with the request id."""
    if isinstance(exc, OUTAGES):
        log.warning("%s: %s", what, exc)
        return blocks.unavailable_text(request_id, exc.service)
    log.exception("%s failed", what)
    return blocks.apology_text(request_id)


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def register_listeners(app: App, engine, settings) -> None:
    """Every listener of the Slack app, in one place."""
    state = SlackState.for_settings(settings)
    max_turns = settings.max_history_turns
    max_chars = settings.max_question_chars
    stream_interval = settings.slack_stream_interval_s
    dm_memory_s = settings.slack_dm_memory_minutes * 60

    # --- acks: return at once, the work is in the lazy listeners ----------------------------------

    def ack_now(ack):
        ack()

    def ack_command(ack, command):
        text = (command.get("text") or "").strip()
        if not text:
            ack(text=blocks.USAGE_TEXT)
        else:
            ack(text=f":mag: Looking up: _{blocks.escape(text[:300])}_")

    # --- the shared answering path ------------------------------------------------------------------

    def answer_in_slack(client, context, *, channel, ts, thread_ts, text, user, messages=None, kind):
        """Placeholder, engine, update. ``thread_ts`` None answers at the top of the conversation."""
        request_id = new_request_id()
        bot_user_id = context.bot_user_id
        log.info("slack %s request=%s channel=%s ts=%s user=%s", kind, request_id, channel, ts, user)
        placeholder = client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=blocks.PLACEHOLDER_TEXT,
            blocks=blocks.placeholder_blocks(),
        )
        placeholder_ts = placeholder["ts"]
        try:
            question = slack_to_plain(text, bot_user_id)
            if not question:
                client.chat_update(channel=channel, ts=placeholder_ts, text=blocks.USAGE_TEXT,
                                   blocks=blocks.notice_blocks(blocks.USAGE_TEXT))
                return
            if len(question) > max_chars:
                notice = f"That question is too long ({len(question)} characters; the limit is {max_chars})."
                client.chat_update(channel=channel, ts=placeholder_ts, text=notice, blocks=blocks.notice_blocks(notice))
                return
            try:
                if thread_ts and thread_ts != ts:  # a reply in a thread: the thread is the conversation
                    if messages is None:
                        messages = fetch_thread(client, channel, thread_ts)
                elif kind == "dm" and dm_memory_s > 0:  # a DM outside a thread: the DM's recent exchange
                    messages = fetch_recent(client, channel, ts, dm_memory_s)
            except SlackApiError as error:  # e.g. installed without a *:history scope: answer anyway
                log.warning("slack %s request=%s: history unreadable (%s); answering without it",
                            kind, request_id, error.response.get("error"))
            history = []
            if messages is not None:
                history = thread_history(
                    messages, bot_user_id=bot_user_id, bot_id=context.bot_id, before_ts=ts, max_turns=max_turns
                )
            answer = stream_into(client, channel, placeholder_ts, engine.stream(question, history))
            client.chat_update(
                channel=channel,
                ts=placeholder_ts,
                text=blocks.fallback_text(answer),
                blocks=blocks.answer_blocks(answer, request_id=request_id),
            )
            log.info("slack %s request=%s answered declined=%s sources=%d history=%d", kind, request_id,
                     answer.declined, len(answer.sources), len(history))
        except Exception as exc:
            notice = failure_notice(exc, f"slack {kind} request={request_id} (channel={channel} ts={ts})", request_id)
            try:
                client.chat_update(channel=channel, ts=placeholder_ts, text=notice,
                                   blocks=blocks.apology_blocks(request_id, notice))
            except Exception:
                log.exception("slack request=%s: could not post the apology either", request_id)

    def stream_into(client, channel, placeholder_ts, events) -> Answer:
        """Follow the engine's stream: the text so far replaces the placeholder at most once per
        ``slack_stream_interval_s`` (chat.update is rate-limited), and the final Answer is returned.
        An extractive answer arrives at once, so it goes straight to the final update."""
        shown, last_update, answer = "", time.monotonic(), None
        for kind, payload in events:
            if kind == "delta":
                shown += payload
                if shown.strip() and time.monotonic() - last_update >= stream_interval:
                    client.chat_update(channel=channel, ts=placeholder_ts, text=shown,
                                       blocks=blocks.partial_blocks(shown))
                    last_update = time.monotonic()
            elif kind == "done":
                answer = payload
        if answer is None:
            raise RuntimeError("the engine's stream ended without an answer")
        return answer

    def guarded(kind, work):
        """Lazy listeners swallow exceptions with a terse log line: log them fully ourselves."""
        try:
            work()
        except Exception:
            log.exception("slack %s listener failed", kind)

    # --- events ---------------------------------------------------------------------------------

    def on_mention(event, body, client, context):
        def work():
            if is_from_bot(event) or event.get("subtype") or not event.get("user"):
                return
            channel, ts = event["channel"], event["ts"]
            if not state.claim_event(body.get("event_id"), channel, ts):
                log.info("slack duplicate event %s (channel=%s ts=%s) ignored", body.get("event_id"), channel, ts)
                return
            answer_in_slack(client, context, channel=channel, ts=ts, thread_ts=event.get("thread_ts") or ts,
                            text=event.get("text", ""), user=event.get("user"), kind="mention")

        guarded("app_mention", work)

    def on_message(event, body, client, context):
        def work():
            if event.get("subtype") not in _ANSWERABLE_SUBTYPES or is_from_bot(event):
                return
            user = event.get("user")
            if not user or user == context.bot_user_id:
                return
            channel, ts = event["channel"], event["ts"]
            thread_ts = event.get("thread_ts")
            text = event.get("text") or ""
            messages = None
            if event.get("channel_type") == "im":
                kind = "dm"  # answered in the DM: at the top, or in the thread the question is in
            elif thread_ts and thread_ts != ts:
                if mentions(text, context.bot_user_id):
                    return  # the app_mention listener answers it
                messages = fetch_thread(client, channel, thread_ts)
                if not bot_in_thread(messages, context.bot_user_id, context.bot_id):
                    return  # a thread the bot is not part of
                kind = "follow-up"
            else:
                return  # channel chatter; mentions come as app_mention
            if not state.claim_event(body.get("event_id"), channel, ts):
                log.info("slack duplicate event %s (channel=%s ts=%s) ignored", body.get("event_id"), channel, ts)
                return
            answer_in_slack(client, context, channel=channel, ts=ts, thread_ts=thread_ts, text=text, user=user,
                            messages=messages, kind=kind)

        guarded("message", work)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])
    app.event("message")(ack=ack_now, lazy=[on_message])

    # --- /newsdesk ------------------------------------------------------------------------------

    def on_command(command, respond, context):
        text = slack_to_plain(command.get("text") or "", context.bot_user_id)
        if not text:
            return  # the ack showed the usage hint
        request_id = new_request_id()
        log.info("slack command request=%s channel=%s user=%s", request_id, command.get("channel_id"),
                 command.get("user_id"))
        try:
            if len(text) > max_chars:
                respond(text=f"That question is too long ({len(text)} characters; the limit is {max_chars}).",
                        response_type="ephemeral")
                return
            answer: Answer = engine.ask(text)
            token = state.stash(answer.model_dump_json())
            respond(text=blocks.fallback_text(answer), response_type="ephemeral",
                    blocks=blocks.ephemeral_answer_blocks(answer, token, request_id))
        except Exception as exc:
            notice = failure_notice(exc, f"slack command request={request_id}", request_id)
            try:
                respond(text=":warning: " + notice, response_type="ephemeral")
            except Exception:
                log.exception("slack command request=%s: could not send the apology either", request_id)

    app.command(COMMAND)(ack=ack_command, lazy=[on_command])

    # --- buttons --------------------------------------------------------------------------------

    def on_feedback(body, action, client, respond):
        def work():
            verdict = "up" if action.get("action_id") == blocks.FEEDBACK_UP else "down"
            value = blocks.parse_value(action.get("value"))
            message = body.get("message") or {}
            container = body.get("container") or {}
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            ts = message.get("ts") or container.get("message_ts")
            user = (body.get("user") or {}).get("id", "")
            if state.claim(f"feedback:{channel}:{ts}:{user}"):
                record_feedback(
                    settings.feedback_log,
                    verdict=verdict,
                    question=value.get("q", ""),
                    answer=slack_to_plain(message.get("text", "")),
                    user=user,
                    channel=channel,
                    ts=ts,
                    thread_ts=message.get("thread_ts"),
                    request_id=value.get("r", ""),
                )
                log.info("slack feedback %s user=%s channel=%s ts=%s", verdict, user, channel, ts)
            if message.get("blocks") and channel and ts:
                client.chat_update(channel=channel, ts=ts, text=message.get("text") or "",
                                   blocks=blocks.thanks_blocks(message["blocks"], verdict, user))
            else:
                respond(text="Thanks for the feedback!", response_type="ephemeral", replace_original=False)

        guarded("feedback", work)

    def on_post_to_channel(body, action, client, respond):
        def work():
            value = blocks.parse_value(action.get("value"))
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
            user = (body.get("user") or {}).get("id", "")
            payload = state.unstash(value.get("t", ""))
            if payload is None:
                respond(text="That answer has expired — ask again with `/newsdesk`.", response_type="ephemeral",
                        replace_original=False)
                return
            answer = Answer.model_validate_json(payload)
            try:
                client.chat_postMessage(
                    channel=channel,
                    text=blocks.fallback_text(answer),
                    blocks=blocks.answer_blocks(
                        answer,
                        request_id=value.get("r", ""),
                        note=f"<@{user}> asked: _{blocks.escape(answer.question[:500])}_ (via `{COMMAND}`)",
                    ),
                )
            except SlackApiError as exc:
                error = exc.response.get("error", "")
                log.warning("slack post_to_channel failed in %s: %s", channel, error)
                respond(text=f"I couldn't post in this channel ({error}). Invite me with `/invite @Newsdesk` "
                             "and try again.", response_type="ephemeral", replace_original=False)
                return
            respond(delete_original=True)

        guarded("post_to_channel", work)

    app.action(blocks.FEEDBACK_UP)(ack=ack_now, lazy=[on_feedback])
    app.action(blocks.FEEDBACK_DOWN)(ack=ack_now, lazy=[on_feedback])
    app.action(blocks.POST_TO_CHANNEL)(ack=ack_now, lazy=[on_post_to_channel])
