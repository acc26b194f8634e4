"""`newsdesk ingest --shard I/N` against a real `chroma run` server: three shard processes at once end
with exactly the store a single-process ingest builds (ids, chunks, clusters), no article embedded
twice; a shard killed mid-way and run again ends the same, and never touches another shard's work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.retrieval.keyword import indexed_chunk_ids
from assistant.settings import Settings
from assistant.retrieval.store import ArticleStore
from ingest.shard import Shard, parse_shard, shard_of
from tests.conftest import REPO, assert_store_consistent, chroma_server, write

# Invented outlets and stories, written for this test. Three stories are syndicated: the same wire
# copy under another outlet's dateline and footer (the copies' ids fall in other shards than their
# originals', so clustering has to work across shards).
STORIES = [
    ("ferry-fares", "Harbour Courier", "2026-03-02", "Island ferry fares to rise in April",
     "Passengers on the island ferry will pay more from the first of April after the transit board approved "
     "a fare increase on Monday. A single adult crossing goes from four dollars to four dollars and sixty cents, "
     "while monthly passes stay at their current price for commuters who live on the island. Board members said "
     "fuel and crew costs had climbed for three straight years and the reserve fund could no longer absorb them."),
    ("orchard-frost", "Valley Sentinel", "2026-03-04", "Late frost hits the valley's apple orchards",
     "Growers across the upper valley spent Tuesday night lighting smudge pots as temperatures fell to minus "
     "four degrees just as the first blossoms opened. The growers' cooperative estimates that a third of the "
     "early varieties may be lost, although later apples had not yet flowered and should be spared. Insurance "
     "adjusters are expected on the farms next week to look at the damaged buds branch by branch."),
    ("library-hours", "Northern Ledger", "2026-03-05", "Central library opens on Sundays again",
     "The central library will open its doors on Sunday afternoons again starting this month, four years after "
     "the service was cut to save money. The city council found the funds in a review of unused office leases. "
     "Librarians say Sunday was once the busiest day for families and students preparing for exams, and the "
     "reading room on the third floor will host a homework club from one o'clock until five."),
    ("bridge-repair", "Prairie Dispatch", "2026-03-06", "Old river bridge closes for six weeks of repairs",
     "Drivers will have to detour through the east industrial park while crews replace the deck joints of the "
     "old river bridge. The work starts on Monday and should take six weeks if the weather holds. Engineers found "
     "corrosion in the steel bearings during a routine inspection last autumn, and the province has set aside "
     "two million dollars for the job, including new railings and lighting for the walkway."),
    ("choir-tour", "Coastline Gazette", "2026-03-07", "Youth choir heads to a festival in Lisbon",
     "Thirty singers from the harbour youth choir leave next Thursday for a choral festival in Lisbon, the first "
     "trip abroad in the choir's history. Parents raised most of the fare through bake sales, a raffle and a "
     "winter concert at the cathedral. The programme includes a sea shanty arranged by the choir's director and "
     "two folk songs the singers learned from a retired fisherman who visited their rehearsals."),
    ("wind-farm", "Northern Ledger", "2026-03-09", "Offshore wind farm wins its final permit",
     "The company planning forty turbines off the northern cape received its last environmental permit on "
     "Friday, clearing the way for construction next spring. Fishing associations had asked for a wider corridor "
     "for their boats, and the final plan moves six turbines further east to keep the lobster grounds open. "
     "The project should supply power to about ninety thousand homes once it is running."),
    ("school-lunch", "Valley Sentinel", "2026-03-10", "Schools to serve free breakfasts from September",
     "Every elementary school in the district will offer a free breakfast from September under a programme "
     "the school board adopted by a vote of seven to two. Teachers had reported children arriving hungry and "
     "unable to concentrate during morning lessons. The meals will include fruit, yoghurt and whole grain bread, "
     "and local bakeries have been invited to bid for the contract to supply the bread."),
    ("marathon-route", "Harbour Courier", "2026-03-11", "Marathon moves its finish line to the waterfront",
     "This year's city marathon will finish on the waterfront promenade instead of the stadium, organisers said "
     "on Wednesday. The new route avoids the steep hill near the hospital that runners had complained about for "
     "years. About six thousand people have registered so far, and the organisers expect road closures along the "
     "harbour from six in the morning until early afternoon on race day."),
    ("museum-whale", "Coastline Gazette", "2026-03-12", "Museum hangs a restored whale skeleton",
     "Visitors to the natural history museum can now walk beneath the skeleton of a fin whale that washed ashore "
     "on the south beach eleven years ago. Volunteers spent almost a decade cleaning and assembling the bones in "
     "a shed behind the museum. The skeleton is nineteen metres long and hangs from steel cables in the main hall, "
     "next to a display about the ships that once hunted whales along this coast."),
    ("bus-electric", "Prairie Dispatch", "2026-03-13", "First electric buses join the city fleet",
     "Twelve battery buses began carrying passengers on the crosstown routes this week, the first step in "
     "replacing the diesel fleet by the end of the decade. Drivers said the buses are quieter and accelerate more "
     "smoothly, though the cold mornings have shortened their range. The transit agency installed chargers at the "
     "north garage, where the buses spend the night plugged in."),
    ("housing-plan", "Northern Ledger", "2026-03-14", "Council backs four hundred homes on the old rail yard",
     "The council approved a plan on Thursday to build four hundred homes on the former rail yard west of the "
     "station, a quarter of them rented below market rates. Neighbours had asked for more parking, and the "
     "developer agreed to a second underground level. Construction of the first two buildings could begin next "
     "year, once the soil has been cleaned of oil left by the locomotives."),
    ("bakery-award", "Harbour Courier", "2026-03-16", "Corner bakery wins a national bread prize",
     "A small bakery on Chandler Street took first place in the national sourdough competition with a rye loaf "
     "made from a starter the owner's grandmother kept alive for fifty years. The owner bakes every night from "
     "two in the morning and sells out most days before noon. She said the prize money will pay for a second oven "
     "so that she can hire an apprentice from the trade school."),
    ("flood-wall", "Valley Sentinel", "2026-03-17", "Engineers propose a flood wall for the lower town",
     "A report presented to the council on Monday recommends a concrete flood wall along the river in the lower "
     "town, where spring floods have reached shops three times in the past decade. The wall would be two metres "
     "high with gates at the boat launch and the footbridge. Shop owners welcomed the plan but asked how long the "
     "riverside road would be closed while it is built."),
    ("chess-champion", "Coastline Gazette", "2026-03-18", "Twelve-year-old wins the provincial chess title",
     "A seventh grader from the harbour district won the provincial chess championship on Sunday, beating a "
     "university student in the final round after five hours of play. She learned the game from her grandfather "
     "at the community centre and now trains online every evening. Her next goal is the national junior event in "
     "the summer, for which her school has promised to pay the entry fee."),
    ("hospital-wing", "Prairie Dispatch", "2026-03-19", "Hospital opens a new children's wing",
     "The regional hospital opened a children's wing with forty beds, a playroom and rooms where parents can stay "
     "overnight beside their children. Until now, young patients from the northern towns often had to travel to "
     "the capital for surgery. Nurses helped design the rooms, asking for wider doors, softer lighting and "
     "windows low enough for a child in bed to look outside."),
    ("farmers-market", "Northern Ledger", "2026-03-20", "Farmers' market moves indoors for the winter",
     "The Saturday farmers' market will move into the old tram depot for the cold months, giving stallholders a "
     "heated hall and space for forty stands. Vendors selling root vegetables, honey, cheese and wool have signed "
     "up, and a coffee roaster will run a small cafe near the entrance. The market committee hopes to keep the "
     "depot open year round if the winter season draws enough shoppers."),
    ("airport-runway", "Harbour Courier", "2026-03-21", "Regional airport lengthens its runway",
     "Work began on extending the regional airport's runway by four hundred metres, which will allow larger "
     "planes to land in bad weather. Airlines have said they would add direct flights to two southern cities once "
     "the extension opens. Residents under the flight path asked for noise limits at night, and the airport "
     "authority agreed to ban departures between midnight and six."),
    ("lighthouse-sale", "Coastline Gazette", "2026-03-23", "Historic lighthouse to become a guesthouse",
     "The federal government has sold the Gull Point lighthouse to a local couple who plan to turn the keeper's "
     "cottage into a guesthouse with three rooms. The light itself will keep working and stays under the coast "
     "guard's care. The new owners promised to open the tower to visitors on summer weekends and to repaint it in "
     "its original red and white bands."),
    ("snow-budget", "Valley Sentinel", "2026-03-24", "Snow clearing budget runs dry in March",
     "The town has spent its whole snow clearing budget after the heaviest winter in twenty years, and crews will "
     "now be paid from the road repair fund. Public works staff ploughed the main streets fourteen times in "
     "February alone. Councillors warned that fewer potholes may be fixed this summer unless the province helps "
     "cover the extra cost of salt and overtime."),
    ("jazz-festival", "Prairie Dispatch", "2026-03-25", "Jazz festival announces a free opening night",
     "The summer jazz festival will open with a free concert in the central square, featuring a big band made up "
     "of music teachers from across the region. Organisers say ticket sales have grown every year since the "
     "festival moved to the riverside stage. This year's line-up includes a pianist from Montreal and a brass "
     "ensemble that plays on a moving barge along the canal."),
    ("recycling-rules", "Northern Ledger", "2026-03-26", "New recycling rules start in May",
     "Residents will be able to put all plastic containers in their blue bins from May, the waste authority said, "
     "ending years of confusion over which numbers were accepted. Glass will move to a separate bin collected "
     "once a month. A new sorting plant near the ring road can now handle the mixed plastics that used to be sent "
     "to landfill."),
    ("seal-rescue", "Harbour Courier", "2026-03-27", "Volunteers free a seal caught in fishing net",
     "A young grey seal tangled in a discarded fishing net was freed on the breakwater on Friday by volunteers "
     "from the marine rescue network. The animal had deep cuts around its neck and was taken to the rescue centre "
     "for treatment. Rescuers urged boat owners to bring old nets back to the harbour office, where they are "
     "collected and recycled into playground equipment."),
]

# Wire copies: (id, outlet, date, original id, dateline, footer).
COPIES = [
    ("wind-farm-wire", "Tidewater Wire", "2026-03-10", "wind-farm", "CAPE NORTH (Tidewater Wire) — ",
     " This story was distributed by Tidewater Wire to its member papers."),
    ("orchard-frost-daily", "Ridgeback Daily", "2026-03-05", "orchard-frost", "UPPER VALLEY — ",
     " Ridgeback Daily staff contributed to this report."),
    ("bridge-repair-wire", "Tidewater Wire", "2026-03-07", "bridge-repair", "EAST BANK (Tidewater Wire) — ",
     " Copyright Tidewater Wire, reprinted with permission."),
]
N_ARTICLES = len(STORIES) + len(COPIES)


def article_markdown(article_id: str, source: str, day: str, title: str, body: str) -> str:
    return (
        f"---\nid: {article_id}\ntitle: \"{title}\"\nurl: https://news.example/{article_id}\n"
        f"published_at: {day}\nsource: {source}\n---\n{body}\n"
    )


def write_corpus(root: Path) -> Path:
    """The stories as Markdown files (most) and one JSONL file (the last five), in sub-folders."""
    by_id = {s[0]: s for s in STORIES}
    rows = list(STORIES) + [
        (cid, outlet, day, by_id[orig][3], dateline + by_id[orig][4] + footer)
        for cid, outlet, day, orig, dateline, footer in COPIES
    ]
    for article_id, source, day, title, body in rows[:-5]:
        write(root / source.lower().replace(" ", "-") / f"{article_id}.md", article_markdown(article_id, source, day, title, body))
    lines = [
        json.dumps({"id": i, "title": t, "url": f"https://news.example/{i}", "published_at": d, "source": s, "text": b})
        for i, s, d, t, b in rows[-5:]
    ]
    write(root / "late-batch.jsonl", "\n".join(lines) + "\n")
    return root


def shard_env(tmp: Path, port: int, name: str, collection: str = "sharded", group: int = 2) -> dict:
    return {
        **os.environ,
        "NEWSDESK_CHROMA_HOST": "127.0.0.1",
        "NEWSDESK_CHROMA_PORT": str(port),
        "NEWSDESK_COLLECTION": collection,
        "NEWSDESK_DATA_DIR": str(tmp / f"data-{name}"),  # each worker its own folder (its own host, as it were)
        "NEWSDESK_INGEST_GROUP_ARTICLES": str(group),
    }


def newsdesk(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "--verbose", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finished(proc: subprocess.Popen, timeout: float = 300) -> dict:
    stdout, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, stderr
    return json.loads(stdout)


def server_store(port: int, collection: str, tmp: Path):
    settings = Settings(
        data_dir=tmp / f"reader-{collection}", chroma_host="127.0.0.1", chroma_port=port, collection=collection, _env_file=None
    )
    return ArticleStore(settings)


def snapshot(store) -> dict:
    """What must be equal between two ingests of the same files: per article its status, hashes, chunk
    count and cluster; per chunk its id and text."""
    records = {
        r.id: (r.status, r.content_hash, r.embedded_hash, r.chunks, r.cluster_id, r.minhash)
        for r in store.records().values()
    }
    chunks = {chunk_id: text for chunk_id, text, _meta in store.iter_chunks(include=["documents", "metadatas"])}
    return {"records": records, "chunks": chunks}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shard-chroma")
    with chroma_server(tmp) as port:
        yield port, tmp


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("shard-corpus") / "articles")


@pytest.fixture(scope="module")
def single(server, corpus, embed_model):
    """The reference: one ordinary ingest of the same files into another collection of the server."""
    from ingest.pipeline import Ingester

    port, tmp = server
    store = server_store(port, "single", tmp)
    summary = Ingester(store, embed_model).ingest_paths([corpus])
    assert summary.failed == [] and summary.added == N_ARTICLES
    return snapshot(store)


def test_the_corpus_spreads_clusters_across_shards(corpus, single):
    """The test's own premise: three clusters of copies, each spanning two of the three shards."""
    clusters = Counter(cluster for *_, cluster, _minhash in single["records"].values())
    assert sorted(n for n in clusters.values() if n > 1) == [2, 2, 2]
    for copy_id, _outlet, _day, original, _dateline, _footer in COPIES:
        assert single["records"][copy_id][4] == single["records"][original][4]
        assert shard_of(copy_id, 3) != shard_of(original, 3), (copy_id, original)
    assert set(shard_of(i, 3) for i in single["records"]) == {1, 2, 3}


