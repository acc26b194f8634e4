"""Several terminals, one store: `newsdesk ask --server URL` and `newsdesk chat --server URL` ask the
real app over HTTP and print exactly what the local commands print over the same store; a command
refused beside the process holding the store is told the way out that fits it."""

from __future__ import annotations

import json
import subprocess

from assistant.retrieval import store_lock
from tests.conftest import REPO, SAMPLE_ARTICLES, free_port
from tests.test_api import ingested_engine, serving
from tests.test_store_lock import NEWSDESK, clean_env, one_line

KEY = "remote-ask-key"
FESTIVAL_Q = "Where will the Harbourfront Dumpling Festival be held?"  # answered, with sources
EUROVISION_Q = "Who won the 2026 Eurovision Song Contest?"  # declined, with the closest sources
# A time window ("in March", a "Searched:" line), then a follow-up read in its context.
CHAT = "Which rail line is getting a new timetable in March?\nWhen does its new timetable take effect?\n\n"

LONG_CHAT = "\n".join([FESTIVAL_Q, "How many food vendors will take part?", "Which rail line is getting a new timetable?",
                       "When does it take effect?", ""]) + "\n"  # fmt: skip


def newsdesk(env: dict, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSDESK, *args], env=env, input=input, capture_output=True, text=True, timeout=300, cwd=REPO)


def printed(result: subprocess.CompletedProcess) -> tuple[int, str, str]:
    return result.returncode, result.stdout, result.stderr


def test_ask_and_chat_through_a_server_print_what_they_print_here(tmp_path, embed_model):
    data = tmp_path / "data"
    engine = ingested_engine(data, embed_model)  # this process holds the store, as a running server does
    env = clean_env(NEWSDESK_DATA_DIR=str(data), NEWSDESK_API_KEY=KEY)
    commands = {
        "declined": (["ask", EUROVISION_Q], None),
        "json": (["ask", FESTIVAL_Q, "--json", "--top-k", "3"], None),
        "chat": (["chat"], CHAT),
    }
    try:
        with serving(engine, api_keys=KEY, max_history_turns=4) as server:
            # Beside the holder, each command is refused with the way out that fits it, before any model loads.
            for command, way_out in (("ask", "newsdesk ask --server URL QUESTION"), ("chat", "newsdesk chat --server URL")):
                refused = newsdesk(env, command, *([FESTIVAL_Q] if command == "ask" else []))
                line = one_line(refused.stderr)
                assert refused.returncode == 1 and refused.stdout == "", refused.stdout
                assert line.startswith("error: the local store ") and way_out in line, line
                assert "close the other session" in line and "ingest --server" not in line, line
            refused = newsdesk(env, "ingest", str(SAMPLE_ARTICLES))
            line = one_line(refused.stderr)
            assert "newsdesk ingest --server URL PATH..." in line and "ask --server" not in line, line

            remote = {name: printed(newsdesk(env, args[0], "--server", server.url, *args[1:], input=text))
                      for name, (args, text) in commands.items()}  # fmt: skip

            # A chat longer than the server takes history for goes on (its first and latest turns sent).
            long_chat = newsdesk({**env, "NEWSDESK_MAX_HISTORY_TURNS": "4"}, "chat", "--server", server.url, input=LONG_CHAT)
            assert long_chat.returncode == 0 and long_chat.stdout.count("ources:") == 4, long_chat.stderr

            # The server's key rules are ingest --server's: a wrong key, or no server there, is one line.
            wrong = newsdesk({**env, "NEWSDESK_API_KEY": "not-the-key"}, "ask", "--server", server.url, FESTIVAL_Q)
            assert wrong.returncode == 1 and "refused the API key (HTTP 401)" in one_line(wrong.stderr)
            nobody = f"http://127.0.0.1:{free_port()}"
            gone = newsdesk(env, "chat", "--server", nobody, input=CHAT)
            assert gone.returncode == 1 and gone.stdout == "> " and "Traceback" not in gone.stderr
            assert gone.stderr.splitlines()[-1].startswith(f"error: cannot reach the Newsdesk server at {nobody}/v1/ask: ")
    finally:
        engine.store.close()
    assert not store_lock.held_here(engine.settings.chroma_path)

    local = {name: printed(newsdesk(env, *args, input=text)) for name, (args, text) in commands.items()}
    for name in commands:
        assert remote[name] == local[name] or name == "json", name
    # The JSON Answer is the same but for how long each stage took.
    untimed = [{**json.loads(printed_json), "timings_ms": None} for _code, printed_json, _err in (remote["json"], local["json"])]
    assert untimed[0] == untimed[1] and remote["json"][0] == 0
    # What was compared is the real thing: a decline, the JSON Answer, a chat with sources and a time
    # window whose follow-up was understood in context.
    assert local["declined"][1].startswith("The ingested articles don't answer") and "Closest sources:" in local["declined"][1]
    assert untimed[0]["question"] == FESTIVAL_Q and len(untimed[0]["sources"]) >= 1
    assert "Searched: " in local["chat"][1] and "March 2" in local["chat"][1] and "Sources:" in local["chat"][1]
    assert "understood as: When does Northshore Line's new timetable take effect?" in local["chat"][2]
