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

The stages live beside it: :mod:`ingest.chunking` (articles into documents and chunks),
:mod:`ingest.writes` (hashes, records, the crash-safe write of a group), :mod:`ingest.reclustering`
(the syndication step) and :mod:`ingest.summary` (what a run reports). This module holds the
:class:`Ingester` that runs them.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from llama_index.core.ingestion import IngestionPipeline

from assistant.retrieval import keyword
from assistant.retrieval.keyword_component import refresh_keywords
from assistant.retrieval.store_embedder import check_embedder, hashed_as
from assistant.retrieval.store import COMPLETE, ArticleRecord, ArticleStore
from ingest.article import Article, LoadFailure, LoadWarning
from ingest.chunking import INDEX_VERSION, AnnotateChunks, make_splitter
from ingest.dates import undated_warnings
from ingest.loaders import load_paths
from ingest.reclustering import Reclustering, as_written, newly_signed
from ingest.shard import WHOLE, Shard
from ingest.summary import IngestSummary
from ingest.writes import CrashSafeWrites

log = logging.getLogger(__name__)


def _is_under(path: str, roots: list[Path]) -> bool:
    p = Path(path)
    return any(p == root or root in p.parents for root in roots)


def _holds_many(path: str) -> bool:
    """Whether articles read from ``path`` need their ids to be told apart: any but a one-article file
    or page (a JSON list, JSON lines, articles posted to the API, a feed's entries)."""
    return Path(path).suffix.lower() not in (".md", ".markdown", ".txt", ".html", ".htm")


ProgressHook = Callable[[str, int], None]  # (event, amount): "articles_total", "articles", "chunks"


# Its write protocol (ingest.writes) and re-clustering (ingest.reclustering) are methods of the
# Ingester too, kept in their own modules; what is here is the run that orders them.
class Ingester(CrashSafeWrites, Reclustering):
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
            touched.update(newly_signed(complete, moved))  # their documents take their bands
        if moved:
            if not changed:
                self.store.bump_version()  # readers cache clusters by version: they must see the move
                changed = True
            self.store.write_records(moved)
        if changed or (writer is not None and writer.found_behind):
            if shard.is_whole:
                # The records as they now stand, without reading the manifest once more to publish them.
                writer.catch_up(touched, None if complete is None else as_written(complete, moved), reclustered)
            else:  # the index is ingest.shard.finish's to build: N shards would build it N times over
                self.store.bump_version()
        return summary

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
                writer.catch_up([*known, *newly_signed(complete, moved)], as_written(complete, moved))
        return known, unknown

    def refresh_keywords(self) -> None:
        """Bring the keyword index up to the whole store (after sharded runs, say)."""
        refresh_keywords(self.settings, self.store)

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
