"""A news page's metadata (title, date, url, publisher, bylines), each from its most reliable source.

Sources, best first: the page's JSON-LD (``NewsArticle`` and kin, also inside ``@graph`` and lists,
with ``@id`` references resolved), then OpenGraph / ``article:*`` meta tags, then the ``<title>``
with the site's name taken off, then trafilatura's own heuristics (headings, bylines, htmldate).
The publisher is never taken from a byline, and a byline never from the publisher.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.json_metadata import AUTHOR_EMAIL, AUTHOR_PREFIX, AUTHOR_SPLIT
from trafilatura.metadata import examine_meta, extract_author, extract_title

from ingest.dates import normalise_date

# schema.org types whose node describes the article itself (types ending in "NewsArticle" or
# "Article" are accepted too: OpinionNewsArticle, ScholarlyArticle, ...).
ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report", "SocialMediaPosting", "Review"})
# htmldate's extensive search also reads dates out of the visible text. Measured on tests/pages
# with their JSON-LD, date meta tags and canonical urls removed: both settings found the same 5 of
# 8 dates, and where the fast search found none, the extensive one answered 2026-01-01 three times
# (the "© 2026" line of the footer). An unknown date is better than a wrong one: off.
EXTENSIVE_DATE_SEARCH = False

_AUTHOR_META = ("article:author", "author", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator", "byl")
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|·|•|»|/)\s+")
_ELLIPSIS = ("…", "...")
_TRAILING_COMMAS = re.compile(r",\s*([}\]])")


@dataclass(frozen=True)
class PageMetadata:
    title: str = ""
    url: str = ""
    published_at: str = ""  # YYYY-MM-DD or ""
    source: str = ""
    authors: tuple[str, ...] = ()


def page_metadata(tree: HtmlElement, page_url: str = "") -> PageMetadata:
    """Metadata of the page in ``tree``; ``page_url`` (where it was fetched) resolves relative links
    and stands in for the article url when the page names none."""
    ld = _JsonLd(tree)
    article = ld.article(_canonical_hints(tree))
    metas = _meta_tags(tree)
    trafilatura_meta = examine_meta(tree)  # its reading of the long tail of author / publisher tags

    url = _first_url(
        [ld.url_of(article.get("url")), ld.url_of(article.get("mainEntityOfPage")), metas.get("og:url"), _canonical(tree), page_url],
        base=page_url,
    )
    host = urlsplit(url).hostname or ""

    publisher = ld.name_of(article.get("publisher"))
    site_names = [s for s in (publisher, metas.get("og:site_name")) if s]
    headings = [_clean(h.text_content()) for h in tree.iterfind(".//h1")]
    title_tag = _clean(tree.findtext(".//title") or "")
    title_from_tag, site_in_title = strip_site_name(title_tag, site_names, host, headings)

    title = _first_title(
        [
            strip_site_name(_clean(ld.text_of(article.get("headline"))), site_names, host, headings)[0],
            strip_site_name(metas.get("og:title", ""), site_names, host, headings)[0],
            strip_site_name(metas.get("twitter:title", ""), site_names, host, headings)[0],
            title_from_tag,
        ],
        lambda: strip_site_name(_clean(extract_title(tree) or ""), site_names, host, headings)[0],
    )

    source = _first(
        publisher,
        metas.get("og:site_name", ""),
        site_in_title,
        _plain_name(trafilatura_meta.sitename or ""),
        host.removeprefix("www."),
    )

    authors = ld.names_of(article.get("author"))
    if not authors:
        # the common byline tags first (kept as written), then trafilatura's longer list of them;
        # one-word meta "authors" are mostly logins or outlets ("admin", "Reuters"), as trafilatura finds
        for tagged in [metas.get(k, "") for k in _AUTHOR_META] + [trafilatura_meta.author or ""]:
            authors = [a for a in _split_authors(tagged) if " " in a]
            if authors:
                break
    if not authors:
        authors = _split_authors(extract_author(tree) or "")
    authors = _distinct(a for a in authors if _compact(a) not in {_compact(source), _compact(publisher)})

    published = _first(
        normalise_date(ld.text_of(article.get("datePublished"))),
        normalise_date(ld.text_of(article.get("dateCreated"))),
        normalise_date(metas.get("article:published_time")),
    )
    if not published:  # htmldate reads the rest: other meta names, <time>, the url's path
        found = find_date(tree, extensive_search=EXTENSIVE_DATE_SEARCH, original_date=True, url=url or None)
        published = _first(
            normalise_date(found),
            normalise_date(ld.text_of(article.get("dateModified"))),
            normalise_date(metas.get("article:modified_time")),
        )
    return PageMetadata(title=title, url=url, published_at=published, source=source, authors=tuple(authors))


# ------------------------------------------------------------------------------------------ JSON-LD


class _JsonLd:
    """The JSON-LD nodes of a page, with ``@id`` references resolved against each other."""

    def __init__(self, tree: HtmlElement):
        self.nodes: list[dict] = []
        for script in tree.iterfind(".//script[@type]"):
            if script.get("type", "").strip().lower() == "application/ld+json":
                self._add(loads_json_ld(script.text or ""))
        self.by_id = {node["@id"]: node for node in self.nodes if isinstance(node.get("@id"), str)}

    def _add(self, data: object) -> None:
        items = data if isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, dict):
                continue
            self.nodes.append(item)
            graph = item.get("@graph")
            if graph is not None:
                self._add(graph)
            main = item.get("mainEntity")  # a WebPage whose main entity is the article
            if isinstance(main, dict):
                self._add(main)

    def article(self, hints: set[str]) -> dict:
        """The node describing this article: one whose url is the page's canonical url, else the
        first with a headline, else the first of an article type; {} when there is none."""
        candidates = [self._resolve(n) for n in self.nodes if _is_article(n)]
        for node in candidates:
            if hints & {self.url_of(node.get("url")), self.url_of(node.get("mainEntityOfPage"))}:
                return node
        return next((n for n in candidates if n.get("headline")), candidates[0] if candidates else {})

    def _resolve(self, value: object) -> object:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in self.by_id:
            return self.by_id[value["@id"]]
        return value

    def text_of(self, value: object) -> str:
        value = self._resolve(value)
        if isinstance(value, list):
            return next((t for t in (self.text_of(v) for v in value) if t), "")
        if isinstance(value, dict):
            return self.text_of(value.get("name") or value.get("@value"))
        return _clean(str(value)) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""

    def name_of(self, value: object) -> str:
        """A publisher's name: a string, an object's ``name``, or the first of a list."""
        return _plain_name(self.text_of(value))

    def names_of(self, value: object) -> list[str]:
        """Byline names from a string ("A and B"), an object (``name`` or given + family name) or a list."""
        value = self._resolve(value)
        if isinstance(value, list):
            return [name for item in value for name in self.names_of(item)]
        if isinstance(value, dict):
            name = self.text_of(value.get("name"))
            if not name:
                name = " ".join(self.text_of(value.get(k)) for k in ("givenName", "familyName")).strip()
            return _split_authors(name)
        return _split_authors(self.text_of(value))

    def url_of(self, value: object) -> str:
        value = self._resolve(value)
        if isinstance(value, list):
            return next((u for u in (self.url_of(v) for v in value) if u), "")
        if isinstance(value, dict):
            return self.url_of(value.get("url") or value.get("@id"))
        return value.strip() if isinstance(value, str) else ""


def loads_json_ld(text: str) -> object:
    """JSON-LD as sites write it: HTML comment or CDATA wrappers and trailing commas are tolerated;
    anything still broken is None (the page's other sources stand in)."""
    text = text.strip()
    for wrapper in ("<!--", "-->", "//<![CDATA[", "//]]>", "<![CDATA[", "]]>"):
        text = text.replace(wrapper, "")
    for attempt in (text, _TRAILING_COMMAS.sub(r"\1", text)):
        try:
            return json.loads(attempt, strict=False)  # strict=False: raw newlines inside strings
        except (json.JSONDecodeError, RecursionError):
            continue
    return None


def _types(node: dict) -> list[str]:
    value = node.get("@type")
    names = value if isinstance(value, list) else [value]
    return [re.split(r"[/:#]", n)[-1] for n in names if isinstance(n, str)]


def article_type(node: object) -> str:
    """The JSON-LD node's first type that is a kind of article ("NewsArticle", "BlogPosting"), or ""."""
    if not isinstance(node, dict):
        return ""
    return next((t for t in _types(node) if t in ARTICLE_TYPES or t.endswith("Article")), "")


def _is_article(node: object) -> bool:
    return bool(article_type(node))


# --------------------------------------------------------------------------------------- meta tags


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """First content of each ``<meta property|name|itemprop=...>``, keys lower-cased."""
    found: dict[str, str] = {}
    for meta in tree.iterfind(".//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = _clean(meta.get("content", ""))
        if key and content and key not in found:
            found[key] = content
    return found


def _canonical(tree: HtmlElement) -> str:
    for link in tree.iterfind(".//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return link.get("href", "").strip()
    return ""


def _canonical_hints(tree: HtmlElement) -> set[str]:
    og = next((m.get("content", "").strip() for m in tree.iterfind(".//meta[@property='og:url']")), "")
    return {u for u in (og, _canonical(tree)) if u}


def _first_url(candidates: list[str], base: str) -> str:
    """The first candidate that is an absolute http(s) URL once resolved against ``base`` (or
    against the first absolute candidate); a site's home page is not an article's url."""
    base = base or next((c for c in candidates if c and urlsplit(c).scheme in ("http", "https")), "")
    resolved = []
    for candidate in candidates:
        if not candidate:
            continue
        url = urljoin(base, candidate) if base else candidate
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            resolved.append((parts.path.strip("/") == "" and not parts.query, url))
    return next((url for is_home, url in resolved if not is_home), resolved[0][1] if resolved else "")


# -------------------------------------------------------------------------------------------- title


def strip_site_name(title: str, site_names: list[str], host: str = "", headings: list[str] = ()) -> tuple[str, str]:
    """``title`` without the site's name at its end or start ("Story | Site", "Site :: Story"),
    and that name ("" when none was found).

    A segment counts as the site's name when it matches a known name (JSON-LD publisher,
    og:site_name), the page's host ("Ridgeback Times" for ridgebacktimes.com), or when the rest of
    the title is the page's own headline.
    """
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) < 2:
        return title, ""
    known = {_compact(s) for s in site_names} | _host_names(host)
    known.discard("")
    head_last = title[: _last_separator(title).start()]
    tail_first = title[_TITLE_SEPARATOR.search(title).end() :]
    heading_keys = {_compact(h) for h in headings if h}
    if _compact(parts[-1]) in known or _compact(head_last) in heading_keys:
        return head_last.strip(), parts[-1].strip()
    if _compact(parts[0]) in known or _compact(tail_first) in heading_keys:
        return tail_first.strip(), parts[0].strip()
    return title, ""


def _last_separator(title: str) -> re.Match:
    return list(_TITLE_SEPARATOR.finditer(title))[-1]


def _host_names(host: str) -> set[str]:
    """Names a site's host can stand for: each label of it and the labels before the suffix joined."""
    labels = [label for label in host.lower().split(".") if label and label not in ("www", "m", "amp")]
    if not labels:
        return set()
    names = set(labels[:-1] or labels)
    names.add("".join(labels[:-1]))
    return {n for n in names if len(n) > 2}


def _first_title(candidates: list[str], last_resort) -> str:
    """The first title candidate; one cut short with an ellipsis gives way to a later one it begins."""
    candidates = [c for c in candidates if c]
    for i, title in enumerate(candidates):
        if title.endswith(_ELLIPSIS):
            stem = title.rstrip(".… ")
            longer = next((c for c in candidates[i + 1 :] if c.startswith(stem) and len(c) > len(stem)), None)
            if longer:
                return longer
        return title
    return last_resort()


# -------------------------------------------------------------------------------------------- names


def _split_authors(text: str) -> list[str]:
    """Byline names from text: "By A, B and C" -> [A, B, C]. trafilatura's patterns split the names
    and find the "By"; e-mail addresses, links, handles and all-lower-case roles ("staff writer")
    are dropped, while initials keep their dots ("E.J. Dionne")."""
    names = []
    for part in AUTHOR_SPLIT.split(_clean(text)):
        name = AUTHOR_PREFIX.sub("", part.strip()).strip(" .,:;-–—|")
        if not name or "://" in name or name.startswith(("@", "www.")) or AUTHOR_EMAIL.search(name):
            continue
        if name.islower() or len(name) > 60:
            continue
        names.append(name)
    return names


def bylines(names) -> tuple[str, ...]:
    """Names as given (a feed's authors, a file's ``authors`` list): "By " dropped, spaces collapsed,
    empty ones and repeats (ignoring case) left out."""
    return tuple(_distinct(n for n in (re.sub(r"^by\s+", "", " ".join(str(name).split()), flags=re.I) for name in names) if n))


def _distinct(names) -> list[str]:
    seen: set[str] = set()
    kept = []
    for name in names:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


def _plain_name(name: str) -> str:
    """A publisher name, or "" for what is not one (a URL, a social handle's "@")."""
    name = _clean(name).lstrip("@")
    return "" if not name or "://" in name or name.startswith("www.") else name


def _compact(text: str) -> str:
    """Lower-case letters and digits only, without a leading "the": for comparing names."""
    return re.sub(r"[\W_]+", "", re.sub(r"^the\s+", "", text.casefold().strip()))


def _clean(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _first(*values: str) -> str:
    return next((v for v in values if v), "")


# ------------------------------------------------------------------------------- byline, dateline

_MONTHS = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
# A date as pages print it: "February 14, 2026", "14 Feb 2026", "2026-02-14", "14/02/2026", with an
# optional weekday before and a clock time (and zone) after.
_DATE = re.compile(
    rf"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?P<day>{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS},?\s+\d{{4}}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{4})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s+[a-z]{2,5})?)?$",
    re.IGNORECASE,
)
_DATE_LABEL = re.compile(r"^(?:published|posted|updated|last updated|first published|modified)(?:\s+on)?:?\s*", re.IGNORECASE)
_BYLINE = re.compile(r"^by\s+\S", re.IGNORECASE)
_NAME_PARTICLES = frozenset({"de", "da", "del", "der", "di", "du", "la", "le", "van", "von", "bin", "ibn", "al", "and"})
_READING_TIME = re.compile(r"^\d{1,3}\s*(?:-\s*)?min(?:ute)?s?(?:\s+read)?$", re.IGNORECASE)
# What separates the parts of one byline-and-dateline line: "By A | February 14, 2026 · 4 min read".
_LINE_PARTS = re.compile(r"\s+[|·•—–/]\s+|\s*\|\s*")
# A line this long is prose, whatever it starts with.
_MAX_BYLINE_WORDS = 24


@dataclass(frozen=True)
class Byline:
    """What a byline-and-dateline line said: its names and its date (YYYY-MM-DD or "")."""

    authors: tuple[str, ...] = ()
    published_at: str = ""


def read_byline(line: str, known_authors: tuple[str, ...] = ()) -> Byline | None:
    """The line as a byline and/or dateline ("By Jane Doe | February 14, 2026", "Published 14 Feb
    2026, 10:02 am", "Jane Doe · 4 min read" when Jane Doe is a known author), or None when any part
    of it is something else: such a line is page furniture, kept apart from the story's text."""
    line = " ".join(line.split())
    if not line or len(line.split()) > _MAX_BYLINE_WORDS:
        return None
    known = {_compact(a) for a in known_authors}
    authors: list[str] = []
    published = ""
    for part in (p.strip(" ,;") for p in _LINE_PARTS.split(line)):
        if not part:
            continue
        if day := _date_of(part):
            published = published or day
        elif _READING_TIME.match(part):
            continue
        elif _BYLINE.match(part) or (known and _compact(part) in known):
            # "By Jane Doe, February 14, 2026": a date may follow the names in the same part.
            names, _, tail = part.partition(", ")
            if tail and (day := _date_of(tail)):
                published = published or day
                part = names
            pieces = [AUTHOR_PREFIX.sub("", p.strip()).strip(" .,:;-–—|") for p in AUTHOR_SPLIT.split(_clean(part))]
            if not all(map(_looks_like_name, filter(None, pieces))):
                return None  # "By Sunday, most shops had closed": prose
            authors.extend(_split_authors(part))
        else:
            return None
    if not authors and not published:
        return None
    return Byline(tuple(_distinct(authors)), published)


def _date_of(text: str) -> str:
    """YYYY-MM-DD of a part that is only a (labelled) date, else ""."""
    match = _DATE.match(_DATE_LABEL.sub("", text))
    return normalise_date(match.group("day")) if match else ""


def _looks_like_name(name: str) -> bool:
    words = name.split()
    return 0 < len(words) <= 5 and all(w[0].isupper() or w.casefold() in _NAME_PARTICLES for w in words)
