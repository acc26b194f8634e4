"""A Chroma server (NEWSDESK_CHROMA_HOST) that stops and starts again: the outage reads as one.

The store raises one error naming the server, at once; `newsdesk serve --workers 2` under a few
clients answers 503 naming it (never a 500 or a hang), /healthz says so, Slack says Newsdesk is
unavailable, every worker answers again once Chroma is back without a restart, and an ingest cut
off by the outage, run again, ends with exactly the articles of an uninterrupted one. The sequence
is bench/faults's (`bench.faults_run.run_faults`), shorter."""

from __future__ import annotations

import time

import pytest

from assistant.settings import Settings
from bench.faults_run import ChromaServer, FaultRun, run_faults
from tests.conftest import SAMPLE_ARTICLES
from tests.test_slack import BOT_TOKEN, SECRET, SlackStub, mention, send_event

DUMPLINGS = "How many food vendors will take part in the Harbourfront Dumpling Festival?"
# Two groups of two: the outage comes once the first is committed, while the second is being written.
OUTAGE_ARTICLES = [SAMPLE_ARTICLES / name for name in (
    "dumpling-festival.md", "library-cedar-point.md", "northshore-line-timetable.md", "reactions.md",
)]


@pytest.fixture
def chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-data", tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_stopped_server_is_one_error_naming_it_and_the_same_objects_work_again(chroma, tmp_path, embed_model):
    from assistant.engine import Engine
    from assistant.retrieval.store import ArticleStore
    from assistant.retrieval.store_http import StoreUnavailable
    from ingest.pipeline import Ingester

    settings = Settings(data_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=chroma.port, _env_file=None)
    store = ArticleStore(settings)
    Ingester(store, embed_model).ingest_paths([SAMPLE_ARTICLES])
    engine = Engine(settings, store, embed_model)
    assert "48" in engine.ask(DUMPLINGS).answer

    chroma.stop()
    for call in (store.version, store.records, lambda: engine.ask(DUMPLINGS), lambda: ArticleStore(settings)):
        started = time.perf_counter()
        with pytest.raises(StoreUnavailable) as raised:
            call()
        assert time.perf_counter() - started < 2
        message = str(raised.value)
        assert chroma.address in message and "unavailable" in message and "\n" not in message

    chroma.start()  # same port, same data: the objects made before the outage answer again
    assert "48" in engine.ask(DUMPLINGS).answer
    assert len(store.complete_records()) == 10


def test_an_outage_under_load_is_503s_then_answers_and_the_rerun_ingest_loses_nothing(tmp_path, embed_model):
    stub = SlackStub()
    slack_notices: list[str] = []

    def ask_in_slack(url: str) -> None:
        send_event({"url": url}, mention("COUTAGE", "1800000100.000100", DUMPLINGS), "EvOutage")
        slack_notices.extend(c["params"]["text"] for c in stub.wait("chat.update", "COUTAGE", timeout=30))

    plan = FaultRun(
        clients=4, outage_s=3, before_s=1, after_s=1, seed=[], files=OUTAGE_ARTICLES, group_articles=2,
        outage_until_ingest_fails=True, during_outage=ask_in_slack,
        extra_env={"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET, "NEWSDESK_SLACK_API_URL": stub.api_url},
    )
    try:
        result = run_faults(tmp_path, plan, embed_model)
    finally:
        stub.close()

    address = result["chroma"]
    assert result["other_errors"] == 0, result["other_error_examples"]
    assert result["unavailable_503"] > 0 and result["answered"] > 0
    assert result["requests"] == result["answered"] + result["unavailable_503"]
    # The goal is 2 s, which bench/faults reports on a quiet machine. Here the Chroma server,
    # both workers, the clients and the ingest share 2 cores with the rest of the suite: a request sent
    # once Chroma has exited is bounded at 5 s (an outage is still an answer, not a hang), and one in
    # flight when Chroma got its SIGTERM waits out Chroma's shutdown, which CPU starvation stretches
    # (5.08 s once in a clean-clone CI run beside a benchmark; 3.6 s in another suite run).
    timing = {k: result[k] for k in ("slowest_503_s", "slowest_503_sent_after_shutdown_s", "shutdown_s")}
    assert result["slowest_503_sent_after_shutdown_s"] is not None and result["slowest_503_sent_after_shutdown_s"] <= 5, timing
    assert result["slowest_503_s"] <= result["shutdown_s"] + 5, timing
    assert address in result["unavailable_example"]

    health = result["healthz_during_outage"]
    assert health["checks"] > 0 and health["degraded_naming_chroma"] == health["checks"], health
    assert result["healthz_after"] == {"status": "ok"}
    assert slack_notices and "Newsdesk is unavailable" in slack_notices[-1]

    # Each of the two workers, unrestarted, answered a question sent within 5 s of Chroma's return
    # (asked on connections of its own), and no request failed after that.
    again = result["answering_again_s"]
    assert result["workers"] == 2 and len(again) == 2, again
    assert all(first is not None and first["sent_s"] <= 5 for first in again.values()), again
    assert result["recovery_s"] <= 5

    # The ingest was cut off by the outage (one line naming it), and its re-run lost nothing.
    first = result["ingest_first_run"]
    assert first["exit"] == 1 and "HTTP 503" in first["last_line"][0] and address in first["last_line"][0], first
    assert result["ingest_rerun"]["exit"] == 0, result["ingest_rerun"]
    assert result["articles"] == {"expected": 4, "stored": 4, "lost": 0, "extra": 0, "different": 0}, result["article_ids"]
