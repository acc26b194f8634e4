"""What a fetched document is, and what a feed, a sitemap or a home page lists.

Kinds (:func:`sniff`), from the document's root element first and its content type second (servers
label feeds ``text/html`` or ``text/plain`` often enough that the type cannot decide alone):

* ``feed`` — ``<rss>`` (RSS 2.0), ``<rdf:RDF>`` (RSS 1.0) or ``<feed>`` (Atom); read by feedparser from
  the bytes already fetched (feedparser never fetches anything itself here);
* ``sitemap`` — ``<urlset>``, with Google News ``<news:news>`` titles, publication dates and names;
* ``sitemap_index`` — ``<sitemapindex>``: its child sitemaps, newest first;
* ``html`` — a page, which :func:`read_html_page` calls an article or a home page.

An HTML page is an **article** when it says so: JSON-LD whose top-level item (or ``@graph`` member,
or a page's ``mainEntity``) is an Article type (``NewsArticle``, ``ReportageNewsArticle``,
``BlogPosting``, …), or ``og:type`` = ``article``, or an ``article:published_time`` meta tag.
Otherwise a page with ``<link rel="alternate">`` feed links is a **home page** (or a section front):
its feeds are read instead. A page with neither is taken as an article, and the extractor decides.
Teasers do not count: a section front's JSON-LD ``CollectionPage`` listing ``NewsArticle`` parts is a
home page, because only top-level items are looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ingest.fetch import FetchResult
from ingest.dates import normalise_date
from ingest.html_meta import article_type, bylines, loads_json_ld

FEED, SITEMAP, SITEMAP_INDEX, HTML, UNKNOWN = "feed", "sitemap", "sitemap_index", "html", "unknown"

_FEED_ROOTS = {"rss": FEED, "rdf": FEED, "feed": FEED, "urlset": SITEMAP, "sitemapindex": SITEMAP_INDEX}
_HTML_ROOTS = frozenset({"html", "head", "body", "meta", "title", "link", "div", "p", "article", "main"})
# The first element, past a BOM, whitespace, the XML declaration, comments, a doctype (with its internal subset).
_ROOT = re.compile(rb"^(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*<([A-Za-z_][\w.:-]*)", re.DOTALL | re.IGNORECASE)
_FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})


@dataclass(frozen=True)
class FeedEntry:
    """One page a feed or sitemap lists, with what the listing itself says about it."""

    id: str  # the entry's link, else its guid / Atom id
    url: str = ""  # the page to fetch ("" when the entry links nowhere)
    title: str = ""
    published_at: str = ""  # YYYY-MM-DD or ""
    source: str = ""  # the feed's title or the news sitemap's publication name
    authors: tuple[str, ...] = ()
    text: str = ""  # the entry's own text (content, else summary), plain, paragraphs apart
    text_kind: str = ""  # "content" (the whole story) or "summary"
    listed_in: str = ""  # the feed or sitemap URL


@dataclass
class Listing:
    """What a feed or sitemap lists."""

    kind: str
    title: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # a sitemap index's children, newest first
    problems: list[str] = field(default_factory=list)  # read, but something looked wrong


@dataclass(frozen=True)
class HtmlPage:
    is_article: bool
    feeds: tuple[str, ...] = ()  # <link rel="alternate"> feed URLs, absolute, in page order
    why: str = ""  # what made it an article ("JSON-LD NewsArticle", "og:type=article", ...)


class ListingError(ValueError):
    """A feed or sitemap that cannot be read at all."""


# ------------------------------------------------------------------------------------------- kind


def root_element(body: bytes) -> str:
    """The local name of the document's first element, lower-case ("" when there is none)."""
    match = _ROOT.match(body.removeprefix(b"\xef\xbb\xbf")[:65536])
    return match.group(1).decode("ascii", "ignore").rsplit(":", 1)[-1].lower() if match else ""


