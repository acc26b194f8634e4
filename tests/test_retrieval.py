"""Hybrid retrieval's two priors over real Chroma, BM25 and embeddings: whole-article BM25 and recency."""

from __future__ import annotations

import json

import pytest

from assistant.retrieval.keyword import KeywordCache
from assistant.engine import Engine
from assistant.retrieval.hybrid import RecencyPrior
from tests.conftest import write

REGATTA_OLD = {
    "id": "regatta-2023",
    "title": "Harbour Regatta: Gull crew wins the Harbour Regatta cup",
    "url": "https://example.org/regatta-2023",
    "published_at": "2023-06-10",
    "text": "The Gull crew won the Harbour Regatta cup on Saturday, the Harbour Regatta judges said. "
    "The Harbour Regatta drew forty boats to the bay.",
}
REGATTA_NEW = {
    "id": "regatta-2025",
    "title": "Tern crew takes the regatta cup",
    "url": "https://example.org/regatta-2025",
    "published_at": "2025-06-14",
    "text": "The Tern crew won the Harbour Regatta cup on Saturday after a close final race. "
    "Thirty-eight boats sailed this year.",
}


def _ingest(ingester, tmp_path, articles):
    path = write(tmp_path / "corpus.jsonl", "\n".join(json.dumps(a) for a in articles) + "\n")
    summary = ingester.ingest_paths([path])
    assert not summary.failed


def test_recency_prior_prefers_the_newer_report_of_a_recurring_event(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [REGATTA_OLD, REGATTA_NEW])
    question = "Who won the Harbour Regatta cup?"

    plain = Engine(store.settings.model_copy(update={"recency_weight": 0.0}), store, embed_model)
    assert plain.ask(question).retrieved[0] == "regatta-2023", "without the prior the closer wording wins"

    engine = Engine(store.settings, store, embed_model)
    answer = engine.ask(question)
    assert answer.retrieved[0] == "regatta-2025"
    assert not answer.declined and "Tern crew" in answer.answer.split("[")[0]


def test_recency_bonus_halves_every_half_life_and_an_undated_chunk_is_neither_new_nor_old():
    prior = RecencyPrior(weight=0.5, half_life_days=100)
    newest = 20250410
    full = prior.bonus(20250410, newest, rrf_k=60)
    assert full == pytest.approx(0.5 / 61)
    assert prior.bonus(20241231, newest, rrf_k=60) == pytest.approx(full / 2)  # 100 days older
    assert prior.bonus(0, newest, rrf_k=60) == pytest.approx(full / 2)  # undated: as if one half-life old
    assert prior.bonus(20250410, 0, rrf_k=60) == 0.0  # nothing in the store is dated
    assert RecencyPrior(weight=0.0).bonus(20250410, newest, rrf_k=60) == 0.0


FERRY = {
    "id": "ellery-ferry",
    "title": "Port Ellery ferry changes",
    "url": "https://example.org/ferry",
    "published_at": "2025-02-01",
    # Long enough for several chunks; the question's words sit in different chunks of it.
    "text": " ".join(
        ["The Port Ellery ferry timetable changes in March, the harbour office said."]
        + ["Passengers asked about parking, bicycles and the new ticket machines at the terminal."] * 40
        + ["The pier will shut for winter repairs to its pilings, and crossings move to the north slip."]
    ),
}
DISTRACTOR = {
    "id": "pier-repairs",
    "title": "Town pier repairs",
    "url": "https://example.org/pier",
    "published_at": "2025-02-01",
    "text": "Repairs to the town pier begin in winter. The pier is closed to anglers until April.",
}


def test_whole_article_bm25_adds_its_rank_to_the_articles_chunks(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [FERRY, DISTRACTOR])
    assert store.get_record("ellery-ferry").chunks >= 3
    question = "Port Ellery ferry timetable pier winter repairs"

    cache = KeywordCache(store, top_k=40)
    articles = cache.get_articles()
    assert sorted(r.node.node_id for r in articles.retrieve(question)) == ["ellery-ferry", "pier-repairs"]
    assert articles.retrieve(question)[0].node.node_id == "ellery-ferry"

    settings = store.settings.model_copy(update={"recency_weight": 0.0})
    without = Engine(settings.model_copy(update={"article_bm25_weight": 0.0}), store, embed_model).retrieve(question)
    with_articles = Engine(settings, store, embed_model).retrieve(question)
    before = {h.node.node_id: h.score for h in without}
    for hit in with_articles:
        gain = 1 / 61 if hit.node.metadata["article_id"] == "ellery-ferry" else 1 / 62
        assert hit.score - before[hit.node.node_id] == pytest.approx(gain)
