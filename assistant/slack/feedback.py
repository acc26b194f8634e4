"""👍/👎 feedback: one JSON line per click appended to ``settings.feedback_log``."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path


def record_feedback(
    path: Path,
    *,
    verdict: str,
    question: str,
    answer: str,
    user: str,
    channel: str,
    ts: str,
    thread_ts: str | None = None,
    request_id: str = "",
    source: str = "slack",
) -> dict:
    """Append one record and return it. One ``write`` on an ``O_APPEND`` file: lines from several
    processes never interleave."""
    if verdict not in ("up", "down"):
        raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
    record = {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source": source,
        "verdict": verdict,
        "question": question,
        "answer": answer,
        "user": user,
        "channel": channel,
        "ts": ts,
        "thread_ts": thread_ts,
        "request_id": request_id,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return record
