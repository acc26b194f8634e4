"""The Slack app end to end: signed requests over real HTTP into the Bolt app (FastAPI adapter under
uvicorn), Slack's Web API played by a local recording server, the engine over the sample articles.

Also Socket Mode start-up up to the connection attempt (missing or rejected tokens fail clearly)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier

from assistant.engine import Engine
from assistant.settings import Settings
from assistant.slack import SlackConfigError, blocks
from assistant.slack.http import mount_slack
from assistant.slack.socket_mode import run_socket_mode
from tests.conftest import REPO, SAMPLE_ARTICLES, free_port

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
DEFENCE_URL = "https://example.org/newsdesk-sample/canada-defence-spending"
WAIT = 30  # seconds: generous upper bound when polling for lazy listeners


# --- Slack's Web API, played locally ----------------------------------------------------------------


class SlackStub:
    """Records every Web API call (and every response_url post) and answers like Slack would."""

    def __init__(self):
        self.calls: list[dict] = []
        self.threads: dict[tuple[str, str], list[dict]] = {}
        self.histories: dict[str, list[dict]] = {}  # channel -> its top-level messages
        self.history_errors: dict[str, str] = {}  # channel -> the error conversations.history gives
        self.bad_tokens: set[str] = {"xoxb-wrong"}
        self.not_in_channel: set[str] = set()
        self._lock = threading.Lock()
        self._ts = 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                self._serve(url.path, dict(urllib.parse.parse_qsl(url.query)))

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(urllib.parse.parse_qsl(raw))
                params.update(urllib.parse.parse_qsl(url.query))
                self._serve(url.path, params)

            def _serve(self, path, params):
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                if path.startswith("/response/"):
                    stub._record("response_url", params, token, hook=path.rsplit("/", 1)[-1])
                    self._send(200, b"ok", "text/plain")
                    return
                method = path.rsplit("/", 1)[-1]
                stub._record(method, params, token)
                body = stub._answer(method, params, token)
                self._send(200, json.dumps(body).encode(), "application/json; charset=utf-8")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _record(self, method, params, token, **extra):
        with self._lock:
            self.calls.append({"method": method, "params": params, "token": token, **extra})

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"1800000000.{self._ts:06d}"

    def _answer(self, method, params, token):
        if token in self.bad_tokens:
            return {"ok": False, "error": "invalid_auth"}
        if method == "auth.test":
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "newsdesk",
                    "team_id": "T1", "user_id": BOT_USER, "bot_id": BOT_ID}
        if method == "apps.connections.open":
            return {"ok": False, "error": "invalid_auth"}
        if method == "chat.postMessage":
            if params.get("channel") in self.not_in_channel:
                return {"ok": False, "error": "not_in_channel"}
            ts = self._next_ts()
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "ts": ts, "user": BOT_USER, "bot_id": BOT_ID}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.history" and params.get("channel") in self.history_errors:
            return {"ok": False, "error": self.history_errors[params.get("channel")]}
        if method == "conversations.history":
            latest, oldest = Decimal(params.get("latest") or "9e12"), Decimal(params.get("oldest") or "0")
            messages = [m for m in self.histories.get(params.get("channel"), []) if oldest < Decimal(m["ts"]) < latest]
            messages.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
            return {"ok": True, "messages": messages, "has_more": False}
        if method == "conversations.replies":
            messages = self.threads.get((params.get("channel"), params.get("ts")), [])
            return {"ok": True, "messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}
        return {"ok": True}

    # --- queries ---

    def find(self, method=None, channel=None, hook=None) -> list[dict]:
        with self._lock:
            calls = list(self.calls)
        return [
            c for c in calls
            if (method is None or c["method"] == method)
            and (channel is None or c["params"].get("channel") == channel)
            and (hook is None or c.get("hook") == hook)
        ]

    def wait(self, method=None, channel=None, hook=None, count=1, timeout=WAIT) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(method, channel, hook)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {count} {method} call(s) in {channel or hook}; "
                                     f"calls so far: {[(c['method'], c['params'].get('channel')) for c in self.calls]}")
            time.sleep(0.02)


def wait_until(predicate, timeout=WAIT, message="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)


def texts(blocks_: list[dict]) -> str:
    """All the text in a list of blocks, for assertions."""
    out = []
    for block in blocks_:
        if "text" in block:
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            out.append(element["text"]["text"] if isinstance(element.get("text"), dict) else element.get("text", ""))
    return "\n".join(out)


# --- fixtures ---------------------------------------------------------------------------------------


class BrokenEngine(Engine):
    def ask(self, question, history=None, top_k=None, filters=None):
        raise RuntimeError("the index is on fire")

    def stream(self, question, history=None, top_k=None, filters=None):
        raise RuntimeError("the index is on fire")


def _serve(api: FastAPI):
    config = uvicorn.Config(api, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "uvicorn to start")
    return server, thread, f"http://127.0.0.1:{config.port}"


@pytest.fixture(scope="module")
def stub():
    stub = SlackStub()
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def slack_env(tmp_path_factory, embed_model, stub):
    """One uvicorn server, three Bolt apps over one data dir: the normal one at /slack/events, a second
    instance (another "process") at /second/slack/events, one over a broken engine at /broken/..."""
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("slack") / "data",
        _env_file=None,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=stub.api_url,
    )
    store = ArticleStore(settings)
    Ingester(store, embed_model).ingest_paths([SAMPLE_ARTICLES])
    engine = Engine(settings, store, embed_model)
    api = FastAPI()
    mount_slack(api, engine, settings)
    mount_slack(api, engine, settings, path="/second/slack/events")
    mount_slack(api, BrokenEngine(settings, store, embed_model), settings, path="/broken/slack/events")
    server, thread, url = _serve(api)
    yield {"url": url, "settings": settings, "engine": engine}
    server.should_exit = True
    thread.join(10)


def sign(body: str, timestamp: int, secret: str = SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()


def post(env, body: str, content_type: str, path="/slack/events", headers=None, timestamp=None, secret=SECRET):
    timestamp = int(time.time()) if timestamp is None else timestamp
    all_headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp, secret),
        **(headers or {}),
    }
    return httpx.post(env["url"] + path, content=body.encode(), headers=all_headers, timeout=10)


def event_body(event: dict, event_id: str) -> str:
    return json.dumps({
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    })


def send_event(env, event: dict, event_id: str, **kwargs):
    response = post(env, event_body(event, event_id), "application/json", **kwargs)
    assert response.status_code == 200, response.text
    return response


def mention(channel: str, ts: str, text: str, thread_ts: str | None = None, user="U1") -> dict:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
             "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def interactive(env, payload: dict, path="/slack/events"):
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    response = post(env, body, "application/x-www-form-urlencoded", path=path)
    assert response.status_code == 200, response.text
    return response


# --- request verification ---------------------------------------------------------------------------


def test_signature_helper_matches_slack_sdk():
    assert sign("body", 1700000000) == SignatureVerifier(SECRET).generate_signature(timestamp="1700000000", body="body")


def test_url_verification_is_answered(slack_env):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    response = post(slack_env, body, "application/json")
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


def test_bad_signature_is_rejected(slack_env, stub):
    body = event_body(mention("CBADSIG", "1700000001.000100", "When does the library open?"), "EvBadSig")
    response = post(slack_env, body, "application/json", secret="not-the-secret")
    assert response.status_code == 401
    response = httpx.post(slack_env["url"] + "/slack/events", content=body.encode(),
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 401  # no signature at all


def test_stale_timestamp_is_rejected(slack_env, stub):
    body = event_body(mention("CSTALE", "1700000002.000100", "When does the library open?"), "EvStale")
    response = post(slack_env, body, "application/json", timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    time.sleep(0.3)
    assert stub.find(channel="CBADSIG") == [] and stub.find(channel="CSTALE") == []


# --- mentions, threads, DMs -------------------------------------------------------------------------


def test_mention_is_answered_in_its_thread_with_sources(slack_env, stub):
    ts = "1700000010.000100"
    started = time.monotonic()
    send_event(slack_env, mention("CMENTION", ts, "How much does Canada plan to invest in defence over the next "
                                                  "five years?"), "EvMention")
    assert time.monotonic() - started < 3, "acknowledged within Slack's 3 seconds"

    update = stub.wait("chat.update", "CMENTION")[0]
    posts = stub.find("chat.postMessage", "CMENTION")
    assert len(posts) == 1
    placeholder = posts[0]["params"]
    assert placeholder["thread_ts"] == ts, "answered in the thread of the mention"
    assert placeholder["text"] == blocks.PLACEHOLDER_TEXT
    assert stub.calls.index(posts[0]) < stub.calls.index(update)
    assert update["params"]["ts"].startswith("1800000000."), "the placeholder is what gets updated"

    answer_blocks = update["params"]["blocks"]
    rendered = texts(answer_blocks)
    assert "$81.8-billion" in rendered
    assert f"<{DEFENCE_URL}|[1]>" in rendered, "citation [1] links to its source"
    assert f"[1] <{DEFENCE_URL}|Carney cites $81.8-billion defence plan when pressed on Ukraine commitment> · 2026-01-08" \
        in rendered, "a context block per source: [n] <url|title> · date"
    assert "*Sources*" in rendered
    actions = [b for b in answer_blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["feedback_up", "feedback_down"]
    assert "[1]" in update["params"]["text"] and "<http" not in update["params"]["text"]
    assert stub.find("conversations.replies", "CMENTION") == [], "a new thread has no history to read"


def test_declined_answer_says_so_and_lists_closest_sources(slack_env, stub):
    send_event(slack_env, mention("CDECLINE", "1700000011.000100", "Who won the 2026 Eurovision Song Contest?"),
               "EvDecline")
    update = stub.wait("chat.update", "CDECLINE")[0]
    rendered = texts(update["params"]["blocks"])
    assert "No answer found" in rendered and "don't answer" in rendered
    assert "Closest sources" in rendered and "<https://example.org/newsdesk-sample/" in rendered


def test_follow_up_in_thread_uses_the_thread_as_history(slack_env, stub):
    parent, answer_ts, current = "1700000020.000100", "1700000021.000100", "1700000022.000100"
    bot_answer = {
        "type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": answer_ts, "thread_ts": parent,
        "text": "The Northshore Line adds trains and an earlier first departure [1].",
        "blocks": [{"type": "section", "block_id": "nd_answer_0",
                    "text": {"type": "mrkdwn", "text": "The Northshore Line adds trains <https://x|[1]>."}},
                   {"type": "context", "block_id": "nd_source_1",
                    "elements": [{"type": "mrkdwn", "text": "[1] <https://x|Northshore Line adds trains> · 2026-01-15"}]}],
    }
    stub.threads[("CFOLLOW", parent)] = [
        {"type": "message", "user": "U1", "ts": parent, "thread_ts": parent,
         "text": f"<@{BOT_USER}> Which rail line is getting a new timetable in March?"},
        bot_answer,
        {"type": "message", "user": "U1", "ts": current, "thread_ts": parent,
         "text": "When does it take effect?"},
    ]
    event = {"type": "message", "channel_type": "channel", "channel": "CFOLLOW", "user": "U1", "ts": current,
             "thread_ts": parent, "text": "When does it take effect?", "event_ts": current}
    send_event(slack_env, event, "EvFollow")

    update = stub.wait("chat.update", "CFOLLOW")[0]
    replies = stub.find("conversations.replies", "CFOLLOW")
    assert replies and replies[0]["params"]["ts"] == parent
    placeholder = stub.find("chat.postMessage", "CFOLLOW")
    assert len(placeholder) == 1 and placeholder[0]["params"]["thread_ts"] == parent
    rendered = texts(update["params"]["blocks"])
    # alone, "When does it take effect?" is answered from the ceasefire articles; the thread makes it the line
    assert "March 2" in rendered, "the pronoun was resolved from the thread (Northshore Line)"
    assert "northshore-timetable" in rendered


def test_mention_inside_a_thread_reads_the_thread(slack_env, stub):
    parent, current = "1700000025.000100", "1700000026.000100"
    stub.threads[("CMIDTHREAD", parent)] = [
        {"type": "message", "user": "U1", "ts": parent, "text": "The Northshore Line is getting a new timetable."},
        {"type": "message", "user": "U2", "ts": current, "thread_ts": parent,
         "text": f"<@{BOT_USER}> when does it take effect?"},
    ]
    send_event(slack_env, mention("CMIDTHREAD", current, "when does it take effect?", thread_ts=parent, user="U2"),
               "EvMidThread")
    update = stub.wait("chat.update", "CMIDTHREAD")[0]
    assert stub.find("conversations.replies", "CMIDTHREAD")[0]["params"]["ts"] == parent
    assert stub.find("chat.postMessage", "CMIDTHREAD")[0]["params"]["thread_ts"] == parent
    assert "March 2" in texts(update["params"]["blocks"]), "without the thread this is about the ceasefire"


def test_thread_without_the_bot_is_left_alone(slack_env, stub):
    parent, current = "1700000030.000100", "1700000031.000100"
    stub.threads[("CNOTBOT", parent)] = [
        {"type": "message", "user": "U1", "ts": parent, "text": "Lunch at the dumpling festival?"},
        {"type": "message", "user": "U2", "ts": current, "thread_ts": parent, "text": "When is it again?"},
    ]
    event = {"type": "message", "channel_type": "channel", "channel": "CNOTBOT", "user": "U2", "ts": current,
             "thread_ts": parent, "text": "When is it again?", "event_ts": current}
    send_event(slack_env, event, "EvNotBot")
    top_level = {"type": "message", "channel_type": "channel", "channel": "CNOTBOT", "user": "U2",
                 "ts": "1700000032.000100", "text": "How many vendors at the dumpling festival?"}
    send_event(slack_env, top_level, "EvNotBotTop")
    stub.wait("conversations.replies", "CNOTBOT")
    # a sentinel DM in another channel goes through the whole engine; by its answer the others are done
    send_event(slack_env, {"type": "message", "channel_type": "im", "channel": "DSENTINEL1", "user": "U2",
                           "ts": "1700000033.000100", "text": "When does the Cedar Point library branch open?"},
               "EvSentinel1")
    stub.wait("chat.update", "DSENTINEL1")
    assert stub.find("chat.postMessage", "CNOTBOT") == []


def test_direct_message_is_answered_in_the_dm(slack_env, stub):
    ts = "1700000040.000100"
    event = {"type": "message", "channel_type": "im", "channel": "DDM", "user": "U3", "ts": ts,
             "text": "How many food vendors will take part in the Harbourfront Dumpling Festival?", "event_ts": ts}
    send_event(slack_env, event, "EvDM")
    update = stub.wait("chat.update", "DDM")[0]
    placeholder = stub.find("chat.postMessage", "DDM")
    assert len(placeholder) == 1 and placeholder[0]["params"]["channel"] == "DDM"
    assert not placeholder[0]["params"].get("thread_ts"), "a top-level DM is answered at the top of the DM"
    assert "48" in texts(update["params"]["blocks"])


def _dm_exchange(asked: str, answered: str) -> list[dict]:
    """A question and the bot's answer at the top of a DM, as conversations.history returns them."""
    return [
        {"type": "message", "user": "U4", "ts": asked, "text": "Which rail line is getting a new timetable in March?"},
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": answered,
         "text": "The Northshore Line adds trains and an earlier first departure [1].",
         "blocks": [{"type": "section", "block_id": "nd_answer_0",
                     "text": {"type": "mrkdwn", "text": "The Northshore Line adds trains <https://x|[1]>."}}]},
    ]


