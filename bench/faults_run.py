"""A Chroma server that goes away under load: what the clients see, and what an ingest keeps.

All on loopback, in a temporary folder: `chroma run`, `newsdesk serve --workers 2` over it (seeded with
the sample articles), and N clients (default 20) asking the questions of eval/sets/sample.jsonl, one
connection each. Meanwhile `newsdesk ingest --server` sends the first --articles articles of rtqa-dev
(or --files). Once the load has run --before seconds and the ingest has committed a group of articles
and is writing the next (pending records in the manifest), Chroma is stopped for --outage seconds
(default 10), then started again on the same data; the ingest it cut off is run again once Chroma is
back, and the clients go on for --after s.

Reported: requests sent, answered, 503s naming the Chroma server, other errors (goal 0), the slowest
503 (goal <= 2 s; also apart, of the requests sent once Chroma had exited, since one in flight when
it is stopped waits out its shutdown), what /healthz said during the outage, per worker the time from Chroma's return to
its first answer and to its last failure (goal <= 5 s), and the re-run ingest's articles against an
uninterrupted ingest of the same files into another collection: lost, extra, different (goal 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import REPO, RTQA, chroma_run, free_port, percentile, read_jsonl, require, running_process

QUESTIONS = REPO / "eval" / "sets" / "sample.jsonl"
SAMPLE_ARTICLES = REPO / "examples" / "articles"
FAILURE_PAUSE_S = 0.2  # a client told "unavailable" asks again soon, not in a tight loop
BASELINE_COLLECTION = "uninterrupted"


# --------------------------------------------------------------------------- the processes


class ChromaServer:
    """`chroma run` on one port and data folder that can be stopped and started again."""

    def __init__(self, data_dir: Path, logs: Path, port: int | None = None):
        self.data_dir, self.logs = data_dir, logs
        self.port = port or free_port()
        self.starts = 0
        self._running: ExitStack | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> float:
        """Starts it; returns the time (perf_counter) its heartbeat first answered."""
        self.starts += 1
        self.launched_at = time.perf_counter()
        stack = ExitStack()
        stack.enter_context(chroma_run(self.data_dir, self.port, self.logs / f"chroma-{self.starts}.log"))
        self._running = stack
        return time.perf_counter()

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()  # SIGTERM, as a deploy stops it
            self._running = None


def newsdesk_env(work: Path, chroma_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "SLACK_"))}
    env.update({
        "NEWSDESK_DATA_DIR": str(work / "newsdesk"),
        "NEWSDESK_CHROMA_HOST": "127.0.0.1",
        "NEWSDESK_CHROMA_PORT": str(chroma_port),
        "ANONYMIZED_TELEMETRY": "False",
        **extra,
    })
    return env


@contextmanager
def serve(work: Path, env: dict[str, str], workers: int = 2):
    """`newsdesk serve --workers N` as a user runs it; yields (url, the serve process)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with running_process(args, work / "serve.log", f"{url}/readyz", env=env, cwd=work, seconds=300) as proc:
        yield url, proc


def ingest_command(url: str, files: list[Path]) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", "ingest", "--server", url, *map(str, files)]


# --------------------------------------------------------------------------- the clients


@dataclass
class Reply:
    started: float  # perf_counter
    ended: float
    outcome: str  # "answered", "unavailable" (503 naming the Chroma server), or what else came back
    message: str = ""
    client_port: int | None = None  # the connection's local port: which worker answered it


def classify(response: httpx.Response, address: str) -> tuple[str, str]:
    if response.status_code == 200:
        return "answered", ""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "", response.text[:200]
    if response.status_code == 503 and code == "unavailable" and address in message and "\n" not in message:
        return "unavailable", message
    return f"HTTP {response.status_code}", message


