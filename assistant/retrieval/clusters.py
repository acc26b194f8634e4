"""Syndicated copies as the answerer sees them: which stored articles are copies of one story.

Ingest clusters copies (:mod:`ingest.syndication`) and keeps each article's cluster in the manifest.
Reading the manifest is what costs at scale (every record carries its MinHash signature: 2.75 s at
300k chunks), so the clusters are published by the keyword index's writer with the store version it
reflects (:mod:`assistant.retrieval.keyword`); a worker reads them once per version, and an answer uses the
clusters of the very version its keyword hits come from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Copy:
    """One copy of a syndicated story, as a source's ``also_in`` names it."""

    article_id: str
    title: str
    url: str
    source: str
    published_at: str


@dataclass
class Clusters:
    """The store's syndication clusters as of one version: only what sources need."""

    cluster_of: dict[str, str] = field(default_factory=dict)  # article id -> cluster id (clustered articles only)
    members: dict[str, list[Copy]] = field(default_factory=dict)  # cluster id -> its copies, oldest first
    authors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # article id -> bylines (when known)

    @classmethod
    def from_records(cls, records) -> "Clusters":
        """From the complete manifest records (:class:`assistant.retrieval.store.ArticleRecord`)."""
        out = cls()
        for record in records:
            if record.authors:
                out.authors[record.id] = record.authors
            if record.cluster:  # "" (a record older than clustering) is a cluster of one
                copy = Copy(record.id, record.title, record.url, record.source, record.published_at)
                out.members.setdefault(record.cluster_id, []).append(copy)
        for cluster, copies in list(out.members.items()):
            if len(copies) < 2:  # a cluster of one is no cluster
                del out.members[cluster]
                continue
            copies.sort(key=lambda c: (0 if c.published_at else 1, c.published_at, c.article_id))
            out.cluster_of.update((c.article_id, cluster) for c in copies)
        return out

    def moved_by(self, change: "Reclustered") -> "Clusters":
        """These clusters after a write that clustered one closed set of articles again (``change``):
        every cluster that held one of them is replaced by what their records now say."""
        fresh = Clusters.from_records(change.records)
        out = Clusters(authors={a: n for a, n in self.authors.items() if a not in change.covers})
        out.authors.update(fresh.authors)
        out.members = {c: copies for c, copies in self.members.items()
                       if not any(copy.article_id in change.covers for copy in copies)}
        out.members.update(fresh.members)  # a fresh cluster's name is a member's id: never a kept cluster's
        for cluster, copies in out.members.items():
            out.cluster_of.update((c.article_id, cluster) for c in copies)
        return out

    def as_data(self) -> dict:
        """A JSON-ready form (:meth:`from_data` reads it back)."""
        return {
            "members": {cluster: [list(vars(c).values()) for c in copies] for cluster, copies in self.members.items()},
            "authors": {article: list(names) for article, names in self.authors.items()},
        }

    @classmethod
    def from_data(cls, data: dict) -> "Clusters":
        out = cls(authors={article: tuple(names) for article, names in data.get("authors", {}).items()})
        for cluster, rows in data.get("members", {}).items():
            copies = [Copy(*row) for row in rows]
            out.members[cluster] = copies
            out.cluster_of.update((c.article_id, cluster) for c in copies)
        return out


@dataclass(frozen=True)
class Reclustered:
    """A write's clustering of a closed set of articles: every copy of each of them, and every copy
    of those, is in the set, so the clusters outside it are as they were (ingest.reclustering makes it
    from the keyword index's LSH bands, without reading the whole manifest)."""

    records: list  # the set's complete records as written (assistant.retrieval.store.ArticleRecord)
    covers: frozenset[str]  # every article id clustered again, deleted ones included
    moved: list = field(default_factory=list)  # the records whose cluster changed (to be written)
