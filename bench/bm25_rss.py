"""What a worker's BM25 indexes cost in memory: read into the process (bm25s as llama-index loads it)
or mapped (assistant.bm25), and what a second worker on the same host adds.

    python -m bench.bm25_rss --data-dir DIR --collection NAME [--questions FILE]

Each measurement is a fresh process that opens the store, loads both indexes (chunks and whole
articles) of the store's version, answers every question through both, and reports its memory
growth since just before the load, from /proc: ``RssAnon`` (private: what each process adds),
``RssFile`` (file pages mapped, shared by every process mapping them) and ``Pss`` (its fair share).
The second mapped process is measured while the first is still alive. The index is built first if
the store's version has none. Timings on a loaded machine are noisy; memory is not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _memory_kb() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            out["Pss"] = int(line.split()[1])
    return out


def child(data_dir: str, collection: str, mmap: bool, questions: list[str]) -> None:
    from assistant.bm25 import build_bm25, load_bm25
    from assistant.settings import Settings
    from assistant.store import ArticleStore

    settings = Settings(data_dir=data_dir, collection=collection, _env_file=None)
    # Unclaimed: the processes measured side by side only read the local store's version stamp.
    store = ArticleStore(settings, lock=False)
    version = store.version()
    if load_bm25(store, version, settings.candidate_k) is None:
        build_bm25(store, version, settings.candidate_k)
        sys.stderr.write("built the index first\n")
        # A build leaves its own garbage in this process: measure loading in a clean one.
        print(json.dumps({"rebuilt": True}), flush=True)
        return
    before = _memory_kb()
    start = time.perf_counter()
    indexes = load_bm25(store, version, settings.candidate_k, mmap=mmap)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    for question in questions:
        indexes.chunks.retrieve(question)
        indexes.articles.retrieve(question)
    query_ms = (time.perf_counter() - start) * 1000 / max(1, len(questions))
    after = _memory_kb()
    grown = {f"{key}_mb": round((after[key] - before[key]) / 1024, 1) for key in after}
    print(json.dumps({"mmap": mmap, "chunks": indexes.stats.num_docs, "load_ms": round(load_s * 1000, 1),
                      "query_ms": round(query_ms, 2), **grown}), flush=True)
    sys.stdin.readline()  # stay alive (and mapped) until the parent has measured the next process


def _start(args, mmap: bool) -> tuple[subprocess.Popen, dict]:
    cmd = [sys.executable, "-m", "bench.bm25_rss", "--child", "--data-dir", args.data_dir, "--collection",
           args.collection, "--questions", args.questions] + (["--mmap"] if mmap else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, json.loads(line)


def _stop(proc: subprocess.Popen) -> None:
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--collection", required=True)
    parser.add_argument("--questions", default="../shared/data/rtqa-dev/questions.jsonl")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mmap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in Path(args.questions).read_text().splitlines() if line.strip()]
    if args.child:
        child(args.data_dir, args.collection, args.mmap, questions)
        return

    proc, first = _start(args, mmap=True)
    if first.get("rebuilt"):
        proc.wait(timeout=60)
        proc, first = _start(args, mmap=True)
    second_proc, second = _start(args, mmap=True)
    _stop(second_proc)
    _stop(proc)
    memory_proc, in_memory = _start(args, mmap=False)
    _stop(memory_proc)
    report = {"in_memory": in_memory, "mapped_first": first, "mapped_second": second}
    print(json.dumps(report, indent=2))
    print(f"\n| process | load ms | query ms | RssAnon MB | RssFile MB | Pss MB |\n|---|---|---|---|---|---|")
    for name, row in report.items():
        print(f"| {name} | {row['load_ms']} | {row['query_ms']} | {row['RssAnon_mb']} | {row['RssFile_mb']} | {row['Pss_mb']} |")


if __name__ == "__main__":
    main()
