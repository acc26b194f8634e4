"""Fetch + extract throughput of ``ingest.web.load_urls`` against extraction alone, in the same run.

The article pages of tests/site/ are served, each as --copies distinct pages (own path, own
canonical URL), by the test web server in a separate process on 127.0.0.1. Rounds alternate
(so a change in machine load lands on every side), each over the same pages:

1. ``load_urls`` on the page URLs: fetch (per-host limit, checks, decoding) + ``article_from_html``;
2. ``load_urls`` on one RSS feed listing those pages (feed read, then the pages);
3. ``article_from_html`` on the page texts already in memory (our extraction, no network);
4. ``trafilatura.extract`` called bare on the same page bytes.

Printed: pages/s of each and the ratios to bare trafilatura (and fetch overhead over our extraction).
One untimed warm-up round comes first.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

from tests.webserver import SAMPLE_SITES, SITE, TestSite

ARTICLE_PAGES = {path: entry for path, entry in SAMPLE_SITES.items() if entry[0].endswith(".html") and "index" not in entry[0]}


def page_copies(base: str, copies: int) -> dict[str, str]:
    """URL path -> page HTML: every sample article page ``copies`` times, each with its own canonical URL."""
    pages: dict[str, str] = {}
    for original, (file, _type) in ARTICLE_PAGES.items():
        html = (SITE / file).read_text(encoding="utf-8").replace("{BASE}", base)
        for n in range(copies):
            path = f"/copy{n}{original}"
            pages[path] = html.replace(base + original, base + path)
    return pages


def feed_of(base: str, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Copy {n}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>Tue, 03 Mar 2026 07:30:00 +0000</pubDate></item>"
        for n, path in enumerate(paths)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Wire</title>{items}</channel></rss>'


def serve(copies: int, ready, stop) -> None:
    """The server process: publish the copies and a feed, report the base URL, wait to be stopped."""
    with TestSite() as site:
        pages = page_copies(site.base, copies)
        for path, html in pages.items():
            site.route(path, html)
        site.route("/bench/rss.xml", feed_of(site.base, list(pages)), content_type="application/rss+xml")
        ready.put(site.base)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=10, help="copies of each of the 6 sample article pages (default 10: 60 pages)")
    parser.add_argument("--rounds", type=int, default=3, help="alternation rounds (default 3)")
    parser.add_argument("--per-host", type=int, default=None, help="NEWSDESK_FETCH_PER_HOST for the run (default: the setting's default)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    import trafilatura

    from assistant.settings import Settings
    from ingest.html import article_from_html
    from ingest.web import load_urls

    ready, stop = multiprocessing.Queue(), multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(args.copies, ready, stop), daemon=True)
    server.start()
    try:
        base = ready.get(timeout=60)
        pages = page_copies(base, args.copies)
        urls = [base + path for path in pages]
        raw = {base + path: html.encode("utf-8") for path, html in pages.items()}
        with tempfile.TemporaryDirectory(prefix="newsdesk-bench-fetch-") as tmp:
            overrides = {"fetch_per_host": args.per_host} if args.per_host else {}
            settings = Settings(_env_file=None, data_dir=Path(tmp), fetch_allow_private=True, **overrides)
            seconds = {"load_urls_pages": 0.0, "load_urls_feed": 0.0, "article_from_html": 0.0, "trafilatura_bare": 0.0}
            loaded_counts = {"load_urls_pages": 0, "load_urls_feed": 0, "article_from_html": 0, "trafilatura_bare": 0}
            # One untimed round first: imports, connection pools and caches warm up outside the timing.
            load_urls(urls, settings), load_urls([base + "/bench/rss.xml"], settings)
            for url, body in raw.items():
                article_from_html(body.decode("utf-8"), origin=url, url=url, default_id=url), trafilatura.extract(body, url=url)
            for _ in range(args.rounds):
                start = time.perf_counter()
                result = load_urls(urls, settings)
                seconds["load_urls_pages"] += time.perf_counter() - start
                loaded_counts["load_urls_pages"] += len(result.articles)
                assert not result.failures, result.failures[:3]

                start = time.perf_counter()
                result = load_urls([base + "/bench/rss.xml"], settings)
                seconds["load_urls_feed"] += time.perf_counter() - start
                loaded_counts["load_urls_feed"] += len(result.articles)

                start = time.perf_counter()
                for url, body in raw.items():
                    loaded_counts["article_from_html"] += len(article_from_html(body.decode("utf-8"), origin=url, url=url, default_id=url).articles)
                seconds["article_from_html"] += time.perf_counter() - start

                start = time.perf_counter()
                for url, body in raw.items():
                    loaded_counts["trafilatura_bare"] += bool(trafilatura.extract(body, url=url))
                seconds["trafilatura_bare"] += time.perf_counter() - start
    finally:
        stop.set()
        server.join(timeout=10)

    total = len(urls) * args.rounds
    rate = {name: round(total / s, 1) for name, s in seconds.items()}
    out = {
        "pages": len(urls),
        "rounds": args.rounds,
        "per_host": settings.fetch_per_host,
        "pages_per_s": rate,
        "articles_out": loaded_counts,
        "ratio_load_urls_to_trafilatura": round(rate["load_urls_pages"] / rate["trafilatura_bare"], 3),
        "ratio_feed_to_trafilatura": round(rate["load_urls_feed"] / rate["trafilatura_bare"], 3),
        "ratio_load_urls_to_article_from_html": round(rate["load_urls_pages"] / rate["article_from_html"], 3),
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{out['pages']} pages x {args.rounds} rounds, fetch_per_host {out['per_host']}")
    for name, value in rate.items():
        print(f"  {name:20s} {value:8.1f} pages/s  ({loaded_counts[name]} articles)")
    print(f"ratio load_urls (pages) / bare trafilatura: {out['ratio_load_urls_to_trafilatura']:.3f}")
    print(f"ratio load_urls (feed)  / bare trafilatura: {out['ratio_feed_to_trafilatura']:.3f}")
    print(f"ratio load_urls (pages) / article_from_html: {out['ratio_load_urls_to_article_from_html']:.3f}")


if __name__ == "__main__":
    main()
