"""Ingest against a real Chroma store with the real embedder: formats, idempotence, update, prune, delete."""

from __future__ import annotations

import json

from tests.conftest import SAMPLE_ARTICLES, assert_store_consistent, write

ARTICLE_MD = """---
id: harbour-ferry
title: Harbour ferry adds a night service
url: https://example.org/ferry
published_at: 2026-02-03
source: Test Wire
---
The harbour ferry will run a night service from March, the transit board said on Tuesday.
Boats will leave every forty minutes between 11 p.m. and 3 a.m. on weekends.
"""


def test_sample_articles_every_format(ingester, store):
    summary = ingester.ingest_paths([SAMPLE_ARTICLES])
    assert summary.failed == []
    files = sorted(p.suffix for p in SAMPLE_ARTICLES.iterdir())
    assert {".md", ".html", ".txt"} <= set(files)
    assert summary.added == len(files) and summary.chunks == store.count_chunks() > 0
    records = store.records()
    html = records["https://example.org/newsdesk-sample/france-uk-troop-pledges"]
    assert html.published_at == "2026-01-08" and html.title
    txt = [r for r in records.values() if r.path.endswith(".txt")][0]
    assert txt.id.startswith("comet-exhibit.txt#")  # no id, no url: file name + title, whatever folder it is in
    assert txt.path == str(SAMPLE_ARTICLES.resolve() / "comet-exhibit.txt")
    assert_store_consistent(store)


def test_chunks_carry_metadata_and_indexed_title(ingester, store, tmp_path):
    write(tmp_path / "in" / "ferry.md", ARTICLE_MD)
    ingester.ingest_paths([tmp_path / "in"])
    chunk_id, text, meta = next(store.iter_chunks())
    assert chunk_id == "harbour-ferry::0"
    assert meta["article_id"] == "harbour-ferry" and meta["title"] == "Harbour ferry adds a night service"
    assert meta["url"] == "https://example.org/ferry" and meta["published_at"] == "2026-02-03" and meta["position"] == 0
    assert "night service from March" in text
    # The title and date are part of what is embedded and what BM25 indexes.
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    node = metadata_dict_to_node(meta, text=text)
    indexed = node.get_content(metadata_mode=MetadataMode.EMBED)
    assert "Harbour ferry adds a night service" in indexed and "2026-02-03" in indexed and "example.org" not in indexed


def test_json_and_jsonl_formats(ingester, store, tmp_path):
    rows = [
        {"id": "j1", "title": "Bridge reopens", "text": "The old bridge reopened to cyclists on Monday after repairs."},
        {"url": "https://example.org/j2", "text": "Snow closed three mountain passes overnight, officials said."},
    ]
    write(tmp_path / "in" / "rows.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    write(tmp_path / "in" / "one.json", json.dumps({"id": "j3", "body": "A new bakery opened on Elm Street with a line round the block."}))
    write(tmp_path / "in" / "many.json", json.dumps([{"id": "j4", "text": "The council approved a budget of $3 million for parks."}]))
    summary = ingester.ingest_paths([tmp_path / "in"])
    assert summary.failed == [] and summary.added == 4
    assert set(store.records()) == {"j1", "https://example.org/j2", "j3", "j4"}
    assert_store_consistent(store)


def test_reingest_is_idempotent_and_embeds_nothing(ingester, store, embed_model, monkeypatch):
    first = ingester.ingest_paths([SAMPLE_ARTICLES])
    chunks = store.count_chunks()
    calls = []
    original = type(embed_model).embed
    monkeypatch.setattr(type(embed_model), "embed", lambda self, texts: calls.append(len(texts)) or original(self, texts))
    second = ingester.ingest_paths([SAMPLE_ARTICLES])
    assert (second.added, second.updated, second.unchanged, second.chunks) == (0, 0, first.added, 0)
    assert calls == [] and store.count_chunks() == chunks
    assert_store_consistent(store)


def test_changed_article_replaces_its_chunks(ingester, store, tmp_path):
    path = write(tmp_path / "in" / "ferry.md", ARTICLE_MD)
    ingester.ingest_paths([path])
    longer = ARTICLE_MD + "\n" + " ".join(f"Sentence {i} about the new timetable and its many stops." for i in range(80))
    write(path, longer)
    summary = ingester.ingest_paths([path])
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 0)
    record = store.records()["harbour-ferry"]
    assert record.chunks > 1 and store.count_chunks() == record.chunks
    write(path, ARTICLE_MD.replace("forty", "thirty"))
    ingester.ingest_paths([path])
    assert store.count_chunks() == 1
    texts = [t for _i, t, _m in store.iter_chunks()]
    assert "thirty minutes" in texts[0] and "forty" not in texts[0]
    assert_store_consistent(store)


