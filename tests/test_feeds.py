"""Feeds, sitemaps and home pages (ingest/feeds.py, ingest/web.py) served by a real local server, read by
the real fetcher, feedparser and extractor, and ingested into a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest.feeds import read_html_page
from ingest.fetch import Fetcher
from ingest.web import PageState, fetch_feed, is_url, load_entries, load_urls
from tests.conftest import REPO
from tests.webserver import SITE, TestSite, publish_sample_sites

NEWSDESK = str(Path(sys.executable).parent / "newsdesk")

# (path, title, date, authors, a sentence only the page has: the feed's own text lacks it)
SENTINEL = [
    ("/saltmarsh/2026/03/skerry-head-lighthouse-volunteers.html", "Volunteers take over Skerry Head lighthouse museum",
     "2026-03-06", ("Priya Castellano",), "The lighthouse was automated in 1988"),
    ("/saltmarsh/2026/03/fish-market-afternoon-auctions.html", "Fish market auctions move to the afternoon from April",
     "2026-03-05", ("Tomasz Wren",), "refrigerated store on the north quay"),
    ("/saltmarsh/2026/03/gull-point-ferry-terminal.html", "Gull Point ferry terminal to open on June 14 after two-year rebuild",
     "2026-03-03", ("Morag Lindqvist",), "The old ticket kiosk on the fish quay will close on June 13."),
]  # fmt: skip
OBSERVER = [
    ("/observer/outdoors/bald-ridge-ski-season", "Late snow gives Bald Ridge its longest ski season in a decade",
     "2026-04-24", ("Sigrid Paquette",), "131 operating days"),
    ("/observer/politics/school-board-budget", "School board adds two teachers in new budget",
     "2026-04-22", ("Lucien Marchetti",), "The lone vote against came from trustee Gwen Halloran"),
    ("/observer/local/millrace-bridge-repairs", "Millrace Bridge to close for eleven weeks of repairs",
     "2026-04-20", ("Dana Okafor",), "A temporary footbridge for pedestrians and cyclists"),
]  # fmt: skip
CHROME = ["cookies", "Subscribe", "You may also like", "Sign up", "Share on", "comments", "All rights reserved", "quayside_pete"]


@pytest.fixture
def site():
    with TestSite() as running:
        publish_sample_sites(running)
        yield running


@pytest.fixture
def web_settings(tmp_path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", fetch_allow_private=True, fetch_timeout_s=2.0)


def assert_stories(site: TestSite, articles, expected, source: str) -> None:
    assert [a.id for a in articles] == [site.url(path) for path, *_ in expected]
    for article, (path, title, day, authors, page_only) in zip(articles, expected):
        assert (article.title, article.published_at, article.authors, article.source) == (title, day, authors, source)
        assert article.url == site.url(path) and article.path == site.url(path)
        assert page_only in article.text, f"{path}: the page's own text was not used"
        for phrase in CHROME:
            assert phrase not in article.text, f"{path}: page chrome {phrase!r} in the text"


# ---------------------------------------------------------------------------------- what a URL is


def test_is_url_tells_urls_from_paths():
    assert is_url("https://news.example/feed.xml") and is_url("HTTP://news.example/") and is_url("ftp://x.example/f")
    assert not is_url("examples/articles") and not is_url("/tmp/news.html") and not is_url("C:\\news\\a.html")


def test_article_pages_and_home_pages_are_told_apart():
    base = "http://news.example/saltmarsh/"
    read = lambda file: read_html_page((SITE / file).read_text(encoding="utf-8"), base)  # noqa: E731
    home = read("saltmarsh-sentinel/index.html")
    # The front page's CollectionPage lists NewsArticle teasers: only top-level JSON-LD items count.
    assert home.is_article is False and home.why == ""
    assert home.feeds == ("http://news.example/saltmarsh/rss.xml",)  # the comments feed is left out
    ferry = read("saltmarsh-sentinel/ferry-terminal.html")
    assert ferry.is_article and ferry.why == "JSON-LD NewsArticle" and ferry.feeds  # a site-wide feed link does not matter
    assert read("saltmarsh-sentinel/fish-market.html").why == "JSON-LD NewsArticle"  # inside @graph, no og:type
    assert read("saltmarsh-sentinel/lighthouse.html").why == "JSON-LD ReportageNewsArticle"
    bare = read_html_page("<html><head><title>Notes</title></head><body><p>Plain page.</p></body></html>", base)
    assert bare.is_article and bare.feeds == ()  # no signal either way: taken as an article
    og_only = '<html><head><meta property="og:type" content="article"><link rel="alternate" type="application/atom+xml" href="/a.xml"></head></html>'
    assert read_html_page(og_only, base).why == "og:type=article"


# ------------------------------------------------------------------------------- feeds and sitemaps


def test_an_rss_feed_loads_the_pages_it_links_to(site, web_settings):
    loaded = load_urls([site.url("/saltmarsh/rss.xml")], web_settings)
    assert loaded.failures == [] and loaded.warnings == []
    assert_stories(site, loaded.articles, SENTINEL, "Saltmarsh Sentinel")
    assert len(site.hits("/saltmarsh/rss.xml")) == 1
    assert all(len(site.hits(path)) == 1 for path, *_ in SENTINEL)
    assert site.hits(SENTINEL[0][0])[0]["user-agent"].startswith("Newsdesk/")


def test_an_atom_feed_loads_the_pages_it_links_to(site, web_settings):
    loaded = load_urls([site.url("/observer/atom.xml")], web_settings)
    assert loaded.failures == [] and loaded.warnings == []
    assert_stories(site, loaded.articles, OBSERVER, "Granite Valley Observer")


def test_a_news_sitemap_loads_its_pages_newest_first(site, web_settings):
    feed = fetch_feed(site.url("/observer/sitemap-news.xml"), web_settings)
    assert (feed.status, feed.kind, feed.error) == (200, "sitemap", "")
    assert [(e.title, e.published_at, e.source) for e in feed.entries] == [(t, d, "Granite Valley Observer") for _, t, d, *_ in OBSERVER]
    loaded = load_urls([site.url("/observer/sitemap-news.xml")], web_settings)
    assert_stories(site, loaded.articles, OBSERVER, "Granite Valley Observer")


def test_a_sitemap_index_follows_its_child_sitemaps(site, web_settings):
    loaded = load_urls([site.url("/sitemap-index.xml")], web_settings)
    assert loaded.failures == [] and loaded.warnings == []
    # Newest first across both children: the Observer's April stories, then the Sentinel's March ones.
    assert_stories(site, loaded.articles[:3], OBSERVER, "Granite Valley Observer")
    assert_stories(site, loaded.articles[3:], SENTINEL, "Saltmarsh Sentinel")


def test_a_home_page_is_read_through_its_feed(site, web_settings):
    loaded = load_urls([site.url("/saltmarsh/")], web_settings)
    assert loaded.failures == [] and loaded.warnings == []
    assert_stories(site, loaded.articles, SENTINEL, "Saltmarsh Sentinel")
    assert len(site.hits("/saltmarsh/rss.xml")) == 1 and site.hits("/saltmarsh/comments/feed/") == []


def test_an_article_page_loads_as_itself(site, web_settings):
    loaded = load_urls([site.url(SENTINEL[1][0])], web_settings)
    assert_stories(site, loaded.articles, SENTINEL[1:2], "Saltmarsh Sentinel")
    assert site.hits("/saltmarsh/rss.xml") == []  # its feed link is not followed: it is an article


def test_a_page_listed_twice_is_read_once(site, web_settings):
    urls = [site.url("/saltmarsh/rss.xml"), site.url("/saltmarsh/sitemap.xml"), site.url(SENTINEL[2][0])]
    loaded = load_urls(urls, web_settings)
    assert sorted(a.id for a in loaded.articles) == sorted(site.url(p) for p, *_ in SENTINEL) and not loaded.failures
    assert [len(site.hits(path)) for path, *_ in SENTINEL] == [1, 1, 2]  # the third was also given as a URL itself


# ----------------------------------------------------------------------------------------- fallbacks


def test_an_entry_whose_page_is_gone_falls_back_to_the_feeds_text(site, web_settings):
    gone = SENTINEL[2][0]
    site.route(gone, status=404)
    loaded = load_urls([site.url("/saltmarsh/rss.xml")], web_settings)
    assert [a.id for a in loaded.articles] == [site.url(p) for p, *_ in SENTINEL] and loaded.failures == []
    fallback = loaded.articles[2]
    assert (fallback.title, fallback.published_at, fallback.source, fallback.authors) == (
        "Gull Point ferry terminal to open on June 14 after two-year rebuild", "2026-03-03", "Saltmarsh Sentinel", ("Morag Lindqvist",))
    assert fallback.text == (
        "The rebuilt ferry terminal at Gull Point will open to passengers on June 14, the Saltmarsh Harbour Board confirmed."
        "\n\nThe 42 million pound building has a waiting hall for 300 people and a second boarding ramp."
    )
    [warning] = loaded.warnings
    assert warning.path == site.url(gone)
    assert warning.message.startswith("page not fetched: HTTP 404 Not Found; stored the feed entry's full text instead (")
    assert site.url("/saltmarsh/rss.xml") in warning.message


def test_an_atom_entry_falls_back_to_its_summary(site, web_settings):
    site.route(OBSERVER[2][0], "<html><body><p>Under maintenance</p></body></html>", status=503)
    loaded = load_urls([site.url("/observer/atom.xml")], web_settings)
    assert loaded.articles[2].text == (
        "The only crossing between Upper Granite and the mill district closes on May 11; drivers will use Quarry Road."
    )
    assert "HTTP 503 Service Unavailable; stored the feed entry's summary instead" in loaded.warnings[0].message


def test_the_page_wins_and_the_entry_fills_what_the_page_lacks(site, web_settings):
    path = SENTINEL[1][0]
    site.route(path, "<html><body><article><p>" + "The skippers' ballot on a later auction passed easily, and the market will now open its doors "
               "in the early afternoon so that boats fishing far offshore can land in daylight. " * 3 + "</p></article></body></html>")  # fmt: skip
    article = load_urls([site.url(path)], web_settings).articles[0]
    assert article.published_at == ""  # given alone, the bare page has no date
    article = next(a for a in load_urls([site.url("/saltmarsh/rss.xml")], web_settings).articles if a.url == site.url(path))
    assert "boats fishing far offshore" in article.text
    assert (article.published_at, article.authors, article.source) == ("2026-03-05", ("Tomasz Wren",), "Saltmarsh Sentinel")


def test_a_sitemap_entry_without_a_page_or_text_is_a_failure(site, web_settings):
    site.route(OBSERVER[0][0], status=410)
    loaded = load_urls([site.url("/observer/sitemap-news.xml")], web_settings)
    assert len(loaded.articles) == 2
    [failure] = loaded.failures
    assert failure.path == site.url(OBSERVER[0][0])
    assert failure.error == "page not fetched: HTTP 410 Gone; the listing entry has no text of its own to use instead"


# ------------------------------------------------------------------------------------------ failures


def test_bad_urls_are_reported_while_the_others_load(site, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "d", fetch_allow_private=True, fetch_timeout_s=0.5)
    site.route("/slow.xml", "<rss/>", content_type="application/rss+xml", delay_s=3)
    site.route("/broken.xml", "<rss version='2.0'><channel><title>Broken Bugle</title><item><title>Half a st",
               content_type="application/rss+xml")  # fmt: skip
    site.route("/not-xml.rss", "Service temporarily unavailable, please try later", content_type="application/rss+xml")
    site.route("/error.xml", "oops", status=500)
    site.route("/loop", status=302, headers={"Location": "/loop"})
    site.route("/logo.png", b"\x89PNG\r\n", content_type="image/png")
    site.route("/notes.txt", "plain notes", content_type="text/plain")
    bad = ["/missing.xml", "/error.xml", "/slow.xml", "/broken.xml", "/not-xml.rss", "/loop", "/logo.png", "/notes.txt"]
    urls = [site.url("/saltmarsh/rss.xml"), *map(site.url, bad), "ftp://files.example/feed.xml", site.url("/observer/atom.xml")]
    loaded = load_urls(urls, settings)
    assert [a.id for a in loaded.articles] == [site.url(p) for p, *_ in SENTINEL + OBSERVER]
    errors = {f.path: f.error for f in loaded.failures}
    assert list(errors) == [*map(site.url, bad), "ftp://files.example/feed.xml"]  # input order
    assert errors[site.url("/missing.xml")] == "HTTP 404 Not Found"
    assert errors[site.url("/error.xml")] == "HTTP 500 Internal Server Error"
    assert errors[site.url("/slow.xml")] == "no response within 0.5 s"
    assert errors[site.url("/broken.xml")].startswith("malformed feed (SAXParseException: ")
    assert errors[site.url("/not-xml.rss")].startswith("malformed feed (")
    assert errors[site.url("/loop")] == f"redirect loop: {site.url('/loop')} -> {site.url('/loop')}"
    assert errors[site.url("/logo.png")] == "content type image/png is not feed or html or sitemap"
    assert errors[site.url("/notes.txt")] == "content type text/plain is not feed or html or sitemap"
    assert errors["ftp://files.example/feed.xml"] == "only http and https URLs are fetched, not ftp"


def test_a_home_page_given_as_a_feed_names_its_feeds(site, web_settings):
    feed = fetch_feed(site.url("/saltmarsh/"), web_settings)
    assert feed.error == f"an HTML page, not a feed or sitemap; it links to the feeds {site.url('/saltmarsh/rss.xml')}"


def test_external_entities_in_feeds_and_sitemaps_are_never_fetched(site, web_settings):
    doctype = '<!DOCTYPE {root} [<!ENTITY leak SYSTEM "{base}/secret">]>'.format
    site.route("/secret", "top secret")
    site.route("/xxe-feed.xml", doctype(root="rss", base=site.base) + "<rss version='2.0'><channel><title>Leaky &leak;</title>"
               f"<item><title>One</title><link>{site.url(SENTINEL[0][0])}</link></item></channel></rss>",
               content_type="application/rss+xml")  # fmt: skip
    site.route("/xxe-sitemap.xml", doctype(root="urlset", base=site.base) + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"<url><loc>{site.url(SENTINEL[1][0])}</loc><lastmod>&leak;</lastmod></url></urlset>", content_type="application/xml")  # fmt: skip
    loaded = load_urls([site.url("/xxe-feed.xml"), site.url("/xxe-sitemap.xml")], web_settings)
    assert len(loaded.articles) == 2
    assert site.hits("/secret") == [] and all("top secret" not in a.text + a.source for a in loaded.articles)


def test_a_big_sitemap_yields_its_newest_pages_only(site, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "d", fetch_allow_private=True, fetch_max_links=5)
    rows = []
    for day in range(1, 13):
        path = f"/archive/2026-01-{day:02d}"
        rows.append(f"<url><loc>{site.base}{path}</loc><lastmod>2026-01-{day:02d}</lastmod></url>")
        site.route(path, f"<html><body><article><h1>Tide table for January {day}</h1><p>" + f"High water on January {day} "
                   "came in a little later than the almanac promised, and the harbour master logged it by hand. " * 4 + "</p></article></body></html>")  # fmt: skip
    site.route("/archive.xml", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(rows) + "</urlset>",
               content_type="application/xml")  # fmt: skip
    loaded = load_urls([site.url("/archive.xml")], settings)
    assert [a.title for a in loaded.articles] == [f"Tide table for January {d}" for d in (12, 11, 10, 9, 8)]
    assert [w.message for w in loaded.warnings] == ["the sitemap lists 12 pages; read the newest 5"]
    assert [len(site.hits(f"/archive/2026-01-{d:02d}")) for d in range(1, 13)] == [0] * 7 + [1] * 5


def test_pages_of_one_feed_are_fetched_at_most_two_at_a_time(site, web_settings):
    for path, *_ in SENTINEL + OBSERVER:
        site.routes[path].delay_s = 0.25
    loaded = load_urls([site.url("/saltmarsh/rss.xml"), site.url("/observer/atom.xml")], web_settings)
    assert len(loaded.articles) == 6
    assert site.max_active_per_host[f"127.0.0.1:{site.port}"] == 2 == web_settings.fetch_per_host


# ------------------------------------------------------------------------------------------ syncing


def test_a_second_sync_is_all_not_modified_and_embeds_nothing(site, web_settings, ingester):
    feed_url = site.url("/saltmarsh/rss.xml")
    with Fetcher(web_settings) as fetcher:
        feed = fetch_feed(feed_url, web_settings, fetcher=fetcher)
        assert (feed.status, feed.title, len(feed.entries), feed.etag) == (200, "Saltmarsh Sentinel", 3, '"v1-1"')
        first = load_entries(feed.entries, web_settings, fetcher=fetcher)
        assert [p.status for p in first.pages] == [200, 200, 200] and first.not_modified == []
        summary = ingester.ingest_articles(first.articles, first.failures, warnings=first.warnings)
        assert (summary.added, summary.failed) == (3, []) and summary.chunks > 0

        again = fetch_feed(feed_url, web_settings, etag=feed.etag, last_modified=feed.last_modified, fetcher=fetcher)
        assert (again.status, again.not_modified, again.entries, again.etag) == (304, True, [], feed.etag)
        # The feed said nothing changed; even asked page by page, every page says the same.
        known = {page.url: page for page in first.pages}
        pages = load_entries(feed.entries, web_settings, known=known, fetcher=fetcher)
        assert pages.articles == [] and pages.failures == [] and pages.not_modified == [site.url(p) for p, *_ in SENTINEL]
        assert all(isinstance(p, PageState) and p.status == 304 for p in pages.pages)
        summary = ingester.ingest_articles(pages.articles, pages.failures, warnings=pages.warnings)
        assert (summary.added, summary.updated, summary.chunks) == (0, 0, 0)
    assert [h.get("if-none-match") for h in site.hits("/saltmarsh/rss.xml")] == [None, '"v1-1"']
    assert all(site.hits(p)[1]["if-modified-since"] == "Tue, 05 May 2026 08:00:00 GMT" for p, *_ in SENTINEL)

    # A page that did change comes back whole, with its new validators; (etag, last_modified) pairs work too.
    site.routes[SENTINEL[0][0]].etag = '"v2"'
    pairs = {url: (state.etag, state.last_modified) for url, state in known.items()}
    site.routes[SENTINEL[0][0]].last_modified = "Wed, 06 May 2026 08:00:00 GMT"
    changed = load_entries(feed.entries, web_settings, known=pairs)
    assert [a.id for a in changed.articles] == [site.url(SENTINEL[0][0])] and len(changed.not_modified) == 2
    assert changed.pages[0] == PageState(site.url(SENTINEL[0][0]), 200, '"v2"', "Wed, 06 May 2026 08:00:00 GMT")


# ------------------------------------------------------------------------------------- through the CLI


def test_newsdesk_ingest_a_feed_url_then_ask(site, tmp_path):
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "data"), "NEWSDESK_FETCH_ALLOW_PRIVATE": "true"}
    run = lambda *args: subprocess.run([NEWSDESK, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # noqa: E731
    feed_url = site.url("/saltmarsh/rss.xml")
    result = run("ingest", feed_url, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["added"], summary["failed"], summary["warnings"]) == (3, [], []) and summary["chunks"] >= 3

    answer = run("ask", "When will the new Gull Point ferry terminal open?", "--json")
    assert answer.returncode == 0, answer.stderr
    reply = json.loads(answer.stdout)
    assert not reply["declined"] and "June 14" in reply["answer"]
    assert reply["sources"][0]["url"] == site.url(SENTINEL[2][0])

    refused = run("ingest", feed_url, site.url("/nowhere.xml"))
    assert refused.returncode == 1
    assert "added 0 / updated 0 / unchanged 3 / deleted 0 / failed 1 / chunks 0" in refused.stdout
    assert f"failed {site.url('/nowhere.xml')}: HTTP 404 Not Found" in refused.stderr
