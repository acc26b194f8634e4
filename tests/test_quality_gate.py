"""CI's quality gate: the bundled sample set must keep scoring, through the real `newsdesk eval`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

# Measured 2026-11-25: recall@5 1.0, answer_contains_gold 0.81, decline_accuracy 0.50,
# false_decline_rate 0.06, citation precision/recall 1.0. Thresholds leave room for noise only.
GATES = {
    "recall@5": "0.9",
    "mrr@10": "0.85",
    "answer_contains_gold": "0.7",
    "decline_accuracy": "0.4",
    "false_decline_rate": "0.15",
    "citation_precision": "0.98",
    "citation_recall": "0.95",
    "answer_words_mean": "80",
}


def test_sample_set_meets_its_gates(tmp_path):
    out = tmp_path / "report.json"
    args = [sys.executable, "-m", "assistant.cli", "eval", "eval/sets/sample.jsonl", "--corpus", "examples/articles",
            "--output", str(out)]
    for metric, value in GATES.items():
        args += ["--fail-under", f"{metric}={value}"]
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["questions"] == 24
