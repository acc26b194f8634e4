"""``/v1/documents``: list, read, add (through the same idempotent ingest as ``newsdesk ingest``: JSON
articles and/or URLs to fetch) and delete articles. Ids can hold slashes and colons (urls are ids),
hence the ``{id:path}`` routes."""

# No `from __future__ import annotations`: FastAPI reads the annotations of these routes.

import hashlib
import logging

from fastapi import APIRouter, Depends, Path, Query

from assistant.api import Services, get_services
from assistant.api.errors import ApiError, error_responses, invalid
from assistant.api.schemas import (
    MAX_URLS_PER_REQUEST, DeleteResponse, Document, DocumentList, IngestFailure, IngestRequest, IngestResponse,
    IngestWarning, checked_web_url,
)  # fmt: skip
from assistant.settings import Settings
from assistant.library import COMPLETE, ArticleRecord
from ingest.article import Article, LoadFailure, LoadResult
from ingest.loaders import article_from_json

log = logging.getLogger("assistant.api")

ORIGIN = "api"  # recorded as the article's path: never under a folder that `ingest --prune` walks

ID_DOC = "Document id (urls and paths are ids: slashes and colons are fine, unescaped)."


def _document(record: ArticleRecord) -> Document:
    return Document(
        id=record.id,
        title=record.title,
        url=record.url,
        published_at=record.published_at,
        source=record.source,
        chunks=record.chunks,
    )


def _not_found(doc_id: str) -> ApiError:
    shown = doc_id if len(doc_id) <= 200 else doc_id[:200] + "..."
    return ApiError(404, "not_found", f"no document with id {shown!r}")


def _default_id(item: object) -> str:
    """Id of an article without ``id`` and ``url``: from its text, so posting it again finds it."""
    text = None
    if isinstance(item, dict):
        text = item.get("text") if item.get("text") is not None else item.get("body")
    digest = hashlib.sha256(str(text).encode("utf-8")).hexdigest()
    return f"{ORIGIN}:{digest[:16]}"


def parse_articles(items: list) -> tuple[list[Article], list[IngestFailure]]:
    """Articles through the ingest loaders' JSON reader; bad ones (and repeated ids) become failures."""
    articles: list[Article] = []
    failed: list[IngestFailure] = []
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        try:
            article = article_from_json(item, ORIGIN, _default_id(item))
        except ValueError as exc:
            failed.append(IngestFailure(index=index, error=str(exc)))
            continue
        if article.id in first:
            failed.append(IngestFailure(index=index, error=f"duplicate article id {article.id!r} (also item {first[article.id]})"))
            continue
        first[article.id] = index
        articles.append(article)
    return articles, failed


def read_url_lines(lines: list[str]) -> tuple[dict[str, int], list[IngestFailure]]:
    """The URLs of ``url_lines`` with the line each was first given on, and a failure for each line
    that is not one (blank lines are skipped)."""
    urls: dict[str, int] = {}
    failed: list[IngestFailure] = []
    for number, line in enumerate(lines, start=1):
        url = line.strip()
        if not url:
            continue
        try:
            urls.setdefault(checked_web_url(url), number)
        except ValueError as exc:
            failed.append(IngestFailure(line=number, error=str(exc)))
    return urls, failed


def load_web(urls: list[str], settings: Settings) -> LoadResult:
    """Articles from ``urls`` (article pages, feeds, sitemaps, home pages); nothing fetched when empty."""
    if not urls:
        return LoadResult()
    from ingest.web import load_urls

    return load_urls(urls, settings)


