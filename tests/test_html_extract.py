"""HTML extraction on pages shaped like real news sites (tests/pages, gold in tests/extract_gold.jsonl):
the story's text without the page's chrome, and metadata from JSON-LD, OpenGraph and the <title>.

The pages: a "Top stories" teaser <article> before the story's own (northern-ledger), a Yoast-style
JSON-LD @graph with @id references and an in-story donation appeal (harbour-courier), a
Windows-1252 page with its author only in <meta name="author"> (valley-gazette), broken and list
JSON-LD with a "Read more:" link paragraph (coastline-post), a metered teaser (metro-dispatch), no
JSON-LD or OpenGraph at all (ridgeback-times), a relative og:url (island-herald), and a UTF-8 page
declaring no charset, with microdata (lakeside-chronicle).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from ingest.html import article_from_html
from ingest.html_meta import strip_site_name

TESTS = Path(__file__).resolve().parent
PAGES = TESTS / "pages"
GOLD = [json.loads(line) for line in (TESTS / "extract_gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
NEWSDESK = Path(sys.executable).parent / "newsdesk"


def words(text: str) -> str:
    """Words in order, for containment checks that ignore how a table or list is drawn."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def extract(name: str, **kwargs):
    path = PAGES / name
    result = article_from_html(path.read_bytes(), origin=str(path), **kwargs)
    assert result.failures == [] and len(result.articles) == 1
    return result.articles[0], result.warnings


@pytest.mark.parametrize("gold", GOLD, ids=[Path(g["origin"]).stem for g in GOLD])
def test_page_metadata_story_and_no_chrome(gold):
    article, warnings = extract(Path(gold["origin"]).name)
    assert article.title == gold["title"]
    assert article.published_at == gold["published_at"]
    assert article.source == gold["source"]
    assert list(article.authors) == gold["authors"]
    assert article.url == gold["url"]
    assert article.id == (gold["url"] or str(PAGES / Path(gold["origin"]).name))
    assert article.path == str(PAGES / Path(gold["origin"]).name)
    text = words(article.text)
    for paragraph in gold["text"].split("\n\n"):
        assert words(paragraph) in text, paragraph
    for phrase in gold["chrome"]:
        assert phrase.casefold() not in article.text.casefold(), phrase
    assert len(warnings) == (1 if gold["short"] else 0)


def test_paragraphs_are_separated_by_blank_lines_and_lists_stay_together():
    article, _ = extract("coastline-post-erosion.html")
    blocks = article.text.split("\n\n")
    assert blocks[0].startswith("Monday night's storm surge") and blocks[1].startswith("Council engineers")
    assert "What the council will do" in blocks
    assert (
        "- emergency sandbagging in front of the boat shed\n"
        "- a ban on vehicles on the beach north of the lifeguard tower\n"
        "- a survey of every property within fifty metres of the new scarp"
    ) in blocks


def test_teaser_article_before_the_story_does_not_win():
    article, _ = extract("northern-ledger-ferry.html")
    assert article.text.startswith("The overnight ferry between Brennvik and the island of Skarholm")
    assert "Harbour crane operators vote to strike" not in article.text
    assert article.text.endswith("The authority said it would review the sailing times after the first six months.")