def test_direct_message_follows_up_on_the_recent_dm_exchange(slack_env, stub):
    current = "1700000049.000100"
    stub.histories["DMEMORY"] = _dm_exchange("1700000045.000100", "1700000046.000100")
    event = {"type": "message", "channel_type": "im", "channel": "DMEMORY", "user": "U4", "ts": current,
             "text": "When does it take effect?", "event_ts": current}
    send_event(slack_env, event, "EvDMMemory")
    update = stub.wait("chat.update", "DMEMORY")[0]
    history_call = stub.find("conversations.history", "DMEMORY")[0]["params"]
    assert history_call["latest"] == current
    assert Decimal(history_call["oldest"]) == Decimal(current) - 30 * 60, "the default memory is 30 minutes"
    assert "March 2" in texts(update["params"]["blocks"]), "'it' was read as the Northshore Line from the DM"


def test_direct_message_after_a_long_pause_stands_alone(slack_env, stub):
    current = "1700009000.000100"  # more than 30 minutes after the exchange
    stub.histories["DPAUSE"] = _dm_exchange("1700000045.000100", "1700000046.000100")
    event = {"type": "message", "channel_type": "im", "channel": "DPAUSE", "user": "U4", "ts": current,
             "text": "When does it take effect?", "event_ts": current}
    send_event(slack_env, event, "EvDMPause")
    update = stub.wait("chat.update", "DPAUSE")[0]
    assert stub.find("conversations.history", "DPAUSE"), "the DM was read"
    assert "March 2" not in texts(update["params"]["blocks"]), "an old exchange is not this question's context"


