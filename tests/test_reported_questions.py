"""Questions a new user asked of the bundled samples and the seed article, and what went wrong then:
"US" read as the pronoun "us", "U.S." and "U.K." declined, answers opening with filler, quotes cut
from their speaker, follow-ups resolved to the wrong country. Real store, real embedder, real engine.

The seed article is read from ../shared/seed (never copied into the repository); the tests that need
it skip when it is absent."""

from __future__ import annotations

import re
import shutil

import pytest

from assistant.answer import Turn
from assistant.answering.citations import cited_sentences
from tests.conftest import REPO, SAMPLE_ARTICLES

SEED = REPO.parent / "shared" / "seed"


@pytest.fixture(scope="module")
def reported(tmp_path_factory, embed_model):
    """An engine over the sample articles and, when present, the seed article."""
    from assistant.engine import Engine
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    tmp = tmp_path_factory.mktemp("reported")
    store = ArticleStore(Settings(data_dir=tmp / "data", _env_file=None))
    paths = [SAMPLE_ARTICLES]
    seeds = sorted(SEED.glob("*.txt")) if SEED.is_dir() else []
    if seeds:
        copy = tmp / "seed"
        copy.mkdir()
        for seed in seeds:
            shutil.copy(seed, copy / seed.name)
        paths.append(copy)
    Ingester(store, embed_model).ingest_paths(paths)
    return Engine(store.settings, store, embed_model), bool(seeds)


def _first_sentence(answer) -> str:
    return cited_sentences(answer.answer)[0][0]


@pytest.mark.parametrize("question", ["What did the US pledge?", "What did the U.S. pledge?", "What did the United States pledge?"])
def test_the_us_is_the_country_however_it_is_written(reported, question):
    engine, has_seed = reported
    answer = engine.ask(question)
    assert "Commuters" not in answer.answer and "told us" not in answer.answer  # "us" the pronoun
    # The case is the samples with the seed, which says the U.S. "has pledged". The samples
    # alone say only that it "agreed" or "said it will" help monitor: answered or declined, near the
    # threshold either way, but never about anything else.
    if has_seed or not answer.declined:
        assert not answer.declined, question
        assert "monitor" in _first_sentence(answer), answer.answer


@pytest.mark.parametrize("question", ["What did France and the U.K. promise?", "What did France and the UK promise?", "What did France and Britain promise?"])
def test_the_uk_is_britain(reported, question):
    engine, _ = reported
    answer = engine.ask(question)
    assert not answer.declined, question
    assert re.search(r"troops|soldiers|boots on the ground", _first_sentence(answer)), answer.answer


def test_the_promise_is_stated_first(reported):
    engine, _ = reported
    answer = engine.ask("What did Canada promise in the Ukraine security guarantees?")
    assert not answer.declined
    first = _first_sentence(answer)
    assert re.search(r"Canada has (promised|offered)", first), answer.answer


def test_the_sum_comes_first(reported):
    engine, _ = reported
    answer = engine.ask("How much will Canada invest in defence?")
    assert not answer.declined and "$81.8-billion" in _first_sentence(answer), answer.answer


def test_a_quote_is_whole_and_has_its_speaker(reported):
    engine, has_seed = reported
    answer = engine.ask("What did Carney say?")
    assert not answer.declined
    for sentence, _marks in cited_sentences(answer.answer):
        assert "Carney" in sentence or sentence.startswith("He "), f"no speaker: {sentence!r}"
        closes, opens = sentence.count("”"), sentence.count("“")
        assert closes <= opens, f"a quotation cut from its opening: {sentence!r}"
    if has_seed:
        bench = engine.answerer.score_sentences("What did Carney say about the bench?", engine.retrieve("Carney bench strength")[:5])
        quoted = [s.text for s in bench if "building that bench,” Carney said" in s.text]
        assert quoted and all(q.startswith("“Do we have") for q in quoted), quoted


def test_follow_ups_resolve_to_the_entity_the_conversation_is_about(reported):
    engine, has_seed = reported
    first = engine.ask("What did France and the U.K. promise?")
    history = [Turn(role="user", content=first.question), Turn(role="assistant", content=first.answer)]
    spend = engine.ask("How much will it spend?", history)
    assert "France" in spend.standalone_question and "U.K." in spend.standalone_question, spend.standalone_question
    assert "Canada" not in spend.standalone_question
    us = engine.ask("And the US?", history)
    assert us.standalone_question == "What did the US promise?"
    if has_seed:  # the seed says the U.S. "has pledged"; the samples only that it "agreed" or "will take part"
        assert not us.declined and "monitor" in us.answer


def test_seed_questions(reported):
    engine, has_seed = reported
    if not has_seed:
        pytest.skip(f"seed article not present (looked in {SEED}): seed questions skipped")
    answer = engine.ask("Who will help monitor a potential ceasefire?")
    assert not answer.declined and ("U.S." in answer.answer or "United States" in answer.answer)
    declined = engine.ask("How many Canadian troops will be deployed to Ukraine?")
    assert declined.declined, declined.answer


def test_the_answer_says_which_dates_it_searched(reported):
    engine, _ = reported
    january = engine.ask("What did Canada promise in January?")
    assert january.time_scope is not None and january.time_scope.kind == "window" and january.time_scope.applied
    assert not january.declined
    assert all(s.published_at.startswith("2026-01") for s in january.sources)
    # the samples are from January 2026: no article was published in a January a year before
    old = engine.ask("What did Canada promise in January 2025?")
    assert old.time_scope is not None and not old.time_scope.applied
    assert "no article was published" in old.time_scope.describe()
