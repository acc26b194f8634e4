"""SIGKILL half-way through an ingest, then ingest again: the store is consistent, every article once,
and the keyword index holds exactly the store's chunks (issue 24: the two stores agree)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

from assistant.retrieval.keyword import KeywordState, indexed_chunk_ids, keyword_dir
from assistant.retrieval.keyword_tantivy import KeywordIndex
from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore
from tests.conftest import REPO, assert_store_consistent

TOPICS = ["harbour", "railway", "library", "festival", "museum", "council", "weather", "school", "market", "bridge"]


def make_corpus(path, n=120, first_draft=False):
    """``n`` articles; ``first_draft``: their texts before an edit (every one says "zeppelin")."""
    with path.open("w") as f:
        for i in range(n):
            topic = TOPICS[i % len(TOPICS)]
            body = " ".join(
                f"Report {i} on the {topic}: officials said item {j} of the {topic} plan costs {i * 7 + j} thousand dollars."
                for j in range(25)
            ) + (" A zeppelin was spotted overhead." if first_draft else "")
            f.write(json.dumps({"id": f"a{i:03d}", "title": f"{topic.title()} update {i}", "text": body}) + "\n")


def run_ingest(corpus, env, stderr=subprocess.PIPE):
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--verbose", "ingest", str(corpus), "--json"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )


def test_sigkill_mid_ingest_then_rerun(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_INGEST_GROUP_ARTICLES": "10"}
    # A published keyword index first: 20 articles in a first draft, which the killed run rewrites.
    make_corpus(corpus, n=20, first_draft=True)
    first = run_ingest(corpus, env)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    make_corpus(corpus)

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
    # The killed run wrote Chroma, not its keyword state: readers see the index behind the store.
    assert KeywordState.read(keyword_dir(probe)).version != probe.version()
    probe.close()  # let go of the local store (assistant.retrieval.store_lock): the rerun below takes it
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
    # The rerun repaired the keyword index: the same chunk ids as Chroma, each once, published at the
    # store's version; no first-draft text is left in it.
    stored = sorted(chunk_id for chunk_id, _text, _meta in store.iter_chunks())
    assert sorted(indexed_chunk_ids(store)) == stored
    assert KeywordState.read(keyword_dir(store)).version == store.version()
    assert KeywordIndex(keyword_dir(store) / "articles").num_docs == 120
    assert KeywordIndex(keyword_dir(store) / "chunks").search("zeppelin", 5) == []
    store.close()
    # A third run finds nothing to do.
    third = run_ingest(corpus, env)
    stdout, _ = third.communicate(timeout=300)
    assert json.loads(stdout)["unchanged"] == 120
