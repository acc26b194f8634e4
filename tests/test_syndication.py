"""Syndicated copies: one wire story at several outlets is one cluster; the answerer quotes one copy and
its source names the others. Real datasketch, real Ingester into real Chroma, real engine.

The stories are invented for these tests (the "Maritime Wire" and its subscribers)."""

from __future__ import annotations

import shutil
from dataclasses import replace

from assistant.answer import Answer, AlsoIn, Source
from assistant.retrieval.keyword import keyword_dir
from assistant.slack.blocks import source_line
from ingest import syndication
from ingest.article import Article

WIRE_BODY = """\
The Halifax Port Authority's board voted 7-2 on Tuesday to expand the Woodside ferry terminal, a $48.6-million project that will add a second loading berth and a covered waiting hall for up to 600 passengers.

Construction is scheduled to begin in April and finish by the autumn of 2028, the authority said in a statement after the vote. Federal and provincial grants will cover $31 million of the cost; the rest will come from the authority's capital reserve and a 50-cent surcharge on adult fares that takes effect in January.

Board chair Miriam Oduya said ridership on the crossing had grown by a third since 2022 and that the existing terminal, built in 1986, was turning passengers away at peak hours. "On a wet Monday morning we have people standing on the wharf in the rain because there is nowhere to put them," she said.

The expansion will also replace the terminal's diesel boilers with heat pumps and add 40 secure bicycle spaces. Engineers expect the second berth to cut the average wait between sailings from 15 minutes to eight.

The two board members who voted against the plan, Darren Fitzgerald and Lucia Ng, said the fare surcharge would fall hardest on commuters who have no other way to cross the harbour. Fitzgerald proposed phasing in the surcharge over two years; the motion failed.

Transit advocates welcomed the decision but asked the authority to publish its ridership forecasts. "Forty-eight million dollars is a lot of money to spend on a forecast nobody outside the building has seen," said Aaron Pike of the Harbour Riders Association.

The authority will hold a public information session on the design at the Woodside Community Centre on Feb. 12."""

# The same wire story as two outlets ran it: another headline, dateline and boilerplate.
LEDGER = Article(
    id="ledger-ferry-terminal",
    title="Halifax port approves $48.6-million ferry terminal expansion",
    text="HALIFAX (Maritime Wire) — " + WIRE_BODY + "\n\nThis story was distributed by Maritime Wire. "
    "© 2026 Maritime Wire. All rights reserved. Republication without permission is prohibited.",
    url="https://northernledger.example/news/2026/01/13/halifax-ferry-terminal-expansion",
    published_at="2026-01-13",
    source="Northern Ledger",
    authors=("Ines Marchetti",),
)
COURIER = Article(
    id="courier-ferry-terminal",
    title="Bigger ferry terminal coming to the waterfront after port board vote",
    text="By Staff\n\n" + WIRE_BODY + "\n\nGot a news tip? Email the newsroom at tips@harbourcourier.example. "
    "Sign up for the Harbour Courier morning briefing to get stories like this in your inbox every weekday.",
    url="https://harbourcourier.example/local/woodside-terminal-vote",
    published_at="2026-01-14",
    source="Harbour Courier",
    authors=("Harbour Courier Staff",),
)
SENTINEL = Article(
    id="sentinel-ferry-terminal",
    title="Port board backs Woodside terminal plan",
    text="By Ines Marchetti, Maritime Wire\n\n" + WIRE_BODY + "\n\nRead more regional news at valleysentinel.example. "
    "Comments on this story are closed.",
    url="https://valleysentinel.example/2026/01/15/port-board-woodside",
    published_at="2026-01-15",
    source="Valley Sentinel",
)
# Another story on the same topic, written independently: it must stay out of the cluster.
RIDERS = Article(
    id="courier-fare-surcharge",
    title="Commuters split over ferry fare surcharge",
    text="""\
Regular riders on the Woodside ferry had mixed feelings on Wednesday about paying more to cross the harbour once the new terminal is built.

Nurse Colleen Babineau, who takes the 6:45 a.m. boat to the hospital five days a week, said an extra half dollar a trip would add up to more than $120 a year for her. "I'm glad they're finally fixing the place, but I don't see why the people already squeezed onto the boat should pay for it," she said.

Others shrugged. A retired shipwright waiting on the wharf said the old terminal's leaking roof had been a local joke for a decade and that any improvement was worth the price of a coffee.

The port authority says monthly pass holders will not pay the surcharge, a detail several riders said they had not heard. Student and senior fares are also exempt.

The Harbour Riders Association plans to ask the authority at next month's information session whether the charge will end once the project is paid off.""",
    url="https://harbourcourier.example/local/riders-react-fare-surcharge",
    published_at="2026-01-15",
    source="Harbour Courier",
    authors=("Pauline Gaudet",),
)
# What the Courier's page became when the outlet replaced the wire copy with a story of its own.
COURIER_REWRITTEN = replace(
    COURIER,
    title="City council delays snow-clearing contract",
    text="""\
Halifax regional council put off a decision on Tuesday over who will clear snow from sidewalks in the city's north end, after two bidders asked for more time to price the work.

The current contract runs out in March. Staff had recommended a three-year deal worth $2.2 million with a Dartmouth firm, but councillors said the price had risen by nearly half since the last tender and wanted to see whether a second round would bring it down.

Councillor Faisal Rahman said residents of his district had waited up to four days for sidewalks to be cleared after last February's storm. "We are not signing another contract that promises the same service for more money," he said.

Staff will bring the new bids back to council on Feb. 24. Until then the city's own crews will cover the routes the current contractor does not reach within 48 hours of a snowfall.""",
)