def sniff(result: FetchResult) -> str:
    """``feed``, ``sitemap``, ``sitemap_index``, ``html`` or ``unknown`` for a fetched document."""
    root = root_element(result.body)
    if root in _FEED_ROOTS:
        return _FEED_ROOTS[root]
    if root in _HTML_ROOTS or result.content_type in ("text/html", "application/xhtml+xml"):
        return HTML
    if result.content_type in _FEED_LINK_TYPES:
        return FEED  # labelled a feed but unrecognisable: let feedparser say what is wrong with it
    return UNKNOWN


# ------------------------------------------------------------------------------------------- HTML


def read_html_page(html: str, base_url: str) -> HtmlPage:
    """Article or home page (the rule is in the module docstring), and the page's feed links."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    base = tree.css_first("base[href]")
    if base is not None:
        base_url = urljoin(base_url, (base.attributes.get("href") or "").strip())
    feeds: list[str] = []
    for link in tree.css("link[rel][href]"):
        rel = (link.attributes.get("rel") or "").lower().split()
        kind = (link.attributes.get("type") or "").strip().lower()
        href = (link.attributes.get("href") or "").strip()
        title = (link.attributes.get("title") or "").lower()
        if "alternate" not in rel or kind not in _FEED_LINK_TYPES or not href:
            continue
        if "comment" in title or "/comments/" in href:
            continue  # a blog's comments feed lists comments, not stories
        url = urljoin(base_url, href)
        if url.startswith(("http://", "https://")) and url not in feeds:
            feeds.append(url)
    why = _article_signal(tree)
    return HtmlPage(is_article=bool(why) or not feeds, feeds=tuple(feeds), why=why)


def _article_signal(tree) -> str:
    for script in tree.css('script[type="application/ld+json"]'):
        data = loads_json_ld(script.text(deep=True) or "")  # None when broken: other signals still count
        for item in _top_items(data):
            kind = article_type(item)
            if kind:
                return f"JSON-LD {kind}"
    og_type = tree.css_first('meta[property="og:type"]')
    if og_type is not None and (og_type.attributes.get("content") or "").strip().lower() == "article":
        return "og:type=article"
    if tree.css_first('meta[property="article:published_time"]') is not None:
        return "article:published_time"
    return ""


def _top_items(data) -> list[dict]:
    items = data if isinstance(data, list) else [data]
    out: list[dict] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        members = [m for m in graph if isinstance(m, dict)] if isinstance(graph, list) else [item]
        for member in members:
            out.append(member)
            main = member.get("mainEntity")
            if isinstance(main, dict):
                out.append(main)
    return out


# ------------------------------------------------------------------------------------------ feeds


def read_feed(result: FetchResult, max_entries: int) -> Listing:
    """The feed's title and its first ``max_entries`` entries; :class:`ListingError` when unreadable."""
    import feedparser

    # Bytes, never a URL or a path: feedparser would fetch or open those itself.
    parsed = feedparser.parse(
        bytes(result.body),
        response_headers={"content-location": result.final_url, "content-type": result.headers.get("content-type", "")},
    )
    problem = f"{type(parsed.bozo_exception).__name__}: {parsed.bozo_exception}" if parsed.bozo else ""
    if not parsed.version and not parsed.entries:
        raise ListingError(f"malformed feed ({problem or 'not RSS or Atom'})")
    title = " ".join((parsed.feed.get("title") or "").split())
    listing = Listing(kind=FEED, title=title)
    if problem:
        listing.problems.append(f"the feed is not well-formed ({problem}); read what could be read")
    for number, entry in enumerate(parsed.entries, start=1):
        link = (entry.get("link") or "").strip()
        guid = (entry.get("id") or "").strip()
        if not link and not guid:
            listing.problems.append(f"entry {number} has neither a link nor an id: skipped")
            continue
        text, text_kind = _entry_text(entry)
        source = (entry.get("source") or {}).get("title") or title  # an aggregator names each entry's origin
        listing.entries.append(
            FeedEntry(
                id=link or guid,
                url=link if link.startswith(("http://", "https://")) else "",
                title=" ".join((entry.get("title") or "").split()),
                published_at=normalise_date(entry.get("published") or entry.get("updated")),
                source=" ".join(source.split()),
                authors=_entry_authors(entry),
                text=text,
                text_kind=text_kind,
                listed_in=result.final_url,
            )
        )
        if len(listing.entries) >= max_entries:
            listing.problems.append(f"the feed lists {len(parsed.entries)} entries; read the first {max_entries}")
            break
    if problem and not listing.entries:
        raise ListingError(f"malformed feed ({problem})")
    return listing


