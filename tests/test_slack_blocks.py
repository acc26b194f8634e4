"""The Slack app's pure parts: Block Kit rendering, threads as history, cross-process claims,
the feedback log and the manifest. No Slack, no engine."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import yaml

from assistant.answer import Answer, Source
from assistant.slack import blocks
from assistant.slack.dedupe import SlackState
from assistant.slack.feedback import record_feedback
from assistant.slack.threads import bot_in_thread, slack_to_plain, thread_history
from tests.conftest import REPO

BOT_USER, BOT_ID = "UBOT", "BBOT"


def source(n: int, url: str = "", title: str = "", date: str = "2026-01-08") -> Source:
    return Source(n=n, article_id=f"a{n}", title=title or f"Title {n}", url=url or f"https://example.org/a{n}",
                  published_at=date, quote="q")


def make_answer(text: str, sources=(), declined=False, question="What happened?") -> Answer:
    return Answer(question=question, standalone_question=question, answer=text, sources=list(sources),
                  declined=declined)


def all_text(bs: list[dict]) -> str:
    out = []
    for b in bs:
        if "text" in b:
            out.append(b["text"]["text"])
        out += [e["text"] if isinstance(e.get("text"), str) else e["text"]["text"] for e in b.get("elements", [])]
    return "\n".join(out)


def assert_within_limits(bs: list[dict]) -> None:
    assert len(bs) <= blocks.MAX_BLOCKS
    ids = [b["block_id"] for b in bs]
    assert len(ids) == len(set(ids)), "block ids are unique"
    for b in bs:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= blocks.MAX_SECTION_CHARS
        for e in b.get("elements", []):
            if e.get("type") == "button":
                assert len(e["value"]) <= blocks.MAX_BUTTON_VALUE and len(e["text"]["text"]) <= 75
            elif e.get("type") == "mrkdwn":
                assert len(e["text"]) <= blocks.MAX_CONTEXT_CHARS


# --- blocks -------------------------------------------------------------------------------------------


def test_citations_become_links_and_sources_context_blocks():
    answer = make_answer("Prices rose 5% [1]. Rents & fees <too> [2][3].",
                         [source(1), source(2, url="https://e.org/x?a=1&b=2", title="A | B <c>"),
                          source(3, url="not a url", date="")])
    bs = blocks.answer_blocks(answer, request_id="r1")
    assert_within_limits(bs)
    body = bs[0]["text"]["text"]
    assert body == ("Prices rose 5% <https://example.org/a1|[1]>. Rents &amp; fees &lt;too&gt; "
                    "<https://e.org/x?a=1&amp;b=2|[2]>[3].")
    lines = [b["elements"][0]["text"] for b in bs if b["block_id"].startswith("nd_source_")]
    assert lines == ["[1] <https://example.org/a1|Title 1> · 2026-01-08",
                     "[2] <https://e.org/x?a=1&amp;b=2|A ¦ B &lt;c&gt;> · 2026-01-08",
                     "[3] Title 3"]
    actions = bs[-1]
    assert actions["block_id"] == "nd_feedback"
    assert [e["action_id"] for e in actions["elements"]] == ["feedback_up", "feedback_down"]
    assert blocks.parse_value(actions["elements"][0]["value"]) == {"q": "What happened?", "r": "r1"}
    assert blocks.fallback_text(answer) == "Prices rose 5% [1]. Rents &amp; fees &lt;too&gt; [2][3]."


def test_declined_answer_says_so_and_lists_closest_sources():
    answer = make_answer("The ingested articles don't answer this question.", [source(1), source(2)], declined=True)
    bs = blocks.answer_blocks(answer)
    text = all_text(bs)
    assert "No answer found" in text and "don't answer" in text
    assert "Closest sources" in text and "[1] <https://example.org/a1|Title 1>" in text


def test_long_answer_is_split_within_slack_limits():
    sentence = "The council approved the new budget after a long debate about transit funding [1]. "
    answer = make_answer(sentence * 400, [source(n) for n in range(1, 6)])  # ~34,000 characters
    bs = blocks.answer_blocks(answer)
    assert_within_limits(bs)
    sections = [b for b in bs if b["block_id"].startswith("nd_answer_")]
    assert len(sections) > 10
    assert all(s["text"]["text"].endswith(".") for s in sections), "split at sentence ends"
    assert all(s["text"]["text"].count("<") == s["text"]["text"].count(">") for s in sections), "no link cut"
    assert sum(len(s["text"]["text"]) for s in sections) >= len(sentence * 400) * 0.95
    assert len([b for b in bs if b["block_id"].startswith("nd_source_")]) == 5


def test_huge_answer_and_many_sources_stay_under_50_blocks():
    answer = make_answer("word " * 60000 + "[1]", [source(n) for n in range(1, 80)], question="q" * 5000)
    bs = blocks.answer_blocks(answer, note="asked by someone")
    assert_within_limits(bs)
    assert len(bs) == blocks.MAX_BLOCKS
    assert "(answer shortened)" in all_text(bs)
    assert sum(b["block_id"].startswith("nd_source_") for b in bs) == blocks.MIN_SOURCE_BLOCKS
    assert "more not shown" in all_text(bs)
    assert bs[-1]["block_id"] == "nd_feedback", "the buttons always survive"


def test_split_text_without_spaces_hard_cuts_outside_links():
    text = "x" * 2990 + "<https://example.org/long|[1]>" + "y" * 100
    pieces = blocks.split_text(text)
    assert all(len(p) <= blocks.MAX_SECTION_CHARS for p in pieces)
    assert "".join(pieces) == text and pieces[1].startswith("<https://")


def test_ephemeral_blocks_have_a_post_button_and_no_feedback():
    bs = blocks.ephemeral_answer_blocks(make_answer("Yes [1].", [source(1)]), token="tok", request_id="r")
    assert not any(b["block_id"] == "nd_feedback" for b in bs)
    button = bs[-1]["elements"][0]
    assert button["action_id"] == "post_to_channel" and json.loads(button["value"]) == {"t": "tok", "r": "r"}


def test_thanks_replace_the_buttons():
    bs = blocks.answer_blocks(make_answer("Yes [1].", [source(1)]))
    thanked = blocks.thanks_blocks(bs, "down", "U1")
    assert [b["block_id"] for b in thanked] == [b["block_id"] for b in bs[:-1]] + ["nd_thanks"]
    assert "👎 Thanks for the feedback, <@U1>!" in all_text(thanked)


# --- threads ------------------------------------------------------------------------------------------


def test_slack_markup_to_plain_text():
    text = "<@UBOT> what did <@U123|ann> say in <#C1|news> about <https://x.org/a|this> &amp; <!here>?"
    assert slack_to_plain(text, BOT_USER) == "what did @ann say in #news about this & @here?"
    assert slack_to_plain("<@UBOT>", BOT_USER) == ""


def _bot_answer(ts, text, thread_ts="1.0"):
    return {"user": BOT_USER, "bot_id": BOT_ID, "ts": ts, "thread_ts": thread_ts, "text": text,
            "blocks": [{"type": "section", "block_id": "nd_answer_0", "text": {"type": "mrkdwn", "text": "linked"}},
                       {"type": "context", "block_id": "nd_source_1",
                        "elements": [{"type": "mrkdwn", "text": "[1] <https://x|Title> · 2026-01-01"}]}]}


def test_thread_history_turns():
    messages = [
        {"user": "U1", "ts": "1.0", "text": "<@UBOT> Which rail line gets a new timetable?"},
        {"user": BOT_USER, "bot_id": BOT_ID, "ts": "1.5", "thread_ts": "1.0", "text": "Looking that up…",
         "blocks": [{"type": "context", "block_id": "nd_pending", "elements": []}]},
        _bot_answer("2.0", "The Northshore Line [1] &amp; more."),
        {"bot_id": "BOTHER", "subtype": "bot_message", "ts": "2.5", "thread_ts": "1.0", "text": "I am another bot"},
        {"user": BOT_USER, "bot_id": BOT_ID, "ts": "2.7", "thread_ts": "1.0", "text": "Sorry",
         "blocks": [{"type": "section", "block_id": "nd_error", "text": {"type": "mrkdwn", "text": "Sorry"}}]},
        {"user": "U2", "ts": "3.0", "thread_ts": "1.0", "text": "When does it start?"},
        {"user": "U1", "ts": "4.0", "thread_ts": "1.0", "text": "later message"},
    ]
    turns = thread_history(list(reversed(messages)), bot_user_id=BOT_USER, bot_id=BOT_ID, before_ts="3.0")
    assert [(t.role, t.content) for t in turns] == [
        ("user", "Which rail line gets a new timetable?"),
        ("assistant", "The Northshore Line [1] & more."),
    ]
    assert len(thread_history(messages, bot_user_id=BOT_USER, bot_id=BOT_ID, max_turns=2)) == 2
    assert thread_history(messages, bot_user_id=BOT_USER, bot_id=BOT_ID, max_turns=0) == []


def test_timestamps_compare_exactly():
    messages = [{"user": "U1", "ts": "1700000000.000101", "text": "after"},
                {"user": "U1", "ts": "1700000000.000099", "text": "before"}]
    turns = thread_history(messages, bot_user_id=BOT_USER, bot_id=BOT_ID, before_ts="1700000000.000100")
    assert [t.content for t in turns] == ["before"]


def test_bot_belongs_in_a_thread_only_when_mentioned_or_answering():
    people = [{"user": "U1", "ts": "1.0", "text": "lunch?"}, {"user": "U2", "ts": "2.0", "text": "sure"}]
    assert not bot_in_thread(people, BOT_USER, BOT_ID)
    assert bot_in_thread(people + [{"user": "U3", "ts": "3.0", "text": "<@UBOT> when?"}], BOT_USER, BOT_ID)
    assert bot_in_thread(people + [_bot_answer("3.0", "x")], BOT_USER, BOT_ID)
    assert not bot_in_thread(people + [{"user": "U3", "ts": "3.0", "text": "<@UBOTHER> when?"}], BOT_USER, BOT_ID)


# --- claims and stash ---------------------------------------------------------------------------------


def test_claims_are_once_per_event_and_per_message(tmp_path):
    state = SlackState(tmp_path / "state.sqlite3")
    assert state.claim_event("Ev1", "C1", "1.0")
    assert not state.claim_event("Ev1", "C1", "1.0"), "same event id (a retry)"
    assert not state.claim_event("Ev2", "C1", "1.0"), "same message under another event (app_mention + message)"
    assert state.claim_event("Ev3", "C1", "2.0")
    assert not SlackState(tmp_path / "state.sqlite3").claim_event("Ev3", "C9", "9.0"), "another instance, same file"


def test_claims_expire_after_the_retention_window(tmp_path):
    state = SlackState(tmp_path / "state.sqlite3", claim_retention_s=0.05)
    assert state.claim("k")
    time.sleep(0.1)
    state.purge()
    assert state.claim("k")


def test_claims_across_processes(tmp_path):
    path = tmp_path / "state.sqlite3"
    SlackState(path)
    script = textwrap.dedent(f"""
        import sys
        from assistant.slack.dedupe import SlackState
        state = SlackState({str(path)!r})
        won = [k for k in range(40) if state.claim_event(f"Ev{{k}}", "C1", f"{{k}}.0")]
        print(" ".join(map(str, won)))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    won = [int(k) for out in outputs for k in out.split()]
    assert sorted(won) == list(range(40)), "every event claimed by exactly one process"


