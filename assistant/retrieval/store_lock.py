"""One process per local store: an exclusive ``flock`` on the local Chroma folder.

Chroma's local store (``PersistentClient``) keeps its vector index in the memory of the process that
opened it, so a second process writing the same folder goes unseen: a CLI ingest into the folder of
a running server is listed by ``/v1/documents/{id}`` (SQLite) but never found by ``/v1/ask`` (the
server's in-memory index). So the process that opens a local store to write or answer takes
``<data_dir>/chroma/.newsdesk.lock`` first, and a second one gets :class:`StoreInUse`: one line
naming the holder and the ways out that fit the command refused (ask or chat through the running
server, ingest through it, or a Chroma server).

The lock belongs to the process, not to one store object: the API app, its background sync and the
tests open many ``ArticleStore`` objects over one folder, and each claim after the first is counted,
not locked again. The kernel drops a ``flock`` when its process exits, even on ``kill -9``, so a
crashed holder never leaves a stale lock behind; the holder's pid, command line and start time
written into the file are only there to name it in the error.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

LOCK_FILE = ".newsdesk.lock"

WAYS_OUT = (
    "a local store serves one process at a time. Share it through a Chroma server (NEWSDESK_CHROMA_HOST), "
    "or add articles through the running server: newsdesk ingest --server URL PATH..."
)
# The way out that fits the command refused: a question or a chat refused beside an idle `newsdesk
# chat` is not helped by `ingest --server`.
WAYS_OUT_OF = {
    "ask": "a local store serves one process at a time. Ask a running `newsdesk serve` instead "
    "(newsdesk ask --server URL QUESTION), or close the other session and ask again",
    "chat": "a local store serves one process at a time. Chat through a running `newsdesk serve` instead "
    "(newsdesk chat --server URL), or close the other session and start again",
    "ingest": "a local store serves one process at a time. Add the articles through the running server "
    "(newsdesk ingest --server URL PATH...), or share the store through a Chroma server (NEWSDESK_CHROMA_HOST)",
}


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a store's lock, as it wrote itself into the lock file."""

    pid: int
    command: str
    started: str  # ISO time the lock was taken

    def describe(self) -> str:
        return f"process {self.pid} ({self.command}, since {self.started})"


class StoreInUse(RuntimeError):
    """The local store is locked by another process. ``str()`` is the one line the CLI prints."""

    code = 1

    def __init__(self, folder: Path, holder: Holder | None, command: str | None = None):
        self.folder = folder
        self.holder = holder
        who = holder.describe() if holder else "another process"
        super().__init__(f"the local store {folder} is in use by {who}: {WAYS_OUT_OF.get(command or '', WAYS_OUT)}")


@dataclass
class _Claim:
    handle: IO[str]
    count: int


_claims: dict[str, _Claim] = {}  # real path of a folder -> this process's open, locked lock file
_guard = threading.Lock()


def acquire(folder: str | os.PathLike, command: str | None = None) -> None:
    """Claim the local store in ``folder`` for this process: the first claim takes the lock (without
    waiting), later ones are counted. Raises :class:`StoreInUse` when another process holds it, with
    the ways out that fit ``command`` (the CLI command asking: "ask", "chat", "ingest")."""
    key = _key(folder)
    with _guard:
        claim = _claims.get(key)
        if claim is not None:
            claim.count += 1
            return
        Path(key).mkdir(parents=True, exist_ok=True)
        # "a+": opening must not empty the file before the lock is ours (the holder's name is in it).
        handle = open(Path(key) / LOCK_FILE, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreInUse(Path(key), holder(key), command) from None
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(_me()) + "\n")
        handle.flush()
        _claims[key] = _Claim(handle, 1)


def release(folder: str | os.PathLike) -> None:
    """Give back one claim; the last one unlocks the folder (for another process to take)."""
    key = _key(folder)
    with _guard:
        claim = _claims.get(key)
        if claim is None:
            return
        claim.count -= 1
        if claim.count <= 0:
            del _claims[key]
            claim.handle.close()  # closing the only descriptor of the lock file drops the flock


def held_here(folder: str | os.PathLike) -> bool:
    """Whether this process holds the lock on ``folder``."""
    with _guard:
        return _key(folder) in _claims


def holder(folder: str | os.PathLike, wait_s: float = 0.5) -> Holder | None:
    """Who wrote itself into ``folder``'s lock file (None if nobody did, or it cannot be read).

    A process that has just taken the lock may not have written its name yet (the file is empty, or
    still names an earlier holder that has exited): wait a little for it."""
    path = Path(_key(folder)) / LOCK_FILE
    deadline = time.monotonic() + wait_s
    found = None
    while True:
        try:
            data = json.loads(path.read_text(encoding="utf-8") or "null")
            if isinstance(data, dict):
                found = Holder(pid=int(data["pid"]), command=str(data["command"]), started=str(data["started"]))
                if _alive(found.pid):
                    return found
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def _key(folder: str | os.PathLike) -> str:
    # One claim per folder however it is spelled (relative, through a symlink).
    return os.path.realpath(folder)


def _me() -> dict:
    return {
        "pid": os.getpid(),
        "command": _command_line(),
        "started": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
    }


def _command_line() -> str:
    """How the user started this process: `newsdesk serve ...` rather than `/path/to/python -m assistant.cli serve ...`."""
    try:
        argv = Path(f"/proc/{os.getpid()}/cmdline").read_bytes().split(b"\0")
        words = [a.decode("utf-8", "replace") for a in argv if a]
    except OSError:
        words = [sys.executable, *sys.argv]
    if sys.argv and sys.argv[0].endswith(("assistant/cli/main.py", "/newsdesk")):
        words = ["newsdesk", *sys.argv[1:]]
    line = " ".join(" ".join(words).split())  # one line, even for `python -c` with newlines in it
    return line if len(line) <= 200 else line[:197] + "..."


def _forget_inherited_claims() -> None:
    """In a forked child: the locks are the parent's. Closing the inherited descriptors leaves the
    parent's lock in place (it keeps its own), and a child that opens the store asks for its own lock
    (and is refused while the parent holds it)."""
    global _guard
    _guard = threading.Lock()  # the parent may have held it at the fork
    for claim in _claims.values():
        try:
            claim.handle.close()
        except OSError:
            pass
    _claims.clear()


os.register_at_fork(after_in_child=_forget_inherited_claims)
