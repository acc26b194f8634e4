"""The web page in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn
server (``newsdesk serve``'s app) over the sample articles.

Covered: a question's answer streams in and is replaced by the checked answer; a citation shows its
quote on hover and on keyboard focus; a follow-up sends the conversation as history; the date filter
restricts the sources and the window searched is shown; 👍 lands in feedback.jsonl; a source is
deleted and a file uploaded from the Sources view; the key prompt with NEWSDESK_API_KEYS (a wrong key
says so); an article whose text holds <script> and <img onerror> is shown as inert text; /docs and
/redoc render with no other host; a phone-width viewport (filters folded to one row, the Sources table
stacked with nothing cut off) and the dark theme; the "Add articles" box reads one URL a line and
reports each bad line apart while the good ones are added; an uploaded JSONL's bad line is named by
its line; a follow-up shows how it was understood; a decline says so once.

The browser is Debian's (`apt-get install chromium`; `make install-test` installs it as root), never
one Playwright downloads (``CHROMIUM=path`` points at another build). Without it the tests skip,
naming the package; under CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from assistant.answering.extractive import DECLINE_TEXT
from tests.conftest import unavailable
from tests.test_api import FESTIVAL_Q, KEY, ingested_engine, serving
from tests.webserver import TestSite, serve_saltmarsh_feed

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"  # CHROMIUM: another build

HOSTILE_ID = "harbour-night-ferry-hostile"
HOSTILE_TITLE = "Night ferry <script>window.__pwned = 'title'</script> extended"
HOSTILE_TEXT = (
    "The Harbour Courier learned that the Kestrel Island night ferry will run until 2 a.m. from April, "
    "the transit board decided <img src=x onerror=\"window.__pwned = 'img'\"> after a long debate.\n\n"
    "Board members said the later sailings <script>window.__pwned = 'script'</script> answer years of "
    "requests from restaurant and hospital workers on the island."
)
HOSTILE_Q = "Until when will the Kestrel Island night ferry run?"


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Python package 'playwright' is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        unavailable(f"Debian package 'chromium' is not installed ({CHROMIUM} is missing; apt-get install chromium, or make install-test as root)")
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _playwright()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embed_model):
    return ingested_engine(tmp_path_factory.mktemp("browser") / "data", embed_model)


@pytest.fixture(scope="module")
def server(engine):
    with serving(engine) as running:
        response = httpx.post(
            f"{running.url}/v1/documents",
            json={"articles": [{"id": HOSTILE_ID, "title": HOSTILE_TITLE, "text": HOSTILE_TEXT, "source": "Harbour Courier", "published_at": "2026-01-21"}]},
            timeout=60,
        )
        assert response.status_code == 200 and response.json()["added"] == 1, response.text
        yield running


@pytest.fixture(scope="module")
def keyed_server(engine):
    with serving(engine, api_keys=KEY) as running:
        yield running


class Page:
    """A fresh browser context on the page, recording page errors and CSP violations."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 860})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.goto(url)

    def ask(self, question: str) -> None:
        """Types the question, presses Enter, and waits for its answer to be final."""
        before = self.page.locator(".turn").count()
        self.page.fill("#question", question)
        self.page.press("#question", "Enter")
        self.page.wait_for_function(
            """n => document.querySelectorAll('.turn').length > n
                   && !document.querySelector('.turn:last-child .answer').hasAttribute('aria-busy')""",
            arg=before,
            timeout=60_000,
        )

    def last_answer(self):
        return self.page.locator(".answer").last


@pytest.fixture
def page(browser, server):
    opened = Page(browser, server.url)
    yield opened
    opened.context.close()


