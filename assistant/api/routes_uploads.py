"""``POST /v1/uploads``: article files (.md, .txt, .html, .json, .jsonl) sent as text, read by the same
loaders as ``newsdesk ingest`` (front matter, HTML extraction, JSON rows) and ingested like
``POST /v1/documents``. The web page's upload button sends what the person picked.

Each file is read by :func:`ingest.loaders.load_bytes` under its own name, so an uploaded file gets the
id ``newsdesk ingest`` would give it.
"""

# No `from __future__ import annotations`: FastAPI reads the body type of routes built in a function.

import dataclasses
from pathlib import Path

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from assistant.api import Services, get_services
from assistant.api.errors import error_responses
from assistant.settings import Settings
from ingest.article import LoadFailure, LoadResult
from ingest.loaders import load_bytes

ORIGIN = "upload"  # recorded as the articles' path: never under a folder that `ingest --prune` walks
MAX_FILES = 50


# A plain file name: no folder separators or control characters, not "." or ".."; at most 60 characters
# (at most 240 bytes in UTF-8: every file system takes it). Stated in the schema, so it is all checked.
_NAME_CHAR = r"[^/\\\x00-\x1f\x7f]"
FILE_NAME = rf"^{_NAME_CHAR}*[^./\\\x00-\x1f\x7f]{_NAME_CHAR}*$"


class UploadFile(BaseModel):
    name: str = Field(
        min_length=1, max_length=60, pattern=FILE_NAME, description="The file's name (no folders); its extension picks the reader."
    )
    content: str = Field(description="The file's text.")


class UploadRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"files": [{"name": "library.md", "content": "# City opens library\n\nThe city opened ..."}]}]},
    )

    files: list[UploadFile] = Field(min_length=1, max_length=MAX_FILES)


class UploadFailure(BaseModel):
    file: str = Field(description="The uploaded file's name.")
    line: int | None = Field(default=None, description="The line of the file at fault (a JSONL row, a front matter error), when known.")
    error: str


class UploadResponse(BaseModel):
    added: int
    updated: int
    unchanged: int
    chunks: int
    ids: list[str]
    failed: list[UploadFailure]


def load_uploads(files: list[UploadFile]) -> tuple[LoadResult, list[UploadFailure]]:
    """Articles from the uploaded files, read by the ingest loaders; failures name the file."""
    result = LoadResult()
    failed: list[UploadFailure] = []
    for upload in files:
        loaded = load_bytes(upload.name, upload.content.encode("utf-8"))
        result.articles.extend(dataclasses.replace(a, path=ORIGIN) for a in loaded.articles)
        failed.extend(UploadFailure(file=upload.name, line=f.line, error=f.error) for f in loaded.failures)
    return result, failed


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.post("/v1/uploads", response_model=UploadResponse, summary="Upload article files", responses=error_responses(401, 413, 422, 500))
    def upload(body: UploadRequest, services: Services = Depends(get_services)) -> UploadResponse:
        # A plain `def`: FastAPI runs it in a worker thread (HTML extraction and embedding block).
        """Ingest article files sent as text: `.md` (YAML front matter), `.txt`, `.html` (the article
        is extracted from the page), `.json` / `.jsonl` (the article format of `newsdesk ingest`).
        A file that cannot be read is listed in `failed` by name, with the `line` at fault when the
        reader knows it (a bad row of a .jsonl file: its other rows are ingested, as `newsdesk ingest`
        does); the others are ingested all the same.

        Example: `curl -s localhost:8000/v1/uploads -H 'Content-Type: application/json'
        -d '{"files": [{"name": "library.md", "content": "# City opens library\\n\\nThe city opened ..."}]}'`
        """
        loaded, failed = load_uploads(body.files)
        with services.write_lock:
            summary = services.ingester.ingest_articles(loaded.articles)
        failed.extend(UploadFailure(file=_name(f), line=f.line, error=f.error) for f in summary.failed)
        return UploadResponse(
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
            chunks=summary.chunks,
            ids=list(dict.fromkeys(a.id for a in loaded.articles)),
            failed=failed,
        )

    return router


def _name(failure: LoadFailure) -> str:
    return Path(failure.path).name if failure.path != ORIGIN else ORIGIN
