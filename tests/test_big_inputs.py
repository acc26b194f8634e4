"""Big inputs: an article over NEWSDESK_MAX_ARTICLE_MB is refused alone, chunks stream from the splitter
to the store in bounded groups (memory follows the group size, not the input), and progress counts
the chunks embedded as they are. The 20 MB measurement itself is bench/ingest --rss."""

from __future__ import annotations

import gc
import io
import json
import os
import re
import subprocess
import sys
import tracemalloc
from itertools import islice
from pathlib import Path

from rich.console import Console

from ingest.progress import ingest_progress
from bench.synthetic_text import write_text
from ingest.article import Article
from ingest.chunking import SECTION_CHARS, sections
from ingest.pipeline import Ingester
from tests.conftest import REPO, assert_store_consistent, write
from tests.test_ingest import _counting_embeds

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")
SMALL_MD = """---
id: pier-lights
title: Pier lights go back up
published_at: 2026-02-03
---
The pier's lights went back up on Tuesday, a week after the storm brought two of the poles down.
"""


def _ingester(store, embed_model, **settings) -> Ingester:
    return Ingester(store, embed_model, store.settings.model_copy(update=settings))


def test_an_article_over_the_limit_is_refused_and_the_rest_ingested(store, embed_model, tmp_path):
    folder = tmp_path / "in"
    write(folder / "pier.md", SMALL_MD)
    big = write_text(folder / "notes.txt", 3_500)
    rows = [{"id": "row-small", "text": "The ferry timetable changes on Monday."}, {"id": "row-big", "text": "Long report. " * 300}]
    write(folder / "rows.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    summary = _ingester(store, embed_model, max_article_mb=0.002).ingest_paths([folder])
    assert summary.added == 2 and set(store.records()) == {"pier-lights", "row-small"}
    refused = {Path(f.path).name: f.error for f in summary.failed}
    assert set(refused) == {"notes.txt", "rows.jsonl"}
    size = len(big.read_text(encoding="utf-8").strip().encode()) / 1e6
    assert refused["notes.txt"] == (
        f"{size:.3g} MB of text is over NEWSDESK_MAX_ARTICLE_MB=0.002; not ingested (raise the setting to ingest it)"
    )
    assert refused["rows.jsonl"].startswith("article 'row-big': 0.0039 MB of text is over NEWSDESK_MAX_ARTICLE_MB=0.002")
    assert_store_consistent(store)
    # Raised, the same ingest takes them, and keeps what it had.
    again = _ingester(store, embed_model, max_article_mb=1).ingest_paths([folder])
    assert (again.added, again.unchanged, again.failed) == (2, 2, [])


def test_the_command_prints_one_line_per_refused_article(tmp_path):
    folder = tmp_path / "in"
    write(folder / "pier.md", SMALL_MD)
    write_text(folder / "notes.txt", 3_500)
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_MAX_ARTICLE_MB": "0.002"}
    done = subprocess.run([NEWSDESK, "ingest", str(folder)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1  # a refused article is a failed input
    (line,) = [line for line in done.stderr.splitlines() if line.strip()]
    assert line.startswith(f"failed {(folder / 'notes.txt').resolve()}: ") and "MB of text is over NEWSDESK_MAX_ARTICLE_MB=0.002" in line
    assert "added 1 / updated 0 / unchanged 0 / deleted 0 / failed 1" in done.stdout


def test_chunks_are_embedded_and_written_in_bounded_groups(store, embed_model, tmp_path, monkeypatch):
    """What bounds memory: the pipeline never holds more than ingest_group_chunks chunks, and each
    group is in the store before the next is split."""
    ingester = _ingester(store, embed_model, ingest_group_chunks=4)
    article = Article(id="long-notes", title="Notes", text=write_text(tmp_path / "notes.txt", 10_000).read_text(), path="notes.txt")
    seen: list[tuple[int, int]] = []  # (chunks reported, chunks in the store at that moment)
    group_sizes = _counting_embeds(embed_model, monkeypatch)

    summary = ingester.ingest_articles([article], progress=lambda event, n: event == "chunks" and seen.append((n, store.count_chunks())))
    assert summary.chunks >= 9 and max(group_sizes) == 4 and sum(group_sizes) == summary.chunks
    assert [n for n, _ in seen] == list(range(4, summary.chunks, 4)) + [summary.chunks]
    assert all(reported == stored for reported, stored in seen), "chunks written only at the end"
    assert_store_consistent(store)  # ids and positions run on across groups: notes::0 .. notes::N-1


def test_a_long_article_is_split_a_section_at_a_time(ingester, tmp_path):
    text = write_text(tmp_path / "big.txt", 3 * SECTION_CHARS).read_text()
    parts = list(sections(text))
    assert "".join(parts) == text and len(parts) == 4 and all(len(p) <= SECTION_CHARS for p in parts)
    assert all(p.endswith("\n\n") for p in parts[:-1])  # cut between paragraphs
    article = Article(id="big", title="Big", text=text, path="big.txt")
    # First-use costs of their own are paid before measuring (blingfire's import; ctypes makes and
    # keeps a buffer type per new text length), and garbage earlier tests left is collected: neither
    # is the split's.
    list(ingester.chunks([article]))
    gc.collect()
    tracemalloc.start()
    try:
        first = list(islice(ingester.chunks([article]), 3))
        _, first_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        every = list(ingester.chunks([article]))
        _, every_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The first chunks cost one section's split, not the article's (the chunks of all of it are kept here).
    assert first_peak * 2 < every_peak, (first_peak, every_peak)
    assert [n.node_id for n in first] == ["big::0", "big::1", "big::2"]
    assert [n.node_id for n in every] == [f"big::{i}" for i in range(len(every))]
    assert [n.get_content() for n in every[:3]] == [n.get_content() for n in first]


def test_progress_shows_the_chunks_embedded(store, embed_model, tmp_path):
    ingester = _ingester(store, embed_model, ingest_group_chunks=4)
    write(tmp_path / "in" / "pier.md", SMALL_MD)
    write_text(tmp_path / "in" / "notes.txt", 6_000)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100, color_system=None)
    with ingest_progress(console) as progress:
        summary = ingester.ingest_paths([tmp_path / "in"], progress=progress)
    frames = re.findall(r"articles\s+\S*\s+(\d+/\S+) .*\nchunks embedded\s+\S*\s+(\d+)/", screen.getvalue())
    assert frames[-1] == ("2/2", str(summary.chunks)) and summary.chunks > 4  # the bars as they were left
    shown = [int(chunks) for _, chunks in frames]
    assert shown == sorted(shown)