def test_an_answer_streams_in_then_is_replaced_by_the_checked_answer(page):
    # Record what the answer region showed while the stream was open (the page has no test hooks).
    page.page.evaluate(
        """() => {
        window.__seen = [];
        new MutationObserver(() => {
          for (const el of document.querySelectorAll('.answer-text.streaming')) window.__seen.push(el.textContent);
        }).observe(document.getElementById('thread'), {subtree: true, childList: true, characterData: true});
      }"""
    )
    page.ask(FESTIVAL_Q)
    answer = page.last_answer()
    assert answer.get_attribute("data-state") == "answered"
    seen = page.page.evaluate("window.__seen")
    assert seen and "48 food vendors" in seen[-1]  # the streamed text, shown before `done`
    assert answer.locator(".streaming").count() == 0
    text = answer.locator(".answer-text").inner_text()
    assert "48 food vendors" in text and "[1]" in text
    link = answer.locator("a.cite").first
    assert link.inner_text() == "[1]"
    assert link.get_attribute("href") == "https://example.org/newsdesk-sample/dumpling-festival"
    assert "Harbourfront Dumpling Festival" in link.get_attribute("aria-label")
    card = answer.locator(".source-card").first
    assert "Harbourfront Dumpling Festival returns" in card.inner_text()
    assert "Newsdesk Sample Wire" in card.locator(".source-meta").inner_text()
    assert "2026-01-20" in card.locator(".source-meta").inner_text()
    assert "48 food vendors" in card.locator(".source-quote").inner_text()
    assert page.page.evaluate("performance.getEntriesByName('newsdesk:first-token').length") == 1
    assert page.errors == []


def test_a_citation_shows_its_quote_on_hover_and_on_keyboard_focus(page):
    page.ask(FESTIVAL_Q)
    link = page.last_answer().locator("a.cite").first
    tip = page.page.locator("#cite-tip")
    assert tip.is_hidden()
    link.hover()
    assert tip.is_visible()
    assert "Harbourfront Dumpling Festival returns to Marlow Bay in May" in tip.locator(".tip-title").inner_text()
    assert "Newsdesk Sample Wire · 2026-01-20" in tip.locator(".tip-meta").inner_text()
    assert "48 food vendors" in tip.locator(".tip-quote").inner_text()
    page.page.mouse.move(5, 5)
    assert tip.is_hidden()
    # Keyboard: Tab reaches the citation, focus shows the tip, Escape hides it.
    page.page.focus("#question")
    for _ in range(40):
        page.page.keyboard.press("Tab")
        if page.page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    assert page.page.evaluate("document.activeElement.getAttribute('data-n')") == "1"
    assert tip.is_visible() and "48 food vendors" in tip.inner_text()
    page.page.keyboard.press("Escape")
    assert tip.is_hidden()


def test_a_follow_up_sends_the_conversation_and_is_kept_in_local_storage(page):
    page.ask(FESTIVAL_Q)
    bodies = []
    page.page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/v1/ask") else None)
    page.ask("Where will it be held?")
    assert bodies[-1]["history"][0] == {"role": "user", "content": FESTIVAL_Q}
    assert bodies[-1]["history"][1]["role"] == "assistant" and "48 food vendors" in bodies[-1]["history"][1]["content"]
    assert "Pier 4" in page.last_answer().locator(".answer-text").inner_text()  # understood as the festival
    assert page.page.locator(".turn").count() == 2
    # How the follow-up was understood is shown (the answer's standalone question), as the CLI prints it;
    # a question asked as is shows nothing of the kind.
    understood = page.last_answer().locator(".understood")
    assert understood.inner_text().startswith("Understood as: Where will Harbourfront Dumpling Festival be held?"), understood.inner_text()
    assert page.page.locator(".turn").first.locator(".understood").count() == 0

    # Reloaded, the conversation is still there; "New conversation" starts an empty one, history-free.
    page.page.reload()
    assert page.page.locator(".turn").count() == 2
    assert page.page.locator("#conversation-list button").count() == 1
    page.page.click("#new-conversation")
    assert page.page.locator(".turn").count() == 0
    page.ask("Who will help monitor a ceasefire in Ukraine?")
    assert bodies[-1]["history"] == []
    assert page.page.locator("#conversation-list button").count() == 2


def test_the_date_filter_restricts_the_sources_and_the_window_searched_is_shown(page):
    page.page.fill("#filter-since", "2026-01-08")
    page.ask("Who will help monitor a ceasefire in Ukraine?")
    answer = page.last_answer()
    dates = [m.split(" · ")[1] for m in answer.locator(".source-meta").all_inner_texts()]
    assert dates and all(d >= "2026-01-08" for d in dates), dates
    assert "filter: 2026-01-08 to …" in answer.locator(".scope").inner_text()

    page.page.fill("#filter-since", "2020-01-01")
    page.page.fill("#filter-until", "2020-12-31")
    page.ask("Who will help monitor a ceasefire in Ukraine?")
    answer = page.last_answer()
    assert answer.get_attribute("data-state") == "declined"
    assert answer.locator(".declined-note").inner_text() == DECLINE_TEXT
    assert "2020-01-01 to 2020-12-31" in answer.locator(".scope").inner_text()

    page.page.click("#clear-filters")
    page.ask("What did Canada promise in January?")  # the question's own window, as the engine searched it
    assert "published 2026-01-01 to 2026-01-31 (“in January”)" in page.last_answer().locator(".scope").inner_text()