def _failure(failure: LoadFailure, lines: dict[str, int]) -> IngestFailure:
    # The JSON articles' failures are reported by index before ingest; what the ingester adds is a URL's
    # (or, for an id posted twice, an article's path, which is "api" for the JSON ones).
    url = failure.path if failure.path != ORIGIN else None
    return IngestFailure(url=url, line=lines.get(url), error=failure.error)


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.get("/v1/documents", response_model=DocumentList, summary="List documents", responses=error_responses(401, 422, 500))
    def list_documents(
        offset: int = Query(0, ge=0, description="Documents to skip."),
        limit: int = Query(50, ge=1, le=500, description="Page size."),
        services: Services = Depends(get_services),
    ) -> DocumentList:
        """The ingested documents, newest first (then by id), a page at a time.

        Example: `curl -s 'localhost:8000/v1/documents?offset=0&limit=20'` →
        `{"total": 10, "offset": 0, "limit": 20, "items": [{"id": ..., "title": ..., "chunks": 3}, ...]}`
        """
        records = services.engine.store.complete_records()
        records.sort(key=lambda r: r.id)
        records.sort(key=lambda r: r.published_at, reverse=True)
        page = records[offset : offset + limit]
        return DocumentList(total=len(records), offset=offset, limit=limit, items=[_document(r) for r in page])

    @router.get(
        "/v1/documents/{id:path}", response_model=Document, summary="Get a document", responses=error_responses(401, 404, 422, 500)
    )
    def get_document(id: str = Path(description=ID_DOC), services: Services = Depends(get_services)) -> Document:
        """One document by id.

        Example: `curl -s localhost:8000/v1/documents/https://example.org/newsdesk-sample/france-uk-troop-pledges`
        """
        record = services.engine.store.get_record(id)
        if record is None or record.status != COMPLETE:
            raise _not_found(id)
        return _document(record)

    @router.post(
        "/v1/documents",
        response_model=IngestResponse,
        summary="Add or update documents",
        responses=error_responses(401, 413, 422, 500),
    )
    def add_documents(body: IngestRequest, services: Services = Depends(get_services)) -> IngestResponse:
        # A plain `def`: FastAPI runs it in a worker thread (fetching and embedding block).
        """Ingest articles given as JSON (the format `newsdesk ingest` reads from .json files), and/or
        fetched from `urls` (article pages, RSS/Atom feeds, sitemaps, home pages), like
        `newsdesk ingest URL...`. Give `articles`, `urls` or both.

        Idempotent, like `newsdesk ingest`: an article already stored with the same content is
        `unchanged` (nothing is embedded), a changed one replaces its old chunks. An article that
        cannot be read (no text, a field of the wrong type, an id repeated in the request) is listed
        in `failed` with its `index`; a URL that cannot be fetched or read (a 404, a timeout, a private
        address, not a page or feed) is listed in `failed` with its `url`; the others are ingested all
        the same. `warnings` name URLs that were ingested but looked wrong. At most 50 URLs a request;
        a URL in `urls` that is not http(s) is a 422 naming it, and nothing is fetched.

        `url_lines` takes URLs as a person typed them, one item per line (the web page sends its "Add
        articles" box so): a line that is not an http(s) URL is listed in `failed` with its `line`
        while the good ones are fetched and added, and a URL that cannot be fetched is listed with its
        `line` too. `urls` keeps its all-or-nothing check for the clients that rely on it (`newsdesk
        ingest --server` splits a refused batch to find the bad URL).

        Examples:

            curl -s localhost:8000/v1/documents -H 'Content-Type: application/json' -d '{"articles": [
                {"id": "wire-0412", "title": "City opens library", "published_at": "2025-04-12",
                 "text": "The city opened its new library on Saturday ..."}]}'

            curl -s localhost:8000/v1/documents -H 'Content-Type: application/json' \\
                -d '{"urls": ["https://example.org/news/rss.xml", "https://example.org/news/2025/04/library.html"]}'

            curl -s localhost:8000/v1/documents -H 'Content-Type: application/json' \\
                -d '{"url_lines": ["https://example.org/news/rss.xml", "not a url"]}'
            → `"failed": [{"index": null, "url": null, "line": 2, "error": "'not a url' is not an http:// or https:// URL with a host"}]`
        """
        if not body.model_fields_set & {"articles", "urls", "url_lines"}:
            raise invalid("articles", "is required (or urls, or url_lines)")
        lines, bad_lines = read_url_lines(body.url_lines)
        urls = list(dict.fromkeys([*body.urls, *lines]))
        if len(urls) > MAX_URLS_PER_REQUEST:
            raise invalid("url_lines", f"at most {MAX_URLS_PER_REQUEST} URLs a request (urls and url_lines together), got {len(urls)}")
        articles, failed = parse_articles(body.articles)
        failed.extend(bad_lines)
        web = load_web(urls, services.settings)  # fetched before taking the lock: other writes go on meanwhile
        with services.write_lock:
            summary = services.ingester.ingest_articles(articles + web.articles, web.failures, warnings=web.warnings)
        failed.extend(_failure(f, lines) for f in summary.failed)
        return IngestResponse(
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
            deleted=summary.deleted,
            chunks=summary.chunks,
            ids=list(dict.fromkeys(a.id for a in articles + web.articles)),  # an id read twice is listed once
            failed=failed,
            warnings=[IngestWarning(url=w.path, message=w.message) for w in summary.warnings],
        )

    @router.delete(
        "/v1/documents/{id:path}",
        response_model=DeleteResponse,
        summary="Delete a document",
        responses=error_responses(401, 404, 422, 500),
    )
    def delete_document(id: str = Path(description=ID_DOC), services: Services = Depends(get_services)) -> DeleteResponse:
        """Remove a document and all its chunks from the store.

        Example: `curl -s -X DELETE localhost:8000/v1/documents/sample-reactions` → `{"deleted": "sample-reactions"}`
        """
        with services.write_lock:
            deleted, _unknown = services.ingester.delete([id])
        if not deleted:
            raise _not_found(id)
        return DeleteResponse(deleted=id)

    return router

