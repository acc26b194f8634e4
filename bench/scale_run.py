"""Newsdesk at 10k, 100k and 1M chunks behind one Chroma server: write, BM25, memory, start-up, latency.

For each size, in a fresh ``chroma run`` on loopback:
1. write a store of that many chunks built from the dev corpus's real chunks and vectors (copies
   varied to reach the size: bench/scale_corpus.py says how; the method is in the report);
2. build the keyword index (``assistant.retrieval.keyword``, in a process of its own): time, peak RSS,
   size on disk;
3. start a worker (a process holding an ``Engine``, as each ``newsdesk serve`` worker does): time from
   process start to its first answer, its memory (``/proc/<pid>/smaps_rollup``); then a second worker
   beside it: what the second adds (its private memory) as a share of the first's RSS;
4. warm latency over the dev questions, interleaved question by question with llama-index's own
   hybrid (``QueryFusionRetriever``, reciprocal rerank, vector index + the engine's keyword retriever, one query) on
   the same store: ``ask`` p50/p95, its retrieval time (``Answer.timings``), the fusion's, and MRR@10 of
   both on the answerable questions (gold = the original articles; a copy is never gold).

Results per size are merged into bench/out/scale.json (``--fresh`` starts it anew), printed as a table,
and plotted to docs/scale.png. Timings on a loaded machine are noisy: the load average is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import REPO, RTQA, free_port, percentile, read_jsonl, require, running_process

OUT = REPO / "bench" / "out" / "scale.json"
PLOT = REPO / "docs" / "scale.png"
DEFAULT_SOURCE = Path.home() / ".cache" / "newsdesk" / "scale-source"
COLLECTION = "articles"
WRITE_TIMEOUT_S = 900.0


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def size_label(chunks: int) -> str:
    return f"{chunks // 1_000_000}M" if chunks >= 1_000_000 and chunks % 1_000_000 == 0 else f"{chunks // 1000}k"


# --- processes and memory ---------------------------------------------------------------------------
def memory_mb(pid: int) -> dict:
    """RSS, PSS and how much of it is shared or private, from /proc/<pid>/smaps_rollup (MB)."""
    wanted = {"Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty"}
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in wanted:
            out[key.lower()] = round(int(rest.split()[0]) / 1024, 1)
    out["private"] = round(out.get("private_clean", 0) + out.get("private_dirty", 0), 1)
    return out


def du_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1) if path.exists() else 0.0


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def code_state() -> dict:
    """The commit measured, and which engine files differed from it (other work in the tree)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.rstrip("\n")

    changed = [line[3:] for line in git("status", "--porcelain", "--", "assistant", "ingest").splitlines()]
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed}


def machine() -> dict:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
    return {"cpus": os.cpu_count(), "mem_total_gb": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1)}