def test_a_declined_answer_says_so_once_and_lists_the_closest_articles(page):
    page.ask("How many Canadian troops will be deployed to Ukraine?")  # the samples give no number
    answer = page.last_answer()
    assert answer.get_attribute("data-state") == "declined"
    # One message, the engine's own (it says why), not a second one beside it saying the same.
    assert answer.locator(".declined-note").all_inner_texts() == [DECLINE_TEXT]
    assert answer.locator(".answer-text").count() == 0
    assert answer.locator(".sources-title").inner_text() == "Closest articles"
    titles = " | ".join(answer.locator(".source-card").all_inner_texts())
    assert "Canada" in titles, titles  # the articles a reader would look in next
    assert answer.locator("a.cite").count() == 0, "a decline cites nothing"


def test_feedback_is_recorded_in_feedback_jsonl(page, engine):
    page.ask(FESTIVAL_Q)
    page.last_answer().get_by_role("button", name="Good answer").click()
    status = page.last_answer().locator(".feedback-status")
    status.filter(has_text="recorded").wait_for()
    assert page.last_answer().get_by_role("button", name="Good answer").get_attribute("aria-pressed") == "true"
    record = json.loads(engine.settings.feedback_log.read_text().splitlines()[-1])
    assert (record["source"], record["verdict"], record["question"]) == ("web", "up", FESTIVAL_Q)
    assert "48 food vendors" in record["answer"]


def test_sources_view_deletes_an_article_and_uploads_a_file(page, server, tmp_path):
    doomed = {"id": "browser-doomed", "title": "Marlow Bay gull census counts fewer birds", "text": "Volunteers counted 312 gulls on the Marlow Bay breakwater on Sunday, fewer than last year.", "published_at": "2026-01-22"}
    assert httpx.post(f"{server.url}/v1/documents", json={"articles": [doomed]}, timeout=60).json()["added"] == 1

    page.page.click("#tab-sources")
    page.page.fill("#doc-search", "gull census")
    row = page.page.locator("#doc-rows tr")
    row.filter(has_text=doomed["title"]).wait_for()
    assert row.count() == 1
    delete = row.get_by_role("button", name=f"Delete {doomed['title']}")
    delete.click()
    assert delete.inner_text() == "Confirm delete"
    delete.click()
    page.page.locator("#add-status").filter(has_text="Deleted").wait_for()
    assert row.count() == 0
    assert httpx.get(f"{server.url}/v1/documents/browser-doomed", timeout=60).status_code == 404

    upload = tmp_path / "tide-gauge.md"
    upload.write_text("---\ntitle: Harbour tide gauge replaced after forty years\nsource: Harbour Courier\npublished_at: 2026-01-23\n---\n"
                      "The harbour authority replaced the tide gauge at the east pier, which had recorded the tides since 1986.\n")
    page.page.set_input_files("#files", str(upload))
    page.page.click("#upload-form button[type=submit]")
    page.page.locator("#add-status").filter(has_text="Added 1").wait_for()
    page.page.fill("#doc-search", "tide gauge")
    assert row.filter(has_text="Harbour tide gauge replaced after forty years").count() == 1
    listed = httpx.get(f"{server.url}/v1/documents/tide-gauge.md#harbour-tide-gauge-replaced-after-forty-years".replace("#", "%23"), timeout=60)
    assert listed.status_code == 200 and listed.json()["source"] == "Harbour Courier"
    assert page.errors == []


FERRY_PAGE = "/saltmarsh/2026/03/gull-point-ferry-terminal.html"  # one of the local site's story pages


