"""Shared fixtures: the real embedder (loaded once per session) and a fresh store per test."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.common import chroma_run, free_port, running_process  # noqa: F401 - shared with the benchmarks

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RTQA = SHARED_DATA / "rtqa-dev"
SAMPLE_ARTICLES = REPO / "examples" / "articles"

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str):
    """Skip: a part the test needs is not installed. Under CI (``CI=true``) the test extras and chromium
    are installed, so a missing part is a broken set-up: the test fails instead, never hiding a whole file."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the test extras and chromium must be installed, so this fails rather than skips)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)  # also at a module's import (tests/test_llm.py)


def import_or_unavailable(module: str, reason: str):
    """The module, imported; :func:`unavailable` when it cannot be (not installed, or a broken build)."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - a native extension that fails to load raises more than ImportError
        unavailable(f"{reason} ({type(exc).__name__}: {exc})")


def require_rtqa() -> Path:
    if not (RTQA / "corpus.jsonl").exists():
        pytest.skip(f"../shared/data/rtqa-dev not present (looked in {RTQA}): real-corpus test skipped")
    return RTQA


@pytest.fixture(scope="session")
def embed_model():
    from assistant.retrieval.embedding import MiniLMOnnxEmbedding

    return MiniLMOnnxEmbedding()


@pytest.fixture
def settings(tmp_path):
    from assistant.settings import Settings

    return Settings(data_dir=tmp_path / "data", _env_file=None)


@pytest.fixture
def store(settings):
    from assistant.retrieval.store import ArticleStore

    return ArticleStore(settings)


@pytest.fixture
def ingester(store, embed_model):
    from ingest.pipeline import Ingester

    return Ingester(store, embed_model)


@pytest.fixture
def engine(store, embed_model):
    from assistant.engine import Engine

    return Engine(store.settings, store, embed_model)


@contextmanager
def chroma_server(tmp: Path):
    """A real `chroma run` on a free loopback port, storing under ``tmp``; yields the port."""
    port = free_port()
    with chroma_run(tmp / "server-data", port, tmp / "chroma.log"):
        yield port


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_store_consistent(store) -> None:
    """Exactly one copy of each complete article's chunks, and no chunk without a complete article."""
    records = store.records()
    assert all(r.status == "complete" for r in records.values()), "pending records left behind"
    per_article: dict[str, list[int]] = {}
    for chunk_id, _text, meta in store.iter_chunks(include=["metadatas"]):
        assert chunk_id == f"{meta['article_id']}::{meta['position']}"
        per_article.setdefault(meta["article_id"], []).append(meta["position"])
    assert set(per_article) == {r.id for r in records.values() if r.chunks}, "orphan chunks or missing chunks"
    for article_id, positions in per_article.items():
        assert sorted(positions) == list(range(records[article_id].chunks)), article_id
