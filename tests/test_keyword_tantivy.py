"""The keyword index on tantivy (issue 24, first step), over a real store: built from Chroma's chunks
with Newsdesk's analyser it ranks as the bm25s index does; a day window and a source are clauses of
the query; an article added or deleted is seen at the next commit, without a rebuild; a reopened
index holds what was committed."""

from __future__ import annotations

from llama_index.core.schema import QueryBundle

from assistant.bm25 import BM25Cache
from assistant.keyword_tantivy import ChunkDoc, KeywordIndex, analyse, build_from_store, chunk_docs
from tests.test_bm25_scale import ARTICLES, NEW, _ingest

QUESTIONS = ["When did the lighthouse keeper retire?", "walrus on the slipway", "How much do tram fares rise?",
             "sourdough prize rye loaf"]


def test_built_from_the_store_it_ranks_as_the_bm25s_index(ingester, store, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    index = build_from_store(store, tmp_path / "keywords")
    assert index.num_docs == store.count_chunks()
    bm25 = BM25Cache(store, top_k=40).get()
    for question in QUESTIONS:
        ours = [hit.node.node_id for hit in bm25.retrieve(QueryBundle(question))]
        theirs = [chunk_id for chunk_id, _score in index.search(question, 40)]
        # The same chunks hold the question's tokens; only k1 differs (1.2 against bm25s's 1.5).
        assert set(theirs) == set(ours), question
        assert theirs[0] == ours[0], question
    assert index.search("zzqx nothing matches this", 10) == []
    assert index.search("", 10) == [] and index.search("the of and", 10) == []  # stop words only
    # Document frequencies are the analysed tokens' ("retired" and "retire" share one stem).
    assert index.doc_freq(analyse(["retired"])[0][0]) == 1


def test_a_day_window_and_a_source_narrow_the_query(ingester, store, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    index = build_from_store(store, tmp_path / "keywords")
    question = "thirty pence prize Millgate lighthouse walrus"
    every = index.search(question, 10)
    assert {cid.split("::")[0] for cid, _ in every} >= {"ledger/lighthouse-keeper", "courier/bakery-award"}

    march_early = index.search(question, 10, since=20250301, until=20250307)
    assert {cid.split("::")[0] for cid, _ in march_early} == {"ledger/lighthouse-keeper", "courier/walrus-sighting"}
    # The window filters and does not score: the admitted chunks keep their unfiltered scores and order.
    scores = dict(every)
    assert all(abs(score - scores[cid]) < 1e-4 for cid, score in march_early)

    courier = index.search(question, 10, sources=["Harbour Courier"])
    assert {cid.split("::")[0] for cid, _ in courier} == {"courier/walrus-sighting", "courier/bakery-award"}
    assert index.search(question, 10, since=20250301, until=20250331, sources=["Harbour Courier"])[0][0].startswith(
        "courier/walrus-sighting")
    assert index.search(question, 10, since=20240101, until=20241231) == []


def test_an_article_added_or_deleted_is_seen_at_the_next_commit(ingester, store, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    path = tmp_path / "keywords"
    index = build_from_store(store, path)
    before = index.num_docs

    # The new article through the store, then into the index as the store holds it.
    _ingest(ingester, tmp_path, [NEW], name="new.jsonl")
    added = list(chunk_docs(store.iter_chunks(where={"article_id": NEW["id"]})))
    assert added and all(doc.article_id == NEW["id"] and doc.day == 20250325 for doc in added)
    index.add(added)
    assert index.search("ferry strike Kelp Island", 5) == []  # not committed: not visible
    index.commit()
    assert index.search("ferry strike Kelp Island", 5)[0][0].startswith(NEW["id"])
    assert index.num_docs == before + len(added)

    index.delete_articles([NEW["id"]])
    index.commit()
    assert index.search("ferry strike Kelp Island", 5) == []
    assert index.num_docs == before
    index.close()

    # Committed work is on disk: a new reader sees it, and a new writer can take over.
    reopened = KeywordIndex(path)
    assert reopened.num_docs == before
    reopened.add([ChunkDoc("x::0", "x", ["zanzibarquay"], 20250401, "Northern Ledger")])
    reopened.commit()
    assert [cid for cid, _ in reopened.search("zanzibarquay", 5)] == ["x::0"]
    reopened.close()