def test_direct_message_is_answered_when_the_dm_history_cannot_be_read(slack_env, stub, caplog):
    ts = "1700000060.000100"
    stub.history_errors["DNOSCOPE"] = "missing_scope"
    event = {"type": "message", "channel_type": "im", "channel": "DNOSCOPE", "user": "U3", "ts": ts,
             "text": "How many food vendors will take part in the Harbourfront Dumpling Festival?", "event_ts": ts}
    with caplog.at_level("WARNING", logger="assistant.slack"):
        send_event(slack_env, event, "EvDMNoScope")
        update = stub.wait("chat.update", "DNOSCOPE")[0]
    assert "48" in texts(update["params"]["blocks"]), "answered without the history, not with an apology"
    assert any("missing_scope" in r.getMessage() for r in caplog.records)


def test_bot_messages_and_edits_are_ignored(slack_env, stub):
    base = {"type": "message", "channel_type": "im", "text": "When does the Cedar Point library branch open?"}
    send_event(slack_env, {**base, "channel": "DBOTS", "user": "U9", "bot_id": "BOTHER", "ts": "1700000050.000100"},
               "EvOtherBot")
    send_event(slack_env, {**base, "channel": "DBOTS", "subtype": "bot_message", "bot_id": "BOTHER",
                           "ts": "1700000050.000200"}, "EvBotMessage")
    send_event(slack_env, {**base, "channel": "DSELF", "user": BOT_USER, "bot_id": BOT_ID,
                           "ts": "1700000050.000300"}, "EvSelf")
    send_event(slack_env, {**base, "channel": "DEDIT", "subtype": "message_changed", "ts": "1700000050.000400",
                           "message": {"user": "U1", "text": "edited", "ts": "1700000049.000100"}}, "EvEdit")
    send_event(slack_env, {**base, "channel": "DJOIN", "subtype": "channel_join", "user": "U1",
                           "ts": "1700000050.000500"}, "EvJoin")
    send_event(slack_env, mention("CBOTMENTION", "1700000050.000600", "Which new station opens?", user="U9")
               | {"bot_id": "BOTHER"}, "EvBotMention")
    send_event(slack_env, {**base, "channel": "DSENTINEL2", "user": "U2", "ts": "1700000051.000100"}, "EvSentinel2")
    stub.wait("chat.update", "DSENTINEL2")
    for channel in ("DBOTS", "DSELF", "DEDIT", "DJOIN", "CBOTMENTION"):
        assert stub.find(channel=channel) == [], channel


# --- exactly once -----------------------------------------------------------------------------------


def _duplicates_logged(caplog, event_id):
    return sum(f"duplicate event {event_id}" in r.getMessage() for r in caplog.records)


def test_retries_and_duplicate_event_ids_answer_once(slack_env, stub, caplog):
    caplog.set_level(logging.INFO, logger="assistant.slack")
    event = mention("CRETRY", "1700000060.000100", "Which new station opens on the Northshore Line?")
    send_event(slack_env, event, "EvRetry")
    send_event(slack_env, event, "EvRetry", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    send_event(slack_env, event, "EvRetry")
    # the same message delivered under another event id (app_mention + message pair, or a re-delivery)
    send_event(slack_env, event, "EvRetryOther")
    stub.wait("chat.update", "CRETRY")
    wait_until(lambda: _duplicates_logged(caplog, "EvRetry") >= 3, message="three duplicates to be dropped")
    assert len(stub.find("chat.postMessage", "CRETRY")) == 1
    assert len(stub.find("chat.update", "CRETRY")) == 1
    assert "Gull Street" in texts(stub.find("chat.update", "CRETRY")[0]["params"]["blocks"])


def test_two_app_instances_sharing_a_data_dir_answer_once(slack_env, stub, caplog):
    caplog.set_level(logging.INFO, logger="assistant.slack")
    event = mention("CTWO", "1700000070.000100", "When does the Cedar Point library branch open?")
    body = event_body(event, "EvTwo")
    results = []

    def deliver(path):
        results.append(post(slack_env, body, "application/json", path=path).status_code)

    workers = [threading.Thread(target=deliver, args=(p,)) for p in ("/slack/events", "/second/slack/events") * 2]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert results == [200] * 4
    stub.wait("chat.update", "CTWO")
    wait_until(lambda: _duplicates_logged(caplog, "EvTwo") >= 3, message="three duplicates to be dropped")
    assert len(stub.find("chat.postMessage", "CTWO")) == 1
    assert len(stub.find("chat.update", "CTWO")) == 1


# --- errors -------------------------------------------------------------------------------------------


def test_engine_error_becomes_an_apology_with_the_request_id(slack_env, stub, caplog):
    caplog.set_level(logging.INFO, logger="assistant.slack")
    ts = "1700000080.000100"
    send_event(slack_env, mention("CBROKEN", ts, "When does the Cedar Point library branch open?"), "EvBroken",
               path="/broken/slack/events")
    update = stub.wait("chat.update", "CBROKEN")[0]
    assert stub.find("chat.postMessage", "CBROKEN")[0]["params"]["thread_ts"] == ts
    text = update["params"]["text"]
    assert text.startswith("Sorry") and "request id" in text
    request_id = text.rsplit("`", 2)[-2]
    failures = [r for r in caplog.records if r.levelno == logging.ERROR and request_id in r.getMessage()]
    assert failures and failures[0].exc_info and "the index is on fire" in str(failures[0].exc_info[1])


# --- feedback -----------------------------------------------------------------------------------------


def test_feedback_click_is_logged_and_buttons_replaced(slack_env, stub):
    engine, settings = slack_env["engine"], slack_env["settings"]
    answer = engine.ask("When does the Cedar Point library branch open?")
    message_blocks = blocks.answer_blocks(answer, request_id="req123")
    message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": "1700000090.000200",
               "thread_ts": "1700000090.000100", "text": blocks.fallback_text(answer), "blocks": message_blocks}
    up = next(b for b in message_blocks if b["type"] == "actions")["elements"][0]
    payload = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U7", "team_id": "T1"},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "CFEED", "is_ephemeral": False},
        "channel": {"id": "CFEED", "name": "news"}, "message": message,
        "response_url": stub.url + "/response/feedback1",
        "actions": [{"type": "button", "action_id": up["action_id"], "block_id": "nd_feedback", "value": up["value"],
                     "action_ts": "1700000091.000000", "text": up["text"]}],
    }
    interactive(slack_env, payload)
    update = stub.wait("chat.update", "CFEED")[0]["params"]
    assert update["ts"] == message["ts"]
    assert not [b for b in update["blocks"] if b.get("block_id") == "nd_feedback"], "buttons are gone"
    assert "Thanks for the feedback" in texts(update["blocks"])
    assert "February 14" in texts(update["blocks"]), "the answer itself stays"

    wait_until(lambda: settings.feedback_log.exists(), message="the feedback log")
    records = [json.loads(line) for line in settings.feedback_log.read_text().splitlines()]
    mine = [r for r in records if r["channel"] == "CFEED"]
    assert len(mine) == 1
    record = mine[0]
    assert record["verdict"] == "up" and record["user"] == "U7" and record["ts"] == message["ts"]
    assert record["question"] == "When does the Cedar Point library branch open?"
    assert "February 14" in record["answer"] and record["request_id"] == "req123"

    interactive(slack_env, payload)  # a double click: still one record
    stub.wait("chat.update", "CFEED", count=2)
    records = [json.loads(line) for line in settings.feedback_log.read_text().splitlines()]
    assert len([r for r in records if r["channel"] == "CFEED"]) == 1