def test_three_shard_processes_at_once_build_what_one_ingest_builds(server, corpus, single, tmp_path):
    port, _tmp = server
    procs = [newsdesk("ingest", "--shard", f"{i}/3", str(corpus), "--json", env=shard_env(tmp_path, port, f"w{i}")) for i in (1, 2, 3)]
    summaries = [finished(p) for p in procs]

    # Every article embedded once: the shards' additions partition the corpus.
    assert [s["shard"] for s in summaries] == ["1/3", "2/3", "3/3"]
    assert sum(s["added"] for s in summaries) == N_ARTICLES
    assert all(s["added"] + s["other_shards"] == N_ARTICLES and s["failed"] == [] for s in summaries)
    assert sum(s["chunks"] for s in summaries) == len(single["chunks"])

    done = finished(newsdesk("ingest", "--finish", "--json", env=shard_env(tmp_path, port, "finish")))
    assert done["pending"] == [] and done["articles"] == N_ARTICLES and done["chunks"] == len(single["chunks"])

    store = server_store(port, "sharded", tmp_path)
    assert_store_consistent(store)
    assert snapshot(store) == single  # same ids, hashes, chunk counts, chunk texts and clusters
    assert (tmp_path / "data-finish" / "keyword" / "sharded" / "state.json").is_file(), "--finish built the keyword index"
    finisher = ArticleStore(Settings(data_dir=tmp_path / "data-finish", chroma_host="127.0.0.1", chroma_port=port,
                                     collection="sharded", _env_file=None))
    assert sorted(indexed_chunk_ids(finisher)) == sorted(single["chunks"]), "every chunk, once"

    # Run again: every shard finds its own articles unchanged and embeds nothing.
    again = [newsdesk("ingest", "--shard", f"{i}/3", str(corpus), "--json", env=shard_env(tmp_path, port, f"w{i}")) for i in (1, 2, 3)]
    again = [finished(p) for p in again]
    assert sum(s["unchanged"] for s in again) == N_ARTICLES and sum(s["chunks"] for s in again) == 0


