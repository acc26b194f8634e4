"""Start-up: the `newsdesk` console script imports only what the command it runs uses.

Checked with Python's own import log (PYTHONPROFILEIMPORTTIME, i.e. ``-X importtime``) of the real
entry point, not by timing (timings belong to bench/startup, on an idle machine)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLE_ARTICLES

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")
# What answering, serving, Slack and fetching need; `--help` needs none of them.
HEAVY = {"chromadb", "llama_index", "onnxruntime", "slack_bolt", "slack_sdk", "fastapi", "uvicorn", "starlette",
         "numpy", "bm25s", "tokenizers", "trafilatura", "lxml", "httpx", "feedparser", "dateparser", "datasketch"}  # fmt: skip
COMMANDS = ["ingest", "ask", "chat", "sources", "delete", "serve", "slack", "eval", "extract", "sync", "feeds"]


def imported(env: dict, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the console script with Python's import log on; the top-level packages it imported."""
    result = subprocess.run([NEWSDESK, *args], env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, cwd=REPO,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    names = {m.group(1).split(".")[0] for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s+(\S+)$", result.stderr, re.M)}
    assert names, "no import log: PYTHONPROFILEIMPORTTIME had no effect"
    return result, names


@pytest.fixture
def env(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return {**base, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "ANONYMIZED_TELEMETRY": "False"}


def test_help_imports_none_of_the_heavy_packages(env):
    result, names = imported(env, "--help")
    assert result.returncode == 0 and "ask" in result.stdout
    assert names & HEAVY == set()
    assert {"typer", "assistant"} <= names  # the log is real: the CLI's own imports are in it


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_imports_none_of_them(env, command):
    result, names = imported(env, command, "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert names & HEAVY == set(), command


def test_ask_imports_the_engine_and_not_the_server_slack_or_fetching(env, tmp_path):
    assert subprocess.run([NEWSDESK, "ingest", str(SAMPLE_ARTICLES)], env=env, capture_output=True, timeout=300).returncode == 0
    result, names = imported(env, "ask", "Who will help monitor a ceasefire in Ukraine?")
    assert result.returncode == 0 and "Sources:" in result.stdout, result.stderr[-2000:]
    assert {"chromadb", "llama_index", "onnxruntime", "bm25s"} <= names  # what answering uses
    assert names & {"fastapi", "uvicorn", "starlette", "slack_bolt", "slack_sdk", "trafilatura", "lxml", "feedparser", "datasketch"} == set()


def test_a_store_held_elsewhere_is_refused_before_the_engine_is_imported(env, tmp_path):
    hold = "import sys; from assistant.retrieval import store_lock; store_lock.acquire(sys.argv[1]); print('held', flush=True); sys.stdin.read()"
    holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "data" / "chroma")], cwd=REPO,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        result, names = imported(env, "ask", "Who will help monitor a ceasefire in Ukraine?")
        assert result.returncode == 1 and f"in use by process {holder.pid}" in result.stderr
        assert names & {"chromadb", "llama_index", "onnxruntime"} == set()
    finally:
        holder.kill()
        holder.wait(timeout=30)