# --- /newsdesk ----------------------------------------------------------------------------------------


def command_body(stub, text: str, channel: str, hook: str) -> str:
    return urllib.parse.urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "test", "channel_id": channel, "channel_name": "news",
        "user_id": "U5", "user_name": "ann", "command": "/newsdesk", "text": text, "api_app_id": "A1",
        "response_url": f"{stub.url}/response/{hook}", "trigger_id": "1.2.3",
    })


def test_slash_command_answers_ephemerally_with_a_post_button(slack_env, stub):
    response = post(slack_env, command_body(stub, "When does the Cedar Point library branch open?", "CCMD", "cmd1"),
                    "application/x-www-form-urlencoded")
    assert response.status_code == 200 and "Looking up" in response.text

    reply = stub.wait("response_url", hook="cmd1")[0]["params"]
    assert reply["response_type"] == "ephemeral"
    assert "February 14" in texts(reply["blocks"])
    post_block = next(b for b in reply["blocks"] if b.get("block_id") == blocks.POST_BLOCK_ID)
    button = post_block["elements"][0]
    assert button["action_id"] == "post_to_channel" and button["text"]["text"] == "Post to channel"
    assert stub.find("chat.postMessage", "CCMD") == [], "nothing public yet"

    payload = {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U5", "team_id": "T1"},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.4",
        "container": {"type": "message", "message_ts": "1700000100.000100", "channel_id": "CCMD",
                      "is_ephemeral": True},
        "channel": {"id": "CCMD", "name": "news"},
        "response_url": stub.url + "/response/cmd1click",
        "actions": [{"type": "button", "action_id": "post_to_channel", "block_id": blocks.POST_BLOCK_ID,
                     "value": button["value"], "action_ts": "1700000101.000000", "text": button["text"]}],
    }
    interactive(slack_env, payload)
    public = stub.wait("chat.postMessage", "CCMD")[0]["params"]
    assert not public.get("thread_ts")
    rendered = texts(public["blocks"])
    assert "February 14" in rendered and "<@U5> asked" in rendered
    assert any(b.get("block_id") == "nd_feedback" for b in public["blocks"]), "the public answer takes feedback"
    done = stub.wait("response_url", hook="cmd1click")[0]["params"]
    assert done.get("delete_original") is True


