"""Embeddings from a real local server — never a mock.

llama-cpp-python's OpenAI-compatible server serves ``/v1/embeddings`` from the SmolLM2 GGUF the LLM
tests use (:mod:`bench.embed_server`); Newsdesk talks to it as ``NEWSDESK_EMBEDDING=openai`` with
``NEWSDESK_EMBEDDING_BASE_URL``, the path a vLLM, TEI or llama.cpp server takes. The articles are a
sentence or two each: a 135M model on two busy cores embeds a few hundred tokens a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO, assert_store_consistent, write

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: `make test` installs it with the test extras")
pytest.importorskip("llama_index.embeddings.openai_like", reason="the openai-embeddings extra is not installed (make install-test)")

ARTICLES = [
    ("harbour-ferry", "Harbour ferry adds night crossings", "2026-03-02",
     "The harbour ferry will run night crossings every hour from April, the transit board said on Monday."),
    ("orchard-frost", "Frost damages valley orchards", "2026-03-04",
     "A late frost damaged about a third of the apple blossom in the valley orchards, growers said."),
    ("library-robots", "Library lends robot kits", "2026-03-05",
     "The central library now lends robot kits to schools, with forty kits in the first batch."),
    ("bridge-paint", "Old bridge repainted green", "2026-03-06",
     "Painters finished the old iron bridge in its original green after six weeks of work."),
]
FERRY_Q = "When will the harbour ferry run night crossings?"
MODEL, DIMENSION = "smollm2", 576  # SmolLM2-135M's hidden size, mean-pooled
MINILM = "all-MiniLM-L6-v2-onnx-int8"


def write_articles(folder, articles=ARTICLES):
    rows = [{"id": i, "title": t, "published_at": d, "text": text, "source": "Test Wire"} for i, t, d, text in articles]
    return write(folder / "articles.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")


def server_settings(tmp_path, url: str, **overrides):
    from assistant.settings import Settings

    values = dict(
        data_dir=tmp_path / "data", embedding="openai", embedding_base_url=url, embedding_model=MODEL,
        # Two chunks a request, two requests at once: the batches-in-flight path, on four chunks.
        embed_batch_size=2, embed_batches_in_flight=2, embedding_timeout_s=120, embedding_max_retries=0,
        _env_file=None,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from bench.embed_server import embedding_server

    with embedding_server(tmp_path_factory.mktemp("embed-server") / "server.log") as (url, _proc):
        yield url


def stored_vectors(store) -> np.ndarray:
    got = store.chunks.get(include=["embeddings"])
    return np.asarray(got["embeddings"], dtype=np.float32)


def test_ingest_and_ask_through_the_server(server, tmp_path):
    from assistant.retrieval.embedding import build_embedding
    from assistant.engine import Engine
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    settings = server_settings(tmp_path, server)
    store = ArticleStore(settings)
    embed_model = build_embedding(settings)
    summary = Ingester(store, embed_model, settings).ingest_paths([write_articles(tmp_path / "in")])
    assert (summary.added, summary.chunks, summary.failed) == (4, 4, [])
    assert stored_vectors(store).shape == (4, DIMENSION)
    meta = store.chunk_collection_metadata()
    assert (meta["embedder_model"], meta["embedder_dimension"]) == (MODEL, DIMENSION)
    assert_store_consistent(store)

    answer = Engine(settings, store, embed_model, warm_up=False).ask(FERRY_Q)
    assert not answer.declined, answer.answer
    assert answer.sources[0].article_id == "harbour-ferry"
    assert "night crossings" in answer.answer


def test_another_embedder_is_refused_in_one_line(server, tmp_path, embed_model):
    from assistant.retrieval.embedding import build_embedding
    from assistant.retrieval.store import ArticleStore
    from assistant.retrieval.store_embedder import EmbedderMismatch
    from ingest.pipeline import Ingester

    settings = server_settings(tmp_path, server)
    store = ArticleStore(settings)
    Ingester(store, build_embedding(settings), settings).ingest_paths([write_articles(tmp_path / "in", ARTICLES[:1])])
    store.close()  # gives the local store up to the command

    # The CLI, with the default embedder: one line on stderr, naming both and the ways out.
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(settings.data_dir)}
    env = {k: v for k, v in env.items() if not k.startswith("NEWSDESK_EMBEDDING")}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", FERRY_Q], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr == (
        "error: collection 'articles' holds vectors of smollm2 (576 dimensions), not of all-MiniLM-L6-v2-onnx-int8 "
        "(384 dimensions) (NEWSDESK_EMBEDDING=minilm-onnx): set another NEWSDESK_COLLECTION, or run `newsdesk reindex` "
        "to re-embed its articles with all-MiniLM-L6-v2-onnx-int8\n"
    )
    assert done.stdout == ""

    # In the other direction: a MiniLM collection, and the server's embedder ingesting into it.
    minilm = server_settings(tmp_path, server, embedding="minilm-onnx", collection="minilm")
    Ingester(ArticleStore(minilm), embed_model, minilm).ingest_paths([write_articles(tmp_path / "in", ARTICLES[:1])])
    with pytest.raises(EmbedderMismatch) as refused:
        Ingester(ArticleStore(minilm.model_copy(update={"embedding": "openai"})), build_embedding(settings), settings)
    assert str(refused.value) == (
        "collection 'minilm' holds vectors of all-MiniLM-L6-v2-onnx-int8 (384 dimensions), not of smollm2 "
        "(NEWSDESK_EMBEDDING=openai): set another NEWSDESK_COLLECTION, or run `newsdesk reindex` to re-embed its "
        "articles with smollm2"
    )


def test_an_unrecorded_collection_is_adopted_by_its_own_embedder_only(server, tmp_path, embed_model):
    """A collection built before collections recorded their embedder: its first write records the
    embedder that made its vectors, and another one is refused before it writes a vector."""
    from assistant.retrieval.embedding import build_embedding
    from assistant.retrieval.store import ArticleStore
    from assistant.retrieval.store_embedder import EmbedderMismatch
    from ingest.pipeline import Ingester

    settings = server_settings(tmp_path, server, embedding="minilm-onnx")
    store = ArticleStore(settings)
    Ingester(store, embed_model, settings).ingest_paths([write_articles(tmp_path / "in", ARTICLES[:2])])
    store.chunks.modify(metadata={"built": "before records"})  # as every store built before this change
    before = stored_vectors(store)

    server_side = settings.model_copy(update={"embedding": "openai"})
    with pytest.raises(EmbedderMismatch, match=r"holds vectors of an unrecorded embedder \(384 dimensions\), not of smollm2 \(576 dimensions\)"):
        Ingester(ArticleStore(server_side), build_embedding(server_side), server_side).ingest_paths(
            [write_articles(tmp_path / "more", ARTICLES[2:3])]
        )
    assert np.array_equal(stored_vectors(store), before)

    summary = Ingester(store, embed_model, settings).ingest_paths([write_articles(tmp_path / "more", ARTICLES[2:3])])
    assert summary.added == 1
    meta = store.chunk_collection_metadata()
    assert (meta["embedder_model"], meta["embedder_dimension"], meta["built"]) == (MINILM, 384, "before records")


def test_reindex_moves_a_collection_to_the_server_embedder(server, tmp_path, embed_model):
    from assistant.retrieval.embedding import build_embedding
    from assistant.engine import Engine
    from assistant.retrieval.keyword import KeywordState, keyword_dir
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester
    from ingest.reindex import reindex

    minilm = server_settings(tmp_path, server, embedding="minilm-onnx")
    store = ArticleStore(minilm)
    articles = write_articles(tmp_path / "in")
    Ingester(store, embed_model, minilm).ingest_paths([articles])
    texts = {chunk_id: doc for chunk_id, doc, _meta in store.iter_chunks()}
    old_keywords = keyword_dir(store)
    assert (old_keywords / "state.json").is_file()

    settings = server_settings(tmp_path, server)
    embedder = build_embedding(settings)
    summary = reindex(settings, embedder, store=store)
    assert summary.line() == (
        "reindexed 4 articles, 4 chunks with smollm2 (576 dimensions): collection 'articles' is now Chroma collection "
        "'articles__g2' (was 'articles', dropped)"
    )
    names = sorted(c.name for c in store.client.list_collections())
    assert names == ["articles__g2", "articles__g2__articles", "newsdesk__active"]
    assert not old_keywords.exists()

    moved = ArticleStore(settings, client=store.client)
    assert moved.name == "articles__g2" and KeywordState.read(keyword_dir(moved)).version == moved.version()
    assert {chunk_id: doc for chunk_id, doc, _meta in moved.iter_chunks()} == texts
    assert stored_vectors(moved).shape == (4, DIMENSION)
    assert_store_consistent(moved)

    # Nothing to embed again from the same files, and questions are answered from the new vectors.
    again = Ingester(moved, embedder, settings).ingest_paths([articles])
    assert (again.unchanged, again.chunks) == (4, 0)
    answer = Engine(settings, moved, embedder, warm_up=False).ask(FERRY_Q)
    assert answer.sources[0].article_id == "harbour-ferry"


def test_server_going_away_mid_ingest_writes_nothing_half(tmp_path):
    """The server is stopped once the first group is stored: one clear line, the groups written stay
    whole, the one being embedded is left pending with no chunk, and the next run completes exactly."""
    from assistant.retrieval.embedding import EmbeddingFailed, build_embedding
    from assistant.retrieval.store import ArticleStore
    from bench.common import free_port
    from bench.embed_server import embedding_server
    from ingest.pipeline import Ingester

    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    settings = server_settings(tmp_path, url, ingest_group_articles=2)
    articles = write_articles(tmp_path / "in")
    store = ArticleStore(settings)
    with embedding_server(tmp_path / "server.log", port=port) as (_url, proc):
        ingester = Ingester(store, build_embedding(settings), settings)

        def stop_after_first_group(event: str, amount: int) -> None:
            if event == "chunks" and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)

        with pytest.raises(EmbeddingFailed) as failed:
            ingester.ingest_paths([articles], progress=stop_after_first_group)
    assert str(failed.value) == (
        f"the embedding server {url} failed (Connection error.): the 2 article(s) being embedded were not all written; "
        "run the same ingest again"
    )
    statuses = {r.id: r.status for r in store.records().values()}
    assert statuses == {
        "harbour-ferry": "complete", "orchard-frost": "complete", "library-robots": "pending", "bridge-paint": "pending"
    }
    assert {meta["article_id"] for _i, _d, meta in store.iter_chunks(include=["metadatas"])} == {"harbour-ferry", "orchard-frost"}
    assert {r.id for r in store.complete_records()} == {"harbour-ferry", "orchard-frost"}

    with embedding_server(tmp_path / "again.log", port=port):
        summary = ingester.ingest_paths([articles])
    assert (summary.added, summary.unchanged, summary.chunks) == (2, 2, 2)
    assert {r.id for r in store.complete_records()} == {a[0] for a in ARTICLES}
    assert_store_consistent(store)


def test_an_embedding_server_that_does_not_answer_is_a_503_naming_it(server, tmp_path):
    """Articles embedded by the server; then the API runs against an embedding server that does not
    answer: a question and a posted article are each a 503 naming that server (an outage, not a 500),
    the posted article is left to a re-run, and Slack's notice names the embedding server."""
    import httpx

    from assistant.api.app import create_app
    from assistant.retrieval.embedding import EmbeddingFailed, build_embedding
    from assistant.engine import Engine
    from assistant.slack.app import failure_notice
    from assistant.retrieval.store import ArticleStore
    from bench.common import free_port
    from ingest.pipeline import Ingester
    from tests.test_api import UvicornThread, assert_error

    settings = server_settings(tmp_path, server)
    Ingester(ArticleStore(settings), build_embedding(settings), settings).ingest_paths([write_articles(tmp_path / "in")])

    gone = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    away = server_settings(tmp_path, gone)
    store = ArticleStore(away)
    engine = Engine(away, store, build_embedding(away), warm_up=False)
    with UvicornThread(create_app(away, engine)) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        asked = client.post("/v1/ask", json={"question": FERRY_Q})
        error = assert_error(asked, 503, "unavailable", f"the embedding server {gone} failed (Connection error.)")
        assert "\n" not in error["message"]
        assert asked.headers["Retry-After"]

        posted = client.post("/v1/documents", json={"articles": [
            {"id": "tram-line", "title": "Tram line opens", "text": "The new tram line opens on Saturday, the city said."}
        ]})
        assert_error(posted, 503, "unavailable", gone, "were not all written; run the same ingest again")
        assert client.get("/healthz").status_code == 200  # the server itself is fine

    assert {r.id for r in store.complete_records()} == {a[0] for a in ARTICLES}  # nothing of tram-line is stored
    assert "tram-line" not in {meta["article_id"] for _i, _d, meta in store.iter_chunks(include=["metadatas"])}
    notice = failure_notice(EmbeddingFailed(gone, "Connection error.", "nothing was embedded"), "slack test", "req1")
    assert notice.startswith("Newsdesk is unavailable right now: its embedding server is not answering.")
