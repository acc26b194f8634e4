"""The tantivy keyword index as the engine reads it (issue 24), over real Chroma, embeddings and
tantivy: an ingest is found by the next question with no rebuild; an edit or a delete leaves nothing
old behind; a view behind the store never brings back a deleted chunk nor an old text, and is repaired
when no writer is at work; a date window's ids come from the index; one build however many readers."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from assistant.answer import SearchFilters
from assistant.retrieval.keyword import KeywordCache, KeywordState, indexed_chunk_ids, keyword_dir, writing
from assistant.retrieval import store as store_module
from assistant.retrieval.store import ArticleStore
from ingest.pipeline import Ingester
from tests.conftest import write

ARTICLES = [
    {
        "id": "ledger/lighthouse-keeper",
        "title": "Last lighthouse keeper of Skerry Point retires",
        "published_at": "2025-03-02",
        "source": "Northern Ledger",
        "text": "Agnes Holloway, the last keeper of the Skerry Point lighthouse, retired on Friday after "
        "thirty-one years. The lamp has been automatic since 2019, but Holloway still climbed the 112 steps "
        "every evening to check the lens. The harbour trust plans to open the tower to visitors in June.",
    },
    {
        "id": "courier/walrus-sighting",
        "title": "Walrus naps on the Harbour Courier's slipway",
        "published_at": "2025-03-05",
        "source": "Harbour Courier",
        "text": "A young walrus spent Tuesday asleep on the slipway below the fish market, drawing a crowd of "
        "about two hundred people. Coastguard volunteers kept onlookers thirty metres back. Marine biologist "
        "Tomas Reyes said the animal was healthy and would likely swim north within days.",
    },
    {
        "id": "ledger/tram-fares",
        "title": "Tram fares rise by ten pence in April",
        "published_at": "2025-03-20",
        "source": "Northern Ledger",
        "text": "Single tram fares across the city rise by ten pence from 1 April, the transport board said. "
        "Day tickets stay at four pounds. The board blamed higher electricity prices and said the extra "
        "money would pay for new ticket machines at Quayside and Millgate stops.",
    },
    {
        "id": "courier/bakery-award",
        "title": "Millgate bakery wins regional sourdough prize",
        "published_at": "2025-02-11",
        "source": "Harbour Courier",
        "text": "The Flour Loft on Millgate won the regional sourdough prize for a rye loaf proved for "
        "thirty-six hours. Owner Priya Natarajan said the starter came from her grandmother in 1987. "
        "Judges praised the crust and the open crumb.",
    },
]
NEW = {
    "id": "courier/ferry-strike",
    "title": "Island ferry crews call off Thursday strike",
    "published_at": "2025-03-25",
    "source": "Harbour Courier",
    "text": "Ferry crews on the Kelp Island route called off Thursday's strike after the operator offered a "
    "four per cent pay rise, the union said. Sailings will run to the normal timetable.",
}
QUESTIONS = [
    "When did the lighthouse keeper retire?",
    "walrus on the slipway",
    "How much do tram fares rise?",
    "sourdough prize rye loaf",
    "ferry strike Kelp Island",
    "zzqx nothing matches this",
]


def _ingest(ingester, tmp_path, articles, name="corpus.jsonl"):
    path = write(tmp_path / name, "\n".join(json.dumps(a) for a in articles) + "\n")
    summary = ingester.ingest_paths([path])
    assert not summary.failed
    return summary


def _articles(hits) -> set[str]:
    return {h.node.metadata["article_id"] for h in hits}


def _stored_ids(store) -> list[str]:
    return sorted(chunk_id for chunk_id, _text, _meta in store.iter_chunks())


def _other_writer(store, embed_model) -> Ingester:
    """A writer of the same Chroma data that leaves this host's keyword index behind: it dies (here:
    stops) after its Chroma writes, before its keyword commit, as another host's writer would look."""
    from contextlib import contextmanager

    other = Ingester(ArticleStore(store.settings), embed_model)
    holds_the_writer = other._keyword_writer

    @contextmanager
    def dies_before_its_keyword_commit(*args):
        with holds_the_writer(*args) as writer:
            writer.catch_up = lambda *_args, **_kwargs: None
            yield writer

    other._keyword_writer = dies_before_its_keyword_commit
    return other