def test_slash_command_without_text_shows_usage(slack_env, stub):
    response = post(slack_env, command_body(stub, "  ", "CCMDEMPTY", "cmdempty"), "application/x-www-form-urlencoded")
    assert response.status_code == 200 and "/newsdesk" in response.text
    time.sleep(0.3)
    assert stub.find(hook="cmdempty") == [] and stub.find(channel="CCMDEMPTY") == []


# --- Socket Mode start-up -----------------------------------------------------------------------------


def socket_settings(tmp_path, **slack) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, **slack)


@pytest.mark.parametrize(
    "tokens, missing",
    [({}, "SLACK_BOT_TOKEN and SLACK_APP_TOKEN"),
     ({"slack_bot_token": BOT_TOKEN}, "SLACK_APP_TOKEN"),
     ({"slack_app_token": "xapp-1-A1-1-abc"}, "SLACK_BOT_TOKEN")],
)
def test_socket_mode_names_the_missing_token(tmp_path, tokens, missing):
    with pytest.raises(SlackConfigError, match=f"^{missing} not set"):
        run_socket_mode(socket_settings(tmp_path, **tokens), engine=object())


def test_socket_mode_rejects_a_bot_token_as_app_token(tmp_path):
    settings = socket_settings(tmp_path, slack_bot_token=BOT_TOKEN, slack_app_token=BOT_TOKEN)
    with pytest.raises(SlackConfigError, match="SLACK_APP_TOKEN is not an app-level token"):
        run_socket_mode(settings, engine=object())