class Worker:
    """A ``bench.scale_worker serve`` process: JSON lines in, JSON lines out."""

    def __init__(self, env: dict, first_question: str, log: Path):
        self.log = log.open("w")
        self.spawned = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.scale_worker", "serve", first_question],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=REPO, text=True,
        )
        self.ready = self._read()
        self.start_to_first_answer_s = round(self.ready["first_answer"] - self.spawned, 2)

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.log.flush()
            raise RuntimeError(f"worker {self.proc.pid} ended:\n{Path(self.log.name).read_text()[-3000:]}")
        return json.loads(line)

    def call(self, cmd: str, question: str, **extra) -> dict:
        self.proc.stdin.write(json.dumps({"cmd": cmd, "question": question, **extra}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def startup(self) -> dict:
        r = self.ready
        return {
            "start_to_first_answer_s": self.start_to_first_answer_s,
            "imports_s": round(r["imported"] - self.spawned, 2),
            "engine_s": round(r["engine"] - r["imported"], 2),
            "first_ask_s": round(r["first_answer"] - r["engine"], 2),
            "first_ask_timings_ms": r.get("first_timings", {}),
        }

    def close(self) -> None:
        try:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@contextmanager
def chroma_server(path: Path):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    args = [exe, "run", "--path", str(path / "chroma"), "--host", "127.0.0.1", "--port", str(port)]
    with running_process(args, path / "chroma.log", f"http://127.0.0.1:{port}/api/v2/heartbeat", seconds=120) as proc:
        yield port, proc


def mem_available_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 2**20
    return float("inf")


def build_keywords_guarded(env: dict, work: Path, min_free_gb: float) -> dict:
    """The keyword index built whole in a process of its own, stopped if the host's available memory
    falls under ``min_free_gb`` (the build holds the whole store in memory; other processes share the
    host). Returns its time and peak RSS, or ``{"error": ...}`` with how far it got."""
    log = (work / "bm25-build.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bench.scale_worker", "build"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    started, peak, stopped = time.perf_counter(), 0.0, None
    while proc.poll() is None:
        try:
            peak = max(peak, memory_mb(proc.pid)["rss"])
        except (FileNotFoundError, ProcessLookupError, KeyError):
            pass
        if mem_available_gb() < min_free_gb:
            stopped = f"stopped after {time.perf_counter() - started:.0f} s at {peak / 1024:.1f} GB RSS: the host's " \
                      f"available memory fell under {min_free_gb} GB"
            proc.kill()
            break
        time.sleep(1)
    out = proc.communicate()[0]
    log.close()
    if stopped or proc.returncode != 0:
        tail = (work / "bm25-build.log").read_text()[-2000:]
        return {"error": stopped or f"exit {proc.returncode}: {tail}", "peak_rss_mb": round(peak, 1),
                "after_s": round(time.perf_counter() - started, 1)}
    got = json.loads(out.strip().splitlines()[-1])
    return {"build_s": got["bm25_build_s"], "build_peak_rss_mb": got["peak_rss_mb"]}


def write_and_build(store, source, size: int, sigma: float, questions: list[dict], args, work: Path, env: dict, chroma,
                    progress) -> dict:
    """Write the store of ``size`` chunks and build its BM25 indexes (in a process of its own): the
    figures of both. A failed build is recorded in ``bm25`` (``error``), not raised."""
    from bench import scale_corpus

    chosen = scale_corpus.plan(source, size, scale_corpus.gold_articles(questions))
    result: dict = {"write": scale_corpus.write_store(store, source, chosen, sigma, args.write_batch, progress)}
    result["chunks"] = store.count_chunks()
    result["chroma"] = {"disk_mb": du_mb(work / "chroma"), "rss_after_write_mb": memory_mb(chroma.pid)["rss"]}
    # What reading the whole manifest costs (syndication clusters: once per store version, by the
    # host's BM25 builder, which publishes them beside the indexes: assistant.retrieval.clusters).
    mark = time.perf_counter()
    records = len(store.complete_records())
    result["manifest_read"] = {"records": records, "s": round(time.perf_counter() - mark, 2)}
    print(f"  [{size_label(size)}] {result['chunks']:,} chunks written "
          f"({result['write']['write_chunks_per_s']} chunks/s); building BM25", file=sys.stderr, flush=True)
    built = build_keywords_guarded(env, work, args.min_free_gb)
    if "error" in built:
        # No index: a worker would build it itself and meet the same wall. Recorded, not fatal.
        result["bm25"] = built
        print(f"  [{size_label(size)}] BM25 build failed: {built['error']}", file=sys.stderr, flush=True)
        return result
    from assistant.retrieval.keyword import keyword_dir

    result["bm25"] = {**built, "disk_mb": du_mb(keyword_dir(store))}
    print(f"  [{size_label(size)}] BM25 built in {built['build_s']} s; starting workers", file=sys.stderr, flush=True)
    return result


# --- one size ---------------------------------------------------------------------------------------
def run_size(size: int, source, sigma: float, questions: list[dict], args, work: Path, built: dict | None = None) -> dict:
    """One size, from writing its store to measuring its workers. ``built``: this size's result from the
    earlier run that built the store kept in ``work`` (``--reuse``): its write and BM25 figures stand,
    and only the workers are measured again."""
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from eval.metrics import retrieval_metrics

    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_before = loadavg()
    result: dict = {"size": size, "label": size_label(size), "started_at": started_at, "load_before": load_before,
                    "code": code_state(), "keyword_index": Settings(_env_file=None).keyword_index}
    if built is not None:
        result.update({key: built[key] for key in ("write", "chunks", "chroma", "manifest_read", "bm25") if key in built})
        result["store_built_at"] = built.get("store_built_at", built["started_at"])
    with chroma_server(work) as (port, chroma):
        env = {**os.environ, "NEWSDESK_CHROMA_HOST": "127.0.0.1", "NEWSDESK_CHROMA_PORT": str(port),
               "NEWSDESK_DATA_DIR": str(work / "data"), "NEWSDESK_COLLECTION": COLLECTION, "PYTHONPATH": str(REPO)}
        # The bench writes 5,000 chunks a call: past a few hundred thousand, one call outlasted the 30 s
        # a reader waits (chroma_timeout_s), under a load of 3.
        settings = Settings(data_dir=work / "data", chroma_host="127.0.0.1", chroma_port=port, collection=COLLECTION,
                            chroma_timeout_s=WRITE_TIMEOUT_S, _env_file=None)
        store = ArticleStore(settings)

        def progress(done: int, total: int) -> None:
            if done // 50_000 != (done - args.write_batch) // 50_000:
                print(f"  [{size_label(size)}] wrote {done:,}/{total:,} chunks", file=sys.stderr, flush=True)

        if built is None:
            result.update(write_and_build(store, source, size, sigma, questions, args, work, env, chroma, progress))
            if "error" in result["bm25"]:
                result["load_after"] = loadavg()
                return result
        first = questions[0]["question"]
        one = Worker(env, first, work / "worker1.log")
        try:
            result["startup"] = one.startup()
            result["worker1_after_start"] = memory_mb(one.proc.pid)
            print(f"  [{size_label(size)}] worker up; {len(questions)} questions x {args.repeat}", file=sys.stderr,
                  flush=True)
            result.update(latency(one, questions, args.repeat, retrieval_metrics))
            result["window"] = window_latency(one, questions, args.repeat)
            result["worker1_warm"] = memory_mb(one.proc.pid)
            # The second worker beside the first: at its start, and warm (after the same questions),
            # since index pages read through memory maps are resident only once a question touched them.
            two = Worker(env, first, work / "worker2.log")
            try:
                result["startup_second"] = two.startup()
                result["worker2_after_start"] = memory_mb(two.proc.pid)
                for q in questions:
                    two.call("ask", q["question"])
                result["worker2_warm"] = memory_mb(two.proc.pid)
                result["worker1_warm_beside_second"] = memory_mb(one.proc.pid)
            finally:
                two.close()
            result["freshness"] = freshness(one, env, work)
        finally:
            one.close()
        # What a second worker adds to the host: its private pages (what it shares with the first is
        # counted once), against all the first one holds.
        result["second_worker_added_ratio_start"] = round(
            result["worker2_after_start"]["private"] / result["worker1_after_start"]["rss"], 3
        )
        result["second_worker_added_ratio"] = round(result["worker2_warm"]["private"] / result["worker1_warm"]["rss"], 3)
        result["chroma"]["rss_after_bench_mb"] = memory_mb(chroma.pid)["rss"]
    result["load_after"] = loadavg()
    return result


def latency(worker: Worker, questions: list[dict], repeat: int, retrieval_metrics) -> dict:
    """Warm latency of ask and of the fusion baseline, interleaved per question, and MRR@10 of both.

    Warm: one untimed pass over every question first, so that neither side pays for the first touch
    of the mapped index pages and Chroma's segment pages a question reads (over a 1M-chunk store a cold
    first pass cost the side asked first ~30 %). Then each question goes to both, in alternating order."""
    for q in questions:
        worker.call("ask", q["question"])
        worker.call("fusion", q["question"])
    ask_ms, retrieve_ms, fusion_ms, rows = [], [], [], []
    for rep in range(repeat):
        for i, q in enumerate(questions):
            if i % 2:
                fusion = worker.call("fusion", q["question"])
                ask = worker.call("ask", q["question"])
            else:
                ask = worker.call("ask", q["question"])
                fusion = worker.call("fusion", q["question"])
            ask_ms.append(ask["ms"])
            retrieve_ms.append(ask["retrieve_ms"])
            fusion_ms.append(fusion["ms"])
            if rep == 0:
                rows.append({"answerable": q.get("answerable"), "gold_sources": q.get("gold_sources") or [],
                             "retrieved": ask["retrieved"], "baselines": {"fusion": fusion["retrieved"]}})

    def stats(values: list[float]) -> dict:
        return {"p50_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2)}

    newsdesk, fusion = retrieval_metrics(rows), retrieval_metrics(rows, key="fusion")
    stories = [story_row(r) for r in rows]
    newsdesk_story, fusion_story = retrieval_metrics(stories), retrieval_metrics(stories, key="fusion")
    scored = sum(1 for r in rows if r["answerable"] and r["gold_sources"])
    out = {
        "questions": len(questions), "repeat": repeat, "mrr_questions": scored,
        "ask": stats(ask_ms), "ask_retrieval": stats(retrieve_ms), "fusion": stats(fusion_ms),
        "mrr10_newsdesk": round(newsdesk["mrr@10"], 4), "mrr10_fusion": round(fusion["mrr@10"], 4),
        "recall10_newsdesk": round(newsdesk["recall@10"], 4), "recall10_fusion": round(fusion["recall@10"], 4),
        # Diagnostic beside the strict figures: a copy counts for its original (the right story found).
        "mrr10_story_newsdesk": round(newsdesk_story["mrr@10"], 4), "mrr10_story_fusion": round(fusion_story["mrr@10"], 4),
    }
    out["retrieval_over_fusion_p50"] = round(out["ask_retrieval"]["p50_ms"] / out["fusion"]["p50_ms"], 3)
    out["mrr10_paired"] = paired_mrr(rows)
    out["mrr10_story_paired"] = paired_mrr(stories)
    return out


def window_latency(worker: Worker, questions: list[dict], repeat: int) -> dict:
    """Warm ``ask`` latency under a one-week date window ending at the store's newest day (what "this
    week" means over it), against the unfiltered figures measured just before."""
    from assistant.answer import day_date

    newest = day_date(worker.ready["newest_day"])
    window = {"since": (newest - dt.timedelta(days=6)).isoformat(), "until": newest.isoformat()}
    ask_ms, retrieve_ms = [], []
    for _ in range(repeat):
        for q in questions:
            got = worker.call("ask", q["question"], **window)
            ask_ms.append(got["ms"])
            retrieve_ms.append(got["retrieve_ms"])
    return {**window, "ask": {"p50_ms": round(percentile(ask_ms, 50), 2), "p95_ms": round(percentile(ask_ms, 95), 2)},
            "ask_retrieval": {"p50_ms": round(percentile(retrieve_ms, 50), 2),
                              "p95_ms": round(percentile(retrieve_ms, 95), 2)}}


FRESH_QUESTION = "What did Quorndale open beside its harbour to watch the zephyrine kestrels?"


def fresh_article(worker: Worker, work: Path, name: str) -> tuple[str, Path]:
    """A new article (its id names the time) dated the store's newest day, written to a JSON Lines file."""
    from assistant.answer import day_date

    article_id = f"scale-fresh-{name}-{int(time.time())}"
    day = day_date(worker.ready["newest_day"]).isoformat()
    path = work / f"fresh-{name}.jsonl"
    path.write_text(json.dumps({
        "id": article_id, "title": "Quorndale opens a harbour hide for zephyrine kestrels", "published_at": day,
        "source": "Scale Bench Wire", "url": f"https://example.org/{article_id}",
        "text": "Quorndale opened a timber bird hide beside its harbour on Saturday so that visitors can watch the "
                "zephyrine kestrels that nest on the old grain pier. The hide seats twenty people.",
    }) + "\n")
    return article_id, path


def _poll_until_found(worker: Worker, article_id: str, started: float, done, timeout_s: float) -> dict:
    """Question by question until both the keyword list and the answer hold ``article_id``: seconds
    from ``started`` to each, and to the ingest's end (``done()`` true)."""
    out: dict = {"article": article_id}
    while time.perf_counter() - started < timeout_s and not ("keyword_s" in out and "answer_s" in out):
        if "keyword_s" not in out and article_id in worker.call("keyword", FRESH_QUESTION)["retrieved"]:
            out["keyword_s"] = round(time.perf_counter() - started, 2)
        if "answer_s" not in out and article_id in worker.call("ask", FRESH_QUESTION)["retrieved"]:
            out["answer_s"] = round(time.perf_counter() - started, 2)
        if "ingest_s" not in out and done():
            out["ingest_s"] = round(time.perf_counter() - started, 2)
        time.sleep(0.1)
    return out


def freshness(worker: Worker, env: dict, work: Path, timeout_s: float = 1800.0) -> dict:
    """One new article ingested by ``newsdesk ingest`` on this host while the worker answers: seconds
    from the command's start until the worker's keyword list holds it, and until its answer retrieves
    it (the dense list may find it first: Chroma has it before the keyword index does), polled
    question by question. Then another ingested inside the worker, as a running server's ingest route
    does (no process to start): the same figures (``server``)."""
    article_id, path = fresh_article(worker, work, "cli")
    log = (work / "fresh-ingest.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(path), "--json"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    out = _poll_until_found(worker, article_id, started, lambda: proc.poll() is not None, timeout_s)
    proc.wait()
    log.close()
    out.setdefault("ingest_s", round(time.perf_counter() - started, 2))
    out["ingest_exit"] = proc.returncode
    if proc.returncode:
        out["ingest_error"] = (work / "fresh-ingest.log").read_text()[-1500:]

    article_id, path = fresh_article(worker, work, "server")
    started = time.perf_counter()
    worker.call("ingest", "", path=str(path))
    server = _poll_until_found(worker, article_id, started, lambda: worker.call("ingested", "").get("done"), timeout_s)
    while not (ingested := worker.call("ingested", "")).get("done") and time.perf_counter() - started < timeout_s:
        time.sleep(0.1)
    server["ingest_in_worker_s"] = ingested.get("s")
    if "error" in ingested:
        server["ingest_error"] = ingested["error"]
    out["server"] = server
    return out


def paired_mrr(rows: list[dict], key: str = "fusion", resamples: int = 2000, seed: int = 15) -> dict:
    """Newsdesk's MRR@10 minus the fusion's over the same questions, with a 95 % paired-bootstrap
    interval, and on how many questions each puts a gold article higher: whether a gap is more than
    which of the questions happened to be asked."""
    from eval.metrics import MRR_K, first_gold_rank

    def reciprocal(ranking: list[str], gold: set[str]) -> float:
        rank = first_gold_rank(ranking[:MRR_K], gold)
        return 1.0 / rank if rank else 0.0

    pairs = [(reciprocal(r["retrieved"], set(r["gold_sources"])), reciprocal(r["baselines"][key], set(r["gold_sources"])))
             for r in rows if r["answerable"] and r["gold_sources"]]
    if not pairs:
        return {}
    diffs = [a - b for a, b in pairs]
    rng = random.Random(seed)
    means = sorted(sum(rng.choice(diffs) for _ in diffs) / len(diffs) for _ in range(resamples))
    return {"diff": round(sum(diffs) / len(diffs), 4),
            "ci95": [round(means[int(0.025 * resamples)], 4), round(means[int(0.975 * resamples) - 1], 4)],
            "newsdesk_higher": sum(a > b for a, b in pairs), "fusion_higher": sum(b > a for a, b in pairs),
            "questions": len(pairs)}


def story_row(row: dict) -> dict:
    """``row`` with each retrieved copy ``<orig>~k`` read as its original (first place kept)."""
    def stories(ranking: list[str]) -> list[str]:
        return list(dict.fromkeys(article_id.split("~", 1)[0] for article_id in ranking))

    return {**row, "retrieved": stories(row["retrieved"]),
            "baselines": {k: stories(v) for k, v in row["baselines"].items()}}


# --- the source ---------------------------------------------------------------------------------------
def open_source(args, work: Path):
    """The source store, copied under ``work`` (its folder is never opened in place: Chroma may write
    to it, and a running server may hold it), and read whole."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from bench import scale_corpus
    from eval.runner import corpus_collection_name

    source_dir = args.source_data or DEFAULT_SOURCE
    collection = args.source_collection or corpus_collection_name(args.corpus)
    if args.source_data is None:
        print(f"source: {source_dir} (ingesting {args.corpus} if not done yet: ~25 min on 2 cores)", file=sys.stderr)
        scale_corpus.ensure_source(source_dir, require(args.corpus), collection)
    if not (source_dir / "chroma").is_dir():
        raise SystemExit(f"{source_dir}: no chroma folder (expected a Newsdesk data folder, as NEWSDESK_DATA_DIR)")
    copy = work / "source"
    shutil.copytree(source_dir / "chroma", copy / "chroma")
    client = chromadb.PersistentClient(path=str(copy / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    names = [c.name for c in client.list_collections()]
    if collection not in names:
        chunk_collections = [n for n in names if not n.endswith("__articles")]
        if args.source_collection or len(chunk_collections) != 1:
            raise SystemExit(f"{source_dir}: no collection {collection!r} (has {names}); name one with --source-collection")
        collection = chunk_collections[0]
    store = ArticleStore(Settings(data_dir=copy, collection=collection, _env_file=None), client=client)
    return scale_corpus.read_source(store), str(source_dir), collection


# --- report -------------------------------------------------------------------------------------------
def measured(results: list[dict]) -> list[dict]:
    """The sizes that ran to the end (a failed BM25 build leaves write figures only)."""
    return [r for r in results if "ask" in r]


def targets(results: list[dict]) -> dict:
    results = measured(results)
    by_size = {r["size"]: r for r in results}
    out: dict = {}
    if not by_size:
        return out
    if 10_000 in by_size and 1_000_000 in by_size:
        out["ask_p50_1m_over_10k"] = round(by_size[1_000_000]["ask"]["p50_ms"] / by_size[10_000]["ask"]["p50_ms"], 3)
    smallest, largest = min(by_size), max(by_size)
    if smallest != largest:
        out[f"ask_p50_{size_label(largest)}_over_{size_label(smallest)}"] = round(
            by_size[largest]["ask"]["p50_ms"] / by_size[smallest]["ask"]["p50_ms"], 3
        )
    out["retrieval_over_fusion_p50"] = {r["label"]: r["retrieval_over_fusion_p50"] for r in results}
    out["second_worker_added_ratio"] = {r["label"]: r["second_worker_added_ratio"] for r in results}
    return out


def _window_cell(r: dict) -> str:
    w = r.get("window")
    return f"{w['ask_retrieval']['p50_ms']:.0f} ({w['ask_retrieval']['p50_ms'] / r['ask_retrieval']['p50_ms']:.2f}x)" if w else "-"


def _fresh_cell(r: dict) -> str:
    f = r.get("freshness")
    if not f:
        return "-"
    cell = f"{f.get('keyword_s', 'not found')} / {f.get('answer_s', 'not found')}"
    server = f.get("server")
    if server:
        cell += f"; in a worker {server.get('keyword_s', 'not found')} / {server.get('answer_s', 'not found')}"
    return cell


def table(report: dict) -> str:
    head = ("| chunks | keyword index | write chunks/s | BM25 build s | BM25 MB | worker RSS MB start / warm | 2nd worker adds MB (ratio, warm) "
            "| start to 1st answer s | ask p50 / p95 ms | retrieval p50 ms | fusion p50 / p95 ms "
            "| retrieval / fusion p50 | MRR@10 newsdesk / fusion | story MRR@10 | one-week window: retrieval p50 ms "
            "| one article ingested: keyword list / answer s | load (1 min) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in measured(report["results"]):
        lines.append(
            f"| {r['chunks']:,} | {r.get('keyword_index', 'bm25s')} | {r['write']['write_chunks_per_s']:,.0f} | {r['bm25']['build_s']:.1f} "
            f"| {r['bm25']['disk_mb']:,.0f} | {r['worker1_after_start']['rss']:,.0f} / {r['worker1_warm']['rss']:,.0f} "
            f"| {r['worker2_warm']['private']:,.0f} ({r['second_worker_added_ratio']:.2f}) "
            f"| {r['startup']['start_to_first_answer_s']:.1f} | {r['ask']['p50_ms']:.0f} / {r['ask']['p95_ms']:.0f} "
            f"| {r['ask_retrieval']['p50_ms']:.0f} | {r['fusion']['p50_ms']:.0f} / {r['fusion']['p95_ms']:.0f} "
            f"| {r['retrieval_over_fusion_p50']:.2f} | {r['mrr10_newsdesk']:.3f} / {r['mrr10_fusion']:.3f} "
            f"| {r['mrr10_story_newsdesk']:.3f} / {r['mrr10_story_fusion']:.3f} "
            f"| {_window_cell(r)} | {_fresh_cell(r)} "
            f"| {r['load_before'][0]:.1f}-{r['load_after'][0]:.1f} |"
        )
    t = report["targets"]
    notes = [f"{r['label']}: {r['chunks']:,} chunks written at {r['write']['write_chunks_per_s']:,.0f} chunks/s, then the "
             f"BM25 build failed: {r['bm25']['error']}" for r in report["results"] if "ask" not in r]
    if not t:
        return "\n".join(notes)
    if "ask_p50_1m_over_10k" in t:
        notes.append(f"ask p50 1M / 10k = {t['ask_p50_1m_over_10k']:.2f} (target <= 3)")
    notes += [f"{key.replace('_', ' ')} = {value:.2f}" for key, value in t.items()
              if key.startswith("ask_p50_") and key != "ask_p50_1m_over_10k"]
    notes.append("retrieval / fusion p50 (target <= 1.0): "
                 + ", ".join(f"{k} {v:.2f}" for k, v in t["retrieval_over_fusion_p50"].items()))
    for r in measured(report["results"]):
        for label, key in (("MRR@10", "mrr10_paired"), ("story MRR@10", "mrr10_story_paired")):
            p = r.get(key)
            if p:
                notes.append(f"{r['label']} {label} newsdesk - fusion = {p['diff']:+.3f} (95 % paired bootstrap "
                             f"{p['ci95'][0]:+.3f} to {p['ci95'][1]:+.3f}; higher on {p['newsdesk_higher']} / "
                             f"{p['fusion_higher']} of {p['questions']} questions)")
    notes.append("second worker / first (target <= 0.5): "
                 + ", ".join(f"{k} {v:.2f}" for k, v in t["second_worker_added_ratio"].items()))
    return "\n".join(lines) + "\n\n" + "\n".join(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k,1m", help="store sizes in chunks (default 10k,100k,1m)")
    parser.add_argument("--source-data", type=Path, default=None,
                        help=f"a Newsdesk data folder holding the ingested dev corpus (default {DEFAULT_SOURCE}, built when missing)")
    parser.add_argument("--source-collection", default=None, help="its chunk collection (default: the eval corpus's name)")
    parser.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    parser.add_argument("--questions", type=Path, default=RTQA / "questions.jsonl")
    parser.add_argument("--limit-questions", type=int, default=None, help="only the first N questions (quick runs)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the questions")
    parser.add_argument("--write-batch", type=int, default=5000, help="chunks per Chroma add() call (10k chunks: 500 -> 656, 2000 -> 822, 5000 -> 1008 chunks/s)")
    parser.add_argument("--sigma", type=float, default=None, help="vector noise per dimension (default: calibrated)")
    parser.add_argument("--work-dir", type=Path, default=None, help="where stores are built (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep each size's Chroma and BM25 folders")
    parser.add_argument("--reuse", type=Path, default=None,
                        help="a folder an earlier --keep run left (newsdesk-scale-*): measure its stores' workers again, "
                             "keeping that run's write and BM25 figures from the report")
    parser.add_argument("--fresh", action="store_true", help=f"drop earlier sizes' results from {OUT.name}")
    parser.add_argument("--min-free-gb", type=float, default=2.0,
                        help="stop a BM25 build when the host's available memory falls under this (GB)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    questions = read_jsonl(require(args.questions), args.limit_questions)

    from bench import scale_corpus

    earlier = []
    if args.out.exists() and not args.fresh:
        earlier = json.loads(args.out.read_text()).get("results", [])
    built_before = {r["size"]: r for r in earlier}
    earlier = [r for r in earlier if r["size"] not in sizes]
    if args.reuse is not None:
        # The stores of an earlier --keep run, measured again: its report (--out) says how they were built.
        root, args.keep = args.reuse, True
        previous = json.loads(args.out.read_text()) if args.out.exists() else {}
        missing = [size_label(n) for n in sizes if n not in built_before or not (root / size_label(n) / "chroma").is_dir()]
        if missing:
            raise SystemExit(f"--reuse {root}: no kept store or no result in {args.out} for {', '.join(missing)}")
    else:
        root = Path(tempfile.mkdtemp(prefix="newsdesk-scale-", dir=args.work_dir))
    try:
        began = time.perf_counter()
        if args.reuse is not None:
            source = None
            source_dir, collection = previous["source"]["data"], previous["source"]["collection"]
            source_counts = {k: previous["source"][k] for k in ("articles", "chunks")}
            noise = previous["noise"]
        else:
            source, source_dir, collection = open_source(args, root)
            source_counts = {"articles": len(source.articles), "chunks": source.chunks}
            if args.sigma is not None:
                noise = {"sigma": args.sigma, "calibrated": False}
            else:
                from assistant.retrieval.embedding import build_embedding
                from assistant.settings import Settings

                noise = {**scale_corpus.calibrate_sigma(source, build_embedding(Settings(_env_file=None))), "calibrated": True}
        print(f"source: {source_counts['articles']:,} articles, {source_counts['chunks']:,} chunks ({source_dir}, "
              f"{collection}); sigma {noise['sigma']}", file=sys.stderr, flush=True)
        results = []
        for size in sizes:
            work = root / size_label(size)
            work.mkdir(exist_ok=args.reuse is not None)
            mark = time.perf_counter()
            result = run_size(size, source, noise["sigma"], questions, args, work,
                              built=built_before[size] if args.reuse is not None else None)
            result["bench_s"] = round(time.perf_counter() - mark, 1)
            results.append(result)
            print(f"  [{size_label(size)}] done in {result['bench_s']} s", file=sys.stderr, flush=True)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
            # Saved after every size: a larger size that fails (memory, time) leaves the smaller ones.
            report = {
                "method": scale_corpus.METHOD,
                "source": {"data": source_dir, "collection": collection, **source_counts},
                "noise": noise,
                "machine": {**machine(), "loadavg_end": loadavg()},
                "note": "Each size's load_before/load_after is the 1/5/15-minute load average around its run; on a "
                        "shared machine timings are noisy. Sizes from earlier runs keep their own figures (started_at); "
                        "a size measured again on its kept store (--reuse) keeps the write and BM25 figures of the "
                        "run that built it (store_built_at).",
                "last_run_s": round(time.perf_counter() - began, 1),
                "results": sorted(earlier + results, key=lambda r: r["size"]),
            }
            report["targets"] = targets(report["results"])
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    from bench.scale_plot import plot

    plot(report, args.plot)
    print(f"machine: {report['machine']['cpus']} CPUs, {report['machine']['mem_total_gb']} GB; load average at the end "
          f"{report['machine']['loadavg_end']}")
    print(f"method: {report['method']}")
    print(f"noise: {json.dumps(noise)}")
    print()
    print(table(report))
    print(f"\nreport: {args.out}   plot: {args.plot}")

if __name__ == "__main__":
    main()
