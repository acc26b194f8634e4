"""The ingest progress bar shared by `newsdesk ingest` and `newsdesk eval --corpus` (terminals only)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console


@contextmanager
def ingest_progress(console: Console, label: str = "articles", transient: bool = False) -> Iterator[Callable[[str, int], None]]:
    """A rich bar for articles and a counter for chunks; yields the hook ``Ingester`` reports to."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=transient) as bar:
        articles = bar.add_task(label, total=None)
        chunks = bar.add_task("chunks embedded", total=None)

        def progress(event: str, n: int) -> None:
            if event == "articles_total":
                bar.update(articles, total=n)
            elif event == "articles":
                bar.advance(articles, n)
            elif event == "chunks":
                bar.update(chunks, completed=n)

        yield progress
