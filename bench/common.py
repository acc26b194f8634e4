"""Shared bits of the benchmarks: where the dev data is, and percentiles."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RTQA = REPO.parent / "shared" / "data" / "rtqa-dev"


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
