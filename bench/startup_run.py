"""Start-up of the `newsdesk` command: process start to output, as a user runs it.

Ingests the sample articles (examples/articles, what `make demo` ingests) into a temporary data
folder, then runs `newsdesk --help` and `newsdesk ask "<question>"` (the extractive answerer, no
LLM) --runs times each, after one untimed run of each that fills the page cache (the numbers are
for a warm machine, not the first run after a boot). Each run is timed from just before the process
is started to the first bytes on its stdout (the help text, the printed answer) and to its exit.
Prints the median, the spread (min-max) and the targets (--help <= 0.5 s, ask <= 2.5 s), the load
average before and after (timings on a busy machine are slower and noisier: run it idle to compare),
and with --imports the packages `ask` spends its import time on (python -X importtime).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO

SAMPLE_ARTICLES = REPO / "examples" / "articles"
QUESTION = "Who will help monitor a ceasefire in Ukraine?"  # the Makefile's demo question
NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
TARGETS_S = {"help": 0.5, "ask": 2.5}


def clean_env(data_dir: Path) -> dict:
    """The environment of a new user: no NEWSDESK_* settings but the data folder (local store, no LLM)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    return {**env, "NEWSDESK_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False"}


def timed_run(args: list[str], env: dict, cwd: Path) -> dict:
    """One process: seconds to its first stdout bytes and to its exit (the run must succeed)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.read1(65536)  # blocks until the process prints (or exits)
    first_output_s = time.perf_counter() - started
    rest, stderr = proc.communicate(timeout=300)
    exit_s = time.perf_counter() - started
    if proc.returncode != 0 or not (first or rest):
        raise SystemExit(f"{' '.join(args)} failed (exit {proc.returncode}): {stderr.decode(errors='replace')[-2000:]}")
    return {"first_output_s": first_output_s, "exit_s": exit_s}


def summarise(runs: list[dict]) -> dict:
    out = {}
    for key in ("first_output_s", "exit_s"):
        values = [r[key] for r in runs]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}
    return out


def import_times(args: list[str], env: dict, cwd: Path, top: int = 10) -> list[tuple[str, float]]:
    """Import time (seconds) by top-level package, largest first: each module's own time counted for
    its package, whoever imported it (llama_index imported by assistant.engine counts as llama_index)."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    totals: dict[str, float] = {}
    for line in result.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
        if m:
            name = m.group(2).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(m.group(1)) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command (default 5)")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--imports", action="store_true", help="also show where `ask` spends its import time")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "out" / "startup.json", help="JSON report")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="newsdesk-startup-") as tmp:
        tmp_path = Path(tmp)
        env = clean_env(tmp_path / "data")
        subprocess.run([NEWSDESK, "ingest", str(SAMPLE_ARTICLES)], env=env, cwd=tmp_path, check=True, stdout=subprocess.DEVNULL)
        commands = {"help": [NEWSDESK, "--help"], "ask": [NEWSDESK, "ask", args.question]}
        results = {}
        for name, command in commands.items():
            timed_run(command, env, tmp_path)  # untimed: fills the page cache
            results[name] = summarise([timed_run(command, env, tmp_path) for _ in range(args.runs)])
        imports = import_times(["-m", "assistant.cli", "ask", args.question], env, tmp_path) if args.imports else []
    load_after = os.getloadavg()

    report = {
        "runs": args.runs,
        "question": args.question,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "targets_s": TARGETS_S,
        "results": results,
        "ask_import_s": dict(imports),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")

    print(f"newsdesk start-up, {args.runs} runs each after one warm-up; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} after")
    print(f"{'command':<28} {'to output: median':>18} {'min-max':>14} {'to exit: median':>16} {'target':>8}")
    labels = {"help": "newsdesk --help", "ask": "newsdesk ask (sample store)"}
    for name, r in results.items():
        first, done = r["first_output_s"], r["exit_s"]
        verdict = "PASS" if first["median"] <= TARGETS_S[name] else "MISS"
        print(f"{labels[name]:<28} {first['median']:>16.2f} s {first['min']:>6.2f}-{first['max']:.2f} s "
              f"{done['median']:>14.2f} s {TARGETS_S[name]:>5.1f} s {verdict}")
    if imports:
        print("ask, import time by package (own time of its modules, one run): " + ", ".join(f"{n} {s:.2f} s" for n, s in imports))
    print(f"report: {args.output}")


if __name__ == "__main__":
    main()
