"""The settings that shape retrieval and answers, each shown to change what the real engine (Chroma,
BM25, the MiniLM embedder) retrieves or answers: break one and its test fails.

* the recent-story context: asked about something new, sentences of stories older than the newest
  that matched weigh less (``recent_half_life_days``);
* the "this week" preference: articles published in the window a relative time names rank first
  (the engine's preferred window, given to the hybrid retriever), and their sentences lead the answer
  at full strength even when the question has no word of recency ("on Saturday");
* the margin around a named period (``EVENT_MARGIN_DAYS``): a report a few days after "March" is in
  March's window;
* at most two chunks of one article among the retrieved (``HybridRetriever.per_article``);
* the answer's word cap (``max_answer_words``, 72).
"""

from __future__ import annotations

import datetime as dt
import re

from assistant.engine import Engine
from tests.test_retrieval import REGATTA_OLD, _ingest

# The newer report words it less closely than the older one ("the Harbour cup"): asked plainly, the
# older one answers.
REGATTA_NEW = {
    "id": "regatta-2025",
    "title": "Tern crew takes the trophy",
    "published_at": "2025-06-14",
    "text": "The Tern crew won the Harbour cup on Saturday after a close final race. Thirty-eight boats sailed this year.",
}


def _engine(store, embed_model, **changes) -> Engine:
    # The retrieval recency prior off: what each test shows is the effect of one setting alone.
    settings = store.settings.model_copy(update={"recency_weight": 0.0, **changes})
    return Engine(settings, store, embed_model)


def _lead(answer) -> str:
    return answer.answer.split("[")[0]


def test_asked_about_something_new_the_newer_story_answers(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [REGATTA_OLD, REGATTA_NEW])
    engine = _engine(store, embed_model)
    plain = engine.ask("Who won the Harbour Regatta cup?")
    assert "Gull crew" in _lead(plain), "with no time asked, the closer wording answers"
    latest = engine.ask("Who won the latest Harbour Regatta cup?")
    assert latest.time_scope is not None and latest.time_scope.kind == "recent"
    assert latest.retrieved[0] == "regatta-2023", "retrieval alone still ranks the older report first"
    assert "Tern crew" in _lead(latest), latest.answer


def test_this_week_prefers_the_articles_published_this_week(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [REGATTA_OLD, REGATTA_NEW])
    engine = _engine(store, embed_model, today=dt.date(2025, 6, 16))
    assert engine.ask("Who won the Harbour Regatta cup?").retrieved[0] == "regatta-2023"
    answer = engine.ask("Who won the Harbour Regatta cup this week?")
    scope = answer.time_scope
    assert (scope.kind, str(scope.since), str(scope.until)) == ("recent", "2025-06-10", "2025-06-16"), scope
    assert answer.retrieved[0] == "regatta-2025", answer.retrieved
    # A relative time without a word of recency ("on Saturday": the one just past) prefers the newer
    # story's sentences as fully as "this week" does: it leads, though the older words it more closely.
    saturday = engine.ask("Who won the Harbour Regatta cup on Saturday?")
    assert saturday.time_scope.kind == "recent" and str(saturday.time_scope.since) == "2025-06-14", saturday.time_scope
    assert "Tern crew" in _lead(saturday), saturday.answer


BRIDGE_REPORT = {
    "id": "bridge-2025",
    "title": "Kestrel Bridge open again",
    "published_at": "2025-04-03",  # three days after the month the question names
    "text": "Traffic crossed the Kestrel Bridge again from March 30, after eight months of repairs to its "
    "deck, the county roads office said. Buses returned to the bridge the next morning.",
}
BRIDGE_OLD = {
    "id": "bridge-2024",
    "title": "Kestrel Bridge reopens after repairs",
    "published_at": "2024-03-15",
    "text": "The Kestrel Bridge reopened to traffic in March after repairs, the county roads office said. "
    "The bridge had been closed since the winter storms.",
}


