"""Load test of the HTTP API: N concurrent clients asking questions for a bounded time.

Each client (asyncio + httpx, one connection each) posts the questions of eval/sets/sample.jsonl
(follow-ups with their history) to /v1/ask, one after another, until the time is up; requests still
in flight then finish and count. Prints requests/s, p50/p95/p99 latency and the error count.

Without --url it ingests the sample articles into a temporary data folder, starts `newsdesk serve`
on a free 127.0.0.1 port, and stops it at the end. Only loopback URLs are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.common import REPO, free_port, percentile, read_jsonl, running_process

QUESTIONS = REPO / "eval" / "sets" / "sample.jsonl"
SAMPLE_ARTICLES = REPO / "examples" / "articles"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def local_server():
    """`newsdesk serve` over a temporary data folder holding the sample articles; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-load-") as tmp:
        env = {**os.environ, "NEWSDESK_DATA_DIR": str(Path(tmp) / "data"), "ANONYMIZED_TELEMETRY": "False"}
        env.pop("NEWSDESK_API_KEYS", None)
        env.pop("NEWSDESK_CHROMA_HOST", None)
        cli = [sys.executable, "-m", "assistant.cli"]
        subprocess.run([*cli, "ingest", str(SAMPLE_ARTICLES)], env=env, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with running_process(args, Path(tmp) / "serve.log", f"{url}/readyz", env=env, cwd=tmp, seconds=120):
            yield url


async def run_load(url: str, clients: int, seconds: float, api_key: str | None, questions: list[dict]) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    async def one_client(index: int, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            n = index
            while time.perf_counter() < deadline:
                q = questions[n % len(questions)]
                n += 1
                body = {"question": q["question"], "history": q.get("history") or []}
                start = time.perf_counter()
                try:
                    response = await client.post("/v1/ask", json=body)
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - start)
                    else:
                        errors[f"HTTP {response.status_code}"] += 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as warm:
        for q in questions[:3]:  # models, BM25 index and caches warm before the clock starts
            (await warm.post("/v1/ask", json={"question": q["question"]})).raise_for_status()

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i, started + seconds) for i in range(clients)))
    wall = time.perf_counter() - started
    ms = sorted(1000 * s for s in latencies)
    return {
        "url": url,
        "clients": clients,
        "seconds": round(wall, 2),
        "requests": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "requests_per_s": round(len(latencies) / wall, 2),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "p99_ms": round(percentile(ms, 99), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=20, help="how long the clients keep asking (default 20)")
    parser.add_argument("--url", help="a running server on loopback (default: start one over the sample articles)")
    parser.add_argument("--api-key", default=os.environ.get("NEWSDESK_API_KEY"), help="bearer key for --url (or NEWSDESK_API_KEY)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if args.clients < 1 or not 0 < args.seconds <= 600:
        parser.error("--clients must be >= 1 and --seconds in (0, 600]")
    if args.url and not is_loopback(args.url):
        parser.error(f"--url must be a loopback address (127.0.0.0/8, ::1, localhost), not {args.url}")

    questions = read_jsonl(args.questions)
    if args.url:
        result = asyncio.run(run_load(args.url.rstrip("/"), args.clients, args.seconds, args.api_key, questions))
    else:
        with local_server() as url:
            result = asyncio.run(run_load(url, args.clients, args.seconds, None, questions))

    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['clients']} clients for {result['seconds']} s against {result['url']}/v1/ask")
    print(f"requests   {result['requests']}  ({result['requests_per_s']} requests/s)")
    print(f"latency    p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  p99 {result['p99_ms']} ms")
    kinds = ", ".join(f"{k}: {v}" for k, v in result["error_kinds"].items())
    print(f"errors     {result['errors']}" + (f"  ({kinds})" if kinds else ""))


if __name__ == "__main__":
    main()
