"""The ingester's syndication step: which records' near-duplicate clusters (and signatures) a write
changes, found from the keyword index's LSH bands for a few articles (:meth:`Reclustering.reclustered`)
or from every stored signature (:meth:`Reclustering.cluster_updates`). Chunks are never touched.

:class:`Reclustering` is a part of :class:`ingest.pipeline.Ingester` (a base class: import the
Ingester, not this); its methods use the ingester's ``store``."""

from __future__ import annotations

import logging
from dataclasses import replace

from assistant.retrieval.clusters import Reclustered
from assistant.retrieval.signatures import UNSIGNED, band_keys
from assistant.retrieval.store import COMPLETE, ArticleRecord
from ingest import syndication
from ingest.shard import WHOLE, Shard

log = logging.getLogger("ingest.pipeline")  # the ingest's one logger, as the CLI's --verbose shows it


def newly_signed(complete: list[ArticleRecord], moved: list[ArticleRecord]) -> list[str]:
    """The articles among ``moved`` whose signature the clustering wrote (records older than it)."""
    before = {r.id: r.minhash for r in complete}
    return [r.id for r in moved if r.minhash != before.get(r.id)]


def as_written(complete: list[ArticleRecord], moved: list[ArticleRecord]) -> list[ArticleRecord]:
    """The complete records once ``moved`` (re-clustered ones) are written over them."""
    return list(({r.id: r for r in complete} | {r.id: r for r in moved}).values())


class Reclustering:
    """The Ingester's re-clustering after a write (see the module docstring)."""

    def reclustered(self, writer, before: dict[str, ArticleRecord], touched: set[str]) -> Reclustered | None:
        """The syndication clusters of a write that ``touched`` some articles (written, relabelled or
        deleted; ``before``: their records before it), found without reading the whole manifest; None
        when a record the clustering needs carries no signature (the whole clustering signs it).

        Only the articles whose clusters the write can change are clustered again, and what clustering
        every record would say of them is what this says: the touched articles, each article sharing an
        LSH band with one of them (the published keyword index holds every article's bands) and every
        member of the clusters any of these were in. Edges between other articles are as they were,
        so the set is closed: the clusters outside it stand."""
        if writer.sharing_bands([UNSIGNED]):
            return None
        if not touched:
            return Reclustered(records=[], covers=frozenset())
        now = self.store.records_of(touched)
        keys = [k for r in now.values() if r.status == COMPLETE for k in band_keys(syndication.decode(r.minhash))]
        near = writer.sharing_bands(keys)
        old = writer.state.clusters
        clusters = {before[i].cluster_id for i in touched if i in before} | {old.cluster_of.get(i, i) for i in near}
        group = set(touched) | near | {c.article_id for cluster in clusters for c in old.members.get(cluster, ())}
        records = {i: r for i, r in self.store.records_of(group).items() if r.status == COMPLETE}
        if any(not r.minhash for r in records.values()):
            return None
        assigned = syndication.clusters(
            syndication.Member(r.id, r.published_at, syndication.decode(r.minhash)) for r in records.values()
        )
        moved = [replace(r, cluster=assigned[r.id]) for r in records.values() if r.cluster != assigned[r.id]]
        written = {**records, **{r.id: r for r in moved}}
        return Reclustered(records=list(written.values()), covers=frozenset(group), moved=moved)

    def cluster_updates(self, texts: dict[str, str] | None = None, shard: Shard = WHOLE,
                        complete: list[ArticleRecord] | None = None) -> list[ArticleRecord]:
        """The complete records (of ``shard``) whose syndication cluster (or missing signature) must be rewritten.

        Clusters are recomputed from every stored signature, so they follow additions, edits and
        deletions alike, and a run killed before writing them is mended by the next. Records without a
        signature (written before clustering existed) are signed from ``texts`` (article id -> body)
        when the article is at hand, else from its stored chunks. Every complete record takes part in
        the clustering; only ``shard``'s own are returned to be written."""
        if complete is None:
            complete = self.store.complete_records()
        signatures = {r.id: syndication.decode(r.minhash) for r in complete}
        unsigned = [r.id for r in complete if signatures[r.id] is None and r.minhash != syndication.TOO_SHORT]
        texts = dict(texts or {})
        missing = [i for i in unsigned if i not in texts]
        if missing:
            texts.update(self.store.article_texts(missing))
        signed = {i: syndication.signature(texts.get(i, "")) for i in unsigned}
        signatures.update(signed)
        assigned = syndication.clusters(
            syndication.Member(r.id, r.published_at, signatures[r.id]) for r in complete
        )
        updates = []
        for r in complete:
            if not shard.owns(r.id):
                continue
            minhash = syndication.encode(signed[r.id]) if r.id in signed else r.minhash
            if r.cluster != assigned[r.id] or minhash != r.minhash:
                updates.append(replace(r, cluster=assigned[r.id], minhash=minhash))
        if updates:
            log.info("syndication: %d record(s) re-clustered or signed", len(updates))
        return updates