def _entry_text(entry) -> tuple[str, str]:
    for item in entry.get("content") or []:
        text = html_to_text(item.get("value") or "", item.get("type") or "text/html")
        if text:
            return text, "content"
    summary = entry.get("summary_detail") or {}
    text = html_to_text(entry.get("summary") or "", summary.get("type") or "text/html")
    return (text, "summary") if text else ("", "")


def _entry_authors(entry) -> tuple[str, ...]:
    names = [(a.get("name") or "").strip() for a in entry.get("authors") or [] if isinstance(a, dict)]
    if not any(names) and entry.get("author"):
        names = [entry["author"]]
    return bylines(names)


_BLOCKS = frozenset({"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "figure", "section"})


def html_to_text(fragment: str, kind: str = "text/html") -> str:
    """Plain text of a feed's HTML fragment, paragraphs separated by blank lines."""
    if "html" not in kind:
        paragraphs = re.split(r"\n\s*\n", fragment)
    else:
        import lxml.html
        from lxml.etree import ParserError

        try:
            root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        except (ParserError, ValueError):
            return ""
        for element in root.iter():
            if element.tag in _BLOCKS:
                element.tail = "\n\n" + (element.tail or "")
            elif element.tag == "br":
                element.tail = "\n\n" + (element.tail or "")
        paragraphs = re.split(r"\n\s*\n", root.text_content())
    return "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p)


# --------------------------------------------------------------------------------------- sitemaps


def read_sitemap(result: FetchResult, max_entries: int) -> Listing:
    """A ``<urlset>`` (newest ``max_entries`` pages) or a ``<sitemapindex>`` (its children, newest first)."""
    from lxml import etree

    # No entities, no network, no huge trees: a sitemap is somebody else's XML.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(result.body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ListingError(f"malformed sitemap XML ({exc})") from None
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = [(_child_text(s, "loc"), normalise_date(_child_text(s, "lastmod"))) for s in root if _local(s.tag) == "sitemap"]
        children = [c for c in children if c[0]]
        children.sort(key=lambda c: c[1], reverse=True)  # newest first; undated ("") last
        return Listing(kind=SITEMAP_INDEX, sitemaps=[urljoin(result.final_url, loc) for loc, _ in children])
    if kind != "urlset":
        raise ListingError(f"not a sitemap (root element <{kind}>)")
    listing = Listing(kind=SITEMAP)
    for url in root:
        if _local(url.tag) != "url":
            continue
        loc = urljoin(result.final_url, _child_text(url, "loc"))
        if not loc.startswith(("http://", "https://")):
            continue
        news = _child(url, "news")
        publication = _child(news, "publication") if news is not None else None
        published = _child_text(news, "publication_date") if news is not None else ""
        listing.entries.append(
            FeedEntry(
                id=loc,
                url=loc,
                title=" ".join(_child_text(news, "title").split()) if news is not None else "",
                published_at=normalise_date(published or _child_text(url, "lastmod")),
                source=_child_text(publication, "name") if publication is not None else "",
                listed_in=result.final_url,
            )
        )
    listing.entries.sort(key=lambda e: e.published_at, reverse=True)  # stable: undated keep their order, last
    if len(listing.entries) > max_entries:
        listing.problems.append(f"the sitemap lists {len(listing.entries)} pages; read the newest {max_entries}")
        del listing.entries[max_entries:]
    return listing


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child(element, name: str):
    return next((c for c in element if _local(c.tag) == name), None)


def _child_text(element, name: str) -> str:
    child = _child(element, name) if element is not None else None
    return (child.text or "").strip() if child is not None else ""
