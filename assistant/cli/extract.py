"""``newsdesk extract``: what ingest would store for files, folders and URLs, without storing it.

Only the loaders run (no store, no embedder), so it answers in about the time it takes to parse
the pages: the tool for checking a new source before ingesting it, and for scoring extraction.
"""

from __future__ import annotations

import json
import sys
from typing import List

import typer
from rich.console import Console
from rich.text import Text

from ingest.article import Article, LoadFailure, LoadResult

PREVIEW_CHARS = 300


def register(app: typer.Typer) -> None:
    """Mount the ``extract`` command on the ``newsdesk`` app."""
    app.command("extract")(extract)


def extract(
    inputs: List[str] = typer.Argument(..., metavar="PATH_OR_URL...", help="Files, folders (read recursively) or http(s) URLs."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per article, one a line."),
) -> None:
    """Show what ingest would store for each input (title, date, source, authors, url, text), storing nothing.

    Failures go to stderr naming the input; the exit code is 1 if any input failed.
    """
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    failed = False
    for result in _results(inputs):
        warnings: dict[str, list[str]] = {}
        for warning in result.warnings:
            warnings.setdefault(warning.path, []).append(warning.message)
        for article in result.articles:
            messages = warnings.get(article.path, [])
            if as_json:
                print(json.dumps(article_json(article, messages), ensure_ascii=False))
            else:
                _print_article(out, article, messages)
        for failure in result.failures:
            failed = True
            err.print(Text.assemble(("failed", "red"), f" {_where(failure)}: {failure.error}"))
        if not as_json:
            articles = {a.path for a in result.articles}
            for path, messages in warnings.items():  # warnings about no article printed above
                for message in messages if path not in articles else ():
                    err.print(Text.assemble(("warning", "yellow"), f" {path}: {message}"))
    sys.stdout.flush()
    raise typer.Exit(1 if failed else 0)


def article_json(article: Article, warnings: list[str]) -> dict:
    """The JSON line for one article: what ingest would store, plus where it came from."""
    return {"origin": article.path, **article.as_json(), "warnings": warnings}


def _results(inputs: list[str]):
    """One ``LoadResult`` per input (consecutive URLs together, fetched as one batch), in input order."""
    urls: list[str] = []
    for given in inputs:
        if given.startswith(("http://", "https://")):
            urls.append(given)
            continue
        if urls:
            yield _load_urls(urls)
            urls = []
        yield _load_path(given)
    if urls:
        yield _load_urls(urls)


def _load_path(given: str) -> LoadResult:
    from ingest.loaders import iter_files, load_file

    try:
        files = iter_files(given)
    except FileNotFoundError:
        return LoadResult(failures=[LoadFailure(path=given, error="no such file or folder")])
    result = LoadResult()
    for path in files:
        result.extend(load_file(path))
    if not files:
        result.failures.append(LoadFailure(path=given, error="no supported files in this folder"))
    return result


def _load_urls(urls: list[str]) -> LoadResult:
    from assistant.settings import get_settings
    from ingest.web import load_urls

    try:
        return load_urls(urls, get_settings())
    except Exception as exc:  # noqa: BLE001 - the fetcher reports per URL; this is its last line of defence
        return LoadResult(failures=[LoadFailure(path=u, error=f"could not fetch: {type(exc).__name__}: {exc}") for u in urls])


def _print_article(out: Console, article: Article, warnings: list[str]) -> None:
    out.print(article.title or "(no title)", style="bold", markup=False)
    facts = [
        ("date", article.published_at or "unknown"),
        ("source", article.source or "unknown"),
        ("authors", ", ".join(article.authors) or "none"),
        ("url", article.url or "none"),
        ("id", article.id),
        ("from", article.path),
    ]
    for label, value in facts:
        out.print(f"  {label:8s}{value}", markup=False)
    preview = " ".join(article.text.split())
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS].rsplit(" ", 1)[0] + " …"
    out.print(f"  {len(article.text)} characters: {preview}", style="dim", markup=False)
    for message in warnings:
        out.print(f"  warning: {message}", style="yellow", markup=False)
    out.print()


def _where(failure: LoadFailure) -> str:
    return f"{failure.path}:{failure.line}" if failure.line else failure.path
