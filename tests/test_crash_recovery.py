"""SIGKILL half-way through an ingest, then ingest again: the store is consistent, every article once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

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


def run_ingest(corpus, env):
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--verbose", "ingest", str(corpus), "--json"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_sigkill_mid_ingest_then_rerun(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    make_corpus(corpus)
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_INGEST_GROUP_ARTICLES": "10"}

    proc = run_ingest(corpus, env)
    deadline = time.time() + 300
    for line in proc.stderr:  # wait until at least one group is committed, then kill mid-way
        if "committed" in line:
            break
        assert time.time() < deadline, "ingest never committed a group"
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    probe = ArticleStore(settings)
    records = probe.records()
    probe.close()  # let go of the local store (assistant.store_lock): the rerun below takes it
    complete = [r for r in records.values() if r.status == "complete"]
    assert 0 < len(complete) < 120, "the kill landed half-way"

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
