"""Idempotent, crash-safe ingest of articles into the store.

llama-index's ``SentenceSplitter`` cuts each article into chunks sized to the embedder's window, and its
``IngestionPipeline`` annotates them, ``ingest_group_chunks`` at a time; the embedder (several batches
in flight for a server) and llama-index's Chroma store follow, once the collection's embedder is
checked (:mod:`assistant.retrieval.store_embedder`). Chunks stream from the splitter to the store, and an
article's text is split a section (``SECTION_CHARS``) at a time, so that memory follows the group
sizes, not the size of the input. Around it, this module decides what to do with each article by
comparing content hashes with the manifest:

* unchanged (same hash, complete) -> skipped, nothing embedded;
* new or changed -> record marked ``pending``, old chunks deleted, new chunks written, record marked
  ``complete`` — in that order, so a run killed at any point leaves at most ``pending`` records,
  which the next run deletes (chunks first) and redoes;
* ``prune`` -> articles once read from the given paths and no longer there are deleted.

After the writes and deletes, syndicated copies are clustered again (:mod:`ingest.syndication`):
each complete article's MinHash signature is kept in its manifest record (signed once, when it is
written; older records are signed from the text at hand, or from their chunks), so clustering reads
only the manifest, and the records whose cluster moved are rewritten. Chunks are never touched by it.

A run may be one shard of an ingest split across processes (:mod:`ingest.shard`): it then embeds,
recovers, relabels, prunes and re-clusters only the articles of its own shard, and leaves the BM25
index to ``ingest.shard.finish``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from llama_index.core import Document
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode, TransformComponent

from assistant.retrieval import keyword
from assistant.answer import published_day
from assistant.retrieval.clusters import Reclustered
from assistant.retrieval.keyword_component import refresh_keywords
from assistant.retrieval.embedding import EmbeddingFailed, count_word_pieces, embed_nodes
from assistant.retrieval.store_embedder import check_embedder, claim_embedder, hashed_as
from assistant.retrieval.signatures import UNSIGNED, band_keys
from assistant.text import split_sentences
from assistant.retrieval.store import COMPLETE, PENDING, ArticleRecord, ArticleStore
from ingest import syndication
from ingest.article import UNDATED, Article, LoadFailure, LoadWarning
from ingest.dates import undated_warnings
from ingest.loaders import load_paths
from ingest.shard import WHOLE, Shard

log = logging.getLogger(__name__)

# Bump when chunking or chunk metadata change: every article is then re-indexed on its next ingest.
INDEX_VERSION = 2

# Only title and date join the chunk text in the index (embedding and BM25); the rest is metadata.
INDEXED_METADATA = ("title", "published_at")

# The splitter tokenizes the whole text it is given at once (a 20 MB article took gigabytes), so a long
# article is split a section at a time, cut at a paragraph break. Above every article of the dev
# corpora (the longest is 0.1 MB), so that their chunks are the ones an unsectioned split makes.
SECTION_CHARS = 200_000
_SECTION_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s"), re.compile(r"\s"))


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


class AnnotateChunks(TransformComponent):
    """Numbers each article's chunks and decides which metadata is indexed with the text."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs) -> Sequence[BaseNode]:
        for node in nodes:
            # The chunk id is "<article id>::<position>" (see chunk_id), numbered along the whole
            # article however many sections or groups its chunks were split and written in.
            node.metadata["position"] = int(node.node_id.rpartition("::")[2])
            hidden = [k for k in node.metadata if k not in INDEXED_METADATA]
            node.excluded_embed_metadata_keys = hidden
            node.excluded_llm_metadata_keys = hidden
        return nodes


class Section(Document):
    """A stretch of one article's text (see :func:`sections`), split apart from the rest: its chunks
    are numbered on from ``first_position``, the chunks of the sections before it."""

    first_position: int = 0


def chunk_id(i: int, doc: Document) -> str:
    return f"{doc.doc_id}::{getattr(doc, 'first_position', 0) + i}"


def make_splitter(chunk_tokens: int, chunk_overlap: int) -> SentenceSplitter:
    # Sizes are counted in the embedder's own word pieces, title and date included (the splitter is
    # metadata-aware), leaving room for [CLS]/[SEP]: nothing past the model window goes unseen.
    return SentenceSplitter(
        chunk_size=chunk_tokens - 2,
        chunk_overlap=chunk_overlap,
        tokenizer=count_word_pieces,
        chunking_tokenizer_fn=split_sentences,
        id_func=chunk_id,
    )


