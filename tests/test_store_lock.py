"""One process per local store (assistant/retrieval/store_lock.py) and `newsdesk ingest --server`.

The headline bug, as a user meets it: a server runs on a local data folder, and a CLI ingest into the
same folder used to be listed by /v1/documents/{id} but never found by /v1/ask (the server's vector
index lives in its own memory). Now that ingest is refused with one line naming the server, and
`newsdesk ingest --server URL` adds the articles through the server, where /v1/ask finds them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant.retrieval import store_lock
from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore, ArticleRecord
from assistant.retrieval.store_lock import StoreInUse
from tests.conftest import REPO, free_port, running_process, write
from tests.webserver import SALTMARSH_STORIES, TestSite, serve_saltmarsh_feed

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")
KEY = "lock-test-key"

KELP_MD = """---
title: Dunmore Point kelp farm lands its first harvest
date: 2026-04-09
source: Harbour Courier
authors: [Aileen Morrow]
---
The kelp farm off Dunmore Point harvested 41 tonnes of sugar kelp on Wednesday, its first crop since the ropes were seeded last October, the cooperative that runs it said.

Most of the crop goes to a fertiliser plant in Carrick; the rest is dried for a restaurant supplier. The cooperative's chair, Duncan Fairlie, said a second line of ropes will be seeded in the autumn.
"""

WIRE_JSONL = "\n".join(
    json.dumps(row)
    for row in [
        {"id": "courier-tram-0412", "title": "Tram depot gets a solar roof", "published_at": "2026-04-12",
         "source": "Harbour Courier", "text": "The tram depot on Mill Lane now carries 2,300 solar panels on its "
         "roof, enough for a fifth of the depot's power, the transit board said on Sunday."},
        # No id and no url: the id comes from the file name and the row (wire.jsonl#L2), as a local ingest gives it.
        {"title": "Lifeboat crew rescues two kayakers", "date": "2026-04-13",
         "text": "The Dunmore lifeboat crew rescued two kayakers caught by the tide near Gannet Rock on Monday "
         "evening. Both were brought ashore at the slipway and were unhurt."},
    ]
) + "\n"

KELP_Q = "How many tonnes of sugar kelp did the Dunmore Point farm harvest?"
FERRY_PAGE = REPO / "tests" / "pages" / "northern-ledger-ferry.html"
FERRY_ID = "https://www.northernledger.example/news/2026/03/02/night-ferry-skarholm-returns"
FERRY_Q = "When will the night ferry to Skarholm leave Brennvik?"
TERMINAL_Q = "When will the new Gull Point ferry terminal open?"


def newsdesk(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSDESK, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def clean_env(**values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return {**env, "ANONYMIZED_TELEMETRY": "False", **values}


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def assert_refused_by(line: str, pid: int, command: str) -> None:
    assert line.startswith("error: the local store ") and f"is in use by process {pid} ({command}" in line, line
    assert "NEWSDESK_CHROMA_HOST" in line and "newsdesk ingest --server URL" in line, line


def inputs(folder: Path) -> Path:
    write(folder / "kelp.md", KELP_MD)
    write(folder / "wire.jsonl", WIRE_JSONL)
    (folder / "ferry.html").write_bytes(FERRY_PAGE.read_bytes())
    write(folder / "broken.json", '{"title": "Half a record", "text": ')
    return folder


# ------------------------------------------------------------------------------ the headline, end to end


def test_a_cli_ingest_beside_a_running_server_is_refused_and_goes_through_it_instead(tmp_path):
    data = tmp_path / "served"
    folder = inputs(tmp_path / "in")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = clean_env(NEWSDESK_DATA_DIR=str(data), NEWSDESK_API_KEYS=KEY, NEWSDESK_FETCH_ALLOW_PRIVATE="true")
    serve = [NEWSDESK, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with TestSite() as site, running_process(serve, tmp_path / "serve.log", f"{url}/readyz", env=env, cwd=tmp_path) as server:
        serve_saltmarsh_feed(site)
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=300)

        # What a new user tries first: ingest into the folder the server uses. Refused at once, naming it.
        started = time.monotonic()
        refused = newsdesk(env, "ingest", str(folder))
        assert refused.returncode == 1 and refused.stdout == ""
        assert_refused_by(one_line(refused.stderr), server.pid, f"newsdesk serve --host 127.0.0.1 --port {port}")
        assert time.monotonic() - started < 30  # refused before any model loads (generous: a shared machine)
        # (ask and chat are told of `--server` and of closing the other session: tests/test_cli_remote.py)
        for args in (["delete", "courier-tram-0412"], ["feeds", "add", site.url("/saltmarsh/rss.xml")]):
            other = newsdesk(env, *args)
            assert other.returncode == 1, args
            assert_refused_by(one_line(other.stderr), server.pid, "newsdesk serve")
        second = newsdesk(env, "serve", "--port", str(free_port()))
        assert second.returncode == 1
        assert_refused_by(one_line(second.stderr), server.pid, "newsdesk serve")
        # Listing cannot go wrong: it goes on beside the server.
        listed = newsdesk(env, "sources", "--json")
        assert listed.returncode == 0 and json.loads(listed.stdout)["articles"] == 0, listed.stderr
        assert newsdesk(env, "feeds", "list").returncode == 0

        # The way out: through the server. Files are read here (this process opens no store: its own
        # data folder is never created); the bad file is named, the others go in.
        remote_env = clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "never-created"), NEWSDESK_API_KEY=KEY)
        sent = newsdesk(remote_env, "ingest", "--server", url, str(folder))
        assert sent.returncode == 1, sent.stderr
        assert "added 4 / updated 0 / unchanged 0 / deleted 0 / failed 1 / chunks " in sent.stdout
        assert f"failed {folder / 'broken.json'}" in sent.stderr and "invalid JSON" in sent.stderr
        assert not (tmp_path / "never-created").exists()

        answer = api.post("/v1/ask", json={"question": KELP_Q}).json()
        assert answer["sources"][0]["title"] == "Dunmore Point kelp farm lands its first harvest"
        assert "41 tonnes" in answer["answer"]
        ferry = api.post("/v1/ask", json={"question": FERRY_Q}).json()
        assert ferry["sources"][0]["article_id"] == FERRY_ID and "23:40" in ferry["answer"]
        served = {d["id"]: d for d in api.get("/v1/documents", params={"limit": 500}).json()["items"]}

        # URLs on the command line are fetched by the server (here from a page on loopback).
        page = site.url(next(p for p in SALTMARSH_STORIES if "gull-point-ferry-terminal" in p))
        fetched = newsdesk(remote_env, "ingest", "--server", url, page, "--json")
        assert fetched.returncode == 0, fetched.stderr
        assert (json.loads(fetched.stdout)["added"], json.loads(fetched.stdout)["failed"]) == (1, [])
        terminal = api.post("/v1/ask", json={"question": TERMINAL_Q}).json()
        assert terminal["sources"][0]["url"] == page and "June 14" in terminal["answer"]

        # Sending the same files again changes nothing: the ids are the ones the server already holds.
        again = newsdesk(remote_env, "ingest", "--server", url, str(folder / "kelp.md"), str(folder / "wire.jsonl"))
        assert again.returncode == 0 and "added 0 / updated 0 / unchanged 3 / deleted 0 / failed 0 / chunks 0" in again.stdout

        # A wrong key, or no server at that address: one line each, nothing half-done.
        wrong = newsdesk({**remote_env, "NEWSDESK_API_KEY": "not-the-key"}, "ingest", "--server", url, str(folder / "kelp.md"))
        assert wrong.returncode == 1 and "refused the API key (HTTP 401)" in one_line(wrong.stderr)
        nobody = f"http://127.0.0.1:{free_port()}"
        gone = newsdesk(remote_env, "ingest", "--server", nobody, str(folder / "kelp.md"))
        assert gone.returncode == 1 and f"cannot reach the Newsdesk server at {nobody}/v1/documents" in one_line(gone.stderr)
        missing = newsdesk(remote_env, "ingest", "--server", url, str(folder / "nope.md"))
        assert missing.returncode == 1 and "no such file or folder" in one_line(missing.stderr)

    # After the server stops, its folder is free again: a CLI ingest of the same files is all unchanged.
    after = newsdesk(env, "ingest", str(folder / "kelp.md"), str(folder / "wire.jsonl"), str(folder / "ferry.html"), "--json")
    assert after.returncode == 0, after.stderr
    assert (json.loads(after.stdout)["unchanged"], json.loads(after.stdout)["added"]) == (4, 0)

    # The same files ingested locally into another folder: the same ids, titles, dates and chunk counts.
    local = tmp_path / "local"
    alone = newsdesk(clean_env(NEWSDESK_DATA_DIR=str(local)), "ingest", str(folder), "--json")
    assert alone.returncode == 1 and json.loads(alone.stdout)["added"] == 4
    store = ArticleStore(Settings(data_dir=local, _env_file=None))
    try:
        records = {r.id: r for r in store.complete_records()}
    finally:
        store.close()
    assert set(records) == set(served) == {
        "courier-tram-0412", "wire.jsonl#L2", "kelp.md#dunmore-point-kelp-farm-lands-its-first-harvest", FERRY_ID,
    }  # fmt: skip
    for article_id, doc in served.items():
        mine = records[article_id]
        assert (doc["title"], doc["published_at"], doc["source"], doc["chunks"]) == (
            mine.title, mine.published_at, mine.source, mine.chunks,
        ), article_id  # fmt: skip


def test_serve_with_several_workers_on_a_local_store_is_refused_at_once(tmp_path):
    result = newsdesk(clean_env(NEWSDESK_DATA_DIR=str(tmp_path / "data")), "serve", "--workers", "2", "--port", str(free_port()), timeout=60)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "--workers 2: worker processes cannot share the local store" in line and "NEWSDESK_CHROMA_HOST" in line


# ------------------------------------------------------------------------------ the lock itself

HOLD = (
    "import sys; from assistant.settings import Settings; from assistant.retrieval.store import ArticleStore; "
    "store = ArticleStore(Settings(data_dir=sys.argv[1], _env_file=None)); print('holding', flush=True); sys.stdin.read()"
)
TRY = (
    "import sys; from assistant.retrieval import store_lock\n"
    "try:\n    store_lock.acquire(sys.argv[1])\nexcept store_lock.StoreInUse as exc:\n    print(exc.holder.pid)\n"
    "else:\n    print('free')"
)


def other_process_sees(folder: Path) -> str:
    """What another process gets when it asks for the lock on ``folder``: 'free' or the holder's pid."""
    result = subprocess.run([sys.executable, "-c", TRY, str(folder)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def holder(settings):
    """Another process holding the local store of ``settings``, until killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(settings.data_dir)], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_a_second_process_is_refused_naming_the_holder_until_it_is_killed(settings, holder):
    with pytest.raises(StoreInUse) as refused:
        ArticleStore(settings)
    assert refused.value.holder.pid == holder.pid and refused.value.holder.command.startswith(sys.executable)
    message = str(refused.value)
    assert "\n" not in message and f"{settings.chroma_path.resolve()} is in use by process {holder.pid}" in message
    assert not store_lock.held_here(settings.chroma_path)
    # Read-only listing may go on.
    assert ArticleStore(settings, lock=False).complete_records() == []

    holder.send_signal(signal.SIGKILL)  # the kernel drops a dead process's flock: no stale lock
    holder.wait(timeout=30)
    store = ArticleStore(settings)
    try:
        assert store_lock.holder(settings.chroma_path).pid == os.getpid()
        assert other_process_sees(settings.chroma_path) == str(os.getpid())
    finally:
        store.close()
    assert other_process_sees(settings.chroma_path) == "free"


def test_stores_in_one_process_share_the_claim_until_the_last_closes(settings):
    first = ArticleStore(settings)
    second = ArticleStore(settings)  # the API app, its sync thread and the tests build several
    record = ArticleRecord(id="a1", content_hash="h", status="complete", title="T", url="", published_at="",
                           source="", path="", chunks=0)  # fmt: skip
    first.write_records([record])
    assert second.get_record("a1") == record
    first.close()
    assert store_lock.held_here(settings.chroma_path) and other_process_sees(settings.chroma_path) == str(os.getpid())
    assert second.get_record("a1") == record  # the other store goes on
    second.close()
    assert not store_lock.held_here(settings.chroma_path) and other_process_sees(settings.chroma_path) == "free"
    # Reopened after another process could have written: read afresh, not from a cached client.
    again = ArticleStore(settings)
    try:
        assert again.get_record("a1") == record
    finally:
        again.close()


def test_a_forked_child_does_not_inherit_the_parents_lock(tmp_path):
    folder = tmp_path / "chroma"
    store_lock.acquire(folder)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the parent's claim is not its own, and asking for one is refused
            code = 9
            try:
                if store_lock.held_here(folder):
                    code = 2
                else:
                    store_lock.acquire(folder)
                    code = 3
            except StoreInUse as exc:
                code = 0 if exc.holder.pid == os.getppid() else 4
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store_lock.held_here(folder)  # the child's exit left the parent's lock alone
        assert other_process_sees(folder) == str(os.getpid())
    finally:
        store_lock.release(folder)
    assert other_process_sees(folder) == "free"


def test_a_chroma_server_store_takes_no_lock(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port(), _env_file=None)
    with pytest.raises(Exception) as no_server:  # nothing listens there: HttpClient fails to connect
        ArticleStore(settings)
    assert not isinstance(no_server.value, StoreInUse)
    assert not store_lock.held_here(settings.chroma_path) and not settings.chroma_path.exists()