def test_add_articles_takes_one_url_a_line_and_reports_each_bad_line_apart(browser, engine):
    # A server allowed to fetch from the local news site on 127.0.0.1 (the page's own server refuses it).
    with TestSite() as site, serving(engine, fetch_allow_private=True) as fetching:
        serve_saltmarsh_feed(site)
        opened = Page(browser, fetching.url)
        try:
            opened.page.click("#tab-sources")
            typed = f"not a url\n{site.url(FERRY_PAGE)}\n\n{site.url('/saltmarsh/no-such-story.html')}"
            opened.page.fill("#urls", typed)
            opened.page.click("#url-form button[type=submit]")
            status = opened.page.locator("#add-status")
            status.filter(has_text="Added").wait_for()
            lines = status.inner_text().splitlines()
            assert lines[0] == "Added 1, updated 0, unchanged 0.", lines
            # "not a url" is one bad line (not three), reported with its line; the 404 with its line and URL.
            assert lines[1] == "✗ line 1: 'not a url' is not an http:// or https:// URL with a host", lines
            assert lines[2].startswith(f"✗ line 4: {site.url('/saltmarsh/no-such-story.html')}: ") and "404" in lines[2], lines
            assert len(lines) == 3, lines
            assert opened.page.input_value("#urls") == typed  # kept, for the bad lines to be mended
            assert httpx.get(f"{fetching.url}/v1/documents/{site.url(FERRY_PAGE)}", timeout=60).status_code == 200
            opened.page.fill("#doc-search", "Gull Point")
            opened.page.locator("#doc-rows tr").first.wait_for()
            assert opened.page.locator("#doc-rows tr").count() == 1
            assert opened.errors == []
        finally:
            opened.context.close()
            # The module's other tests ask about another ferry: the store goes back as it was.
            httpx.delete(f"{fetching.url}/v1/documents/{site.url(FERRY_PAGE)}", timeout=60)


def test_an_uploaded_jsonl_with_a_bad_line_is_reported_by_its_line(page, tmp_path):
    upload = tmp_path / "wire.jsonl"
    upload.write_text(
        '{"id": "wire-buoy", "title": "Harbour buoy relit", "text": "The harbour authority relit the green buoy at the channel mouth on Tuesday.", "published_at": "2026-01-24"}\n'
        '{"id": "wire-broken", "title": "Half a row\n',
        encoding="utf-8",
    )
    page.page.click("#tab-sources")
    page.page.set_input_files("#files", str(upload))
    page.page.click("#upload-form button[type=submit]")
    status = page.page.locator("#add-status")
    status.filter(has_text="Added").wait_for()
    lines = status.inner_text().splitlines()
    assert lines[0].startswith("Added 1,"), lines
    assert lines[1].startswith("✗ wire.jsonl:2: invalid JSON"), lines  # name:line, as newsdesk ingest prints it
    assert page.errors == []


def test_the_key_prompt_with_api_keys_on_and_a_wrong_key_says_so(browser, keyed_server):
    opened = Page(browser, keyed_server.url)
    try:
        dialog = opened.page.locator("#key-dialog")
        dialog.wait_for(state="visible")  # the page's first API call met a 401
        opened.page.fill("#key-input", "not-the-key")
        opened.page.press("#key-input", "Enter")
        opened.page.locator("#key-error").filter(has_text="not accepted").wait_for()
        assert dialog.is_visible()
        opened.page.fill("#key-input", KEY)
        opened.page.click("#key-form button")
        dialog.wait_for(state="hidden")
        assert opened.page.evaluate("sessionStorage.getItem('newsdesk.apiKey')") == KEY
        assert opened.page.evaluate("localStorage.getItem('newsdesk.apiKey')") is None
        opened.ask(FESTIVAL_Q)
        assert "48 food vendors" in opened.last_answer().inner_text()
        # Asked once: a reload in the same tab keeps the key.
        opened.page.reload()
        opened.page.click("#tab-sources")
        opened.page.locator("#doc-rows tr").first.wait_for()
        assert dialog.is_hidden()
    finally:
        opened.context.close()


