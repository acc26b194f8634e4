"""BM25 that scales with the store, not with the workers (issue 15), over real Chroma, bm25s and
embeddings: mapped indexes answer as the library's in-memory ones do; a worker whose store moved keeps
answering from the index it holds while the new one is built in the background; a stale index never
brings back a deleted chunk, nor an old text; one build per host however many caches follow the store."""

from __future__ import annotations

import copy

import datetime as dt
import json
import shutil
import threading
import time

import numpy as np
import pytest

from assistant.answer import SearchFilters
from assistant.bm25 import BM25Cache, build_lock, load_bm25
from assistant.bm25_mapped import MappedCorpus, MappedVocab
from assistant.settings import Settings
from assistant.store import ArticleStore
from ingest.pipeline import Ingester
from tests.conftest import write


@pytest.fixture
def settings(tmp_path):
    """These are tests of the bm25s index, the ``keyword_index`` setting's other choice."""
    return Settings(data_dir=tmp_path / "data", keyword_index="bm25s", _env_file=None)

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


def _ranked(retriever, question):
    return [(r.node.node_id, round(r.score, 5)) for r in retriever.retrieve(question)]


def _published(settings) -> list[str]:
    return sorted(p.name for p in settings.bm25_dir.iterdir() if not p.name.startswith("."))