def test_a_killed_shard_run_again_ends_the_same_and_others_leave_its_work_alone(server, corpus, single, tmp_path):
    port, _tmp = server
    env = {i: shard_env(tmp_path, port, f"k{i}", collection="killed", group=3) for i in (1, 2, 3)}
    mine = sorted(i for i in single["records"] if shard_of(i, 3) == 2)

    # Killed while a group is being written: once one group is complete and the next is pending.
    victim = newsdesk("ingest", "--shard", "2/3", str(corpus), "--json", env=env[2])
    store = server_store(port, "killed", tmp_path)
    deadline = time.time() + 300
    while True:
        statuses = Counter(r.status for r in store.records().values())
        if statuses["complete"] and statuses["pending"]:
            break
        assert victim.poll() is None and time.time() < deadline, "shard 2 ended before it could be killed mid-group"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    left = store.records()
    complete = sorted(i for i, r in left.items() if r.status == "complete")
    assert complete and set(left) <= set(mine) and len(complete) < len(mine), "killed half-way through its shard"
    pending = sorted(i for i, r in left.items() if r.status != "complete")
    assert pending, "killed with a group in progress"

    # The other shards, and --finish, run meanwhile: none of them clears or redoes shard 2's work.
    others = [finished(newsdesk("ingest", "--shard", f"{i}/3", str(corpus), "--json", env=env[i])) for i in (1, 3)]
    assert all(s["added"] == len([i for i in single["records"] if shard_of(i, 3) == n]) for s, n in zip(others, (1, 3)))
    early = newsdesk("ingest", "--finish", "--json", env=env[1])
    stdout, _ = early.communicate(timeout=300)
    assert early.returncode == 1 and json.loads(stdout)["pending"] == pending
    after = store.records()
    assert sorted(i for i, r in after.items() if r.status != "complete") == pending
    assert all(after[i] == left[i] for i in complete + pending), "shard 2's records untouched by the others"

    rerun = finished(newsdesk("ingest", "--shard", "2/3", str(corpus), "--json", env=env[2]))
    assert rerun["added"] == len(mine) - len(complete) and rerun["unchanged"] == len(complete)
    assert finished(newsdesk("ingest", "--finish", "--json", env=env[2]))["pending"] == []

    assert_store_consistent(store)
    assert snapshot(store) == single


