"""bench/scale on the sample articles: copies are a normal store's articles, and one size runs end to end
(a real ``chroma run``, the BM25 build and two worker processes, real questions)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from tests.conftest import SAMPLE_ARTICLES

DUMPLINGS = "How many food vendors will take part in the Harbourfront Dumpling Festival?"


@pytest.fixture
def source(ingester, store):
    from bench.scale_corpus import read_source

    assert ingester.ingest_paths([SAMPLE_ARTICLES]).failed == []
    return read_source(store)


def _article(source, words: str) -> str:
    return next(a for a, art in source.articles.items() if words in art.record.title.lower())


def test_copies_are_articles_of_their_own(source):
    from bench.scale_corpus import batches, copy_id, plan

    size = 3 * source.chunks + 1
    chosen = plan(source, size, gold=set())
    assert chosen.chunks >= size and set(chosen.originals) == set(source.articles)
    ids, metas, docs, vectors, records = [], [], [], [], []
    for batch in batches(source, chosen, sigma=0.02, batch_size=7):
        ids += batch.ids
        metas += batch.metadatas
        docs += batch.documents
        vectors.append(np.concatenate(batch.vectors))
        records += batch.records
    vectors = np.concatenate(vectors)
    assert len(ids) == len(set(ids)) == chosen.chunks == len(vectors)
    assert len({r.id for r in records}) == len(chosen.originals) + len(chosen.copies)
    for chunk_id, meta in zip(ids, metas):
        assert chunk_id == f"{meta['article_id']}::{meta['position']}"
        assert f'"id_": "{chunk_id}"' in meta["_node_content"]  # what llama-index rebuilds the node from
    chunks_of = {}
    for meta in metas:
        chunks_of[meta["article_id"]] = chunks_of.get(meta["article_id"], 0) + 1
    assert {r.id: r.chunks for r in records} == chunks_of

    # A copy: same title, words changed (about 15 %), vector close to the original's but not equal.
    original = source.articles[_article(source, "dumpling")]
    first_copy = ids.index(f"{copy_id(original.record.id, 1)}::0")
    assert metas[first_copy]["title"] == original.metadatas[0]["title"]
    old, new = original.documents[0].split(), docs[first_copy].split()
    changed = sum(a != b for a, b in zip(old, new)) / len(old)
    assert len(old) == len(new) and 0.05 < changed < 0.3
    cosine = float(vectors[first_copy] @ original.vectors[0])
    assert abs(np.linalg.norm(vectors[first_copy]) - 1) < 1e-5 and 0.8 < cosine < 0.999


def test_one_size_end_to_end(source, tmp_path):
    from bench import scale_run

    gold = _article(source, "dumpling")
    questions = [
        {"question": DUMPLINGS, "answerable": True, "gold_sources": [gold]},
        {"question": "Which comet does the new exhibit show?", "answerable": False, "gold_sources": []},
    ]
    size = 2 * source.chunks
    args = argparse.Namespace(write_batch=50, repeat=1, min_free_gb=0.5)
    work = tmp_path / "work"
    work.mkdir()
    result = scale_run.run_size(size, source, 0.02, questions, args, work)

    assert result["chunks"] >= size and result["write"]["copies"] > 0
    assert result["bm25"]["disk_mb"] > 0 and result["bm25"]["build_s"] > 0
    assert 0 < result["startup"]["imports_s"] < result["startup"]["start_to_first_answer_s"]
    first, second = result["worker1_warm"], result["worker2_warm"]
    assert first["rss"] > 100 and 0 < second["private"] <= second["rss"]
    assert result["second_worker_added_ratio"] == round(second["private"] / first["rss"], 3)
    assert result["mrr10_story_newsdesk"] >= result["mrr10_newsdesk"]
    assert result["mrr_questions"] == 1
    # The original (not a copy) is what both retrievers should find for the question it answers.
    assert result["recall10_newsdesk"] == 1.0 and result["recall10_fusion"] == 1.0
    assert result["ask"]["p50_ms"] > 0 and result["fusion"]["p50_ms"] > 0
    paired = result["mrr10_paired"]
    assert paired["questions"] == 1 and paired["diff"] == pytest.approx(result["mrr10_newsdesk"] - result["mrr10_fusion"], abs=2e-4)
    assert paired["ci95"][0] <= paired["diff"] <= paired["ci95"][1]
    assert "retrieval_over_fusion_p50" in result and len(result["load_after"]) == 3
    # Under a one-week window, and one article ingested while the worker answers: found by both lists.
    assert result["window"]["ask_retrieval"]["p50_ms"] > 0 and result["keyword_index"] == "tantivy"
    fresh = result["freshness"]
    assert fresh["ingest_exit"] == 0 and 0 < fresh["keyword_s"] and 0 < fresh["answer_s"], fresh
    server = fresh["server"]  # ingested inside the worker, as a running server's ingest route does
    assert "ingest_error" not in server and 0 < server["keyword_s"] and 0 < server["answer_s"], server
    assert server["ingest_in_worker_s"] > 0