def test_socket_mode_wrong_app_token_fails_fast(tmp_path, stub):
    settings = socket_settings(tmp_path, slack_bot_token=BOT_TOKEN, slack_app_token="xapp-1-A1-1-wrong",
                               slack_api_url=stub.url + "/api")  # no trailing slash: it is added
    started = time.monotonic()
    with pytest.raises(SlackConfigError, match=r"Slack rejected SLACK_APP_TOKEN \(invalid_auth\)"):
        run_socket_mode(settings, engine=object())
    assert time.monotonic() - started < 5
    opened = [c for c in stub.find("apps.connections.open") if c["token"] == "xapp-1-A1-1-wrong"]
    assert opened, "the connection attempt reached the (local) Slack API"


def test_socket_mode_wrong_bot_token_fails_fast(tmp_path, stub):
    settings = socket_settings(tmp_path, slack_bot_token="xoxb-wrong", slack_app_token="xapp-1-A1-1-abc",
                               slack_api_url=stub.api_url)
    started = time.monotonic()
    with pytest.raises(SlackConfigError, match=r"Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)"):
        run_socket_mode(settings, engine=object())
    assert time.monotonic() - started < 5


def test_newsdesk_slack_command_without_tokens_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if "SLACK" not in k}
    env["NEWSDESK_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-c", "from assistant.cli.main import run; run()", "slack"],
                            cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN not set" in result.stderr
    assert "Traceback" not in result.stderr
