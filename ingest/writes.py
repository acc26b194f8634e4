"""The ingester's crash-safe writes. What decides whether an article's stored chunks still stand
(:meth:`CrashSafeWrites.index_hash`, :meth:`CrashSafeWrites.embedding_hash`: content hashes combined
with how it is indexed), its manifest record, the relabelling of articles whose embedded text is
unchanged, and the write of a group of changed articles in the order that makes a killed run
harmless: records ``pending``, old chunks deleted, new chunks embedded and written
``ingest_group_chunks`` at a time, records ``complete``. The next run deletes what is left pending.

:class:`CrashSafeWrites` is a part of :class:`ingest.pipeline.Ingester` (a base class: import the
Ingester, not this); its methods use the attributes ``Ingester.__init__`` sets: ``store``,
``settings``, ``embed_model``, ``splitter``, ``pipeline`` and ``signature``."""

from __future__ import annotations

import hashlib
import logging
from itertools import islice
from typing import Callable, Iterable, Iterator

from llama_index.core.schema import BaseNode

from assistant.retrieval.embedding import EmbeddingFailed, embed_nodes
from assistant.retrieval.store import COMPLETE, PENDING, ArticleRecord
from assistant.retrieval.store_embedder import claim_embedder
from ingest import syndication
from ingest.article import Article
from ingest.chunking import sections, to_document

log = logging.getLogger("ingest.pipeline")  # the ingest's one logger, as the CLI's --verbose shows it


class CrashSafeWrites:
    """The Ingester's hashes, records and writes (see the module docstring)."""

    def index_hash(self, article: Article) -> str:
        """The article's content hash combined with how it is indexed (chunking, embedder, schema):
        changing any of them re-indexes the article instead of leaving stale chunks beside new ones."""
        return self._indexed(article.content_hash)

    def _indexed(self, article_hash: str) -> str:
        return hashlib.sha256(f"{article_hash}|{self.signature}".encode()).hexdigest()

    def _record(self, article: Article, status: str, chunks: int = 0, minhash: str = "", cluster: str = "") -> ArticleRecord:
        """The manifest record of ``article`` as this ingester indexes it."""
        return ArticleRecord(
            id=article.id,
            content_hash=self.index_hash(article),
            status=status,
            title=article.title,
            url=article.url,
            published_at=article.published_at,
            source=article.source,
            path=article.path,
            chunks=chunks,
            authors=article.authors,
            cluster=cluster,
            minhash=minhash,
            embedded_hash=self.embedding_hash(article),
        )

    def embedding_hash(self, article: Article) -> str:
        """Hash of what the article's chunks embed, with how they are made: equal means the stored vectors fit."""
        return self._indexed(article.embedded_hash)

    def _vectors_still_right(self, record: ArticleRecord, article: Article) -> bool:
        if record.status != COMPLETE:
            return False
        if record.embedded_hash:
            return record.embedded_hash == self.embedding_hash(article)
        # Written before embedded hashes were kept: its full hash, computed the way it was then, says.
        return record.content_hash == self._indexed(article.legacy_content_hash)

    def _relabel(self, pairs: list[tuple[ArticleRecord, Article]]) -> None:
        """New metadata for articles whose embedded text is unchanged: chunk metadata rewritten in place,
        the record rewritten (its chunk count, signature and cluster kept); nothing is embedded."""
        for record, article in pairs:
            if (record.url, record.source) != (article.url, article.source):
                self.store.update_chunk_metadata(article.id, {"url": article.url, "source": article.source})
        self.store.write_records(
            self._record(article, COMPLETE, record.chunks, record.minhash, record.cluster) for record, article in pairs
        )

    def chunks(self, articles: Iterable[Article]) -> Iterator[BaseNode]:
        """The chunks of ``articles`` in order, split lazily: one section of one article at a time."""
        for article in articles:
            position = 0
            for text in sections(article.text):
                nodes = self.splitter.get_nodes_from_documents([to_document(article, text, position)])
                position += len(nodes)
                yield from nodes

    def _write_group(self, group: list[Article], embedded: Callable[[int], None]) -> int:
        """Writes ``group`` (records pending, then chunks, then records complete); ``embedded`` hears
        the number of its chunks written so far, after each group of ``ingest_group_chunks``."""
        # Signed before the write, so that a complete record always carries its signature.
        minhashes = {a.id: syndication.encode(syndication.signature(a.text)) for a in group}
        self.store.write_records(self._record(a, PENDING, minhash=minhashes[a.id]) for a in group)
        self.store.delete_chunks(a.id for a in group)
        counts: dict[str, int] = {}
        written = 0
        chunks = self.chunks(group)
        while nodes := list(islice(chunks, max(1, self.settings.ingest_group_chunks))):
            nodes = self.pipeline.run(nodes=nodes, show_progress=False)
            try:
                embed_nodes(self.embed_model, nodes)
            except EmbeddingFailed as exc:
                # The group's records stay pending: the next run clears and redoes them.
                raise exc.because(
                    f"the {len(group)} article(s) being embedded were not all written; run the same ingest again"
                ) from exc
            claim_embedder(self.store, self.embed_model, len(nodes[0].embedding))
            self.store.vector_store().add(nodes)
            for node in nodes:
                counts[node.metadata["article_id"]] = counts.get(node.metadata["article_id"], 0) + 1
            written += len(nodes)
            embedded(written)
            log.info("embedded and wrote %d chunks of this group of %d article(s)", written, len(group))
        self.store.write_records(self._record(a, COMPLETE, counts.get(a.id, 0), minhashes[a.id]) for a in group)
        return written