def test_mapped_index_answers_as_the_librarys_in_memory_one(ingester, store, tmp_path):
    from llama_index.retrievers.bm25 import BM25Retriever

    _ingest(ingester, tmp_path, ARTICLES)
    version = store.version()
    mapped = load_bm25(store, version, top_k=40)
    in_memory = load_bm25(store, version, top_k=40, mmap=False)
    folder = store.settings.bm25_dir / version
    library = {part: BM25Retriever.from_persist_dir(str(folder / part), show_progress=False) for part in ("chunks", "articles")}

    # Mapped means mapped: scores, vocabulary and corpus stay on disk.
    assert isinstance(mapped.chunks.bm25.scores["data"], np.memmap)
    assert isinstance(mapped.chunks.bm25.vocab_dict, MappedVocab) and isinstance(mapped.chunks.corpus, MappedCorpus)
    assert len(mapped.chunks.corpus) == store.count_chunks() and len(mapped.articles.corpus) == len(ARTICLES)

    # Threads answering at once read the mapped corpus each at its own line.
    expected_ids = [doc["node_id"] for doc in library["chunks"].corpus]
    def read_all(out: list):
        for i in list(range(len(expected_ids))) * 50:
            out.append(mapped.chunks.corpus[i]["node_id"] == expected_ids[i])
    results = [[] for _ in range(4)]
    threads = [threading.Thread(target=read_all, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(all(r) and len(r) == 50 * len(expected_ids) for r in results)

    for question in QUESTIONS:
        for part in ("chunks", "articles"):
            # The library pads its 40 with documents that hold no query term (score 0); ours leaves them out.
            expected = [(i, s) for i, s in _ranked(library[part], question) if s > 0]
            assert _ranked(getattr(mapped, part), question) == expected, (part, question)
            assert _ranked(getattr(in_memory, part), question) == expected, (part, question)
            # The ranking by id alone (no document read) is the same ranking.
            by_id = getattr(mapped, part).ranked_ids(question)
            positive = [(i, s) for i, s in expected if s > 0]
            assert [i for i, _s in by_id] == [i for i, _s in positive], (part, question)
            assert [s for _i, s in by_id] == pytest.approx([s for _i, s in positive], abs=1e-4)
    assert _ranked(mapped.chunks, "walrus on the slipway")[0][0].startswith("courier/walrus-sighting")

    # Few enough wanted that the floor (a score k documents are known to reach) prunes: still the top k.
    for k in (1, 2, 3):
        view = copy.copy(mapped.chunks)
        view.similarity_top_k = k
        lib = BM25Retriever(existing_bm25=library["chunks"].bm25, similarity_top_k=k)
        for question in QUESTIONS:
            theirs = [s for _i, s in _ranked(lib, question) if s > 0]
            assert [s for _i, s in _ranked(view, question)] == theirs, (k, question)

    # Filters: a mask per (day, source) pair gives what the library's per-document mask gives.
    for filters in (
        SearchFilters(source="Northern Ledger"),
        SearchFilters(since=dt.date(2025, 3, 1), until=dt.date(2025, 3, 10)),
        SearchFilters(source="Harbour Courier", since=dt.date(2025, 3, 1)),
    ):
        lib_mask = [int(filters.admits(doc)) for doc in library["chunks"].corpus]
        lib = BM25Retriever(existing_bm25=library["chunks"].bm25, similarity_top_k=sum(lib_mask), corpus_weight_mask=lib_mask)
        view = mapped.chunks.masked(filters)
        assert int(view.weight_mask.sum()) == sum(lib_mask) > 0
        for question in QUESTIONS:
            assert _ranked(view, question) == [(i, s) for i, s in _ranked(lib, question) if s > 0], (filters, question)
    assert mapped.chunks.masked(SearchFilters(source="Nobody's Gazette")) is None

    # Term statistics: newest day from meta.json, document frequencies from the mapped column pointers.
    assert mapped.stats.newest_day == 20250320 == in_memory.stats.newest_day
    assert mapped.stats.num_docs == store.count_chunks()
    for term in ("walrus", "tram", "lighthous", "fare", "absentterm"):
        assert mapped.stats.idf(term) == pytest.approx(in_memory.stats.idf(term))
    assert mapped.stats.df("walrus") >= 1 and mapped.stats.df("absentterm") == 0


def test_an_ingest_elsewhere_is_answered_from_the_held_index_until_the_background_build(
    ingester, store, engine, embed_model, tmp_path
):
    _ingest(ingester, tmp_path, ARTICLES)
    cache = engine.bm25
    held = cache.get()
    old_version = cache.version
    assert held.version == old_version == store.version() and not held.stale

    # Published on this host (an ingest through another store object here): mapped at once.
    other = ArticleStore(store.settings)
    _ingest(Ingester(other, embed_model), tmp_path, [NEW], name="new.jsonl")
    fresh = cache.get()
    assert fresh is not held and held.stale and cache.version == store.version() != old_version
    assert cache.builds == 0 and not cache.refreshing, "a published index is mapped, never rebuilt"
    assert _ranked(fresh, "ferry strike Kelp Island")[0][0].startswith(NEW["id"])

    # Built elsewhere (another host ingested: nothing published here). The held index answers, stale,
    # while the new one is built off the request path; the build lock is held here meanwhile, so the
    # builder can only wait: anything that returns has not built.
    edited = {**ARTICLES[2], "text": ARTICLES[2]["text"] + " A night tram service starts in May."}
    _ingest(Ingester(other, embed_model), tmp_path, [edited], name="edited.jsonl")
    shutil.rmtree(store.settings.bm25_dir / store.version())
    with build_lock(store.settings.bm25_dir):
        started = time.perf_counter()
        answer = engine.ask("Why are tram fares going up?")
        elapsed = time.perf_counter() - started
        assert not answer.declined and answer.retrieved[0] == "ledger/tram-fares"
        assert cache.version == fresh.version and fresh.stale, "answered from the index it held"
        assert cache.refreshing and cache.builds == 0
        assert not cache.wait_refreshed(timeout=0.5), "the refresh waits for the build lock"
    assert cache.wait_refreshed(timeout=120)
    rebuilt = cache.get()
    assert cache.builds == 1 and rebuilt is not fresh and rebuilt.version == store.version() == cache.version
    assert not rebuilt.stale and fresh.stale
    assert _published(store.settings) == [store.version()], "older versions are removed once replaced"
    assert "night tram" in rebuilt.retrieve("night tram service May")[0].node.text
    print(f"ask from a stale index while the build waited: {elapsed * 1000:.0f} ms")


def test_a_stale_index_never_brings_back_a_deleted_chunk_nor_an_old_text(ingester, store, engine, embed_model, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    engine.ask("Who is the lighthouse keeper?")  # the engine holds the index of this version

    # Another host deletes the lighthouse story and rewrites the walrus one; its index is not here.
    other = Ingester(ArticleStore(store.settings), embed_model)
    assert other.delete(["ledger/lighthouse-keeper"])[0] == ["ledger/lighthouse-keeper"]
    rewritten = {**ARTICLES[1], "text": ARTICLES[1]["text"].replace("walrus", "grey seal")}
    _ingest(other, tmp_path, [rewritten], name="rewritten.jsonl")
    shutil.rmtree(store.settings.bm25_dir / store.version())

    question = "lighthouse keeper Skerry Point 112 steps lens"
    with build_lock(store.settings.bm25_dir):  # keeps the engine's index stale for the whole test
        stale = engine.bm25.get()
        assert stale.stale
        assert any(r.node.node_id.startswith("ledger/lighthouse-keeper") for r in stale.retrieve(question)), (
            "the stale index itself still holds the deleted chunks"
        )
        for mode in ("bm25", "hybrid"):
            hits = engine.retrieve(question, mode=mode)
            assert all(h.node.metadata["article_id"] != "ledger/lighthouse-keeper" for h in hits), mode
        answer = engine.ask("Who was the last keeper of the Skerry Point lighthouse?")
        assert "ledger/lighthouse-keeper" not in answer.retrieved
        assert all(s.article_id != "ledger/lighthouse-keeper" for s in answer.sources)

        # The rewritten chunk is still found by its old word (the index is stale), with the store's text.
        hits = engine.retrieve("walrus slipway fish market", mode="bm25")
        walrus = [h for h in hits if h.node.metadata["article_id"] == "courier/walrus-sighting"]
        assert walrus and all("walrus" not in h.node.text and "grey seal" in h.node.text for h in walrus)
        filtered = engine.retrieve("walrus slipway", mode="bm25", filters=SearchFilters(source="Northern Ledger"))
        assert all(h.node.metadata["source"] == "Northern Ledger" for h in filtered)
    assert engine.bm25.wait_refreshed(timeout=120) and engine.bm25.builds == 1
    assert not engine.bm25.get().stale and engine.bm25.version == store.version()


def test_two_caches_over_one_data_dir_build_once(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    caches = [BM25Cache(ArticleStore(store.settings), top_k=40) for _ in range(2)]
    first = [cache.get() for cache in caches]
    assert all(cache.builds == 0 for cache in caches), "both mapped what the ingest published"

    _ingest(Ingester(ArticleStore(store.settings), embed_model), tmp_path, [NEW], name="new.jsonl")
    shutil.rmtree(store.settings.bm25_dir / store.version())  # as if ingested on another host
    with build_lock(store.settings.bm25_dir):  # both refreshes start, and queue behind the lock
        assert [cache.get() for cache in caches] == first and all(r.stale for r in first)
        assert all(cache.refreshing for cache in caches)
    assert all(cache.wait_refreshed(timeout=120) for cache in caches)
    assert sum(cache.builds for cache in caches) == 1, "one builder per host; the other mapped what it wrote"
    swapped = [cache.get() for cache in caches]
    assert [cache.version for cache in caches] == [r.version for r in swapped] == [store.version()] * 2
    assert _published(store.settings) == [store.version()]
    for retriever in swapped:
        assert _ranked(retriever, "ferry strike Kelp Island")[0][0].startswith(NEW["id"])


def test_two_empty_handed_caches_build_once_and_an_empty_store_has_none(store, ingester, tmp_path):
    assert BM25Cache(store, top_k=40).get() is None, "an empty store has no BM25 index"
    _ingest(ingester, tmp_path, ARTICLES)
    shutil.rmtree(store.settings.bm25_dir / store.version())
    caches = [BM25Cache(ArticleStore(store.settings), top_k=40) for _ in range(2)]
    got = [None, None]
    threads = [threading.Thread(target=lambda i=i: got.__setitem__(i, caches[i].get())) for i in range(2)]
    with build_lock(store.settings.bm25_dir):  # both first loads wait on the lock, then one builds
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert all(g is None for g in got), "a process holding no index waits for one"
    for thread in threads:
        thread.join(timeout=120)
    assert all(g is not None and g.version == store.version() for g in got)
    assert sum(cache.builds for cache in caches) == 1


def test_the_streamed_build_ranks_as_the_librarys_own_builder(ingester, store, tmp_path):
    """The index streamed from Chroma (token ids only kept) scores as ``BM25Retriever.from_defaults``
    over every node in memory: the same documents, the same scores, for chunks and whole articles."""
    import Stemmer
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
    from llama_index.retrievers.bm25 import BM25Retriever

    _ingest(ingester, tmp_path, ARTICLES)
    streamed = load_bm25(store, store.version(), top_k=40)
    nodes = [metadata_dict_to_node(meta, text=text) for _id, text, meta in store.iter_chunks()]
    by_article: dict[str, list] = {}
    for node in nodes:
        by_article.setdefault(node.metadata["article_id"], []).append(node)
    articles = []
    for article_id, parts in by_article.items():
        parts.sort(key=lambda n: n.metadata.get("position", 0))
        articles.append(TextNode(id_=article_id, text="\n".join(n.text for n in parts), metadata=dict(parts[0].metadata),
                                 excluded_embed_metadata_keys=list(parts[0].excluded_embed_metadata_keys),
                                 excluded_llm_metadata_keys=list(parts[0].excluded_llm_metadata_keys)))
    library = {
        part: BM25Retriever.from_defaults(nodes=docs, similarity_top_k=40, stemmer=Stemmer.Stemmer("english"), language="english")
        for part, docs in (("chunks", nodes), ("articles", articles))
    }
    for question in QUESTIONS:
        for part in ("chunks", "articles"):
            ours = [(r.node.node_id, r.score) for r in getattr(streamed, part).retrieve(question)]
            # Documents without a query term score 0: the library pads its 40 with them, we leave them out.
            theirs = [(r.node.node_id, r.score) for r in library[part].retrieve(question) if r.score > 0]
            assert [i for i, _ in ours] == [i for i, _ in theirs], (part, question)
            assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)