class AskLoad:
    """N clients asking one question after another in a thread of their own, until stopped (or
    ``max_seconds``, or ``max_requests`` in all): the load stays bounded whatever the server does."""

    def __init__(self, url: str, address: str, clients: int, questions: list[dict], max_seconds: float,
                 max_requests: int, timeout_s: float = 30):
        self.url, self.address, self.clients, self.questions = url, address, clients, questions
        self.max_seconds, self.max_requests, self.timeout_s = max_seconds, max_requests, timeout_s
        self.replies: list[Reply] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="ask-load", daemon=True)

    def start(self) -> "AskLoad":
        self._thread.start()
        return self

    def stop(self) -> list[Reply]:
        self._stop.set()
        self._thread.join(self.timeout_s + 10)
        return list(self.replies)

    async def _run(self) -> None:
        deadline = time.perf_counter() + self.max_seconds
        await asyncio.gather(*(self._client(i, deadline) for i in range(self.clients)))

    async def _client(self, index: int, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s) as client:
            n = index
            while not self._stop.is_set() and time.perf_counter() < deadline and len(self.replies) < self.max_requests:
                q = self.questions[n % len(self.questions)]
                n += 1
                started = time.perf_counter()
                port = None
                try:
                    response = await client.post("/v1/ask", json={"question": q["question"], "history": q.get("history") or []})
                    outcome, message = classify(response, self.address)
                    stream = response.extensions.get("network_stream")
                    if stream is not None:
                        port = (stream.get_extra_info("client_addr") or (None, None))[1]
                except httpx.HTTPError as exc:
                    outcome, message = type(exc).__name__, str(exc)
                self.replies.append(Reply(started, time.perf_counter(), outcome, message, port))
                if outcome != "answered":
                    await asyncio.sleep(FAILURE_PAUSE_S)


def worker_pids(serve_pid: int, port: int) -> list[int]:
    """The serve process's workers: its children that listen on ``port`` (Linux /proc)."""
    listening = set(_sockets(port, state="0A"))
    return [pid for pid in _children(serve_pid) if listening & set(_socket_inodes(pid))]


def worker_connections(serve_pid: int, port: int) -> dict[int, int]:
    """{client port: worker pid} for the connections the serve process's workers hold on ``port``."""
    established = _sockets(port, state="01")
    return {established[inode]: pid for pid in _children(serve_pid) for inode in _socket_inodes(pid) if inode in established}


