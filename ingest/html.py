"""One news page (HTML, as text or bytes) to one ``Article``: main text by trafilatura, metadata by
``ingest.html_meta``. Shared by the file loaders and the URL fetcher."""

from __future__ import annotations

import re

import trafilatura
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from ingest.article import Article, LoadFailure, LoadResult, LoadWarning
from ingest.encoding import NotText, decode_html
from ingest.html_meta import page_metadata, read_byline

MAX_TITLE_CHARS = 200
# A body this short on a page with this much visible text is probably a teaser, a paywall or a
# wrong pick: it is still stored, with a warning naming both lengths.
SHORT_BODY_CHARS = 300
LONG_PAGE_CHARS = 1500
# What a page needs to hold an article rather than links, files or a form: this many words of prose
# (sentences of at least _PROSE_SENTENCE_WORDS words ending as sentences do), and at most this share
# of its text in lines that are each the whole text of one of the page's links.
MIN_PROSE_WORDS = 15
_PROSE_SENTENCE_WORDS = 4
MAX_LINK_LINE_SHARE = 0.5
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’」)\]]*$")
# Scripts written without spaces between words: two such characters count as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Byline and dateline lines are looked for among the body's first few lines only.
_HEAD_LINES = 3
# Lines of trafilatura's text output that belong together: list items and table rows.
_GROUPED_LINE = re.compile(r"^(?:[-*•] |\d+\. |\|)")
_LOWER = "translate(normalize-space(.), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_PROMO_LABELS = ("read more", "read also", "also read", "read next", "see also", "related")
# Two kinds of in-story promo that trafilatura keeps (its own discard list covers share bars,
# newsletters, related-story boxes, comments): a nonprofit newsroom's donation appeal, and a
# paragraph that is only a labelled link to another story ("Read more: <a>...</a>"), told from
# prose by having at most a label's worth of text outside its link.
PROMO_XPATHS = [
    "//*[self::div or self::section or self::aside or self::p]"
    "[contains(translate(@class, 'DONATE', 'donate'), 'donat') or contains(translate(@id, 'DONATE', 'donate'), 'donat')]",
    "//p[.//a][string-length(normalize-space(.)) - string-length(normalize-space(.//a)) <= 25]["
    + " or ".join(f"starts-with({_LOWER}, '{label}')" for label in _PROMO_LABELS)
    + "]",
]


def article_from_html(html: str | bytes, origin: str, url: str = "", default_id: str = "") -> LoadResult:
    """The article in one HTML page: one ``Article`` (plus warnings) or one ``LoadFailure``.

    ``origin`` is the file path or URL the page came from (stored as ``Article.path`` and named in
    failures and warnings); ``url`` the address it was fetched from, the article's url when the page
    names none; ``default_id`` its id when it has no url (else ``origin``). Bytes are decoded by the
    page's declared charset or by detection. Never raises for bad content.
    """
    try:
        return _article_from_html(html, origin, url, default_id)
    except NotText as exc:
        return _failure(origin, str(exc))
    except Exception as exc:  # noqa: BLE001 - a parser bug on one odd page must not stop a run
        return _failure(origin, f"could not extract the page: {type(exc).__name__}: {exc}")


def _article_from_html(html: str | bytes, origin: str, url: str, default_id: str) -> LoadResult:
    text = decode_html(bytes(html)) if isinstance(html, (bytes, bytearray, memoryview)) else html
    tree = parse_html(text)
    if tree is None:
        return _failure(origin, "no article text found: the page is empty")
    meta = page_metadata(tree, url)
    body = _without_headline(main_text(tree, meta.url or url), meta.title)
    body, dateline = _without_byline(body, meta.authors)
    if not body:
        return _failure(origin, "no article text found in the page")
    if why := not_an_article(body, tree):
        return _failure(origin, f"not an article: {why}")
    warnings = []
    if len(body) < SHORT_BODY_CHARS:
        visible = visible_text_length(tree)
        if visible > LONG_PAGE_CHARS:
            warnings.append(
                LoadWarning(
                    path=origin,
                    message=f"suspiciously short article text: {len(body)} characters from a page with {visible} "
                    "characters of visible text (a teaser, a paywall, or the wrong part of the page?)",
                )
            )
    article_url = meta.url or url
    article = Article(
        id=article_url or default_id or origin,
        text=body,
        title=short_title(meta.title or body.split("\n", 1)[0]),
        url=article_url,
        published_at=meta.published_at or dateline,
        source=meta.source,
        path=origin,
        authors=meta.authors,
    )
    return LoadResult(articles=[article], warnings=warnings)