def test_an_article_holding_script_and_img_onerror_is_shown_as_inert_text(page):
    page.ask(HOSTILE_Q)
    answer = page.last_answer()
    assert answer.get_attribute("data-state") == "answered"
    card = answer.locator(".source-card").first
    assert "<script>" in card.locator(".source-title").inner_text()  # the title, as text
    answer.locator("a.cite").first.hover()
    shown = answer.inner_text() + page.page.locator("#cite-tip").inner_text()
    assert "2 a.m." in shown
    assert "<img" in shown or "<script>" in shown  # the markup is visible as characters
    assert page.page.locator("#thread script, #cite-tip script, #cite-tip img").count() == 0
    images = page.page.evaluate("[...document.querySelectorAll('#thread img')].map(i => new URL(i.src).pathname)")
    assert set(images) <= {"/web/thumb-up.svg", "/web/thumb-down.svg"}  # only the page's own 👍/👎 icons
    page.page.click("#tab-sources")
    page.page.fill("#doc-search", "Night ferry")
    page.page.locator("#doc-rows tr").filter(has_text="<script>").wait_for()
    assert page.page.locator("#doc-rows script, #doc-rows img").count() == 0
    assert page.page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_api_docs_render_offline(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        blocked = []
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else (blocked.append(route.request.url), route.abort()))
        page.goto(f"{server.url}/docs")
        page.locator(".swagger-ui .info .title").filter(has_text="Newsdesk").wait_for()
        assert page.locator(".opblock-summary-path", has_text="/v1/ask").count() >= 1
        page.goto(f"{server.url}/redoc")
        page.locator("h1", has_text="Newsdesk").first.wait_for()
        # Both render with nothing from another host; ReDoc's bundle still asks for its own "powered by"
        # badge image (a cosmetic <img> in the side bar; blocked here, as offline, without harm).
        assert [u for u in blocked if not u.endswith("cdn.redoc.ly/redoc/logo-mini.svg")] == []
    finally:
        context.close()


# Every cell of the articles table that has something to show is shown, inside the screen, and none
# is cut short ("Dele…").
_TABLE_FITS = """() => [...document.querySelectorAll('#doc-rows td')].filter(td => td.textContent.trim()).filter(td => {
    const box = td.getBoundingClientRect();
    return box.width === 0 || box.left < 0 || box.right > window.innerWidth + 0.5
        || td.scrollWidth > td.clientWidth + 1
        || [...td.querySelectorAll('a, span, button')].some(e => e.scrollWidth > e.clientWidth + 1
                                                              || e.getBoundingClientRect().right > window.innerWidth + 0.5);
  }).map(td => td.closest('tr').dataset.id + ' | ' + td.textContent)"""


def test_phone_width_and_dark_theme(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    try:
        page = context.new_page()
        page.goto(server.url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        assert page.locator("#question").is_visible() and page.locator("#send").is_visible()
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"  # the dark theme's --bg, chosen by the system setting

        # The filters fold into one row above the question; the button opens them and says how many are on.
        toggle, since = page.locator("#filters-toggle"), page.locator("#filter-since")
        assert toggle.is_visible() and since.is_hidden() and page.locator("#filter-source").is_hidden()
        row = page.locator("#filters").bounding_box()
        assert row["height"] <= toggle.bounding_box()["height"] + 2, row  # one row: just the button
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true" and since.is_visible() and page.locator("#filter-source").is_visible()
        since.fill("2026-01-08")
        assert toggle.inner_text().startswith("Filters (1 on)")
        toggle.click()
        assert since.is_hidden()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        page.click("#tab-sources")
        page.locator("#doc-rows tr").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate(_TABLE_FITS) == []
        first = page.locator("#doc-rows tr").filter(has_text="Harbourfront Dumpling Festival returns to Marlow Bay in May")
        chunks = first.locator("td").nth(3)
        assert chunks.is_visible() and chunks.inner_text().isdigit()
        # Labelled, the header row being gone. Polled: under load the list may be redrawn as it is read.
        label = ""
        for _ in range(50):
            label = chunks.evaluate("td => getComputedStyle(td, '::before').content")
            if label == '"Chunks "':
                break
            page.wait_for_timeout(100)
        assert label == '"Chunks "'
        assert first.get_by_role("button", name="Delete").is_visible()
        title = first.locator("td").first.locator("a")
        assert title.bounding_box()["height"] > 30, "a long title wraps onto a second line"
        assert page.locator("#files").bounding_box()["x"] + page.locator("#files").bounding_box()["width"] <= 390
    finally:
        context.close()


def test_wide_screen_keeps_the_filters_open_and_the_table_as_columns(page):
    assert page.page.locator("#filters-toggle").is_hidden()
    assert page.page.locator("#filter-since").is_visible() and page.page.locator("#filter-source").is_visible()
    page.page.click("#tab-sources")
    page.page.locator("#doc-rows tr").first.wait_for()
    assert page.page.locator(".doc-table thead th").nth(3).is_visible()
    assert page.page.evaluate(_TABLE_FITS) == []