def test_prune_with_a_shard_deletes_only_that_shards_articles(server, corpus, embed_model, tmp_path):
    from ingest.pipeline import Ingester
    from ingest.shard import finish

    port, _tmp = server
    folder = tmp_path / "articles"
    write_corpus(folder)
    store = server_store(port, "pruned", tmp_path)
    ingester = Ingester(store, embed_model)
    for i in (1, 2, 3):
        ingester.ingest_paths([folder], shard=Shard(i, 3))
    # Remove one Markdown file of shard 1 and one of shard 3.
    files = {p.stem: p for p in folder.rglob("*.md")}
    gone = {n: next(i for i in sorted(files) if shard_of(i, 3) == n) for n in (1, 3)}
    for article_id in gone.values():
        files[article_id].unlink()

    first = ingester.ingest_paths([folder], prune=True, shard=Shard(1, 3))
    assert first.deleted == 1 and store.get_record(gone[1]) is None
    assert store.get_record(gone[3]) is not None, "shard 3's article is shard 3's to prune"
    third = ingester.ingest_paths([folder], prune=True, shard=Shard(3, 3))
    assert third.deleted == 1 and store.get_record(gone[3]) is None
    assert finish(ingester).articles == N_ARTICLES - 2
    assert_store_consistent(store)


def test_shard_parsing_and_the_cli_error_naming_the_value(corpus, tmp_path):
    assert parse_shard("2/3") == Shard(2, 3) and str(parse_shard(" 1/1 ")) == "1/1"
    for bad in ("0/3", "4/3", "1/0", "3", "a/b", "-1/2", ""):
        with pytest.raises(ValueError, match=repr(bad) if bad else "not I/N"):
            parse_shard(bad)
    # A stable hash: the same split in a process with another PYTHONHASHSEED, and every shard used.
    ids = [f"story-{n}" for n in range(300)]
    here = [shard_of(i, 3) for i in ids]
    there = subprocess.run(
        [sys.executable, "-c", f"from ingest.shard import shard_of; print([shard_of(i, 3) for i in {ids!r}])"],
        cwd=REPO, env={**os.environ, "PYTHONHASHSEED": "12345"}, capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(there) == here and all(70 < here.count(n) < 130 for n in (1, 2, 3))

    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    bad = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--shard", "4/3", str(corpus)],
                         cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "'--shard': '4/3': I must be between 1 and N" in bad.stderr
    urls = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--shard", "1/2", "https://news.example/feed"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert urls.returncode == 1 and "https://news.example/feed" in urls.stderr and "files and folders only" in urls.stderr
    local = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--shard", "1/2", str(corpus)],
                           cwd=REPO, env=env, capture_output=True, text=True)
    assert local.returncode == 1 and "--shard needs a Chroma server (NEWSDESK_CHROMA_HOST)" in local.stderr
    assert not (tmp_path / "data").exists(), "a refused command writes nothing"
