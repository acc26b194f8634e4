"""The keyword index on tantivy (issue 24), over a real store: built from Chroma's chunks with
Newsdesk's analyser it finds what llama-index's own BM25 retriever finds over the same nodes in memory;
a day window and a source are clauses of the query; an article added or deleted is seen at the next
commit, without a rebuild; a reopened index holds what was committed."""

from __future__ import annotations

import pytest
from llama_index.core.schema import QueryBundle

from assistant.retrieval.keyword_tantivy import ChunkDoc, KeywordIndex, analyse, build_from_store, chunk_docs
from tests.test_keyword import ARTICLES, NEW, _ingest

QUESTIONS = ["When did the lighthouse keeper retire?", "walrus on the slipway", "How much do tram fares rise?",
             "sourdough prize rye loaf"]


def _library_retrievers(store):
    """llama-index's ``BM25Retriever`` (bm25s, k1 1.5) over the store's chunks and over its whole
    articles, every node in memory: the reference the index is checked against."""
    import Stemmer
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node
    from llama_index.retrievers.bm25 import BM25Retriever

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
    return tuple(BM25Retriever.from_defaults(nodes=docs, similarity_top_k=40, stemmer=Stemmer.Stemmer("english"),
                                             language="english") for docs in (nodes, articles))


def test_built_from_the_store_it_ranks_as_the_librarys_bm25(ingester, store, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    built = build_from_store(store, tmp_path / "keywords")
    index = built.chunks
    assert index.num_docs == store.count_chunks() and built.articles.num_docs == len(ARTICLES)
    for library, ours in zip(_library_retrievers(store), (index, built.articles)):
        for question in QUESTIONS:
            # Documents without a query term score 0: the library pads its 40 with them.
            theirs = [(r.node.node_id, r.score) for r in library.retrieve(question) if r.score > 0]
            found = ours.search(question, 40)
            # The same documents in the same order, with the same scores: BM25 as bm25s computes it.
            assert [i for i, _ in found] == [i for i, _ in theirs], question
            assert [s for _, s in found] == pytest.approx([s for _, s in theirs], rel=1e-4), question
    assert index.search("zzqx nothing matches this", 10) == []
    assert index.search("", 10) == [] and index.search("the of and", 10) == []  # stop words only
    # Document frequencies are the analysed tokens' ("retired" and "retire" share one stem).
    assert index.doc_freq(analyse(["retired"])[0][0]) == 1


def test_a_day_window_and_a_source_narrow_the_query(ingester, store, tmp_path):
    _ingest(ingester, tmp_path, ARTICLES)
    index = build_from_store(store, tmp_path / "keywords").chunks
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
    index = build_from_store(store, tmp_path / "built").chunks
    index = KeywordIndex(tmp_path / "built" / "chunks")
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
    reopened = KeywordIndex(tmp_path / "built" / "chunks")
    assert reopened.num_docs == before
    reopened.add([ChunkDoc("x::0", "x", ["zanzibarquay"], 20250401, "Northern Ledger")])
    reopened.commit()
    assert [cid for cid, _ in reopened.search("zanzibarquay", 5)] == ["x::0"]
    reopened.close()


def test_an_article_whose_chunks_the_store_holds_apart_is_one_document(ingester, store, tmp_path):
    long_article = dict(ARTICLES[0], text=" ".join([ARTICLES[0]["text"]] * 12))
    _ingest(ingester, tmp_path, [long_article, ARTICLES[1]])
    got = store.chunks.get(include=["documents", "metadatas", "embeddings"])
    rows = list(zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]))
    keeper = [r for r in rows if r[2]["article_id"] == long_article["id"]]
    assert len(keeper) >= 2
    # Written again with the walrus story between the keeper's first chunk and the rest: the store
    # now yields them apart.
    store.chunks.delete(ids=[r[0] for r in rows])
    walrus = [r for r in rows if r not in keeper]
    for part in ([keeper[0]], walrus, keeper[1:]):
        store.chunks.add(ids=[r[0] for r in part], documents=[r[1] for r in part], metadatas=[r[2] for r in part],
                         embeddings=[r[3] for r in part])
    order = [meta["article_id"] for _id, _doc, meta in store.iter_chunks()]
    assert order.index(ARTICLES[1]["id"]) < len(order) - 1 - order[::-1].index(long_article["id"])

    built = build_from_store(store, tmp_path / "keywords")
    assert built.chunks.num_docs == len(rows) and built.articles.num_docs == 2
    # Its document holds every chunk's words: the last chunk's count as much as the first's.
    ranked = built.articles.search("lighthouse keeper Skerry", 5)
    assert [a for a, _ in ranked][0] == long_article["id"]
    _chunks, library_articles = _library_retrievers(store)
    assert library_articles.retrieve("lighthouse keeper Skerry")[0].node.node_id == long_article["id"]
