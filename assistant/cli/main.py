"""The ``newsdesk`` command line: a thin door that translates arguments to engine calls and back."""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import List, Optional, Sequence

import typer
from rich.console import Console

from assistant.answer import TOP_K_MAX, TOP_K_MIN, Answer, Turn
from assistant.cli.extract import register as register_extract
from assistant.cli.feeds import register as register_feeds
from assistant.cli.loading import current_settings, loading, open_engine, open_ingester

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ask questions of your news articles, with citations.")
# No hard wrapping when piped: a long line stays one line for scripts and logs.
out = Console(soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, soft_wrap=True)
_state = {"debug": False}


class CliError(Exception):
    """An error the user can fix: printed as one line, exit code 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    _state["debug"] = debug
    logging.basicConfig(
        level=logging.INFO if verbose or debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _parse_shard(text: str):
    from ingest.shard import parse_shard

    try:
        return parse_shard(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None  # shown after "Invalid value for '--shard'"


@app.command()
def ingest(
    paths: Optional[List[str]] = typer.Argument(
        None, help="Files or folders (.md .txt .html .json .jsonl), read recursively, or http(s):// URLs of "
        "article pages, feeds, sitemaps or home pages."
    ),
    prune: bool = typer.Option(False, "--prune", help="Delete articles once read from these paths that are gone now."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    shard: Optional[str] = typer.Option(
        None, "--shard", metavar="I/N", parser=_parse_shard,
        help="Be shard I of N processes ingesting the same files into one Chroma server: embed only the articles "
        "whose id hashes to I (files only). Run `newsdesk ingest --finish` once all N have exited.",
    ),
    finish: bool = typer.Option(
        False, "--finish", help="After a sharded ingest: cluster syndicated copies across shards and build the "
        "keyword index (no paths; embeds nothing)."
    ),
    server: Optional[str] = typer.Option(
        None, "--server", metavar="URL", help="Send the articles to a running `newsdesk serve` at URL (POST /v1/documents, "
        "key from NEWSDESK_API_KEY or NEWSDESK_API_KEYS) instead of writing the store here: how to add articles to a "
        "local store a server holds. Files are read here; URLs are fetched by the server."
    ),
) -> None:
    """Chunk, embed and store articles. Unchanged articles are skipped; changed ones replaced."""
    if finish:
        if paths or shard is not None or prune:
            raise CliError("--finish takes no paths, --shard or --prune: run it alone, after every shard has exited")
        return _finish_shards(as_json)
    if not paths:
        raise CliError("nothing to ingest: give files, folders or URLs (or --finish after a sharded ingest)")
    from ingest.shard import WHOLE
    from ingest.web import is_url

    urls = [p for p in paths if is_url(p)]
    files = [Path(p) for p in paths if not is_url(p)]
    if shard is not None and urls:
        raise CliError(f"--shard splits files and folders only, not URLs ({urls[0]}): ingest URLs in one process")
    if shard is not None and not server and not current_settings().chroma_host:
        raise CliError("--shard needs a Chroma server (NEWSDESK_CHROMA_HOST): a local store is one process's at a time")
    if server:
        if prune or shard is not None:
            raise CliError("--server takes no --prune or --shard: the server ingests what it is sent, in one store")
        from assistant.cli.ingest_remote import ingest_remote

        summary = ingest_remote(server, files, urls, current_settings())
    else:
        ingester = open_ingester("ingest")
        shard = shard or WHOLE
        from ingest.progress import ingest_progress

        with ingest_progress(err) if out.is_terminal and not as_json else nullcontext() as progress:
            summary = ingester.ingest_paths(files, prune=prune, progress=progress, urls=urls, shard=shard)
    if as_json:
        print(json.dumps(summary.as_dict()))
    else:
        for failure in summary.failed:
            where = f"{failure.path}:{failure.line}" if failure.line else failure.path
            err.print(f"[red]failed[/red] {where}: {failure.error}", highlight=False)
        for warning in summary.warnings:
            where = f"{warning.path}:{warning.line}" if warning.line else warning.path
            err.print(f"[yellow]warning[/yellow] {where}: {warning.message}", highlight=False)
        out.print(summary.line(), highlight=False)
    raise typer.Exit(1 if summary.failed else 0)


def _finish_shards(as_json: bool) -> None:
    from ingest.shard import finish

    summary = finish(open_ingester())
    if as_json:
        print(json.dumps(summary.as_dict()))
    else:
        out.print(summary.line(), highlight=False)
    raise typer.Exit(1 if summary.pending else 0)


def _print_answer(answer: Answer) -> None:
    style = "yellow" if answer.declined else None
    out.print(answer.answer, style=style, highlight=False)
    if answer.time_scope is not None:
        out.print(f"Searched: {answer.time_scope.describe()}", style="dim", highlight=False, markup=False)
    if answer.sources:
        out.print()
        label = "Closest sources:" if answer.declined else "Sources:"
        out.print(label, style="bold")
        for s in answer.sources:
            # The title, then who published it and wrote it, and when: "Title — Outlet, by A. Writer (2026-01-08)".
            byline = ", ".join(filter(None, [s.source, f"by {', '.join(s.authors)}" if s.authors else ""]))
            details = (f" — {byline}" if byline else "") + (f" ({s.published_at})" if s.published_at else "")
            out.print(f"[{s.n}] {s.title}{details}", highlight=False, markup=False)
            if s.url:
                out.print(f"    {s.url}", highlight=False, markup=False)
            if s.also_in:
                copies = "; ".join(f"{c.source or c.title}" + (f" <{c.url}>" if c.url else "") for c in s.also_in)
                out.print(f"    also in: {copies}", style="dim", highlight=False, markup=False)
            out.print(f"    “{s.quote}”", style="dim", highlight=False, markup=False)


class _LocalAsker:
    """Questions to the engine over the local store (or the Chroma server the settings name)."""

    where = ""
    ingest_hint = "newsdesk ingest PATH"

    def __init__(self, engine):
        self.engine = engine

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
        return self.engine.ask(question, list(history), top_k=top_k)

    def nothing_ingested(self) -> bool:
        return self.engine.store.count_chunks() == 0


def _asker(server: str | None, command: str, warm_up: bool):
    """Who answers: the running server at ``server`` (``POST /v1/ask``), or the engine here."""
    if server:
        from assistant.cli.remote import RemoteAsker

        return RemoteAsker(server, current_settings())
    return _LocalAsker(open_engine(warm_up=warm_up, command=command))


def _answer(asker, question: str, history: Sequence[Turn] = (), top_k: int | None = None) -> Answer:
    answer = asker.ask(question, history, top_k)
    # A store with nothing in it declines every question; what helps is ingesting, not rephrasing.
    # (Asked only then: counting a large store on every question would cost the server a read of it.)
    if answer.declined and not answer.retrieved and asker.nothing_ingested():
        raise CliError(f"nothing is ingested yet{asker.where}: {asker.ingest_hint}")
    return answer


_SERVER_HELP = (
    "Ask a running `newsdesk serve` at URL (POST /v1/ask, key from NEWSDESK_API_KEY or NEWSDESK_API_KEYS) "
    "instead of opening the store here: how to ask while another process holds a local store."
)


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole Answer as JSON."),
    top_k: Optional[int] = typer.Option(None, "--top-k", min=TOP_K_MIN, max=TOP_K_MAX, help="Chunks handed to the answerer."),
    server: Optional[str] = typer.Option(None, "--server", metavar="URL", help=_SERVER_HELP),
) -> None:
    """Answer one question with numbered citations (exit 0 whether it answers or declines)."""
    if not question.strip():
        raise CliError("question is empty")
    # One question: no first-use costs paid ahead.
    answer = _answer(_asker(server, "ask", warm_up=False), question, top_k=top_k)
    if as_json:
        print(answer.model_dump_json(indent=2))
    else:
        _print_answer(answer)


@contextmanager
def _prompt_history(settings):
    """Line editing at the prompt (arrows, Ctrl-R) and the questions of earlier chats, kept in the
    data folder: Python's readline, at a terminal only (piped input is read as it comes)."""
    if not sys.stdin.isatty():
        yield
        return
    try:
        import readline
    except ImportError:  # a Python built without it: the plain prompt still works
        yield
        return
    path = settings.data_dir / "chat_history"
    try:
        readline.read_history_file(path)
    except OSError:
        pass  # no chat yet
    readline.set_history_length(1000)
    try:
        yield
    finally:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError as exc:
            err.print(f"chat history not saved: {exc}", style="dim", highlight=False, markup=False)


