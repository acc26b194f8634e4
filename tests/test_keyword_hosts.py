"""Several hosts over one Chroma server, each with its own keyword index (issue 24): the host that
writes logs what each write changed, and a host that answers follows that log, rewriting only those
articles and moving only those clusters, without reading the whole manifest; while a write is at work
it answers from what it holds, and a write that died without logging is repaired from the manifest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.retrieval import store as store_module
from assistant.engine import Engine
from assistant.retrieval.keyword import KeywordState, indexed_chunk_ids, keyword_dir
from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore
from ingest.pipeline import Ingester
from tests.conftest import chroma_server
from tests.test_syndication import COURIER, LEDGER, RIDERS, SENTINEL


@pytest.fixture
def hosts(tmp_path, embed_model):
    """(writer's ingester, answering host's engine) over one real Chroma server."""
    with chroma_server(tmp_path) as port:
        def host(name: str) -> Settings:
            return Settings(data_dir=tmp_path / name, chroma_host="127.0.0.1", chroma_port=port, _env_file=None)

        writing, answering = host("ingest-host"), host("answer-host")
        ingester = Ingester(ArticleStore(writing), embed_model, writing)
        engine = Engine(answering, ArticleStore(answering), embed_model)
        yield ingester, engine


def _whole_manifest_read(*_args, **_kwargs):
    raise AssertionError("the answering host read the whole manifest")


def _assert_like_the_writers(ingester, engine) -> None:
    store = engine.store
    view = engine.bm25.indexes()
    assert not view.stale and view.version == store.version()
    assert sorted(indexed_chunk_ids(store)) == sorted(indexed_chunk_ids(ingester.store))
    ours, theirs = KeywordState.read(keyword_dir(store)), KeywordState.read(keyword_dir(ingester.store))
    assert (ours.version, ours.newest_day, ours.sources) == (theirs.version, theirs.newest_day, theirs.sources)
    assert ours.clusters == theirs.clusters


def test_an_answering_host_follows_the_writers_change_log(hosts, monkeypatch):
    ingester, engine = hosts
    ingester.ingest_articles([LEDGER, RIDERS])
    engine.ask("What will the Woodside ferry terminal expansion cost?")  # no index yet: built whole
    assert engine.bm25.builds == 1
    _assert_like_the_writers(ingester, engine)

    # The writer adds a copy and a third, deletes the oldest, and rewrites one copy into another story.
    ingester.ingest_articles([COURIER, SENTINEL])
    assert ingester.delete([LEDGER.id])[0] == [LEDGER.id]
    ingester.ingest_articles([replace(SENTINEL, text=RIDERS.text.replace("Regular riders", "Daily riders"))])

    assert ingester.store.count_articles() == 3  # the change log's records are not articles

    monkeypatch.setattr(ArticleStore, "records", _whole_manifest_read)
    view = engine.bm25.indexes()  # behind by three writes: followed in the background
    assert view.stale
    assert engine.bm25.wait_refreshed(timeout=120) and engine.bm25.builds == 2
    _assert_like_the_writers(ingester, engine)
    clusters = KeywordState.read(keyword_dir(engine.store)).clusters
    assert clusters.cluster_of == {SENTINEL.id: RIDERS.id, RIDERS.id: RIDERS.id}  # same day: the smaller id
    answer = engine.ask("What did nurse Colleen Babineau say about the fare surcharge?")
    assert not answer.declined and LEDGER.id not in {s.article_id for s in answer.sources}


def test_a_write_at_work_is_waited_for_and_a_dead_one_repaired(hosts, monkeypatch):
    ingester, engine = hosts
    ingester.ingest_articles([LEDGER])
    engine.ask("What will the Woodside ferry terminal expansion cost?")
    # A write begins (its first step bumps the version) and has not logged yet: the answering host
    # keeps answering from what it holds, and does not read the whole manifest.
    writer = ingester.store
    writer.bump_version()
    writer.write_records([replace(writer.records()[LEDGER.id], title="Ferry terminal expansion approved")])
    monkeypatch.setattr(ArticleStore, "records", _whole_manifest_read)
    assert engine.bm25.indexes().stale
    assert engine.bm25.wait_refreshed(timeout=60) and engine.bm25.builds == 1
    assert engine.bm25.indexes().stale
    # It never logs (the writer died): once a write at work would have ended, the manifest decides.
    monkeypatch.undo()
    monkeypatch.setattr(store_module, "WRITE_IN_PROGRESS_S", 0.0)
    engine.bm25.indexes()
    assert engine.bm25.wait_refreshed(timeout=120) and engine.bm25.builds == 2
    view = engine.bm25.indexes()
    assert not view.stale and view.version == writer.version()
