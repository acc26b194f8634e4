"""What one ingest run reports (:class:`IngestSummary`): articles added, updated, unchanged and
deleted, chunks written, failures and warnings, and its shard; as JSON (``as_dict``) and as the
one line the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.article import UNDATED, LoadFailure, LoadWarning
from ingest.shard import WHOLE, Shard


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: list[LoadFailure] = field(default_factory=list)
    chunks: int = 0  # chunks embedded and written by this run
    warnings: list[LoadWarning] = field(default_factory=list)
    shard: Shard = WHOLE
    other_shards: int = 0  # articles read but left to the other shards of a sharded ingest

    @property
    def undated(self) -> int:
        """Articles read without a published date: ranked as neither new nor old, they are easily never
        cited, so the summary counts them. Counted from their warnings (one each), so that a summary
        assembled from the loaders' output alone (``ingest --server``) counts them too."""
        return sum(w.kind == UNDATED for w in self.warnings)

    def as_dict(self) -> dict:
        sharded = {"shard": str(self.shard), "other_shards": self.other_shards} if not self.shard.is_whole else {}
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": [f.as_dict() for f in self.failed],
            "chunks": self.chunks,
            "warnings": [w.as_dict() for w in self.warnings],
            "undated": self.undated,
            **sharded,
        }

    def line(self) -> str:
        return (
            f"added {self.added} / updated {self.updated} / unchanged {self.unchanged} / "
            f"deleted {self.deleted} / failed {len(self.failed)} / chunks {self.chunks}"
            + (f" / warnings {len(self.warnings)}" if self.warnings else "")
            + (f" / undated {self.undated}" if self.undated else "")
            + (f" / shard {self.shard}, {self.other_shards} left to other shards" if not self.shard.is_whole else "")
        )
