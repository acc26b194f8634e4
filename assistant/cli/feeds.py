"""``newsdesk feeds add|list|remove`` and ``newsdesk sync``: subscriptions and keeping the store current."""

from __future__ import annotations

import json
import threading
from typing import List, Optional

import typer
from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

feeds_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Feed subscriptions kept in the store.")


def _subscriptions(lock: bool = True):
    """The subscription list; ``lock=False`` for only listing it (see ``assistant.library``)."""
    from assistant.library import chroma_client
    from assistant.settings import get_settings
    from ingest.subscriptions import SubscriptionStore

    settings = get_settings()
    return SubscriptionStore(chroma_client(settings, lock=lock), settings.collection)


@feeds_app.command("add")
def feeds_add(
    url: str = typer.Argument(..., help="The feed's URL (RSS, Atom or a sitemap; a home page is searched for its feeds)."),
    name: str = typer.Option("", "--name", help="A name to list it by."),
) -> None:
    """Subscribe to a feed: `newsdesk sync` fetches it from now on."""
    try:
        sub, created = _subscriptions().add(url, name)
    except ValueError as exc:
        err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(1) from None
    out.print(f"{'added' if created else 'already subscribed'}: {sub.url}" + (f" ({sub.name})" if sub.name else ""), highlight=False, markup=False)
    from assistant.settings import get_settings
    from ingest.fetch import address_refusal

    refusal = address_refusal(sub.url, get_settings().fetch_allow_private)
    if refusal:
        err.print(f"warning: `newsdesk sync` will refuse this feed: {refusal}", highlight=False, markup=False)


@feeds_app.command("list")
def feeds_list(as_json: bool = typer.Option(False, "--json", help="Print as JSON, one subscription a line.")) -> None:
    """Subscriptions with their status, last success, last error and entries seen."""
    subs = _subscriptions(lock=False).list()
    if as_json:
        for sub in subs:
            print(json.dumps(sub.as_dict()))
        return
    if not subs:
        out.print("no subscriptions (add one with `newsdesk feeds add URL`)", highlight=False, markup=False)
    for sub in subs:
        out.print(f"{sub.status:8}  {sub.url}" + (f"  ({sub.name})" if sub.name else ""), highlight=False, markup=False)
        out.print(
            f"          last success {sub.last_success or 'never'}, entries seen {sub.entries_seen}"
            + (f", failures in a row {sub.failures}" if sub.failures else ""),
            highlight=False,
            markup=False,
        )
        if sub.last_error:
            out.print(f"          last error: {sub.last_error}", highlight=False, markup=False)


@feeds_app.command("remove")
def feeds_remove(url: str = typer.Argument(..., help="The subscribed URL.")) -> None:
    """Unsubscribe (the articles already ingested stay; `newsdesk delete` removes them)."""
    if not _subscriptions().remove(url):
        err.print(f"not subscribed: {url}", highlight=False, markup=False)
        raise typer.Exit(1)
    out.print(f"removed: {url}", highlight=False, markup=False)


def sync(
    urls: Optional[List[str]] = typer.Argument(None, help="Only these subscriptions (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    every: str = typer.Option("", "--every", help='Keep syncing at this interval ("15m", "1h"); Ctrl-C stops.'),
) -> None:
    """Fetch every subscribed feed once: new and changed entries are ingested, unchanged ones cost a 304."""
    from assistant.cli.loading import open_ingester
    from ingest.subscriptions import SubscriptionStore
    from ingest.sync import NotSubscribed, parse_interval, run_every, sync_subscriptions

    interval_s = None
    if every:
        try:
            interval_s = parse_interval(every)
        except ValueError as exc:
            err.print(f"--every: {exc}", highlight=False, markup=False)
            raise typer.Exit(2) from None
    ingester = open_ingester()
    subscriptions = SubscriptionStore(ingester.store.client, ingester.settings.collection)
    if not subscriptions.list():
        err.print("no subscriptions: add one with `newsdesk feeds add URL`", highlight=False, markup=False)

    def once(due_only: bool):
        return sync_subscriptions(
            subscriptions, ingester, ingester.settings, only=urls or None, due_only=due_only, interval_s=interval_s
        )

    stop = threading.Event()
    try:
        if interval_s is None:
            report = once(due_only=False)
            _print_report(report, as_json)
            raise typer.Exit(1 if report.failed else 0)
        run_every(interval_s, lambda: once(due_only=True), stop, on_report=lambda r: _print_report(r, as_json))
    except NotSubscribed as exc:
        for url in exc.urls:
            err.print(f"not subscribed: {url}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        stop.set()


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict()), flush=True)
        return
    for feed in report.feeds:
        if feed.error:
            # Failed or skipped: nothing to count, and the reason belongs on the feed's own line (a
            # reason on stderr parts from it when the output is read apart or piped).
            line = f"{feed.status:12}  {feed.url}: {feed.error}"
        else:
            line = f"{feed.status:12}  {feed.url}  added {feed.added} / updated {feed.updated} / unchanged {feed.unchanged}"
        out.print(line, highlight=False, markup=False)
        for problem in feed.problems:
            err.print(f"              {problem}", highlight=False, markup=False)
    out.print(report.line(), highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")
    app.command("sync")(sync)
