"""The `newsdesk` console script, run as a user runs it (a subprocess, real store, real embedder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_ARTICLES, write

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("cli") / "data"
    return {**os.environ, "NEWSDESK_DATA_DIR": str(data)}


def newsdesk(env, *args, input=None):
    return subprocess.run([NEWSDESK, *args], cwd=REPO, env=env, capture_output=True, text=True, input=input, timeout=300)


@pytest.fixture(scope="module")
def ingested(env):
    result = newsdesk(env, "ingest", str(SAMPLE_ARTICLES), "--json")
    assert result.returncode == 0, result.stderr
    assert "bm25s" not in result.stderr, "the BM25 library's debug chatter reached the user"
    return json.loads(result.stdout)


def test_ingest_json_summary(ingested, env):
    assert set(ingested) == {"added", "updated", "unchanged", "deleted", "failed", "chunks", "warnings", "undated"}
    # The sample articles are clean, but for the plain-text one that carries no date: it is said so.
    assert ingested["undated"] == 1
    assert [(Path(w["path"]).name, "no published date" in w["warning"]) for w in ingested["warnings"]] == [("comet-exhibit.txt", True)]
    assert ingested["added"] == len(list(SAMPLE_ARTICLES.iterdir())) and ingested["chunks"] > 0
    again = newsdesk(env, "ingest", str(SAMPLE_ARTICLES))
    assert again.returncode == 0
    assert f"added 0 / updated 0 / unchanged {ingested['added']} / deleted 0 / failed 0 / chunks 0" in again.stdout


def test_ask_prints_answer_and_numbered_sources(ingested, env):
    result = newsdesk(env, "ask", "Where will the Harbourfront Dumpling Festival be held?")
    assert result.returncode == 0, result.stderr
    assert "Pier 4 Plaza" in result.stdout and "[1]" in result.stdout and "Sources:" in result.stdout
    # each source names its outlet and byline apart, and its date
    assert "— Newsdesk Sample Wire, by J. Foodie (2026-01-20)" in result.stdout
    assert "https://example.org/newsdesk-sample/" in result.stdout


def test_ask_json_is_the_answer_type(ingested, env):
    result = newsdesk(env, "ask", "Who won the 2026 Eurovision Song Contest?", "--json")
    assert result.returncode == 0  # a decline is not an error
    answer = json.loads(result.stdout)
    assert set(answer) >= {"question", "standalone_question", "answer", "sources", "retrieved", "declined", "generator", "timings_ms"}
    assert answer["declined"] is True and answer["generator"] == "extractive"


def test_chat_keeps_history(ingested, env):
    result = newsdesk(env, "chat", input="Which rail line is getting a new timetable in March?\nWhen does its new timetable take effect?\n\n")
    assert result.returncode == 0, result.stderr
    assert "understood as: When does Northshore Line's new timetable take effect?" in result.stderr
    assert "March 2" in result.stdout


def test_sources_lists_the_store(ingested, env):
    result = newsdesk(env, "sources", "--json")
    report = json.loads(result.stdout)
    assert report["articles"] == ingested["added"] and report["chunks"] == ingested["chunks"]
    assert report["newest"][0].startswith("2026-") and report["sources"]["Newsdesk Sample Wire"] >= 8


def test_bad_file_reported_exit_1(tmp_path, env):
    bad = write(tmp_path / "bad.jsonl", '{"id": "x1", "text": "A fine row about the harbour."}\nnot json\n')
    result = newsdesk({**env, "NEWSDESK_DATA_DIR": str(tmp_path / "d")}, "ingest", str(bad), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["added"] == 1 and summary["failed"][0]["line"] == 2 and summary["failed"][0]["path"] == str(bad)


def test_errors_are_one_line_not_tracebacks(env, tmp_path):
    missing = newsdesk(env, "ingest", str(tmp_path / "nope"))
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "nope" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    empty = newsdesk(env, "ask", "   ")
    assert empty.returncode != 0 and "question is empty" in empty.stderr and "Traceback" not in empty.stderr


def test_delete_unknown_id(ingested, env):
    result = newsdesk(env, "delete", "no-such-article")
    assert result.returncode == 1 and "no such article: no-such-article" in result.stderr


def test_help_on_each_command(env):
    for command in ("ingest", "ask", "chat", "sources", "delete"):
        result = newsdesk(env, command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout
