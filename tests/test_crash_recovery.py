"""SIGKILL half-way through an ingest, then ingest again: the store is consistent, every article once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from assistant.settings import Settings
from assistant.store import ArticleStore
from tests.conftest import REPO, assert_store_consistent

TOPICS = ["harbour", "railway", "library", "festival", "museum", "council", "weather", "school", "market", "bridge"]


def make_corpus(path, n=120):
    with path.open("w") as f:
        for i in range(n):
            topic = TOPICS[i % len(TOPICS)]
            body = " ".join(
                f"Report {i} on the {topic}: officials said item {j} of the {topic} plan costs {i * 7 + j} thousand dollars."
                for j in range(25)
            )
            f.write(json.dumps({"id": f"a{i:03d}", "title": f"{topic.title()} update {i}", "text": body}) + "\n")


def run_ingest(corpus, env, stderr=subprocess.PIPE):
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--verbose", "ingest", str(corpus), "--json"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )


def test_sigkill_mid_ingest_then_rerun(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    make_corpus(corpus)
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_INGEST_GROUP_ARTICLES": "10"}

    log = tmp_path / "killed.log"
    with log.open("w") as stderr:
        proc = run_ingest(corpus, env, stderr=stderr)
    deadline = time.time() + 300
    while "committed" not in log.read_text():  # the store exists and a first group is in
        assert proc.poll() is None and time.time() < deadline, f"ingest never committed a group: {log.read_text()}"
        time.sleep(0.05)

    # Killed while a group is being written: once a group is complete and the next one is pending. The
    # manifest is read beside the writer without claiming the store, as `newsdesk sources` reads it.
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    watcher = ArticleStore(settings, lock=False)
    while True:
        statuses = Counter(r.status for r in watcher.records().values())
        if statuses["complete"] and statuses["pending"]:
            break
        assert proc.poll() is None and time.time() < deadline, "the ingest ended before it could be killed mid-group"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    watcher.close()

    probe = ArticleStore(settings)
    records = probe.records()
    probe.close()  # let go of the local store (assistant.store_lock): the rerun below takes it
    complete = [r for r in records.values() if r.status == "complete"]
    assert 0 < len(complete) < 120, "the kill landed half-way"
    assert any(r.status == "pending" for r in records.values()), "killed with a group in progress"

    rerun = run_ingest(corpus, env)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["added"] + summary["unchanged"] == 120 and summary["failed"] == []

    store = ArticleStore(settings)
    assert len(store.records()) == 120
    assert_store_consistent(store)
    store.close()
    # A third run finds nothing to do.
    third = run_ingest(corpus, env)
    stdout, _ = third.communicate(timeout=300)
    assert json.loads(stdout)["unchanged"] == 120