def test_windows_1252_page_is_decoded_by_its_declaration():
    raw = (PAGES / "valley-gazette-terrace-fee.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    article, _ = extract("valley-gazette-terrace-fee.html")
    assert "€38 per square metre" in article.text and "“We are not against paying our share,” said José Almeida" in article.text
    assert article.title == "Café owners fight the new terrace fee"  # "Valley Gazette :: " taken off


def test_undeclared_windows_1252_page_is_detected():
    page = (
        "<html><head><title>Caf\u00e9 terrace fee row</title></head><body><article>"
        "<p>\u201cWe are not against paying our share,\u201d said Jos\u00e9 Almeida, who has run the caf\u00e9 for nineteen years "
        "on the corner of the market square \u2014 and who says the new fee of \u20ac38 a metre is far too high.</p>"
        "<p>The council will vote on the fee on 27 November after a petition signed by more than nine hundred traders.</p>"
        "</article></body></html>"
    ).encode("cp1252")
    article = article_from_html(page, origin="undeclared.html").articles[0]
    assert article.text.startswith("\u201cWe are not against paying our share,\u201d said Jos\u00e9 Almeida")
    assert "\u2014 and who says the new fee of \u20ac38" in article.text


def test_relative_og_url_resolves_against_the_fetched_url():
    article, _ = extract("island-herald-seagrass.html", url="https://islandherald.example/amp/orla")
    assert article.url == article.id == "https://islandherald.example/environment/orla-bay-seagrass-returns"
    article, _ = extract("island-herald-seagrass.html", default_id="herald-orla")
    assert article.url == "" and article.id == "herald-orla"  # no base to resolve against: no url


def test_short_body_on_a_long_page_is_a_warning_naming_lengths():
    article, warnings = extract("metro-dispatch-paywall.html")
    assert "named Carla Ventimiglia" in article.text
    (warning,) = warnings
    assert warning.path == str(PAGES / "metro-dispatch-paywall.html")
    assert re.search(rf"\b{len(article.text)} characters from a page with \d{{4}} characters of visible text", warning.message)


JSON_LD_PAGE = """<html><head><title>Pier reopens after storm repairs | Bay Wire</title>
<script type="application/ld+json">{LD}</script></head><body><article>
<h1>Pier reopens after storm repairs</h1>
<p>The town pier reopened on Saturday after three months of repairs to the decking and the railings that the
January storm tore away, and the first anglers were back on its far end within an hour of the gates opening.</p>
<p>The repairs cost about half a million, shared between the council and the harbour trust, which owns the pier.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("ld", "authors", "source", "published"),
    [
        ('{"@type": "NewsArticle", "author": "By Ana Silva and Ben Ode", "publisher": "Bay Wire", "datePublished": "2026-06-01",}',
         ("Ana Silva", "Ben Ode"), "Bay Wire", "2026-06-01"),  # trailing comma tolerated
        ('[{"@type": "Organization", "name": "Elsewhere"}, {"@type": ["Article"], "author": {"name": "Cai Lun"}, '
         '"publisher": {"@type": "Organization", "name": "Bay Wire"}, "dateCreated": "2026-06-02T10:00:00Z"}]',
         ("Cai Lun",), "Bay Wire", "2026-06-02"),
        ('{"@graph": [{"@type": "Person", "@id": "#p1", "givenName": "Dee", "familyName": "Moss"}, '
         '{"@type": "Organization", "@id": "#org", "name": "Bay Wire"}, '
         '{"@type": "BlogPosting", "author": [{"@id": "#p1"}, {"@type": "Organization", "name": "Bay Wire"}], '
         '"publisher": {"@id": "#org"}, "dateModified": "2026-06-03"}]}',
         ("Dee Moss",), "Bay Wire", "2026-06-03"),  # the publisher as author is not a byline
        ('{"@type": "NewsArticle", "headline": "broken', (), "Bay Wire", ""),  # unreadable: the <title> stands in
    ],
)
def test_json_ld_shapes(ld, authors, source, published):
    result = article_from_html(JSON_LD_PAGE.replace("{LD}", ld), origin="pier.html")
    (article,) = result.articles
    assert (article.authors, article.source, article.published_at) == (authors, source, published)
    # the site name comes off the title: the publisher says so, or else the <h1> shows where the headline ends
    assert article.title == "Pier reopens after storm repairs"
    assert article.text.startswith("The town pier reopened on Saturday")


@pytest.mark.parametrize(
    ("title", "sites", "host", "headings", "expected"),
    [
        ("Night ferry returns | Northern Ledger", ["Northern Ledger"], "", [], ("Night ferry returns", "Northern Ledger")),
        ("Valley Gazette :: Café owners fight", ["Valley Gazette"], "", [], ("Café owners fight", "Valley Gazette")),
        ("Greens win - Ridgeback Times", [], "www.ridgebacktimes.com.au", [], ("Greens win", "Ridgeback Times")),
        ("Library hours – Lakeside Chronicle", [], "", ["Library hours"], ("Library hours", "Lakeside Chronicle")),
        ("Seagrass returns | The Island Herald", ["Island Herald"], "", [], ("Seagrass returns", "The Island Herald")),
        ("Brexit - what happens next", [], "news.example.com", [], ("Brexit - what happens next", "")),
        ("Harbour ferry & night service | Wire", [], "example.org", [], ("Harbour ferry & night service | Wire", "")),
    ],
)
def test_strip_site_name(title, sites, host, headings, expected):
    assert strip_site_name(title, sites, host, headings) == expected


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "no article text found: the page is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary content (contains NUL bytes)"),
        (b"<html><body><script>track()</script></body></html>", "no article text found in the page"),
    ],
)
def test_bad_pages_are_failures_naming_the_origin(content, error):
    result = article_from_html(content, origin="https://news.example/broken")
    assert result.articles == []
    assert [(f.path, f.error) for f in result.failures] == [("https://news.example/broken", error)]


# ------------------------------------------------------------------------------------- the command


def newsdesk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(NEWSDESK), *args], cwd=TESTS.parent, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_extract_json_lines_in_input_order_with_failures_on_stderr(tmp_path):
    latin1 = tmp_path / "kiosk.txt"
    latin1.write_bytes("Kiosk reopens\n\nThe caf\u00e9 kiosk by the ferry reopens on Monday.\n".encode("latin-1"))
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01binary")
    done = newsdesk("extract", "--json", str(PAGES / "valley-gazette-terrace-fee.html"), str(tmp_path / "missing"), str(tmp_path),
                    str(PAGES / "northern-ledger-ferry.html"))
    assert done.returncode == 1
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [Path(r["origin"]).name for r in rows] == ["valley-gazette-terrace-fee.html", "kiosk.txt", "northern-ledger-ferry.html"]
    assert all(list(r) == ["origin", "id", "title", "url", "published_at", "source", "authors", "text", "warnings"] for r in rows)
    valley, kiosk, ledger = rows
    assert (valley["title"], valley["source"], valley["authors"], valley["published_at"]) == (
        "Café owners fight the new terrace fee", "Valley Gazette", ["Marta Quiñones"], "2025-11-14")
    assert valley["id"] == "valley-gazette-terrace-fee.html#café-owners-fight-the-new-terrace-fee"
    assert kiosk["text"] == "Kiosk reopens\n\nThe caf\u00e9 kiosk by the ferry reopens on Monday."
    assert ledger["id"] == ledger["url"] == "https://www.northernledger.example/news/2026/03/02/night-ferry-skarholm-returns"
    assert ledger["authors"] == ["Ingrid Halvorsen", "Tomas Reed"] and ledger["warnings"] == []
    errors = done.stderr.splitlines()
    assert f"failed {tmp_path / 'missing'}: no such file or folder" in errors
    assert f"failed {tmp_path / 'blob.txt'}: binary file (contains NUL bytes)" in errors


def test_extract_folder_shows_every_page_with_warnings():
    done = newsdesk("extract", str(PAGES))
    assert done.returncode == 0, done.stderr
    for gold in GOLD:
        assert gold["title"] in done.stdout
    assert "warning: suspiciously short article text" in done.stdout
    assert "authors Ingrid Halvorsen, Tomas Reed" in done.stdout


@pytest.fixture
def served_pages():
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(PAGES)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_fetched_page_bytes_from_a_local_server(served_pages):
    url = f"{served_pages}/island-herald-seagrass.html"
    response = httpx.get(url)
    result = article_from_html(response.content, origin=url, url=url)
    (article,) = result.articles
    assert article.url == f"{served_pages}/environment/orla-bay-seagrass-returns"  # og:url resolved against the page
    assert article.path == url and article.title == "Seagrass meadows return to Orla Bay after a decade"


def test_extract_url_through_the_command(served_pages):
    url = f"{served_pages}/valley-gazette-terrace-fee.html"
    done = newsdesk("extract", "--json", url, env={"NEWSDESK_FETCH_ALLOW_PRIVATE": "true"})
    assert done.returncode == 0, done.stderr
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["title"] == "Café owners fight the new terrace fee" and "€38 per square metre" in row["text"]
    assert row["source"] == "Valley Gazette" and row["authors"] == ["Marta Quiñones"]


# ----------------------------------------------------------------------------- what is no article

BYLINE_PAGE = """<html><head><title>Tide gauge back online</title>{META}</head><body><article>
<h1>Tide gauge back online</h1>
<p>{BYLINE}</p>
<p>By Sunday, most of the harbour's boats had moved back to their moorings, and the tide gauge that the January
storm knocked out was reporting again, the harbour master said in a statement on Monday.</p>
<p>The gauge feeds the flood warnings for the low streets behind the quay, which went without them for a month.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("byline", "meta", "published"),
    [
        ("By Jane Doe | February 14, 2026", "", "2026-02-14"),  # the dateline dates an undated page
        ("Published Feb. 14, 2026, 10:02 a.m. · 3 min read", "", "2026-02-14"),
        ("By Jane Doe and Ali Khan", "", ""),
        ("By Jane Doe | February 14, 2026", '<meta property="article:published_time" content="2026-02-15">', "2026-02-15"),
    ],
)
def test_byline_and_dateline_lines_are_not_body_text(byline, meta, published):
    result = article_from_html(BYLINE_PAGE.replace("{BYLINE}", byline).replace("{META}", meta), origin="tide.html")
    (article,) = result.articles
    # The next paragraph opens with "By Sunday," and is the story's: it stays.
    assert article.text.startswith("By Sunday, most of the harbour's boats had moved back")
    assert "Jane Doe" not in article.text and "min read" not in article.text
    assert article.published_at == published


