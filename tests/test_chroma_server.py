"""The store against a real Chroma server (``chroma run`` on 127.0.0.1), chosen by NEWSDESK_CHROMA_HOST."""

from __future__ import annotations

import pytest

from assistant.settings import Settings
from tests.conftest import SAMPLE_ARTICLES, assert_store_consistent, chroma_server


@pytest.fixture
def chroma_port(tmp_path):
    with chroma_server(tmp_path) as port:
        yield port


def test_http_client_store(chroma_port, tmp_path, embed_model):
    from assistant.engine import Engine
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    settings = Settings(
        data_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=chroma_port, _env_file=None
    )
    store = ArticleStore(settings)
    assert type(store.client).__name__ != "PersistentClient"
    summary = Ingester(store, embed_model).ingest_paths([SAMPLE_ARTICLES])
    assert summary.failed == [] and summary.added > 0
    assert not (tmp_path / "local" / "chroma").exists(), "nothing is written to a local Chroma"

    # A second process-like client (new store object, new engine, its own BM25 cache dir) sees it all.
    other = Settings(data_dir=tmp_path / "worker2", chroma_host="127.0.0.1", chroma_port=chroma_port, _env_file=None)
    engine = Engine(other, ArticleStore(other), embed_model)
    answer = engine.ask("How many food vendors will take part in the Harbourfront Dumpling Festival?")
    assert not answer.declined and "48" in answer.answer
    assert_store_consistent(ArticleStore(other))

    again = Ingester(ArticleStore(other), embed_model).ingest_paths([SAMPLE_ARTICLES])
    assert again.added == 0 and again.unchanged == summary.added
