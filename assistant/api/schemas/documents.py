"""``/v1/documents``: the ingested articles as listed, and the ingest request and its summary."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from assistant.api.schemas.urls import MAX_URL_LINES, MAX_URLS_PER_REQUEST, WebUrl


class Document(BaseModel):
    """One ingested article (its text lives in the store as chunks)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "https://example.org/newsdesk-sample/france-uk-troop-pledges",
                    "title": "France and the UK pledge troops",
                    "url": "https://example.org/newsdesk-sample/france-uk-troop-pledges",
                    "published_at": "2025-09-04",
                    "source": "Example Wire",
                    "chunks": 3,
                }
            ]
        }
    )

    id: str = Field(description="Stable id: the article's own id, else its url, else where it came from.")
    title: str
    url: str = ""
    published_at: str = Field(default="", description="YYYY-MM-DD, or empty when unknown.")
    source: str = ""
    chunks: int = Field(description="Chunks indexed for this article.")


class DocumentList(BaseModel):
    total: int = Field(description="Documents in the store (all pages).")
    offset: int
    limit: int
    items: list[Document]


class IngestRequest(BaseModel):
    """Articles in the JSON article format that ``newsdesk ingest`` reads from .json/.jsonl files,
    and/or URLs to fetch them from (article pages, feeds, sitemaps, home pages)."""

    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={
            # One of the two at least (both is fine).
            "anyOf": [{"required": ["articles"]}, {"required": ["urls"]}, {"required": ["url_lines"]}],
            "examples": [
                {
                    "articles": [
                        {
                            "id": "wire-2025-0412",
                            "title": "City opens new library",
                            "url": "https://example.org/news/library",
                            "published_at": "2025-04-12",
                            "source": "Example Wire",
                            "text": "The city opened its new library on Saturday ...",
                        }
                    ]
                },
                {"urls": ["https://example.org/news/rss.xml", "https://example.org/news/2025/04/library-opens.html"]},
                {"url_lines": ["https://example.org/news/rss.xml", "", "example.org/news/library-opens"]},
            ],
        },
    )

    articles: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "Each an object with `text` (or `body`, required) and optional `id`, `title`, `url`, "
            "`published_at` (or `date`), `source`, `authors`. Without `id` and `url`, the id is derived "
            "from the text. An article that cannot be read is reported in `failed`; the others are ingested."
        ),
    )
    urls: list[WebUrl] = Field(
        default_factory=list,
        max_length=MAX_URLS_PER_REQUEST,
        description=(
            "URLs to fetch and extract, like `newsdesk ingest URL...`: an article page is one article; a "
            "feed (RSS/Atom), a sitemap or a home page (through the feeds it links) is the stories it "
            "lists. A URL that cannot be fetched or read is reported in `failed` with its `url`; the "
            "others are ingested. Private and loopback addresses are refused unless "
            "NEWSDESK_FETCH_ALLOW_PRIVATE is set. One URL that is not http(s) makes the request a 422 "
            "(nothing is fetched); `url_lines` reports it apart instead."
        ),
    )
    url_lines: list[StrictStr] = Field(
        default_factory=list,
        max_length=MAX_URL_LINES,
        description=(
            "URLs as a person typed them, one item per line of a text box (the web page's \"Add articles\"). "
            "Each is trimmed and a blank one skipped; one that is not an http(s) URL is listed in `failed` "
            "with its `line` (its 1-based position here) while the others are fetched like `urls`, and a "
            f"failed fetch is listed with its `line` too. At most {MAX_URLS_PER_REQUEST} URLs in `urls` and "
            "`url_lines` together."
        ),
    )


class IngestFailure(BaseModel):
    index: int | None = Field(
        default=None, description="Position of the article in the request's `articles`; null for a URL."
    )
    url: str | None = Field(
        default=None, description="The URL that failed (one of `urls`, or a page a feed listed); null for an article."
    )
    line: int | None = Field(
        default=None, description="The 1-based item of `url_lines` that failed (not a URL, or not fetched); null otherwise."
    )
    error: str


class IngestWarning(BaseModel):
    url: str = Field(description="The URL the warning is about.")
    message: str = Field(description="Read and ingested, but something looked wrong (say a body far shorter than its page).")


class IngestResponse(BaseModel):
    """The ingest summary: what changed in the store."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"added": 1, "updated": 0, "unchanged": 0, "deleted": 0, "chunks": 2, "ids": ["wire-2025-0412"], "failed": [], "warnings": []},
                {
                    "added": 2,
                    "updated": 0,
                    "unchanged": 1,
                    "deleted": 0,
                    "chunks": 7,
                    "ids": ["https://example.org/news/a", "https://example.org/news/b", "https://example.org/news/c"],
                    "failed": [{"index": None, "url": "https://example.org/news/gone", "error": "HTTP 404 Not Found"}],
                    "warnings": [],
                },
            ]
        }
    )

    added: int
    updated: int
    unchanged: int
    deleted: int
    chunks: int = Field(description="Chunks embedded and written by this request.")
    ids: list[str] = Field(
        default_factory=list, description="Ids of the accepted articles: `articles` in request order, then those read from `urls`."
    )
    failed: list[IngestFailure]
    warnings: list[IngestWarning] = Field(default_factory=list)


class DeleteResponse(BaseModel):
    deleted: str = Field(description="Id of the removed document.")
