"""Stateless workers over one store: two `newsdesk serve` processes share a Chroma server; an article
ingested through one is found through the other (its BM25 cache notices the store's new version)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import chroma_server, free_port, running_process

KEY = "workers-key"
AUTH = {"Authorization": f"Bearer {KEY}"}

SEED = [
    {
        "id": "workers/harbour-ferry",
        "title": "Harbour ferry adds a night crossing",
        "published_at": "2026-02-01",
        "source": "Workers Wire",
        "text": "The harbour ferry will add a night crossing at 23:40 from March, the port authority said. "
        "Tickets for the new crossing cost the same as daytime fares.",
    },
    {
        "id": "workers/school-roof",
        "title": "School roof repairs finish early",
        "published_at": "2026-02-02",
        "source": "Workers Wire",
        "text": "Repairs to the roof of Elmwood Primary School finished two weeks early, the district said. "
        "Pupils return to the main building on Monday.",
    },
]
NEW = {
    "id": "https://example.org/workers/observatory",
    "title": "Zorblatt observatory opens in Tromsø",
    "published_at": "2026-02-03",
    "source": "Workers Wire",
    "text": "The Zorblatt observatory opened in Tromsø on 3 February with seventeen telescopes. "
    "Its director, Ilse Varga, said the first public night is planned for March.",
}
NEW_Q = "How many telescopes does the Zorblatt observatory have?"


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma")) as port:
        yield port


@contextmanager
def serve(tmp: Path, name: str, chroma_port: int):
    """`newsdesk serve` as a user runs it (the console entry point's code, the uvicorn factory)."""
    port = free_port()
    env = {
        **os.environ,
        "NEWSDESK_DATA_DIR": str(tmp / name),  # its own BM25 cache: only Chroma is shared
        "NEWSDESK_CHROMA_HOST": "127.0.0.1",
        "NEWSDESK_CHROMA_PORT": str(chroma_port),
        "NEWSDESK_API_KEYS": KEY,
        "ANONYMIZED_TELEMETRY": "False",
    }
    args = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with running_process(args, tmp / f"{name}.log", f"http://127.0.0.1:{port}/readyz", env=env, cwd=tmp):
        yield f"http://127.0.0.1:{port}"


def keyword_versions(data_dir: Path) -> list[str]:
    """The store version a host's keyword index reflects (none before one is published)."""
    from assistant.retrieval.keyword import KeywordState

    state = KeywordState.read(data_dir / "keyword" / "articles")
    return [state.version] if state else []


def store_version(tmp: Path, chroma_port: int) -> str:
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore

    settings = Settings(data_dir=tmp / "probe", chroma_host="127.0.0.1", chroma_port=chroma_port, _env_file=None)
    return ArticleStore(settings).version()


def test_an_article_ingested_through_one_worker_is_found_through_another(tmp_path, chroma_port):
    with serve(tmp_path, "a", chroma_port) as a, serve(tmp_path, "b", chroma_port) as b:
        one = httpx.Client(base_url=a, headers=AUTH, timeout=120)
        other = httpx.Client(base_url=b, headers=AUTH, timeout=120)

        seeded = one.post("/v1/documents", json={"articles": SEED}).json()
        assert seeded["added"] == 2 and seeded["failed"] == []
        # Worker B answers from the seed: its host's keyword index is built at this store version.
        warm = other.post("/v1/ask", json={"question": "When does the harbour ferry night crossing leave?"}).json()
        assert warm["sources"][0]["article_id"] == "workers/harbour-ferry"

        before = keyword_versions(tmp_path / "b")
        assert before == [store_version(tmp_path, chroma_port)]

        added = one.post("/v1/documents", json={"articles": [NEW]}).json()
        assert added["added"] == 1
        answer = other.post("/v1/ask", json={"question": NEW_Q}).json()
        assert answer["sources"][0]["article_id"] == NEW["id"] and "seventeen" in answer["answer"]
        # B noticed the new store version and repairs its host's keyword index in the background (the
        # one new article), answering meanwhile from the one it held, its hits checked against the store
        # (the new article came through the dense side).
        current = [store_version(tmp_path, chroma_port)]
        deadline = time.monotonic() + 60
        while keyword_versions(tmp_path / "b") != current and time.monotonic() < deadline:
            time.sleep(0.1)
        after = keyword_versions(tmp_path / "b")
        assert after == current and after != before
        assert other.get(f"/v1/documents/{NEW['id']}").json()["title"] == NEW["title"]
        assert other.get("/v1/documents").json()["total"] == 3

        # And the other way round: deleted through B, gone through A.
        assert other.delete(f"/v1/documents/{NEW['id']}").status_code == 200
        assert one.get(f"/v1/documents/{NEW['id']}").status_code == 404
        assert NEW["id"] not in one.post("/v1/ask", json={"question": NEW_Q}).json()["retrieved"]
        # Re-posting through B what A ingested is a no-op: one store, one manifest.
        again = other.post("/v1/documents", json={"articles": SEED}).json()
        assert again["unchanged"] == 2 and again["added"] == 0