def test_prune_removes_articles_whose_files_are_gone(ingester, store, tmp_path):
    folder = tmp_path / "in"
    write(folder / "ferry.md", ARTICLE_MD)
    other = write(folder / "rain.txt", "Rain record broken\n\nThe city saw 90 mm of rain in one day, a record.")
    elsewhere = write(tmp_path / "other" / "x.txt", "Other folder\n\nThis article lives elsewhere and must survive.")
    ingester.ingest_paths([folder, elsewhere])
    other.unlink()
    without_prune = ingester.ingest_paths([folder])
    assert without_prune.deleted == 0 and len(store.records()) == 3
    summary = ingester.ingest_paths([folder], prune=True)
    assert summary.deleted == 1 and summary.unchanged == 1
    assert set(store.records()) == {"harbour-ferry", "x.txt#other-folder"}
    assert_store_consistent(store)


def test_delete_by_id(ingester, store, engine):
    ingester.ingest_paths([SAMPLE_ARTICLES])
    before = store.count_chunks()
    gone = store.records()["sample-dumpling-festival"].chunks
    deleted, unknown = ingester.delete(["sample-dumpling-festival", "no-such-id"])
    assert deleted == ["sample-dumpling-festival"] and unknown == ["no-such-id"]
    assert store.count_chunks() == before - gone and "sample-dumpling-festival" not in store.records()
    assert_store_consistent(store)
    # BM25 follows the store: the deleted article is not retrieved by either retriever.
    hits = engine.retrieve("Harbourfront Dumpling Festival vendors", mode="bm25")
    assert all(h.node.metadata["article_id"] != "sample-dumpling-festival" for h in hits)


def test_bad_inputs_are_reported_and_skipped(ingester, store, tmp_path):
    folder = tmp_path / "in"
    write(folder / "good.md", ARTICLE_MD)
    write(folder / "rows.jsonl", '{"id": "ok", "text": "Valid row about a lighthouse repair."}\n{"id": "bad", "text": \n')
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    write(folder / "empty.md", "---\ntitle: Nothing here\n---\n   \n")
    summary = ingester.ingest_paths([folder])
    assert summary.added == 2 and set(store.records()) == {"harbour-ferry", "ok"}
    failed = {(f.path.rsplit("/", 1)[-1], f.line) for f in summary.failed}
    assert failed == {("rows.jsonl", 2), ("blob.txt", None), ("empty.md", None)}
    assert all(f.error for f in summary.failed)
    assert_store_consistent(store)


def test_duplicate_ids_in_one_run_are_reported(ingester, store, tmp_path):
    write(tmp_path / "in" / "a.md", ARTICLE_MD)
    write(tmp_path / "in" / "b.md", ARTICLE_MD.replace("night service", "late service"))
    summary = ingester.ingest_paths([tmp_path / "in"])
    assert summary.added == 1 and len(summary.failed) == 1 and "duplicate article id" in summary.failed[0].error
    assert_store_consistent(store)


def test_moved_folder_is_the_same_articles(ingester, store, tmp_path):
    write(tmp_path / "old" / "rain.txt", "Rain record broken\n\nThe city saw 90 mm of rain in one day, a record.")
    first = ingester.ingest_paths([tmp_path / "old"])
    (tmp_path / "old").rename(tmp_path / "new")
    again = ingester.ingest_paths([tmp_path / "new"])
    assert (first.added, again.added, again.unchanged) == (1, 0, 1)  # an id that is not the absolute path
    assert set(store.records()) == {"rain.txt#rain-record-broken"}
    # The record follows the file, so pruning the new folder can remove it once it is gone.
    assert store.records()["rain.txt#rain-record-broken"].path == str((tmp_path / "new" / "rain.txt").resolve())
    (tmp_path / "new" / "rain.txt").unlink()
    assert ingester.ingest_paths([tmp_path / "new"], prune=True).deleted == 1
    assert_store_consistent(store)


