"""What a new user hit in the CLI, each through the real `newsdesk` command: a bad setting, an
out-of-range --top-k, an empty store, line editing in chat, a failing feed in sync and in the list,
and a feed on a private address."""

from __future__ import annotations

import os
import select
import subprocess
import time

from assistant.answer import TOP_K_MAX, TOP_K_MIN
from tests.conftest import free_port
from tests.test_api import serving
from tests.test_cli_remote import newsdesk
from tests.test_store_lock import NEWSDESK, clean_env, one_line

QUESTION = "Where will the Harbourfront Dumpling Festival be held?"


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path):
    data = str(tmp_path / "data")
    top_k = newsdesk(clean_env(NEWSDESK_DATA_DIR=data, NEWSDESK_TOP_K="abc"), "ask", QUESTION)
    assert top_k.returncode == 1 and top_k.stdout == ""
    assert one_line(top_k.stderr) == (
        "error: bad setting NEWSDESK_TOP_K='abc': Input should be a valid integer, unable to parse string as an integer"
    )
    # Any NEWSDESK_* setting, any command; several bad ones are all named on the one line.
    both = newsdesk(clean_env(NEWSDESK_DATA_DIR=data, NEWSDESK_FETCH_TIMEOUT_S="-1", NEWSDESK_LLM="gpt"), "serve")
    line = one_line(both.stderr)
    assert both.returncode == 1 and "NEWSDESK_FETCH_TIMEOUT_S='-1': Input should be greater than 0" in line, line
    assert "NEWSDESK_LLM='gpt': Input should be 'extractive', 'openai', 'ollama' or 'llamacpp'" in line, line


def test_top_k_out_of_the_apis_range_is_refused(tmp_path):
    env = clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "data"))
    for top_k, problem in ((TOP_K_MIN - 1, f"greater than or equal to {TOP_K_MIN}"), (TOP_K_MAX + 1, f"less than or equal to {TOP_K_MAX}")):
        refused = newsdesk(env, "ask", "--top-k", str(top_k), QUESTION)
        assert refused.returncode == 2 and refused.stdout == ""
        assert one_line(refused.stderr) == f"error: Invalid value for '--top-k': Input should be {problem}"
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def test_an_empty_store_says_to_ingest_rather_than_declining(tmp_path, settings, embed_model):
    env = clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "empty"))
    for args, text in ((["ask", QUESTION], None), (["chat"], f"{QUESTION}\n\n")):
        empty = newsdesk(env, *args, input=text)
        assert empty.returncode == 1 and "don't answer" not in empty.stdout, empty.stdout
        assert empty.stderr.splitlines()[-1] == "error: nothing is ingested yet: newsdesk ingest PATH", empty.stderr
    # Small talk is still answered: nothing is looked up.
    hello = newsdesk(env, "ask", "hi")
    assert hello.returncode == 0 and hello.stdout.startswith("Hello."), hello.stderr

    from assistant.engine import Engine
    from assistant.retrieval.store import ArticleStore

    store = ArticleStore(settings)
    try:
        with serving(Engine(settings, store, embed_model)) as server:
            remote = newsdesk(env, "ask", "--server", server.url, QUESTION)
    finally:
        store.close()
    assert remote.returncode == 1
    assert one_line(remote.stderr) == f"error: nothing is ingested yet on the server at {server.url}: newsdesk ingest --server {server.url} PATH"


# ------------------------------------------------------------------------------ chat at a terminal

UP = "\x1b[A"
GREETING = "Hello. I answer questions"


class Terminal:
    """`newsdesk chat` on a pseudo-terminal, typed at as a person types."""

    def __init__(self, env: dict, *args: str):
        import tty

        self.main, sub = os.openpty()
        tty.setraw(sub)  # no echo or line discipline of the terminal's own: readline does the editing
        self.proc = subprocess.Popen(
            [NEWSDESK, "chat", *args], stdin=sub, stdout=sub, stderr=sub, env={**env, "TERM": "xterm"}, close_fds=True
        )
        os.close(sub)
        self.screen = ""

    def type(self, keys: str) -> None:
        os.write(self.main, keys.encode())

    def wait_for(self, text: str, count: int = 1, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while self.screen.count(text) < count:
            assert time.monotonic() < deadline and self.proc.poll() is None, f"never saw {text!r} x{count}: {self.screen!r}"
            if select.select([self.main], [], [], 0.2)[0]:
                try:
                    self.screen += os.read(self.main, 65536).decode("utf-8", "replace")
                except OSError:  # the other end closed
                    pass

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.main)