@app.command()
def chat(server: Optional[str] = typer.Option(None, "--server", metavar="URL", help=_SERVER_HELP)) -> None:
    """Ask questions in a loop; follow-ups are understood in the context of the conversation."""
    asker = _asker(server, "chat", warm_up=True)
    history: list[Turn] = []
    err.print("Ask a question (empty line or Ctrl-D to quit).", style="dim")
    with _prompt_history(current_settings()):
        while True:
            try:
                question = input("> ").strip()
            except (EOFError, KeyboardInterrupt):
                break
            if not question:
                break
            answer = _answer(asker, question, history)
            if answer.standalone_question != question:
                err.print(f"(understood as: {answer.standalone_question})", style="dim", highlight=False)
            _print_answer(answer)
            out.print()
            history += [Turn(role="user", content=question), Turn(role="assistant", content=answer.answer)]


@app.command()
def sources(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """What is ingested: article and chunk counts, newest dates, articles per source, and each article's id and title."""
    from assistant.library import open_store

    # Listing cannot go wrong beside a process writing the store: it may go on without the lock.
    store = open_store(current_settings(), lock=False)
    records = store.complete_records()
    dates = sorted({r.published_at for r in records if r.published_at}, reverse=True)
    per_source = Counter(r.source or "(unknown)" for r in records)
    # Newest first: the ids are what `newsdesk delete` takes.
    listing = sorted(records, key=lambda r: (r.published_at or "", r.id), reverse=True)
    report = {
        "articles": len(records),
        "chunks": store.count_chunks(),
        "newest": dates[:5],
        "sources": dict(per_source.most_common()),
        "article_list": [
            {"id": r.id, "title": r.title, "published_at": r.published_at, "source": r.source} for r in listing
        ],
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    out.print(f"{report['articles']} articles, {report['chunks']} chunks", highlight=False)
    if dates:
        out.print(f"newest: {', '.join(dates[:5])}", highlight=False)
    for source, count in per_source.most_common(20):
        out.print(f"  {count:6d}  {source}", highlight=False, markup=False)
    if listing:
        out.print("articles (date, id, title):", highlight=False)
    for r in listing:
        out.print(f"  {r.published_at or '----------'}  {r.id}  {r.title}", highlight=False, markup=False)


@app.command()
def delete(ids: List[str] = typer.Argument(..., help="Article ids to remove.")) -> None:
    """Remove articles (all their chunks) from the store."""
    deleted, unknown = open_ingester().delete(ids)
    for article_id in unknown:
        err.print(f"no such article: {article_id}", highlight=False, markup=False)
    out.print(f"deleted {len(deleted)}", highlight=False)
    raise typer.Exit(1 if unknown else 0)


@app.command()
def reindex() -> None:
    """Embed every stored article again with the configured embedder (NEWSDESK_EMBEDDING), from the texts in the
    store, into a new collection that then replaces the old one (which keeps serving until it is done)."""
    from assistant.library import claim_local_store

    settings = current_settings()
    claim_local_store(settings)
    with loading():
        from ingest.reindex import reindex as reindex_store

        summary = reindex_store(settings)
    out.print(summary.line(), highlight=False)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (share a Chroma server via NEWSDESK_CHROMA_HOST)."),
) -> None:
    """Run the HTTP API (and Slack events at /slack/events when Slack credentials are set)."""
    from assistant.api.server import serve as run_server

    run_server(host=host, port=port, workers=workers)


@app.command()
def slack() -> None:
    """Run the Slack app over Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)."""
    from assistant.slack.socket_mode import run_socket_mode

    run_socket_mode(current_settings())


def _register_eval() -> None:
    # The evaluator lives in eval/ (tooling, not engine); the CLI only mounts its command.
    from eval.cli import eval_command

    app.command("eval")(eval_command)


_register_eval()
register_extract(app)
register_feeds(app)


def run() -> None:
    """Console-script entry point: user errors become one line on stderr, never a traceback."""
    try:
        code = app(standalone_mode=False)  # click returns a command's typer.Exit code here
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the door turns every failure into one clear line
        import click

        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if callable(getattr(exc, "format_message", None)) and isinstance(getattr(exc, "exit_code", None), int):
            # The same from typer's own copy of click (typer 0.2x): "Invalid value for '--top-k': ...".
            err.print(f"error: {exc.format_message()}", highlight=False, markup=False)
            sys.exit(exc.exit_code)
        if _state["debug"]:
            raise
        message = str(exc) or exc.__class__.__name__
        if isinstance(exc, FileNotFoundError) and exc.filename:
            message = f"no such file or folder: {exc.filename}"
        err.print(f"error: {message}", highlight=False, markup=False)
        sys.exit(getattr(exc, "code", 1) if isinstance(getattr(exc, "code", None), int) else 1)
    finally:
        # The process ends here. Frozen, the heap is left out of the interpreter's last collections,
        # which otherwise walk every object the engine built: measured ~1.1 s of a `newsdesk ask`
        # between the printed answer and the prompt (2 busy cores), ~0.15 s frozen.
        gc.freeze()


if __name__ == "__main__":
    run()
