"""Articles from the web: article pages, feeds, sitemaps and home pages, fetched concurrently.

Public pieces:

* :func:`load_urls` — what ``newsdesk ingest URL...`` calls: every URL, whatever it is, becomes
  articles, failures and warnings, in input order; one failing URL never stops the others.
* :func:`fetch_feed` — one feed or sitemap with a conditional request: ``status`` 304 means
  "unchanged since", with no entries to load.
* :func:`load_entries` — the pages a feed listed, each with its own conditional request (``known``
  validators): an unchanged page is reported in ``not_modified`` and yields no article, so a sync
  whose feed and pages are all 304 embeds nothing. A page that cannot be fetched or extracted falls
  back to the entry's own text (with a warning saying so).

All of them share one :class:`~ingest.fetch.Fetcher` per run, so ``fetch_per_host`` holds across
every request of that run.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, TypeVar
from urllib.parse import urlsplit

from ingest.article import Article, LoadFailure, LoadResult, LoadWarning
from ingest.feeds import (
    FEED, HTML, SITEMAP, SITEMAP_INDEX, FeedEntry, Listing, ListingError, read_feed, read_html_page, read_sitemap, sniff,
)  # fmt: skip
from ingest.fetch import ANY_KIND, FetchError, Fetcher, FetchResult

# Threads fetching at once in one run; the per-host semaphores bound what any one site sees.
_WORKERS = 8
# Feeds read from one home page at most (sites list one per section; the first is the main one).
_HOME_PAGE_FEEDS = 4
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

T = TypeVar("T")
R = TypeVar("R")


def is_url(text: str) -> bool:
    """Whether a command-line argument is a URL (any ``scheme://``; non-http schemes are refused later)."""
    return bool(_SCHEME.match(str(text)))


@dataclass
class FeedResult:
    """One feed or sitemap fetched: its entries (200), or nothing new (304), or ``error``."""

    url: str
    status: int = 0  # 200 or 304; 0 when the fetch failed
    entries: list[FeedEntry] = field(default_factory=list)
    etag: str = ""
    last_modified: str = ""
    error: str = ""
    title: str = ""  # the feed's title ("" for sitemaps)
    final_url: str = ""
    kind: str = ""  # feed, sitemap or sitemap_index
    problems: list[str] = field(default_factory=list)  # read, but something looked wrong

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class PageState:
    """A page's validators after a fetch, to send back next time (``status`` 200 or 304)."""

    url: str
    status: int
    etag: str = ""
    last_modified: str = ""


@dataclass
class EntriesResult(LoadResult):
    """Articles from entries, plus each fetched page's validators and the pages unchanged since."""

    pages: list[PageState] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------- helpers


@contextmanager
def _fetcher(settings, given: Fetcher | None) -> Iterator[Fetcher]:
    if given is not None:
        yield given
        return
    with Fetcher(settings) as own:
        yield own


def _imap(function: Callable[[T], R], items: list[T]) -> Iterator[R]:
    """``function`` over ``items`` on a few threads, results yielded in order as they come.

    The threads only fetch (they mostly wait on sockets); the caller does the CPU-heavy extraction
    as results arrive. Extracting on the fetch threads too was measured slower: threads contending
    for the GIL cost more than they overlap (bench/fetch).
    """
    if len(items) <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(max_workers=min(_WORKERS, len(items)), thread_name_prefix="newsdesk-fetch") as pool:
        yield from pool.map(function, items)


def _map(function: Callable[[T], R], items: list[T]) -> list[R]:
    return list(_imap(function, items))


def _validators(value: Any) -> tuple[str | None, str | None]:
    """(etag, last_modified) from an object with those attributes (PageState, a subscription's
    PageValidators) or a pair."""
    if value is None:
        return None, None
    if isinstance(value, (tuple, list)):
        etag, last_modified = (list(value) + [None, None])[:2]
    else:
        etag, last_modified = getattr(value, "etag", None), getattr(value, "last_modified", None)
    return etag or None, last_modified or None


def _unexpected(exc: Exception) -> str:
    return f"unexpected error: {type(exc).__name__}: {exc}"


# ------------------------------------------------------------------------------------ feed, sitemap


def fetch_feed(url: str, settings, etag: str | None = None, last_modified: str | None = None,
               fetcher: Fetcher | None = None) -> FeedResult:
    """Fetch and read one feed (RSS/Atom), news sitemap or sitemap index (its children followed, at
    most ``fetch_max_sitemaps``); conditional when ``etag`` / ``last_modified`` are given. Never raises
    for a bad feed: ``error`` says what went wrong."""
    with _fetcher(settings, fetcher) as fetcher:
        try:
            # HTML accepted too, so a home page given as a feed gets a useful answer (its feed links).
            result = fetcher.fetch(url, ANY_KIND, etag, last_modified)
        except FetchError as exc:
            return FeedResult(url, error=exc.reason)
        if result.not_modified:
            return FeedResult(url, 304, etag=result.etag, last_modified=result.last_modified, final_url=result.final_url)
        try:
            return _read_listing(url, result, settings, fetcher)
        except Exception as exc:  # noqa: BLE001 - a strange feed is one failed URL, never a crash
            return FeedResult(url, error=_unexpected(exc), final_url=result.final_url)


def _read_listing(url: str, result: FetchResult, settings, fetcher: Fetcher) -> FeedResult:
    kind = sniff(result)
    out = FeedResult(url, result.status, etag=result.etag, last_modified=result.last_modified, final_url=result.final_url, kind=kind)
    try:
        if kind == FEED:
            listing = read_feed(result, settings.fetch_max_links)
        elif kind in (SITEMAP, SITEMAP_INDEX):
            listing = read_sitemap(result, settings.fetch_max_links)
        elif kind == HTML:
            page = read_html_page(result.text, result.final_url)
            links = f"; it links to the feeds {', '.join(page.feeds)}" if page.feeds else ""
            out.error = f"an HTML page, not a feed or sitemap{links}"
            return out
        else:
            out.error = f"not a feed or sitemap (content type {result.content_type or 'none'}, no <rss>, <feed> or <urlset>)"
            return out
    except ListingError as exc:
        out.error = str(exc)
        return out
    if listing.kind == SITEMAP_INDEX:
        listing = _read_children(listing, settings, fetcher)
    out.title, out.entries, out.problems = listing.title, listing.entries, listing.problems
    if not out.entries and not out.problems:
        out.problems.append("lists no entries")
    return out


def _read_children(index: Listing, settings, fetcher: Fetcher) -> Listing:
    """A sitemap index's child sitemaps (newest first, bounded), read concurrently; one level deep."""
    children = index.sitemaps[: settings.fetch_max_sitemaps]
    merged = Listing(kind=SITEMAP_INDEX)
    if len(index.sitemaps) > len(children):
        merged.problems.append(f"the sitemap index lists {len(index.sitemaps)} sitemaps; read the newest {len(children)}")

    def read(child: str) -> Listing | str:
        try:
            listing = read_sitemap(fetcher.fetch(child, ANY_KIND), settings.fetch_max_links)
        except (FetchError, ListingError) as exc:
            return f"child sitemap {child}: {getattr(exc, 'reason', exc)}"
        return listing if listing.kind == SITEMAP else f"child sitemap {child}: a nested sitemap index, not followed"

    seen: set[str] = set()
    for child in _map(read, children):
        if isinstance(child, str):
            merged.problems.append(child)
            continue
        merged.problems.extend(child.problems)
        merged.entries.extend(e for e in child.entries if not (e.url in seen or seen.add(e.url)))
    merged.entries.sort(key=lambda e: e.published_at, reverse=True)
    del merged.entries[settings.fetch_max_links :]
    return merged


# ------------------------------------------------------------------------------------------ pages


def _entry_key(entry: FeedEntry) -> str:
    return entry.url or entry.id


def _fetch_page(entry: FeedEntry, fetcher: Fetcher, known: Any) -> FetchResult | Exception | None:
    """An entry's page (conditional when ``known`` has validators), or the error; None: no page to fetch."""
    if not entry.url:
        return None
    try:
        return fetcher.fetch(entry.url, {HTML}, *_validators(known))
    except Exception as exc:  # noqa: BLE001 - reported for this entry by _page_outcome
        return exc


def _page_outcome(entry: FeedEntry, page: FetchResult | Exception | None) -> tuple[LoadResult, PageState | None]:
    """One entry's article: its page extracted, else the entry's own text; (result, page validators)."""
    if page is None:
        return _from_entry(entry, "the entry links to no web page"), None
    if isinstance(page, FetchError):
        return _from_entry(entry, f"page not fetched: {page.reason}"), None
    if isinstance(page, Exception):
        raise page
    state = PageState(entry.url, page.status, page.etag, page.last_modified)
    if page.not_modified:
        return LoadResult(), state
    loaded = _extract(page.text, entry.url, page.final_url)
    if not loaded.articles:
        reason = "; ".join(f.error for f in loaded.failures) or "no article text found"
        fallback = _from_entry(entry, f"page not extracted: {reason}")
        fallback.warnings[:0] = loaded.warnings
        return fallback, state
    loaded.articles = [_fill_from_entry(a, entry) for a in loaded.articles]
    return loaded, state


def _extract(html: str, origin: str, url: str) -> LoadResult:
    from ingest.html import article_from_html

    return article_from_html(html, origin=origin, url=url, default_id=url)


def _fill_from_entry(article: Article, entry: FeedEntry) -> Article:
    """The page's own metadata wins; the entry fills what the page left out. A source that is only
    the page's host name (what extraction falls back to) gives way to the feed's name for itself."""
    host = (urlsplit(article.url or entry.url).hostname or "").removeprefix("www.")
    source = article.source if article.source and article.source.lower().removeprefix("www.") != host else ""
    return replace(
        article,
        title=article.title or entry.title,
        published_at=article.published_at or entry.published_at,
        source=source or entry.source or article.source,
        authors=article.authors or entry.authors,
    )


def _from_entry(entry: FeedEntry, reason: str) -> LoadResult:
    """The entry's own text as the article (with a warning), or a failure when it has none."""
    where = entry.url or entry.id
    listing = "feed" if entry.text_kind else "listing"
    if not entry.text:
        return LoadResult(failures=[LoadFailure(path=where, error=f"{reason}; the {listing} entry has no text of its own to use instead")])
    article = Article(
        id=entry.id,
        text=entry.text,
        title=entry.title or entry.text.split("\n", 1)[0][:200],
        url=entry.url,
        published_at=entry.published_at,
        source=entry.source,
        path=entry.url or entry.listed_in,
        authors=entry.authors,
    )
    what = "full text" if entry.text_kind == "content" else "summary"
    message = f"{reason}; stored the feed entry's {what} instead ({len(entry.text):,} characters, from {entry.listed_in})"
    return LoadResult(articles=[article], warnings=[LoadWarning(path=where, message=message)])


def _unique(entries: Iterable[FeedEntry]) -> list[FeedEntry]:
    """The first entry of each page URL (or id), in order."""
    first: dict[str, FeedEntry] = {}
    for entry in entries:
        first.setdefault(_entry_key(entry), entry)
    return list(first.values())


def _load_each(entries: list[FeedEntry], fetcher: Fetcher, known: Mapping[str, Any]) -> list[tuple[LoadResult, PageState | None]]:
    """Pages fetched on threads, extracted here as they arrive; one result per entry, in order."""
    pages = _imap(lambda entry: _fetch_page(entry, fetcher, known.get(entry.url)), entries)
    outcomes = []
    for entry, page in zip(entries, pages):
        try:
            outcomes.append(_page_outcome(entry, page))
        except Exception as exc:  # noqa: BLE001 - one bad page never stops the others
            outcomes.append((LoadResult(failures=[LoadFailure(path=_entry_key(entry), error=_unexpected(exc))]), None))
    return outcomes


def load_entries(entries: Iterable[FeedEntry], settings, known: Mapping[str, Any] | None = None,
                 fetcher: Fetcher | None = None) -> EntriesResult:
    """Articles for ``entries`` (each page fetched and extracted, concurrently within the per-host
    limit), in entry order; entries repeating a URL are read once.

    ``known`` maps a page URL to its validators from an earlier fetch (a :class:`PageState`, anything
    with ``etag`` / ``last_modified`` attributes, or an ``(etag, last_modified)`` pair): that page is
    fetched conditionally, and when unchanged it is listed in ``not_modified`` and yields nothing.
    ``pages`` has the validators of every page fetched (200 or 304), to keep for next time."""
    with _fetcher(settings, fetcher) as fetcher:
        outcomes = _load_each(_unique(entries), fetcher, known or {})
    out = EntriesResult()
    for loaded, state in outcomes:
        out.extend(loaded)
        if state is not None:
            out.pages.append(state)
            if state.status == 304:
                out.not_modified.append(state.url)
    return out


# ------------------------------------------------------------------------------------------- URLs


@dataclass
class _Resolved:
    """One input URL read: an article page's result, or the entries it lists (feed, sitemap, home page)."""

    loaded: LoadResult = field(default_factory=LoadResult)
    entries: list[FeedEntry] = field(default_factory=list)
    page: FetchResult | None = None  # an article page, extracted by the caller (off the fetch threads)


def _resolve(url: str, settings, fetcher: Fetcher) -> _Resolved:
    try:
        result = fetcher.fetch(url, ANY_KIND)
    except FetchError as exc:
        return _Resolved(LoadResult(failures=[LoadFailure(path=url, error=exc.reason)]))
    if sniff(result) != HTML:
        return _listed(url, _read_listing(url, result, settings, fetcher))
    page = read_html_page(result.text, result.final_url)
    if page.is_article:
        return _Resolved(page=result)
    # A home page: the stories its feeds list.
    resolved = _Resolved()
    errors: list[str] = []
    for feed_url in page.feeds[:_HOME_PAGE_FEEDS]:
        feed = fetch_feed(feed_url, settings, fetcher=fetcher)
        if feed.error:
            errors.append(f"feed {feed_url}: {feed.error}")
            continue
        resolved.loaded.warnings.extend(LoadWarning(path=url, message=f"feed {feed_url}: {p}") for p in feed.problems)
        resolved.entries.extend(feed.entries)
    if not resolved.entries and errors:
        resolved.loaded.failures.append(LoadFailure(path=url, error="a home page whose feeds could not be read: " + "; ".join(errors)))
    else:
        resolved.loaded.warnings.extend(LoadWarning(path=url, message=e) for e in errors)
    resolved.entries = _unique(resolved.entries)[: settings.fetch_max_links]  # section feeds overlap
    return resolved


def _listed(url: str, feed: FeedResult) -> _Resolved:
    if feed.error:
        return _Resolved(LoadResult(failures=[LoadFailure(path=url, error=feed.error)]))
    warnings = [LoadWarning(path=url, message=problem) for problem in feed.problems]
    return _Resolved(LoadResult(warnings=warnings), feed.entries)


def load_urls(urls: list[str], settings, fetcher: Fetcher | None = None) -> LoadResult:
    """Articles from URLs of article pages, feeds, sitemaps (and sitemap indexes) or home pages.

    Every URL is fetched concurrently (within ``fetch_per_host``), and so are the pages the feeds
    list. The result keeps input order: each URL's failures and warnings, then its articles (a feed's
    in entry order). A page listed twice (two feeds of one site) is read once, and an article id seen
    twice is kept once. A URL that fails is a :class:`LoadFailure` naming it; the rest still load."""
    with _fetcher(settings, fetcher) as fetcher:

        def resolve(url: str) -> _Resolved:
            try:
                return _resolve(url, settings, fetcher)
            except Exception as exc:  # noqa: BLE001 - one bad URL never stops the others
                return _Resolved(LoadResult(failures=[LoadFailure(path=url, error=_unexpected(exc))]))

        urls = list(dict.fromkeys(urls))  # a URL given twice is read once
        resolved = []
        for url, one in zip(urls, _imap(resolve, urls)):
            if one.page is not None:
                try:
                    one.loaded = _extract(one.page.text, url, one.page.final_url)
                except Exception as exc:  # noqa: BLE001
                    one.loaded = LoadResult(failures=[LoadFailure(path=url, error=_unexpected(exc))])
            resolved.append(one)
        # Each page once, attributed to the first URL that listed it.
        entries = _unique(entry for one in resolved for entry in one.entries)
        pages = dict(zip(map(_entry_key, entries), (loaded for loaded, _ in _load_each(entries, fetcher, {}))))
    out = LoadResult()
    seen_ids: set[str] = set()
    for one in resolved:
        parts = [one.loaded] + [pages.pop(key) for key in map(_entry_key, one.entries) if key in pages]
        for part in parts:
            out.failures.extend(part.failures)
            out.warnings.extend(part.warnings)
            for article in part.articles:
                if article.id not in seen_ids:
                    seen_ids.add(article.id)
                    out.articles.append(article)
    return out