def test_stash_round_trip_and_expiry(tmp_path):
    state = SlackState(tmp_path / "state.sqlite3", stash_retention_s=0.05)
    token = state.stash('{"a": 1}')
    assert state.unstash(token) == '{"a": 1}' and state.unstash("nope") is None
    time.sleep(0.1)
    assert state.unstash(token) is None


# --- feedback log -------------------------------------------------------------------------------------


def test_feedback_lines_are_appended(tmp_path):
    log = tmp_path / "data" / "feedback.jsonl"
    for verdict in ("up", "down"):
        record_feedback(log, verdict=verdict, question="Q?", answer="A [1].", user="U1", channel="C1", ts="1.0")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["verdict"] for r in records] == ["up", "down"]
    assert {k: records[0][k] for k in ("question", "answer", "user", "channel", "ts")} == {
        "question": "Q?", "answer": "A [1].", "user": "U1", "channel": "C1", "ts": "1.0"}


# --- manifest -----------------------------------------------------------------------------------------


def test_manifest_has_what_the_listeners_need():
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "channels:history", "groups:history", "im:history",
            "mpim:history"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.groups", "message.im", "message.mpim"} <= events
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/newsdesk"]
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True, "people can DM the bot"


def test_the_dates_searched_are_shown():
    import datetime as dt

    from assistant.answer import Answer
    from assistant.slack.blocks import answer_blocks
    from assistant.answer import TimeScope

    scope = TimeScope(phrase="in January", since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31), kind="window",
                      reference=dt.date(2026, 1, 20))
    answer = Answer(question="q", standalone_question="q", answer="A. [1]", time_scope=scope)
    texts = [e["text"] for b in answer_blocks(answer) if b["type"] == "context" for e in b["elements"]]
    assert "Searched: 2026-01-01 to 2026-01-31 (in January)" in texts
    assert not any("Searched" in t for b in answer_blocks(answer.model_copy(update={"time_scope": None}))
                   if b["type"] == "context" for t in [e["text"] for e in b["elements"]])