def test_a_list_of_links_is_not_an_article():
    headlines = "".join(f'<li><a href="/story/{i}">Council weighs plan number {i} for the old quay</a></li>' for i in range(12))
    page = f"<html><head><title>Latest</title></head><body><main><h1>Latest</h1><ul>{headlines}</ul></main></body></html>"
    result = article_from_html(page, origin="https://news.example/latest")
    assert result.articles == []
    (failure,) = result.failures
    assert failure.path == "https://news.example/latest"
    assert failure.error.startswith("not an article: ") and "lines that are links" in failure.error


def test_a_directory_listing_is_reported_not_stored(served_pages, store, embed_model):
    """A folder's index page (http.server's own listing of tests/pages) fetched as a home page: no
    feeds, so it was read as an article page, and stored as a few characters of file names."""
    from ingest.pipeline import Ingester

    ingester = Ingester(store, embed_model, store.settings.model_copy(update={"fetch_allow_private": True}))
    summary = ingester.ingest_paths([], urls=[f"{served_pages}/"])
    assert summary.added == 0 and store.records() == {}
    (failure,) = summary.failed
    assert failure.path == f"{served_pages}/" and failure.error.startswith("not an article: ")
    # An article page of the same server still is one.
    again = ingester.ingest_paths([], urls=[f"{served_pages}/island-herald-seagrass.html"])
    assert again.added == 1 and again.failed == []
