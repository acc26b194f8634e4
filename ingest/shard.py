"""One ingest split across N processes (or hosts) writing to one Chroma server.

``newsdesk ingest --shard I/N PATHS...`` run N times (I = 1..N, at the same time, anywhere) shares the
work: every run reads all the files (cheap next to embedding) and embeds only the articles whose id
falls to its shard, by a stable hash of the id (SHA-1, the same on every host and every run; never
Python's salted ``hash``). So no article is embedded twice, and each article has exactly one owner.

The rule that keeps concurrent runs apart: **a shard run writes and deletes only its own shard's
manifest records and chunks.** Hence

* crash recovery clears only the shard's own ``pending`` records (a killed shard's articles stay
  ``pending`` or absent; running the same ``--shard I/N`` command again finishes them, and never
  touches another live shard's work in progress);
* ``--prune`` deletes only the shard's own records;
* syndication clusters are computed from every complete record in the manifest, but a shard run
  writes only its own records' clusters. A copy in one shard of an article in another may therefore
  be left unclustered (or clustered with what was complete when its shard ended);
* a shard run bumps the store version (readers see the change) but does not write the keyword index:
  N runs would build it N times, racing on one data folder.

:func:`finish` (``newsdesk ingest --finish``), run once after every shard has exited, closes the
ingest: it re-clusters over the whole manifest, writing any record whose cluster moved, and builds
the keyword index. It embeds nothing; while any record is ``pending`` (a shard still running, or killed
and not run again) it writes nothing at all and reports them, since a live shard may be writing its
records that very moment. Every shard must use the same N: ownership of a
record is its id's hash modulo N.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based). ``Shard(1, 1)`` owns everything: an ordinary ingest."""

    index: int = 1
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: I must be between 1 and N (and N at least 1)")

    @property
    def is_whole(self) -> bool:
        """True for an ordinary, unsharded ingest."""
        return self.count == 1

    def owns(self, key: str) -> bool:
        """Whether ``key`` (an article id, or a failing file's path) falls to this shard."""
        return self.is_whole or shard_of(key, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(1, 1)


def shard_of(key: str, count: int) -> int:
    """The 1-based shard of ``key`` among ``count``: SHA-1 of its UTF-8 bytes, modulo ``count``."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") % count + 1


def parse_shard(text: str) -> Shard:
    """``"I/N"`` as a :class:`Shard`; a ValueError saying what is wrong with ``text`` otherwise."""
    index, sep, count = str(text).strip().partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ValueError(f"{text!r} is not I/N (e.g. 2/3: the second of three shards)")
    index_n, count_n = int(index), int(count)
    if count_n < 1 or not 1 <= index_n <= count_n:
        raise ValueError(f"{text!r}: I must be between 1 and N (shards are numbered 1..N)")
    return Shard(index_n, count_n)


@dataclass
class FinishSummary:
    """What :func:`finish` did: records re-clustered, articles and chunks in the store, pending left."""

    reclustered: int = 0
    articles: int = 0
    chunks: int = 0
    pending: list[str] = field(default_factory=list)  # ids still pending: their shard must run again

    def as_dict(self) -> dict:
        return {
            "reclustered": self.reclustered,
            "articles": self.articles,
            "chunks": self.chunks,
            "pending": self.pending,
        }

    def line(self) -> str:
        tail = (
            f" / pending {len(self.pending)}: nothing done (a shard is still running, or was killed: run it again, "
            "then --finish)"
            if self.pending
            else ""
        )
        return f"reclustered {self.reclustered} / articles {self.articles} / chunks {self.chunks}{tail}"


def finish(ingester) -> FinishSummary:
    """Close a sharded ingest (after every ``--shard`` run has exited): syndication clusters over the
    whole manifest, and the keyword index, brought up to the store once. Embeds nothing; with ``pending`` records left it
    writes nothing and lists them (their shard must run again first)."""
    from assistant.retrieval.store import COMPLETE

    store = ingester.store
    records = store.records()
    summary = FinishSummary(pending=sorted(r.id for r in records.values() if r.status != COMPLETE))
    summary.articles = sum(1 for r in records.values() if r.status == COMPLETE)
    summary.chunks = store.count_chunks()
    if summary.pending:
        return summary
    moved = ingester.cluster_updates()  # every complete record: this run owns them all
    if moved:
        store.bump_version()  # readers cache clusters by version: they must see the move
        store.write_records(moved)
    ingester.refresh_keywords()
    summary.reclustered = len(moved)
    return summary
