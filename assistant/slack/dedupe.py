"""State shared by every process serving the Slack app: one SQLite file under the data folder.

* Claims: before answering, a process claims the event id and the (channel, message ts) with
  ``INSERT OR IGNORE``; only the process whose inserts all land answers. A retried event
  (``X-Slack-Retry-Num``), a duplicate delivery, or the ``app_mention`` + ``message`` pair Slack sends
  for one message therefore produce one answer, however many server processes share the work.
* Stash: a ``/newsdesk`` answer waits here (keyed by a random token in the button) until its
  "Post to channel" button is clicked; the click may reach another process.

Rows older than the retention window are purged; Slack retries within minutes.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

log = logging.getLogger(__name__)

CLAIM_RETENTION_S = 24 * 3600
STASH_RETENTION_S = 7 * 24 * 3600
PURGE_EVERY_S = 300

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS claims_created ON claims(created);
CREATE TABLE IF NOT EXISTS stash (token TEXT PRIMARY KEY, payload TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS stash_created ON stash(created);
"""


class SlackState:
    def __init__(
        self,
        path: Path,
        claim_retention_s: float = CLAIM_RETENTION_S,
        stash_retention_s: float = STASH_RETENTION_S,
    ):
        self.path = Path(path)
        self.claim_retention_s = claim_retention_s
        self.stash_retention_s = stash_retention_s
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._last_purge = 0.0
        self._purge_lock = threading.Lock()
        with closing(self._connect()) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)

    @classmethod
    def for_settings(cls, settings) -> "SlackState":
        return cls(Path(settings.data_dir) / "slack" / "state.sqlite3")

    def _connect(self) -> sqlite3.Connection:
        # a connection per operation: safe across threads and processes; autocommit + explicit BEGIN
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    # --- claims ----------------------------------------------------------------------------------

    def claim(self, *keys: str | None) -> bool:
        """Claim every key at once; True only if none was claimed before (by any process)."""
        keys = tuple(dict.fromkeys(k for k in keys if k))
        if not keys:
            return True
        self._maybe_purge()
        now = time.time()
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                inserted = [
                    con.execute("INSERT OR IGNORE INTO claims(key, created) VALUES (?, ?)", (k, now)).rowcount
                    for k in keys
                ]
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return all(n == 1 for n in inserted)

    def claim_event(self, event_id: str | None, channel: str | None, ts: str | None) -> bool:
        """Claim a message event by its id and by the message it is about."""
        return self.claim(
            f"event:{event_id}" if event_id else None,
            f"msg:{channel}:{ts}" if channel and ts else None,
        )

    # --- stash -----------------------------------------------------------------------------------

    def stash(self, payload: str) -> str:
        self._maybe_purge()
        token = secrets.token_urlsafe(16)
        with closing(self._connect()) as con:
            con.execute("INSERT INTO stash(token, payload, created) VALUES (?, ?, ?)", (token, payload, time.time()))
        return token

    def unstash(self, token: str) -> str | None:
        with closing(self._connect()) as con:
            row = con.execute(
                "SELECT payload FROM stash WHERE token = ? AND created >= ?",
                (token, time.time() - self.stash_retention_s),
            ).fetchone()
        return row[0] if row else None

    # --- retention -------------------------------------------------------------------------------

    def purge(self) -> None:
        now = time.time()
        with closing(self._connect()) as con:
            con.execute("DELETE FROM claims WHERE created < ?", (now - self.claim_retention_s,))
            con.execute("DELETE FROM stash WHERE created < ?", (now - self.stash_retention_s,))

    def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now - self._last_purge < PURGE_EVERY_S or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._last_purge = now
            self.purge()
        except sqlite3.Error:
            log.warning("could not purge old Slack claims in %s", self.path, exc_info=True)
        finally:
            self._purge_lock.release()