def _sockets(port: int, state: str) -> dict[str, int]:
    """{socket inode: remote port} of the TCP sockets in ``state`` whose local port is ``port``."""
    out: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) == port:
                out[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return out


def _socket_inodes(pid: int) -> list[str]:
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return []
    return [t[8:-1] for t in targets if t.startswith("socket:[")]


def probe_workers(url: str, serve_pid: int, port: int, address: str, question: str, tries: int = 60) -> dict[int, Reply]:
    """One question per new connection until every worker has answered one (at most ``tries``): the
    load's connections may all have gone to one worker. {worker pid: its first answered probe}."""
    pids = set(worker_pids(serve_pid, port))
    answered: dict[int, Reply] = {}
    for _ in range(tries):
        if pids <= set(answered):
            break
        with httpx.Client(base_url=url, timeout=30) as client:
            started = time.perf_counter()
            try:
                response = client.post("/v1/ask", json={"question": question})
            except httpx.HTTPError:
                continue
            stream = response.extensions.get("network_stream")
            client_port = (stream.get_extra_info("client_addr") or (None, None))[1] if stream is not None else None
            pid = worker_connections(serve_pid, port).get(client_port)  # while the connection is open
        outcome, message = classify(response, address)
        if pid is not None and outcome == "answered" and pid not in answered:
            answered[pid] = Reply(started, time.perf_counter(), outcome, message, client_port)
    return {pid: answered[pid] for pid in sorted(pids) if pid in answered}


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# --------------------------------------------------------------------------- the store, compared


def article_snapshot(store, exclude: set[str] = frozenset()) -> dict[str, tuple]:
    """What a reader gets of each article: its record's content and its chunks' texts, in order."""
    records = {i: r for i, r in store.records().items() if i not in exclude}
    texts = store.article_texts(list(records))
    return {
        i: (r.status, r.content_hash, r.embedded_hash, r.chunks, r.title, r.published_at, r.url, texts.get(i, ""))
        for i, r in records.items()
    }


def compare_articles(got: dict[str, tuple], expected: dict[str, tuple]) -> dict[str, list[str]]:
    return {
        "lost": sorted(set(expected) - set(got)),
        "extra": sorted(set(got) - set(expected)),
        "different": sorted(i for i in set(got) & set(expected) if got[i] != expected[i]),
    }


def uninterrupted_snapshot(settings, files: list[Path], embed_model) -> dict[str, tuple]:
    """The same files ingested in one go, without an outage, into another collection of the same server."""
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    store = ArticleStore(settings.model_copy(update={"collection": BASELINE_COLLECTION}))
    summary = Ingester(store, embed_model).ingest_paths(files)
    if summary.failed:
        raise RuntimeError(f"the uninterrupted ingest failed: {summary.failed[:3]}")
    return article_snapshot(store)


# --------------------------------------------------------------------------- the run


@dataclass
class FaultRun:
    clients: int = 20
    outage_s: float = 10.0
    before_s: float = 5.0
    after_s: float = 10.0
    max_requests: int = 20000
    seed: list[Path] = field(default_factory=lambda: [SAMPLE_ARTICLES])
    files: list[Path] = field(default_factory=list)
    group_articles: int = 2  # the server commits this many articles at a time: the outage cuts into a group
    # Keep Chroma stopped past outage_s until the ingest has failed (bounded): a test must see it cut off.
    outage_until_ingest_fails: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    during_outage: object = None  # called with (url) while Chroma is down (the test sends a Slack event)


def run_faults(work: Path, plan: FaultRun, embed_model=None) -> dict:
    """The whole sequence in ``work``; returns the counts (see the module docstring)."""
    from assistant.settings import Settings
    from assistant.retrieval.store import COMPLETE, PENDING, ArticleStore

    questions = read_jsonl(QUESTIONS)
    t0 = time.perf_counter()
    phases: dict[str, float] = {}  # seconds from the start at which each step ended

    def mark(step: str) -> None:
        phases[step] = round(time.perf_counter() - t0, 1)

    chroma = ChromaServer(work / "chroma-data", work)
    chroma.start()
    mark("chroma_up")
    env = newsdesk_env(work, chroma.port, NEWSDESK_INGEST_GROUP_ARTICLES=str(plan.group_articles), **plan.extra_env)
    probe = Settings(data_dir=work / "probe", chroma_host="127.0.0.1", chroma_port=chroma.port, _env_file=None)
    result: dict = {"clients": plan.clients, "outage_s": plan.outage_s, "chroma": chroma.address, "phases_s": phases}
    try:
        with serve(work, env) as (url, serve_proc):
            port = int(url.rsplit(":", 1)[1])
            mark("serve_up")
            if plan.seed:
                subprocess.run(ingest_command(url, plan.seed), env=env, cwd=work, check=True, capture_output=True)
                mark("seeded")
            store = ArticleStore(probe)
            seeded = set(store.records())
            load = AskLoad(url, chroma.address, plan.clients, questions, max_seconds=plan.before_s + plan.outage_s + plan.after_s + 240,
                           max_requests=plan.max_requests).start()
            ingest_log = (work / "ingest-1.log").open("w")
            ingest = subprocess.Popen(ingest_command(url, plan.files), env=env, cwd=work, stdout=ingest_log, stderr=subprocess.STDOUT)
            started = time.perf_counter()
            workers: dict[int, int] = {}
            # Chroma goes when the load has run a while and the ingest, a group committed, is writing
            # the next (pending records): the re-run must keep the one and redo the other.
            while True:
                workers.update(worker_connections(serve_proc.pid, port))
                records = [r for i, r in store.records().items() if i not in seeded]
                writing = any(r.status == PENDING for r in records)
                committed = sum(r.status == COMPLETE for r in records)
                elapsed = time.perf_counter() - started
                if (elapsed >= plan.before_s and writing and committed) or ingest.poll() is not None or elapsed > 300:
                    break
                time.sleep(0.05)
            result["ingest_when_stopped"] = {"committed": committed, "pending": sum(r.status == PENDING for r in records)}
            down_at = time.perf_counter()
            chroma.stop()
            gone_at = time.perf_counter()  # SIGTERM'd and exited: requests in flight until now met its shutdown
            mark("chroma_stopped")
            health = []
            while True:
                left = plan.outage_s - (time.perf_counter() - down_at)
                if left <= 0 and not (plan.outage_until_ingest_fails and ingest.poll() is None and left > -120):
                    break
                workers.update(worker_connections(serve_proc.pid, port))
                health.append(httpx.get(f"{url}/healthz", timeout=10).json())
                if plan.during_outage is not None and len(health) == 1:
                    plan.during_outage(url)
                time.sleep(min(1.0, left) if left > 0 else 0.2)
            back_at = chroma.start()
            mark("chroma_back")
            # Every worker, on a connection of its own, asked right away: answered, not restarted.
            pids = worker_pids(serve_proc.pid, port)
            probes = probe_workers(url, serve_proc.pid, port, chroma.address, questions[0]["question"])
            result["workers"] = len(pids)
            mark("workers_probed")
            result["stopped_s"] = round(chroma.launched_at - down_at, 2)
            result["restart_s"] = round(back_at - chroma.launched_at, 2)  # `chroma run` until its heartbeat answers
            result["healthz_during_outage"] = _health_summary(health, chroma.address)
            first = ingest.wait(timeout=600)
            ingest_log.close()
            mark("ingest_cut_off")
            result["ingest_first_run"] = {"exit": first, "last_line": _last_line(work / "ingest-1.log")}
            rerun = subprocess.run(ingest_command(url, plan.files), env=env, cwd=work, capture_output=True, text=True, timeout=600)
            mark("ingest_rerun")
            result["ingest_rerun"] = {"exit": rerun.returncode, "last_line": rerun.stdout.strip().splitlines()[-1:]}
            until = time.perf_counter() + plan.after_s
            while time.perf_counter() < until:
                workers.update(worker_connections(serve_proc.pid, port))
                time.sleep(0.2)
            replies = load.stop()
            mark("load_stopped")
            result["healthz_after"] = httpx.get(f"{url}/healthz", timeout=10).json()
            result.update(_counts(replies, down_at, back_at, workers, gone_at))
            result["answering_again_s"] = _answering_again(pids, probes, replies, workers, back_at)
            got = article_snapshot(store, exclude=seeded)
    finally:
        chroma.stop()
    # Against an uninterrupted ingest of the same files, on the same (restarted) Chroma server.
    chroma.start()
    try:
        if embed_model is None:
            from assistant.retrieval.embedding import build_embedding

            embed_model = build_embedding(probe)
        expected = uninterrupted_snapshot(probe, plan.files, embed_model)
        mark("uninterrupted_ingest")
    finally:
        chroma.stop()
    compared = compare_articles(got, expected)
    result["articles"] = {"expected": len(expected), "stored": len(got), **{k: len(v) for k, v in compared.items()}}
    result["article_ids"] = compared
    (work / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _health_summary(bodies: list[dict], address: str) -> dict:
    degraded = [b for b in bodies if b.get("status") == "degraded" and address in b.get("error", {}).get("message", "")]
    return {"checks": len(bodies), "degraded_naming_chroma": len(degraded), "example": bodies[0] if bodies else None}


def _answering_again(pids: list[int], probes: dict[int, Reply], replies: list[Reply], workers: dict[int, int],
                     back_at: float) -> dict[str, dict | None]:
    """Per worker, the first question sent after Chroma's return that it answered (the load's, or a
    probe's): seconds from the return to its sending and to its answer."""
    out: dict[str, dict | None] = {}
    for pid in pids:
        mine = [r for r in replies if workers.get(r.client_port) == pid and r.started >= back_at and r.outcome == "answered"]
        first = min(mine + ([probes[pid]] if pid in probes else []), key=lambda r: r.started, default=None)
        out[str(pid)] = None if first is None else {
            "sent_s": round(first.started - back_at, 2), "answered_s": round(first.ended - back_at, 2)
        }
    return out


def _counts(replies: list[Reply], down_at: float, back_at: float, workers: dict[int, int], gone_at: float) -> dict:
    kinds: dict[str, int] = {}
    for r in replies:
        kinds[r.outcome] = kinds.get(r.outcome, 0) + 1
    unavailable = [r.ended - r.started for r in replies if r.outcome == "unavailable"]
    # Sent once Chroma had exited: what a client meets during the outage proper (a request in flight
    # while Chroma shuts down waits for its shutdown).
    unavailable_sent_gone = [r.ended - r.started for r in replies if r.outcome == "unavailable" and r.started >= gone_at]
    others = [r for r in replies if r.outcome not in ("answered", "unavailable")]
    per_worker = {}
    for pid in sorted(set(workers.values())):
        mine = [r for r in replies if workers.get(r.client_port) == pid]
        # The first question sent after Chroma's return that this worker answered: when it was sent
        # (the worker answers again), and when the answer came (plus the answer's own latency).
        first = min((r for r in mine if r.outcome == "answered" and r.started >= back_at), key=lambda r: r.started, default=None)
        last_failure = max((r.ended for r in mine if r.outcome != "answered"), default=None)
        per_worker[str(pid)] = {
            "requests": len(mine),
            "answered_when_sent_after_back_s": None if first is None else round(first.started - back_at, 2),
            "first_answer_after_back_s": None if first is None else round(first.ended - back_at, 2),
            "last_failure_after_back_s": None if last_failure is None else round(last_failure - back_at, 2),
        }
    last_failure = max((r.ended for r in replies if r.outcome != "answered"), default=None)
    return {
        "requests": len(replies),
        "answered": kinds.get("answered", 0),
        "unavailable_503": kinds.get("unavailable", 0),
        "other_errors": len(others),
        "other_error_kinds": {k: v for k, v in kinds.items() if k not in ("answered", "unavailable")},
        "other_error_examples": [f"{r.outcome}: {r.message[:200]}" for r in others[:3]],
        "unavailable_example": next((r.message for r in replies if r.outcome == "unavailable"), None),
        "slowest_503_s": round(max(unavailable), 2) if unavailable else None,
        "p95_503_s": round(percentile(unavailable, 95), 2) if unavailable else None,
        "shutdown_s": round(gone_at - down_at, 2),
        "slowest_503_sent_after_shutdown_s": round(max(unavailable_sent_gone), 2) if unavailable_sent_gone else None,
        "recovery_s": None if last_failure is None else round(max(0.0, last_failure - back_at), 2),
        "per_worker": per_worker,
        "unattributed_requests": sum(1 for r in replies if r.client_port not in workers),
    }


def _last_line(path: Path) -> list[str]:
    return path.read_text(errors="replace").strip().splitlines()[-1:]


def rtqa_subset(work: Path, count: int) -> Path:
    """The first ``count`` articles of rtqa-dev, as a .jsonl file in ``work`` (never in the repository)."""
    rows = read_jsonl(require(RTQA / "corpus.jsonl"), limit=count)
    path = work / "rtqa-subset.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients asking (default 20)")
    parser.add_argument("--outage", type=float, default=10, help="seconds Chroma stays stopped (default 10)")
    parser.add_argument("--before", type=float, default=5, help="seconds of load before Chroma stops (default 5)")
    parser.add_argument("--after", type=float, default=10, help="seconds of load after the re-run ingest (default 10)")
    parser.add_argument("--articles", type=int, default=10, help="rtqa-dev articles the ingest sends (default 10)")
    parser.add_argument("--files", type=Path, nargs="*", help="ingest these files instead of rtqa-dev articles")
    parser.add_argument("--group", type=int, default=2, help="articles the server commits at a time (default 2)")
    parser.add_argument("--max-requests", type=int, default=20000, help="bound on requests in all (default 20000)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (logs of chroma, serve, ingest)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.outage <= 120 or not 0 <= args.before <= 120 or not 0 <= args.after <= 120:
        parser.error("--clients in [1, 200]; --outage in (0, 120]; --before and --after in [0, 120]")
    with tempfile.TemporaryDirectory(prefix="newsdesk-faults-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        files = args.files or [rtqa_subset(work, args.articles)]
        plan = FaultRun(clients=args.clients, outage_s=args.outage, before_s=args.before, after_s=args.after,
                        max_requests=args.max_requests, files=files, group_articles=args.group)
        started = time.perf_counter()
        result = run_faults(work, plan)
        result["wall_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    cut = result["ingest_when_stopped"]
    print(f"Chroma {result['chroma']} stopped for {result['stopped_s']} s (+{result['restart_s']} s to start again) under "
          f"{result['clients']} clients, the ingest having committed {cut['committed']} articles and writing {cut['pending']}; "
          f"{result['wall_s']} s in all")
    print(f"requests   {result['requests']} sent: {result['answered']} answered, {result['unavailable_503']} x 503 "
          f"naming Chroma, {result['other_errors']} other errors {result['other_error_kinds'] or ''}")
    print(f"503s       slowest {result['slowest_503_s']} s, p95 {result['p95_503_s']} s; sent after Chroma's "
          f"{result['shutdown_s']} s shutdown, slowest {result['slowest_503_sent_after_shutdown_s']} s; "
          f"e.g. {result['unavailable_example']!r}")
    h = result["healthz_during_outage"]
    print(f"/healthz   during the outage {h['degraded_naming_chroma']}/{h['checks']} degraded naming Chroma; after: {result['healthz_after']}")
    print(f"recovery   last failed request ended {result['recovery_s']} s after Chroma was back; {result['workers']} workers")
    for pid, first in result["answering_again_s"].items():
        print(f"           worker {pid}: " + ("no answer since Chroma was back" if first is None else
              f"answered a question sent {first['sent_s']} s after Chroma was back (the answer at {first['answered_s']} s)"))
    print("           the load's connections, per worker:")
    for pid, w in result["per_worker"].items():
        print(f"           worker {pid}: {w['requests']} requests; the first sent +{w['answered_when_sent_after_back_s']} s "
              f"after Chroma was back was answered at +{w['first_answer_after_back_s']} s; "
              f"last failure at {w['last_failure_after_back_s']} s")
    print(f"ingest     first run exit {result['ingest_first_run']['exit']}: {result['ingest_first_run']['last_line']}")
    print(f"           re-run exit {result['ingest_rerun']['exit']}: {result['ingest_rerun']['last_line']}")
    a = result["articles"]
    print(f"articles   {a['stored']} stored vs {a['expected']} from an uninterrupted ingest: "
          f"{a['lost']} lost, {a['extra']} extra, {a['different']} different")
    for line in result["other_error_examples"]:
        print(f"           e.g. {line}")


if __name__ == "__main__":
    main()