QUESTION = "When will construction of the Woodside ferry terminal expansion begin?"


def clusters_of(store) -> dict[str, str]:
    return {r.id: r.cluster for r in store.records().values()}


# --- the signature itself ---------------------------------------------------------------------------


def test_copies_are_near_duplicates_and_the_other_story_is_not():
    ledger, courier, sentinel, riders = (syndication.signature(a.text) for a in (LEDGER, COURIER, SENTINEL, RIDERS))
    assert ledger.jaccard(courier) >= 0.8 and ledger.jaccard(sentinel) >= 0.8  # dateline and footer barely count
    assert ledger.jaccard(riders) < 0.1
    members = [syndication.Member(a.id, a.published_at, syndication.signature(a.text)) for a in (COURIER, RIDERS, LEDGER)]
    assigned = syndication.clusters(members)
    # Named after the oldest copy, whatever order the members come in.
    assert assigned == {LEDGER.id: LEDGER.id, COURIER.id: LEDGER.id, RIDERS.id: RIDERS.id}


def test_words_are_normalised_so_copies_agree():
    assert syndication.words("It’s the PORT'S plan — “final”, she said.") == ["its", "the", "ports", "plan", "final", "she", "said"]
    assert syndication.shingles("one two three") == {b"one two three"}


def test_short_bodies_are_not_clustered_and_signatures_round_trip():
    brief = "Woodside ferry sailings are cancelled this morning because of high winds. Check the port's website for updates."
    assert syndication.signature(brief) is None
    assert syndication.encode(None) == syndication.TOO_SHORT and syndication.decode(syndication.TOO_SHORT) is None
    members = [syndication.Member(i, "2026-01-13", None) for i in ("a", "b")]
    assert syndication.clusters(members) == {"a": "a", "b": "b"}  # identical briefs stay apart
    sig = syndication.signature(LEDGER.text)
    assert syndication.decode(syndication.encode(sig)).jaccard(sig) == 1.0
    assert syndication.decode("not base64 at all!") is None and syndication.decode("") is None


# --- through the ingester and the engine ------------------------------------------------------------


