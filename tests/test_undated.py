"""Undated articles at ingest: each is named in a warning (file, and line for JSONL) and counted in the summary.

Why it matters: an article without a published date gains nothing from the recency prior and drops out
of questions that name a period, so beside dated articles it is rarely cited; ingest used to say nothing.
Real store, real embedder, as in test_ingest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import assert_store_consistent, write

DATED_TXT = """---
title: Allies back security guarantees
url: https://example.org/guarantees
published_at: 2026-01-06
source: Test Wire
---
Thirty countries backed security guarantees for the ceasefire on Tuesday, the coalition said.
Troops would be deployed only once a ceasefire takes effect.
"""
UNDATED_TXT = "Harbour ferry adds a night service\n\nThe harbour ferry will run a night service from March, the board said.\n"
ROWS = [
    {"id": "dated-row", "published_at": "2026-01-07", "text": "The council approved a budget of $3 million for parks."},
    {"id": "undated-row", "text": "Snow closed three mountain passes overnight, officials said."},
]


def articles(folder: Path) -> Path:
    write(folder / "guarantees.txt", DATED_TXT)
    write(folder / "ferry.txt", UNDATED_TXT)
    write(folder / "rows.jsonl", "\n".join(json.dumps(r) for r in ROWS) + "\n")
    return folder


def test_dated_txt_front_matter_reaches_the_store(ingester, store, tmp_path):
    summary = ingester.ingest_paths([articles(tmp_path / "in")])
    assert summary.failed == [] and summary.added == 4
    record = store.records()["https://example.org/guarantees"]
    assert (record.title, record.published_at, record.source) == ("Allies back security guarantees", "2026-01-06", "Test Wire")
    chunk_dates = {meta["published_at"] for _id, _text, meta in store.iter_chunks() if meta["article_id"] == record.id}
    assert chunk_dates == {"2026-01-06"}
    assert_store_consistent(store)


def test_undated_articles_are_warned_about_and_counted(ingester, tmp_path):
    folder = articles(tmp_path / "in")
    summary = ingester.ingest_paths([folder])
    assert [(Path(w.path).name, w.line) for w in summary.warnings] == [("ferry.txt", None), ("rows.jsonl", 2)]
    assert all("no published date, so it is ranked as neither new nor old" in w.message for w in summary.warnings)
    assert summary.undated == 2
    report = summary.as_dict()
    assert report["undated"] == 2 and report["added"] == 4  # the earlier fields are all still there
    assert report["warnings"][1] == {"path": str((folder / "rows.jsonl").resolve()), "line": 2, "warning": summary.warnings[1].message}
    assert summary.line().endswith(" / chunks %d / warnings 2 / undated 2" % summary.chunks)
    again = ingester.ingest_paths([folder])  # still undated in the store: still reported
    assert (again.unchanged, again.undated) == (4, 2)


def test_dated_articles_alone_report_nothing(ingester, tmp_path):
    folder = tmp_path / "in"
    write(folder / "guarantees.txt", DATED_TXT)
    write(folder / "rows.jsonl", json.dumps(ROWS[0]) + "\n")
    summary = ingester.ingest_paths([folder])
    assert summary.added == 2 and summary.warnings == [] and summary.undated == 0
    assert summary.as_dict()["undated"] == 0 and "undated" not in summary.line()


def test_cli_prints_one_warning_per_undated_article(tmp_path):
    newsdesk = str(Path(sys.executable).parent / "newsdesk")
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    folder = articles(tmp_path / "in")
    done = subprocess.run([newsdesk, "ingest", str(folder)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr  # a warning is no failure
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning ")]
    assert warnings == [
        f"warning {(folder / 'ferry.txt').resolve()}: no published date, so it is ranked as neither new nor old, "
        "and left out when a question names a period; give it front matter with 'published_at: YYYY-MM-DD' "
        "(between '---' lines at the top)",
        f"warning {(folder / 'rows.jsonl').resolve()}:2: no published date, so it is ranked as neither new nor old, "
        'and left out when a question names a period; give it a "published_at": "YYYY-MM-DD" field',
    ]
    assert "added 4 / " in done.stdout and done.stdout.rstrip().endswith("/ warnings 2 / undated 2")
    as_json = subprocess.run([newsdesk, "ingest", str(folder), "--json"], env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(as_json.stdout)
    assert (report["unchanged"], report["undated"], len(report["warnings"])) == (4, 2, 2)