def test_an_ingest_is_found_by_the_next_question_and_nothing_old_stays(ingester, store, engine, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    first = engine.bm25.indexes()
    assert not first.stale and first.version == store.version() and first.chunks.num_docs == store.count_chunks()

    _ingest(ingester, tmp_path, [NEW], name="new.jsonl")
    view = engine.bm25.indexes()
    assert not view.stale and view.version == store.version() != first.version
    assert "courier/ferry-strike" in _articles(view.chunks.retrieve("ferry strike Kelp Island"))
    assert view.articles.ranked_ids("ferry strike Kelp Island")[0][0] == "courier/ferry-strike"
    assert engine.bm25.builds == 0, "the ingest wrote the index in place: no reader built it"
    # The view the question began with still reads its own version.
    assert "courier/ferry-strike" not in _articles(first.chunks.retrieve("ferry strike Kelp Island"))

    # An edit replaces the article's documents; a delete removes them.
    edited = {**ARTICLES[1], "text": ARTICLES[1]["text"].replace("walrus", "grey seal")}
    _ingest(ingester, tmp_path, [edited], name="edited.jsonl")
    view = engine.bm25.indexes()
    walrus = [h for h in view.chunks.retrieve("walrus slipway fish market") if h.node.metadata["article_id"] == edited["id"]]
    assert walrus == [] or all("walrus" not in h.node.text for h in walrus)
    assert edited["id"] in _articles(view.chunks.retrieve("grey seal slipway"))
    ingester.delete(["ledger/lighthouse-keeper"])
    view = engine.bm25.indexes()
    assert "ledger/lighthouse-keeper" not in _articles(view.chunks.retrieve("lighthouse keeper Skerry Point"))
    assert sorted(indexed_chunk_ids(store)) == _stored_ids(store)
    assert view.articles.num_docs == len(ARTICLES)  # four, less one deleted, plus the new one
    assert engine.bm25.builds == 0


def test_a_view_behind_the_store_is_checked_against_it_then_repaired(ingester, store, engine, embed_model, tmp_path,
                                                                    monkeypatch):
    _ingest(ingester, tmp_path, ARTICLES)
    engine.ask("Who is the lighthouse keeper?")
    other = _other_writer(store, embed_model)
    assert other.delete(["ledger/lighthouse-keeper"])[0] == ["ledger/lighthouse-keeper"]
    rewritten = {**ARTICLES[1], "text": ARTICLES[1]["text"].replace("walrus", "grey seal")}
    _ingest(other, tmp_path, [rewritten], name="rewritten.jsonl")

    question = "lighthouse keeper Skerry Point 112 steps lens"
    with writing(store):  # a writer at work: no repair runs under it, the view stays behind
        view = engine.bm25.indexes()
        assert view.stale and view.version != store.version()
        assert "ledger/lighthouse-keeper" in _articles(view.chunks.retrieve(question)), "the index still holds it"
        for mode in ("bm25", "hybrid"):
            assert "ledger/lighthouse-keeper" not in _articles(engine.retrieve(question, mode=mode)), mode
        answer = engine.ask("Who was the last keeper of the Skerry Point lighthouse?")
        assert all(s.article_id != "ledger/lighthouse-keeper" for s in answer.sources)
        # The rewritten chunk is found by its old word, with the store's text.
        walrus = [h for h in engine.retrieve("walrus slipway fish market", mode="bm25")
                  if h.node.metadata["article_id"] == rewritten["id"]]
        assert walrus and all("walrus" not in h.node.text and "grey seal" in h.node.text for h in walrus)
        # Behind, the index does not say which chunks a window admits: Chroma filters.
        assert engine.bm25.wait_refreshed(timeout=60) and engine.bm25.builds == 0
    # The writer gone without logging its write: once a write at work would have ended, the next
    # question starts the repair (tests/test_keyword_hosts.py: the wait, and a logged write followed).
    monkeypatch.setattr(store_module, "WRITE_IN_PROGRESS_S", 0.0)
    engine.bm25.indexes()
    assert engine.bm25.wait_refreshed(timeout=120) and engine.bm25.builds == 1
    view = engine.bm25.indexes()
    assert not view.stale and view.version == store.version()
    assert sorted(indexed_chunk_ids(store)) == _stored_ids(store)
    assert "ledger/lighthouse-keeper" not in _articles(view.chunks.retrieve(question))


def test_a_window_admits_the_ids_chroma_would(ingester, store, engine, tmp_path):
    _ingest(ingester, tmp_path, [*ARTICLES, NEW])
    chunks = engine.bm25.get()
    stored = list(store.iter_chunks())
    windows = [
        SearchFilters(since=dt.date(2025, 3, 1), until=dt.date(2025, 3, 7)),
        SearchFilters(since=dt.date(2025, 3, 20)),
        SearchFilters(until=dt.date(2025, 2, 28)),
        SearchFilters(source="Harbour Courier"),
        SearchFilters(sources=("Northern Ledger", "Nobody's Gazette"), since=dt.date(2025, 3, 10)),
        SearchFilters(source="Harbour Courier", sources=("Northern Ledger",)),  # both must hold: none
    ]
    for window in windows:
        expected = sorted(cid for cid, _text, meta in stored if window.admits(meta))
        view = chunks.masked(window)
        if not expected:
            assert view is None, window
            continue
        assert view.admitted == len(expected) and sorted(view.admitted_ids()) == expected, window
        hits = view.retrieve("harbour tram lighthouse ferry sourdough walrus")
        assert hits and all(window.admits(h.node.metadata) for h in hits), window
    assert set(chunks.sources()) == {"Northern Ledger", "Harbour Courier"}
    assert engine.bm25.stats().newest_day == 20250325 and engine.bm25.stats().df("walrus") >= 1


def test_no_index_yet_one_reader_builds_it_and_an_empty_store_has_none(store, ingester, embed_model, tmp_path):
    assert KeywordCache(store, top_k=40).indexes() is None  # an empty store
    _ingest(ingester, tmp_path, ARTICLES)
    shutil.rmtree(keyword_dir(store))  # as if written before the keyword index, or by another host
    with writing(store):  # a writer at work (a first ingest, say): no waiting for it, no keyword hits yet
        assert KeywordCache(store, top_k=40).indexes() is None
    caches = [KeywordCache(ArticleStore(store.settings), top_k=40) for _ in range(2)]
    views = [cache.indexes() for cache in caches]
    assert [cache.builds for cache in caches] == [1, 0], "the second found what the first published"
    assert all(not v.stale and v.version == store.version() for v in views)
    assert sorted(indexed_chunk_ids(store)) == _stored_ids(store)
    assert KeywordState.read(keyword_dir(store)).sources == ("Harbour Courier", "Northern Ledger")


@pytest.mark.parametrize("question", ["walrus on the slipway", "How much do tram fares rise?"])
def test_a_question_reads_one_version_while_an_ingest_lands(ingester, store, engine, tmp_path, question):
    _ingest(ingester, tmp_path, ARTICLES)
    pinned = engine.bm25.indexes()
    _ingest(ingester, tmp_path, [NEW], name="new.jsonl")
    # What the question holds is its own version's: statistics, clusters and documents alike.
    assert pinned.stats.num_docs == pinned.chunks.num_docs < engine.bm25.indexes().chunks.num_docs
    assert _articles(pinned.chunks.retrieve(question)) <= {a["id"] for a in ARTICLES}


def test_a_thread_that_never_asked_reads_the_latest_view(ingester, engine, tmp_path):
    # A question's parts are searched in a pool: their recency prior reads the newest day from there.
    from concurrent.futures import ThreadPoolExecutor

    _ingest(ingester, tmp_path, [*ARTICLES, NEW])
    engine.bm25.indexes()
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: engine.bm25.stats().newest_day).result() == 20250325
        assert pool.submit(lambda: engine.bm25.version).result() == engine.bm25.version