def test_ingest_clusters_copies_and_the_answer_cites_one_naming_the_other(ingester, engine, store):
    summary = ingester.ingest_articles([LEDGER, COURIER, RIDERS])
    assert (summary.added, summary.failed) == (3, [])
    records = store.records()
    assert records[LEDGER.id].cluster == records[COURIER.id].cluster == LEDGER.id
    assert records[RIDERS.id].cluster == RIDERS.id
    assert records[COURIER.id].authors == COURIER.authors  # kept in the manifest, not in the chunks

    trace = engine.run(QUESTION)
    answer = trace.answer
    assert not answer.declined and "April" in answer.answer
    cited = {s.article_id for s in answer.sources}
    assert len(cited & {LEDGER.id, COURIER.id}) == 1, answer.sources
    source = next(s for s in answer.sources if s.article_id in (LEDGER.id, COURIER.id))
    quoted, other = (LEDGER, COURIER) if source.article_id == LEDGER.id else (COURIER, LEDGER)
    assert source.source == quoted.source and source.authors == list(quoted.authors)
    assert source.also_in == [AlsoIn(title=other.title, url=other.url, source=other.source)]
    # The answerer saw one copy; the other is still ranked and findable.
    assert {h.node.metadata["article_id"] for h in trace.context} & {LEDGER.id, COURIER.id} == {quoted.id}
    assert {LEDGER.id, COURIER.id} <= set(answer.retrieved)
    assert other.id in {h.node.metadata["article_id"] for h in engine.retrieve(QUESTION)}
    # ... and the front-ends say where else it ran.
    assert f"also in: <{other.url}|{other.source}>" in source_line(source)
    from assistant.cli.main import _print_answer, out

    with out.capture() as printed:
        _print_answer(answer)
    assert f"also in: {other.source} <{other.url}>" in printed.get()


def test_editing_a_copy_into_another_story_splits_the_cluster(ingester, engine, store):
    ingester.ingest_articles([LEDGER, COURIER, RIDERS])
    assert clusters_of(store)[COURIER.id] == LEDGER.id
    summary = ingester.ingest_articles([LEDGER, COURIER_REWRITTEN, RIDERS])
    assert (summary.updated, summary.unchanged) == (1, 2)
    assert clusters_of(store) == {LEDGER.id: LEDGER.id, COURIER.id: COURIER.id, RIDERS.id: RIDERS.id}
    answer = engine.ask(QUESTION)
    assert all(not s.also_in for s in answer.sources)  # the engine's cached clusters followed the edit


def test_deleting_the_first_copy_keeps_the_others_together(ingester, store):
    ingester.ingest_articles([SENTINEL, COURIER, LEDGER, RIDERS])
    assert {clusters_of(store)[a.id] for a in (LEDGER, COURIER, SENTINEL)} == {LEDGER.id}
    deleted, unknown = ingester.delete([LEDGER.id])
    assert (deleted, unknown) == ([LEDGER.id], [])
    # The oldest copy left names the cluster now.
    assert clusters_of(store) == {COURIER.id: COURIER.id, SENTINEL.id: COURIER.id, RIDERS.id: RIDERS.id}


def test_reingesting_unchanged_articles_is_a_no_op(ingester, store):
    ingester.ingest_articles([LEDGER, COURIER, RIDERS])
    version, records = store.version(), store.records()
    summary = ingester.ingest_articles([LEDGER, COURIER, RIDERS])
    assert (summary.added, summary.updated, summary.unchanged, summary.chunks) == (0, 0, 3, 0)
    assert store.version() == version and store.records() == records


def _as_older_store(store) -> None:
    """Rewrite every manifest record as stores built before clustering wrote them: no authors,
    cluster or signature keys."""
    old_keys = ("kind", "content_hash", "status", "title", "url", "published_at", "source", "path", "chunks")
    got = store.manifest.get(where={"kind": "article"}, include=["metadatas"])
    metas = [{k: meta[k] for k in old_keys} for meta in got["metadatas"]]
    store.manifest.delete(ids=got["ids"])
    store.manifest.add(ids=got["ids"], embeddings=[[1.0]] * len(metas), metadatas=metas)
    store.bump_version()