def parse_html(text: str) -> HtmlElement | None:
    """The page's lxml tree, or None when there is nothing to parse. A bare fragment ("<p>...</p>",
    which trafilatura's loader refuses as not quite a page) is parsed inside a body of its own."""
    if not text.strip():
        return None
    tree = load_html(text)
    if tree is None:
        tree = load_html(f"<html><body>{text}</body></html>")
    return tree


def main_text(tree: HtmlElement, url: str = "") -> str:
    """The article's own text, paragraphs separated by blank lines (a list or a table stays one
    block); no comments, no in-story promos (``PROMO_XPATHS``). trafilatura's defaults otherwise:
    they already leave out captions, share bars, related-story lists and most promos, and they
    scored best on real pages. On tests/pages favor_recall and include_tables=False only lost
    words; favor_precision helped the one teaser page alone, and trades recall away elsewhere.
    Falls back to trafilatura's baseline (JSON-LD ``articleBody``, ``<article>``, paragraphs) when
    it finds nothing."""
    text = trafilatura.extract(tree, url=url or None, include_comments=False, prune_xpath=PROMO_XPATHS)
    if not text:
        text = trafilatura.baseline(tree)[1]
    return _paragraphs(text or "")


def _without_headline(body: str, title: str) -> str:
    """The body without a first paragraph that repeats the title (trafilatura keeps an ``<h1>``
    inside the story's container): the title is stored and indexed beside the text already."""
    first, _, rest = body.partition("\n\n")
    same = re.sub(r"\W+", "", first.casefold()) == re.sub(r"\W+", "", title.casefold())
    return rest if same and rest.strip() else body


def _without_byline(body: str, authors: tuple[str, ...]) -> tuple[str, str]:
    """The body without the byline and dateline lines that lead it ("By Jane Doe | February 14,
    2026"), and the date they give ("" when none): they are the page's, not the story's text."""
    lines = body.split("\n")
    published = ""
    start = 0
    for i, line in enumerate(lines[: _HEAD_LINES * 2]):  # blank lines between paragraphs count double
        if not line.strip():
            continue
        found = read_byline(line, authors)
        if found is None:
            break
        published = published or found.published_at
        start = i + 1
    return "\n".join(lines[start:]).strip(), published


def not_an_article(body: str, tree: HtmlElement) -> str:
    """Why the extracted ``body`` is not an article ("" when it reads as one): too little prose (an
    index of files, a menu, a form), or mostly lines that are links (a list of links)."""
    lines = [" ".join(line.split()) for line in body.split("\n") if line.strip()]
    link_texts = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    link_chars = sum(len(line.lstrip("-*• ")) for line in lines if line.lstrip("-*• ") in link_texts)
    total_chars = sum(map(len, lines))
    prose = prose_words(body)
    if total_chars and link_chars / total_chars > MAX_LINK_LINE_SHARE and prose < link_chars / 6:
        return f"{link_chars} of its {total_chars} characters are lines that are links (a list of links or files?)"
    if prose < MIN_PROSE_WORDS:
        return (f"{prose} words of prose in {len(body)} characters of text (a directory listing, a menu or a form?); "
                f"an article has at least {MIN_PROSE_WORDS}")
    return ""


def prose_words(text: str) -> int:
    """Words in the sentences of ``text`` that read as prose: several words, ending as a sentence does."""
    from assistant.text import split_sentences

    count = 0
    for line in text.split("\n"):
        for sentence in split_sentences(line):
            words = max(len(sentence.split()), len(_UNSPACED.findall(sentence)) // 2)
            if words >= _PROSE_SENTENCE_WORDS and _SENTENCE_END.search(sentence.strip()):
                count += words
    return count


def _paragraphs(text: str) -> str:
    blocks: list[list[str]] = []
    for line in (line.strip() for line in text.split("\n")):
        if not line:
            continue
        if blocks and _GROUPED_LINE.match(line) and _GROUPED_LINE.match(blocks[-1][-1]):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return "\n\n".join("\n".join(block) for block in blocks)


def visible_text_length(tree: HtmlElement) -> int:
    """Characters of text a reader sees on the page (scripts, styles and templates left out)."""
    body = tree.find(".//body")
    texts = (body if body is not None else tree).xpath(
        ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
    )
    return len(" ".join(" ".join(texts).split()))


def short_title(line: str) -> str:
    """Cut a title candidate to ``MAX_TITLE_CHARS``, at a word boundary when one is reasonably close."""
    line = " ".join(line.split())
    if len(line) <= MAX_TITLE_CHARS:
        return line
    cut = line[:MAX_TITLE_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space >= MAX_TITLE_CHARS // 2 else cut


def _failure(origin: str, error: str) -> LoadResult:
    return LoadResult(failures=[LoadFailure(path=origin, error=error)])