def test_a_named_period_keeps_a_margin_for_the_reports_after_it(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [BRIDGE_REPORT, BRIDGE_OLD])
    answer = _engine(store, embed_model).ask("When did the Kestrel Bridge reopen in March 2025?")
    scope = answer.time_scope
    assert (scope.kind, str(scope.since), str(scope.until)) == ("window", "2025-03-01", "2025-03-31"), scope
    # The report published on April 3 is inside March's window with its margin: the window is applied
    # (not dropped for want of an article in it) and holds that report alone.
    assert scope.applied, "the window found nothing: its margin is gone"
    assert answer.retrieved == ["bridge-2025"], answer.retrieved


def _paragraph(n: int) -> str:
    return (
        f"Section {n}. The Marlow Bay desalination plant will supply fresh water to the town, the water board "
        f"said in its report. Part {n} of the report covers the desalination plant's pumps, its intake pipe "
        "under the bay, the energy it draws from the grid, the brine it returns to the sea, and what the "
        "plant will cost the households of Marlow Bay each year once it is running. Engineers from the board "
        "walked the site with councillors and answered questions about noise, traffic during the works and "
        "the fish in the bay. "
    ) * 2


LONG_REPORT = {
    "id": "desalination-report",
    "title": "Marlow Bay desalination plant: the water board's report",
    "published_at": "2025-05-02",
    "text": "\n\n".join(_paragraph(n) for n in range(1, 9)),
}
SHORT_STORIES = [
    {
        "id": f"desalination-{name}",
        "title": f"Desalination plant: {name}",
        "published_at": "2025-05-03",
        "text": f"The Marlow Bay desalination plant drew {name} at the council meeting on Thursday.",
    }
    for name in ("praise", "objections", "questions")
]


def test_at_most_two_chunks_of_one_article_are_retrieved(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [LONG_REPORT, *SHORT_STORIES])
    assert store.get_record("desalination-report").chunks >= 6
    hits = _engine(store, embed_model).retrieve("Marlow Bay desalination plant water board report")
    per_article: dict[str, int] = {}
    for hit in hits:
        per_article[hit.node.metadata["article_id"]] = per_article.get(hit.node.metadata["article_id"], 0) + 1
    assert per_article == {"desalination-report": 2, **{s["id"]: 1 for s in SHORT_STORIES}}, per_article
    assert hits[0].node.metadata["article_id"] == "desalination-report"


HARBOUR_WALL = {
    "id": "harbour-wall",
    "title": "Council votes to rebuild the harbour wall",
    "published_at": "2025-03-12",
    "text": "The Marlow Bay council decided on Tuesday to rebuild the harbour wall with granite blocks from the "
    "Kestrel quarry, in a project the council said would cost 14 million pounds and take three years, starting "
    "with the northern section near the ferry pier. The Marlow Bay council also decided on Tuesday that the "
    "rebuilt harbour wall will be raised by one metre against storm surges, with new steps down to the beach, "
    "lighting along the top and a railing the whole length of the wall.",
}


def _words(answer) -> int:
    return len(re.sub(r"\[\d+\]", " ", answer.answer).split())


def test_an_answer_stays_within_the_word_cap(ingester, store, embed_model, tmp_path):
    _ingest(ingester, tmp_path, [HARBOUR_WALL])
    question = "What did the Marlow Bay council decide about the harbour wall?"
    engine = _engine(store, embed_model)
    assert engine.settings.max_answer_words == 72
    answer = engine.ask(question)
    assert not answer.declined and "granite blocks" in answer.answer
    assert _words(answer) <= 72, answer.answer
    # The cap is what keeps it short: without it, the second sentence joins.
    uncapped = _engine(store, embed_model, max_answer_words=400).ask(question)
    assert _words(uncapped) > 72 and "raised by one metre" in uncapped.answer, uncapped.answer