def sections(text: str, size: int = SECTION_CHARS) -> Iterator[str]:
    """``text`` in pieces of at most ``size`` characters that cover it exactly, each cut at the last
    paragraph break before the limit (else line break, sentence end, space; a hard cut only in a
    run of ``size`` characters without any)."""
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = 0
        for brk in _SECTION_BREAKS:
            ends = [m.end() for m in brk.finditer(window, size // 2)]
            if ends:
                cut = ends[-1]
                break
        cut = cut or size
        yield text[start : start + cut]
        start += cut
    yield text[start:]


def _newly_signed(complete: list[ArticleRecord], moved: list[ArticleRecord]) -> list[str]:
    """The articles among ``moved`` whose signature the clustering wrote (records older than it)."""
    before = {r.id: r.minhash for r in complete}
    return [r.id for r in moved if r.minhash != before.get(r.id)]


def _as_written(complete: list[ArticleRecord], moved: list[ArticleRecord]) -> list[ArticleRecord]:
    """The complete records once ``moved`` (re-clustered ones) are written over them."""
    return list(({r.id: r for r in complete} | {r.id: r for r in moved}).values())


def to_document(article: Article, text: str | None = None, first_position: int = 0) -> Document:
    """The article as llama-index reads it; with ``text``, one section of it whose first chunk is
    ``first_position``."""
    metadata = {
        "article_id": article.id,
        "title": article.title,
        "url": article.url,
        "published_at": article.published_at,
        "published_day": published_day(article.published_at),
        "source": article.source,
    }
    hidden = [k for k in metadata if k not in INDEXED_METADATA]
    return Section(
        id_=article.id,
        text=article.text if text is None else text,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=hidden,
        first_position=first_position,
    )


def _is_under(path: str, roots: list[Path]) -> bool:
    p = Path(path)
    return any(p == root or root in p.parents for root in roots)


def _holds_many(path: str) -> bool:
    """Whether articles read from ``path`` need their ids to be told apart: any but a one-article file
    or page (a JSON list, JSON lines, articles posted to the API, a feed's entries)."""
    return Path(path).suffix.lower() not in (".md", ".markdown", ".txt", ".html", ".htm")


ProgressHook = Callable[[str, int], None]  # (event, amount): "articles_total", "articles", "chunks"


class Ingester:
    """Runs ingests against one store with one embedder (both loaded once, reused across runs)."""

    @classmethod
    def open(cls, settings, embed_model=None) -> "Ingester":
        """The ingester of the store ``settings`` name, with the configured embedder unless one already
        loaded is given: what a door (the CLI, the evaluator) opens to write articles."""
        from assistant.retrieval.embedding import build_embedding

        return cls(ArticleStore(settings), embed_model or build_embedding(settings), settings)

    def __init__(self, store: ArticleStore, embed_model, settings=None):
        self.store = store
        self.settings = settings or store.settings
        self.embed_model = embed_model
        check_embedder(store, embed_model)
        self.splitter = make_splitter(self.settings.chunk_tokens, self.settings.chunk_overlap)
        # Fed chunks (``chunks``) a group at a time: the splitter is not one of its steps. Embedding and
        # the write follow it (_write_group): batches in flight at once, and the collection's embedder
        # checked against the vectors before any is written.
        self.pipeline = IngestionPipeline(
            transformations=[AnnotateChunks()],
            disable_cache=True,  # the manifest decides what to skip; a cache would only hold memory
        )
        self.signature = (
            f"v{INDEX_VERSION}|{hashed_as(store, embed_model)}|{self.settings.chunk_tokens}|{self.settings.chunk_overlap}"
        )

    def ingest_paths(
        self,
        paths: Iterable[str | os.PathLike],
        prune: bool = False,
        progress: ProgressHook | None = None,
        urls: Iterable[str] = (),
        shard: Shard = WHOLE,
    ) -> IngestSummary:
        """Files and folders, and ``urls`` (article pages, feeds, sitemaps, home pages: ``ingest.web``),
        in one run with one summary; ``prune`` only ever looks under ``paths``. With a ``shard``, only
        its articles are written (every file is still read): see :mod:`ingest.shard`."""
        paths = list(paths)
        loaded = load_paths(paths)  # raises FileNotFoundError naming a missing path, before any fetch
        urls = list(urls)
        if urls and not shard.is_whole:
            # A page's article id is known only once fetched: every shard would fetch every page.
            raise ValueError("--shard splits files and folders only; ingest URLs and feeds in one process")
        if urls:
            from ingest.web import load_urls

            web = load_urls(urls, self.settings)
            for article in web.articles:  # files are checked by their loaders, pages here (not on every feed sync)
                web.warnings.extend(undated_warnings(article))
            loaded.extend(web)
        roots = [Path(p).resolve() for p in paths] if prune else None
        return self.ingest_articles(
            loaded.articles, loaded.failures, prune_roots=roots, progress=progress, warnings=loaded.warnings, shard=shard
        )

    def ingest_articles(
        self,
        articles: list[Article],
        failures: list[LoadFailure] | None = None,
        prune_roots: list[Path] | None = None,
        progress: ProgressHook | None = None,
        warnings: list[LoadWarning] | None = None,
        shard: Shard = WHOLE,
    ) -> IngestSummary:
        """Write what changed among ``articles`` (see the module docstring). With a ``shard``, only the
        articles, records, failures and warnings that fall to it are this run's: the other shards
        report the rest, so that their summaries add up to one unsharded run's."""
        with self._keyword_writer(shard) as writer:
            return self._ingest_articles(articles, failures, prune_roots, progress, warnings, shard, writer)

    @contextmanager
    def _keyword_writer(self, shard: Shard = WHOLE):
        """The store's keyword writer, held for the whole run, so that no repair publishes half of it
        (None for a shard: the index is ``ingest.shard.finish``'s to bring up)."""
        if not shard.is_whole:
            yield None
            return
        with keyword.writing(self.store) as writer:
            yield writer

    def _ingest_articles(self, articles, failures, prune_roots, progress, warnings, shard, writer) -> IngestSummary:
        articles, oversized = self._refuse_oversized(articles)
        failures = list(failures or []) + oversized
        # A refused file's other news (say, that it is undated) is moot; a JSON file's rows are told apart by line only.
        moot = {f.path for f in oversized if not _holds_many(f.path)}
        summary = IngestSummary(
            failed=[f for f in failures if shard.owns(f.path)],
            warnings=[w for w in (warnings or []) if shard.owns(w.path) and w.path not in moot],
            shard=shard,
        )
        progress = progress or (lambda event, n: None)
        everything = self._dedupe(articles, summary, shard)
        unique = [a for a in everything if shard.owns(a.id)]
        summary.other_shards = len(everything) - len(unique)
        # Another shard's records are written by that shard alone, maybe at this very moment: left out.
        # Only a prune needs every record; else those of the articles at hand and the pending ones
        # (a large store's whole manifest is seconds to read).
        if prune_roots is not None:
            records = self.store.records()
        else:
            records = {**self.store.records_of(a.id for a in unique), **self.store.pending_records()}
        records = {i: r for i, r in records.items() if shard.owns(i)}
        changed = False
        touched: set[str] = set()  # the articles whose chunks or metadata this run rewrites or deletes

        # Recover from a killed run: pending records may have partial chunks.
        pending = [r.id for r in records.values() if r.status != COMPLETE]
        touched.update(pending)
        if pending:
            log.info("clearing %d article(s) left pending by an interrupted ingest", len(pending))
            self.store.bump_version()
            changed = True
            self.store.delete_articles(pending)
            for article_id in pending:
                records.pop(article_id, None)

        todo: list[Article] = []
        relabel: list[tuple[ArticleRecord, Article]] = []  # changed, but not in what was embedded
        for article in unique:
            record = records.get(article.id)
            if record is None:
                summary.added += 1
                todo.append(article)
            elif record.content_hash != self.index_hash(article):
                summary.updated += 1
                (relabel.append((record, article)) if self._vectors_still_right(record, article) else todo.append(article))
            else:
                summary.unchanged += 1
                if record.path != article.path or not record.embedded_hash:
                    relabel.append((record, article))  # the same article read from elsewhere: the record follows it
        progress("articles_total", len(unique))
        progress("articles", summary.unchanged)
        touched.update(a.id for a in todo)
        touched.update(a.id for _r, a in relabel)

        if todo and not changed:
            self.store.bump_version()  # before the first write: a crash leaves BM25 visibly stale
            changed = True
        if relabel:
            if not changed:
                self.store.bump_version()
                changed = True
            self._relabel(relabel)
        size = max(1, self.settings.ingest_group_articles)
        for start in range(0, len(todo), size):
            group = todo[start : start + size]
            summary.chunks += self._write_group(group, lambda n: progress("chunks", summary.chunks + n))
            progress("articles", len(group))
            log.info("committed %d/%d changed articles", min(start + len(group), len(todo)), len(todo))

        if prune_roots is not None:
            seen = {a.id for a in everything}
            failed_paths = {f.path for f in failures}  # whichever shard reports it, that file's articles stay
            gone = [
                r.id
                for r in records.values()
                if r.id not in seen and r.path and r.path not in failed_paths and _is_under(r.path, prune_roots)
            ]
            if gone:
                if not changed:
                    self.store.bump_version()
                    changed = True
                self.store.delete_articles(gone)
                touched.update(gone)
                summary.deleted += len(gone)

        # A write of a few articles into a large store is clustered from the keyword index's LSH bands
        # (reclustered); else, and when that index is behind or the write prunes, from every record.
        reclustered = complete = None
        if writer is not None and not writer.found_behind and prune_roots is None:
            reclustered = self.reclustered(writer, records, touched)
        if reclustered is not None:
            moved = reclustered.moved
        else:
            complete = self.store.complete_records()
            moved = self.cluster_updates({a.id: a.text for a in unique}, shard, complete)
            touched.update(_newly_signed(complete, moved))  # their documents take their bands
        if moved:
            if not changed:
                self.store.bump_version()  # readers cache clusters by version: they must see the move
                changed = True
            self.store.write_records(moved)
        if changed or (writer is not None and writer.found_behind):
            if shard.is_whole:
                # The records as they now stand, without reading the manifest once more to publish them.
                writer.catch_up(touched, None if complete is None else _as_written(complete, moved), reclustered)
            else:  # the index is ingest.shard.finish's to build: N shards would build it N times over
                self.store.bump_version()
        return summary

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

    def delete(self, article_ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """Delete articles by id; returns (deleted, unknown)."""
        ids = list(dict.fromkeys(article_ids))
        records = self.store.records_of(ids)
        known = [i for i in ids if i in records]
        unknown = [i for i in ids if i not in records]
        if known:
            with self._keyword_writer() as writer:
                self.store.bump_version()
                self.store.delete_articles(known)
                # The copies left may form new clusters.
                reclustered = None if writer.found_behind else self.reclustered(writer, records, set(known))
                if reclustered is not None:
                    self.store.write_records(reclustered.moved)
                    writer.catch_up(known, reclustered=reclustered)
                    return known, unknown
                complete = self.store.complete_records()
                moved = self.cluster_updates(complete=complete)
                self.store.write_records(moved)
                writer.catch_up([*known, *_newly_signed(complete, moved)], _as_written(complete, moved))
        return known, unknown

    def refresh_keywords(self) -> None:
        """Bring the keyword index up to the whole store (after sharded runs, say)."""
        refresh_keywords(self.settings, self.store)

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

    def _refuse_oversized(self, articles: list[Article]) -> tuple[list[Article], list[LoadFailure]]:
        """``articles`` within ``max_article_mb``, and one failure (file, size, setting) for each other."""
        limit_mb = self.settings.max_article_mb
        kept, refused = [], []
        for article in articles:
            # Four bytes a character at most: only a text that could be over the limit is measured.
            size = len(article.text) * 4 > limit_mb * 1_000_000 and len(article.text.encode("utf-8"))
            if not size or size <= limit_mb * 1_000_000:
                kept.append(article)
                continue
            refused.append(
                LoadFailure(
                    path=article.path,
                    error=(f"article {article.id!r}: " if _holds_many(article.path) else "")  # name the one meant
                    + f"{size / 1_000_000:.3g} MB of text is over NEWSDESK_MAX_ARTICLE_MB={limit_mb:g}; not ingested "
                    "(raise the setting to ingest it)",
                )
            )
        return kept, refused

    @staticmethod
    def _dedupe(articles: list[Article], summary: IngestSummary, shard: Shard = WHOLE) -> list[Article]:
        first: dict[str, Article] = {}
        for article in articles:
            if article.id in first:
                if not shard.owns(article.id):
                    continue  # the shard of that id reports it
                summary.failed.append(
                    LoadFailure(
                        path=article.path,
                        error=f"duplicate article id {article.id!r} (already read from {first[article.id].path})",
                    )
                )
                continue
            first[article.id] = article
        return list(first.values())
