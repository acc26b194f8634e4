"""A date filter reaches Chroma three ways (a deeper query read in order, a query over the admitted
ids, Chroma's own metadata filter); each must give exactly the chunks Chroma's own filter gives. And
BM25 scored beside the dense query gives the same hits as one after the other."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from llama_index.core.schema import QueryBundle

from assistant.retrieval import hybrid as retrieval
from assistant.answer import SearchFilters
from assistant.engine import Engine
from assistant.retrieval.hybrid import _vector_filters
from tests.conftest import write

TOPICS = [
    ("ferry", "The harbour ferry timetable changes as the new pier opens to passengers"),
    ("library", "The city library extends its opening hours and adds a reading room for students"),
    ("bridge", "Engineers close the river bridge for repairs to its cracked steel supports"),
    ("market", "The farmers market moves to the square and welcomes twenty new stalls"),
]


def _articles() -> list[dict]:
    """Twenty-four short reports, two a month through 2024, on four recurring topics."""
    out = []
    for month in range(1, 13):
        for half, day in enumerate((5, 20)):
            name, text = TOPICS[(month * 2 + half) % len(TOPICS)]
            out.append({
                "id": f"{name}-{month:02d}-{day}",
                "title": f"{name.title()} news for month {month}",
                "url": f"https://example.org/{name}/{month}/{day}",
                "published_at": f"2024-{month:02d}-{day:02d}",
                "text": f"{text}. Officials spoke on day {day} of month {month}, and residents were told to plan ahead.",
            })
    return out


@pytest.fixture
def dated_engine(ingester, store, embed_model, tmp_path):
    path = write(tmp_path / "corpus.jsonl", "\n".join(json.dumps(a) for a in _articles()) + "\n")
    assert not ingester.ingest_paths([path]).failed
    return Engine(store.settings.model_copy(update={"candidate_k": 4}), store, embed_model, warm_up=False)


def _ids(results) -> list[str]:
    return [r.node.node_id for r in results]


WINDOWS = [
    SearchFilters(since=dt.date(2024, 1, 1), until=dt.date(2024, 10, 31)),  # most of the store
    SearchFilters(since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 31)),  # one month in twelve
    SearchFilters(since=dt.date(2024, 6, 1)),  # a lower bound only
    SearchFilters(until=dt.date(2024, 2, 10)),  # an upper bound only
]


@pytest.mark.parametrize("window", WINDOWS, ids=["ten-months", "one-month", "since", "until"])
def test_every_way_of_filtering_gives_chromas_own_filtered_hits(dated_engine, monkeypatch, window):
    retriever = dated_engine.retriever
    bm25 = dated_engine.bm25.get().masked(window)
    bundle = QueryBundle("When does the library open?", embedding=dated_engine.embed_model.get_query_embedding("library hours"))
    chroma_filtered = _ids(retriever._nearest(bundle, retriever.candidate_k, filters=_vector_filters(window)))
    assert chroma_filtered, "the window admits some chunks"

    ways = {}
    calls: list[dict] = []
    nearest = retriever._nearest

    def recording(bundle, k, filters=None, ids=None):
        calls.append({"k": k, "filters": filters is not None, "ids": ids is not None})
        return nearest(bundle, k, filters=filters, ids=ids)

    monkeypatch.setattr(retriever, "_nearest", recording)
    for name, depth, max_ids in [("deeper", 10_000, 0), ("ids", 0, 10_000), ("chroma", 0, 0)]:
        monkeypatch.setattr(retrieval, "POST_FILTER_MAX_DEPTH", depth)
        monkeypatch.setattr(retrieval, "ID_FILTER_MAX", max_ids)
        calls.clear()
        ways[name] = _ids(retriever._dense(bundle, window, dated_engine.bm25.get(), bm25))
        assert len(calls) == 1
        assert calls[0]["filters"] == (name == "chroma") and calls[0]["ids"] == (name == "ids"), (name, calls)
        if name == "deeper":
            assert calls[0]["k"] > retriever.candidate_k
    assert ways == {"deeper": chroma_filtered, "ids": chroma_filtered, "chroma": chroma_filtered}


def test_a_stale_index_leaves_the_filtering_to_chroma(dated_engine, monkeypatch):
    retriever = dated_engine.retriever
    indexes = dated_engine.bm25.indexes()
    window = WINDOWS[1]
    bm25 = indexes.chunks.masked(window)
    indexes.chunks.stale = True  # the store moved past this view: it may not know every chunk
    calls = []
    nearest = retriever._nearest
    monkeypatch.setattr(retriever, "_nearest", lambda b, k, filters=None, ids=None: calls.append((filters, ids)) or nearest(b, k, filters, ids))
    hits = retriever._dense(QueryBundle("bridge repairs", embedding=dated_engine.embed_model.get_query_embedding("bridge")), window, indexes.chunks, bm25)
    assert calls and calls[0][0] is not None and calls[0][1] is None
    assert hits and all(window.admits(h.node.metadata) for h in hits)


def test_a_window_the_index_says_is_empty_asks_chroma_nothing(dated_engine, monkeypatch):
    retriever = dated_engine.retriever
    source = dated_engine.bm25.get()
    window = SearchFilters(since=dt.date(1996, 1, 1), until=dt.date(1996, 12, 31))  # nothing published then
    assert source.masked(window) is None
    monkeypatch.setattr(retriever, "_nearest", lambda *a, **k: pytest.fail("Chroma was asked"))
    assert retriever._dense(QueryBundle("cloned sheep", embedding=[0.1] * 384), window, source, None) == []
    # The engine then searches without the window, whose dates were the event's, not the reports'.
    monkeypatch.undo()
    answer = dated_engine.ask("Which bridge was closed for repairs in 1996?")
    assert answer.time_scope is not None and not answer.time_scope.applied and answer.retrieved


def test_bm25_beside_the_dense_query_gives_the_same_hits(dated_engine):
    retriever = dated_engine.retriever
    assert retriever.executor is not None, "the engine's retriever runs BM25 in its own thread"
    questions = ["Which bridge was closed for repairs?", "Where does the farmers market move in March?"]
    beside = [[(h.node.node_id, h.score) for h in dated_engine.retrieve(q, filters=f)] for q in questions for f in (None, WINDOWS[1])]
    retriever.executor = None
    after = [[(h.node.node_id, h.score) for h in dated_engine.retrieve(q, filters=f)] for q in questions for f in (None, WINDOWS[1])]
    retriever.executor = ThreadPoolExecutor(max_workers=1)
    assert beside == after and all(beside)