def _counting_embeds(embed_model, monkeypatch) -> list[int]:
    calls: list[int] = []
    original = type(embed_model).embed
    monkeypatch.setattr(type(embed_model), "embed", lambda self, texts: calls.append(len(texts)) or original(self, texts))
    return calls


def test_a_new_publisher_or_url_relabels_the_chunks_without_embedding(ingester, store, embed_model, engine, tmp_path, monkeypatch):
    path = write(tmp_path / "in" / "ferry.md", ARTICLE_MD)
    ingester.ingest_paths([path])
    calls = _counting_embeds(embed_model, monkeypatch)
    write(path, ARTICLE_MD.replace("source: Test Wire", "source: Harbour Courier\nauthors: [Ada Brook]"))
    again = ingester.ingest_paths([path])
    assert (again.updated, again.chunks, calls) == (1, 0, []), "only metadata changed: nothing to embed"
    assert {m["source"] for _i, _t, m in store.iter_chunks(include=["metadatas"])} == {"Harbour Courier"}
    assert store.records()["harbour-ferry"].authors == ("Ada Brook",)
    answer = engine.ask("When will the harbour ferry run a night service?")
    assert answer.sources and (answer.sources[0].source, answer.sources[0].authors) == ("Harbour Courier", ["Ada Brook"])
    write(path, ARTICLE_MD.replace("every forty minutes", "every half hour"))
    assert ingester.ingest_paths([path]).chunks > 0, "a changed body is embedded again"
    assert_store_consistent(store)


def test_a_store_from_before_bylines_were_kept_apart_is_not_embedded_again(ingester, store, embed_model, tmp_path, monkeypatch):
    """Stores written when a JSON article's authors stood in for its publisher, and records kept no
    embedded hash: the upgrade recognises their chunks by the old hash and relabels them."""
    import dataclasses
    import hashlib

    from ingest.loaders import load_paths

    rows = [{"id": "w1", "title": "Wind farm approved", "authors": ["Ada Brook", "Lee Chan"],
             "text": "The wind farm off Gull Point was approved by the planning board on Monday."}]
    write(tmp_path / "in" / "old.jsonl", "\n".join(json.dumps(r) for r in rows))
    ingester.ingest_paths([tmp_path / "in"])
    article = load_paths([tmp_path / "in"]).articles[0]
    legacy = hashlib.sha256(f"{article.legacy_content_hash}|{ingester.signature}".encode()).hexdigest()
    old = dataclasses.replace(store.records()["w1"], content_hash=legacy, source="Ada Brook, Lee Chan", authors=(), embedded_hash="")
    store.write_records([old])
    calls = _counting_embeds(embed_model, monkeypatch)
    again = ingester.ingest_paths([tmp_path / "in"])
    assert (again.updated, again.chunks, calls) == (1, 0, [])
    record = store.records()["w1"]
    assert (record.source, record.authors, bool(record.embedded_hash)) == ("", ("Ada Brook", "Lee Chan"), True)
    assert ingester.ingest_paths([tmp_path / "in"]).unchanged == 1
    assert_store_consistent(store)


def test_sources_command_lists_ids_and_titles(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    newsdesk = str(Path(sys.executable).parent / "newsdesk")
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    write(tmp_path / "in" / "ferry.md", ARTICLE_MD)
    write(tmp_path / "in" / "rain.txt", "Rain record broken\n\nThe city saw 90 mm of rain in one day, a record.")
    assert subprocess.run([newsdesk, "ingest", str(tmp_path / "in")], env=env, capture_output=True, timeout=300).returncode == 0
    report = json.loads(subprocess.run([newsdesk, "sources", "--json"], env=env, capture_output=True, text=True, timeout=300).stdout)
    assert report["articles"] == 2 and report["sources"] == {"Test Wire": 1, "(unknown)": 1}
    assert report["article_list"] == [
        {"id": "harbour-ferry", "title": "Harbour ferry adds a night service", "published_at": "2026-02-03", "source": "Test Wire"},
        {"id": "rain.txt#rain-record-broken", "title": "Rain record broken", "published_at": "", "source": ""},
    ]
    text = subprocess.run([newsdesk, "sources"], env=env, capture_output=True, text=True, timeout=300).stdout
    assert "  2026-02-03  harbour-ferry  Harbour ferry adds a night service" in text
    assert "  ----------  rain.txt#rain-record-broken  Rain record broken" in text