def test_chat_at_a_terminal_has_line_editing_and_keeps_its_history(tmp_path):
    data = tmp_path / "data"
    env = clean_env(NEWSDESK_DATA_DIR=str(data))
    first = Terminal(env)
    first.wait_for("> ")
    first.type("hu\x7fi\r")  # a typo mended with backspace: "hi"
    first.wait_for(GREETING)
    first.wait_for("> ", count=2)
    first.type(UP + "\r")  # the up arrow brings back "hi", not ^[[A
    first.wait_for(GREETING, count=2)
    first.wait_for("> ", count=3)
    first.type("\r")
    assert first.close() == 0
    assert "^[[A" not in first.screen
    assert (data / "chat_history").read_text().split() == ["hi"]  # a repeat of the last line is not kept twice

    # The next chat recalls the last one's questions.
    second = Terminal(env)
    second.wait_for("> ")
    second.type(UP + "\r")
    second.wait_for(GREETING)
    second.wait_for("> ", count=2)
    second.type("\x04")  # Ctrl-D
    assert second.close() == 0


# ------------------------------------------------------------------------------ feeds


def test_a_failed_feed_is_shown_with_its_reason_in_sync_and_once_in_the_list(tmp_path):
    env = clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_FETCH_ALLOW_PRIVATE="true")
    nobody = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    assert newsdesk(env, "feeds", "add", nobody).returncode == 0
    for _ in range(2):
        synced = newsdesk(env, "sync")
        assert synced.returncode == 1
        # The reason is on the feed's own line, on stdout with it: read apart from stderr, it is still there.
        assert f"failed        {nobody}: cannot connect ([Errno 111] Connection refused)\n" in synced.stdout, synced.stdout
    listed = newsdesk(env, "feeds", "list")
    assert listed.returncode == 0 and listed.stdout.count("Connection refused") == 1, listed.stdout
    assert "failures in a row 2" in listed.stdout and "last error: cannot connect ([Errno 111] Connection refused)" in listed.stdout


def test_adding_a_feed_on_a_private_address_says_sync_will_refuse_it(tmp_path):
    env = clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "data"))
    for url, problem in (
        ("http://127.0.0.1:8080/rss.xml", "host '127.0.0.1' is a loopback address (127.0.0.1)"),
        ("http://10.20.30.40/feed", "host '10.20.30.40' is a private address (10.20.30.40)"),
        ("http://169.254.169.254/latest/feed", "host '169.254.169.254' is a link-local address (169.254.169.254)"),
    ):
        added = newsdesk(env, "feeds", "add", url)
        assert added.returncode == 0 and added.stdout == f"added: {url}\n"
        assert one_line(added.stderr) == (
            f"warning: `newsdesk sync` will refuse this feed: {problem} (set NEWSDESK_FETCH_ALLOW_PRIVATE=true to allow)"
        )
    # A public address, or private ones allowed: nothing to warn of (nothing is fetched when adding).
    public = newsdesk(env, "feeds", "add", "http://93.184.215.14/rss.xml")
    assert public.returncode == 0 and public.stderr == ""
    allowed = newsdesk({**env, "NEWSDESK_FETCH_ALLOW_PRIVATE": "true"}, "feeds", "add", "http://127.0.0.1:8081/rss.xml")
    assert allowed.returncode == 0 and allowed.stderr == ""
    # And sync does refuse it, saying why on its line.
    synced = newsdesk(env, "sync", "http://127.0.0.1:8080/rss.xml")
    assert f"failed        http://127.0.0.1:8080/rss.xml: refused: host '127.0.0.1' is a loopback address" in synced.stdout