def test_an_older_store_without_clusters_still_answers_and_is_clustered_without_reembedding(ingester, engine, store):
    # Articles without bylines: their content hash is what an older store holds, so nothing re-embeds.
    copies = [replace(a, authors=()) for a in (LEDGER, COURIER, RIDERS)]
    ingester.ingest_articles(copies)
    _as_older_store(store)
    assert all(r.cluster == "" and r.minhash == "" for r in store.records().values())
    chunks_before = sorted(store.iter_chunks(), key=lambda chunk: chunk[0])

    # An older store's keyword index is of an older layout (or absent): a first question finds it
    # behind and builds it in the background, publishing the records' (absent) clusters and marking
    # their documents unsigned.
    shutil.rmtree(keyword_dir(store))
    engine.bm25.indexes()
    assert engine.bm25.wait_refreshed(timeout=60) and not engine.bm25.indexes().stale
    answer = engine.ask(QUESTION)
    assert not answer.declined and all(s.also_in == [] for s in answer.sources)

    # A later ingest that reads none of these articles signs them from their chunks and clusters them.
    summary = ingester.ingest_articles([])
    assert summary.chunks == 0
    records = store.records()
    assert records[LEDGER.id].cluster == records[COURIER.id].cluster == LEDGER.id
    assert records[RIDERS.id].cluster == RIDERS.id
    assert sorted(store.iter_chunks(), key=lambda chunk: chunk[0]) == chunks_before  # chunks untouched
    again = ingester.ingest_articles(copies)
    assert (again.unchanged, again.chunks) == (3, 0)  # content hashes unchanged: nothing re-embedded

    answer = engine.ask(QUESTION)
    assert any(s.also_in for s in answer.sources if s.article_id in (LEDGER.id, COURIER.id))


def test_a_source_without_copies_renders_as_before():
    plain = Source(n=1, article_id="a", title="Title", url="https://example.org/a", quote="q")
    assert "also in" not in source_line(plain)
    many = plain.model_copy(update={"also_in": [AlsoIn(title=f"T{i}", source=f"Outlet {i}") for i in range(8)]})
    line = source_line(many)
    assert "Outlet 0" in line and "Outlet 5" not in line and "3 more" in line
    assert Answer(question="q", standalone_question="q", answer="a", sources=[many]).model_dump()["sources"][0]["also_in"][7] == {
        "title": "T7",
        "url": "",
        "source": "Outlet 7",
    }


def _whole_manifest_read(*_args, **_kwargs):
    raise AssertionError("the whole manifest was read")


def test_a_few_articles_are_clustered_from_the_keyword_bands_as_clustering_every_record_would(ingester, store, monkeypatch):
    """An ingest or delete of a few articles into a store whose keyword index is current clusters them
    without reading the whole manifest, and the records and the published state are what clustering
    every record from scratch gives: after a copy arrives, a third joins, the oldest is deleted (the
    cluster takes the next oldest's name) and a copy is rewritten into another story."""
    from assistant.retrieval.clusters import Clusters
    from assistant.retrieval.keyword import KeywordState, keyword_dir

    def assert_as_from_scratch(expected: dict[str, str]) -> None:
        monkeypatch.undo()
        complete = store.complete_records()
        assert {r.id: r.cluster for r in complete} == expected
        assert ingester.cluster_updates(complete=complete) == []  # clustering every record moves nothing
        state = KeywordState.read(keyword_dir(store))
        assert state.version == store.version()
        assert state.clusters == Clusters.from_records(complete)
        assert state.sources == tuple(sorted({r.source for r in complete}))
        assert state.newest_day == max(int(r.published_at.replace("-", "")) for r in complete)
        monkeypatch.setattr(type(store), "records", _whole_manifest_read)

    ingester.ingest_articles([LEDGER, RIDERS])  # the first ingest publishes the index (every record read)
    monkeypatch.setattr(type(store), "records", _whole_manifest_read)
    ingester.ingest_articles([COURIER])
    assert_as_from_scratch({LEDGER.id: LEDGER.id, COURIER.id: LEDGER.id, RIDERS.id: RIDERS.id})
    ingester.ingest_articles([SENTINEL])
    assert_as_from_scratch({LEDGER.id: LEDGER.id, COURIER.id: LEDGER.id, SENTINEL.id: LEDGER.id, RIDERS.id: RIDERS.id})
    assert ingester.delete([LEDGER.id]) == ([LEDGER.id], [])
    assert_as_from_scratch({COURIER.id: COURIER.id, SENTINEL.id: COURIER.id, RIDERS.id: RIDERS.id})
    ingester.ingest_articles([replace(COURIER, text=RIDERS.text.replace("Regular riders", "Daily riders"))])
    assert_as_from_scratch({COURIER.id: COURIER.id, SENTINEL.id: SENTINEL.id, RIDERS.id: COURIER.id})
