"""The web page's weight and speed, measured in Debian's chromium against a real ``newsdesk serve``
over the sample articles (a fresh data folder, ingested first):

* page weight: bytes of HTML, JS and CSS (and the icon) on a first load with an empty cache, as the
  bodies served and as the browser's transfer sizes (headers included; the server sends no gzip);
* time to first token shown: from pressing Enter to the first answer text on screen (the page's
  ``newsdesk:first-token`` performance mark), beside the API's own time to its first SSE event and
  to its first ``delta`` event for the same question, measured with httpx in the same run,
  alternating with the page's runs;
* ``--screenshot PATH``: a PNG of the page answering the sample question, a citation's quote shown
  (``make screenshot`` refreshes the README's); ``--screenshot-width 390`` takes it at a phone's
  width, the whole page (the Sources table is below the fold there).

``python -m bench.web_run --help``; ``bench/web`` sets up the environment first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import REPO, free_port, running_process

QUESTION = "How many food vendors will take part in the Harbourfront Dumpling Festival?"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def api_first_event(client: httpx.Client, question: str) -> tuple[float, float]:
    """Milliseconds from sending ``POST /v1/ask`` (stream) to its first SSE event, and to its first delta.
    ``client`` keeps its connection open between runs, as the browser does."""
    started = time.perf_counter()
    first_event = first_delta = None
    with client.stream("POST", "/v1/ask", json={"question": question, "stream": True}) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event:"):
                now = (time.perf_counter() - started) * 1000
                first_event = first_event if first_event is not None else now
                if line.split(":", 1)[1].strip() == "delta" and first_delta is None:
                    first_delta = now
    return first_event, first_delta


def page_first_token(page, question: str) -> float:
    """Milliseconds from pressing Enter to the first answer text shown (the page's own mark), answer final."""
    turns = page.locator(".turn").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.turn').length > n && !document.querySelector('.turn:last-child .answer').hasAttribute('aria-busy')",
        arg=turns,
        timeout=60_000,
    )
    return page.evaluate("performance.getEntriesByName('newsdesk:first-token').at(-1).detail.ms")


def page_weight(browser, url: str) -> dict:
    """Bytes of the first load with an empty cache, by kind: bodies served, and transfer sizes."""
    context = browser.new_context()
    page = context.new_page()
    bodies: dict[str, int] = {}
    page.on("response", lambda r: bodies.__setitem__(r.url, len(r.body())) if r.request.resource_type != "fetch" else None)
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    transfer = page.evaluate(
        """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .filter(e => !e.name.includes('/v1/')).map(e => [e.name, e.transferSize])"""
    )
    context.close()
    kinds = {"html": lambda u: u.rstrip("/") == url.rstrip("/"), "js": lambda u: u.endswith(".js"), "css": lambda u: u.endswith(".css")}
    weight = {}
    for kind, test in kinds.items():
        weight[f"{kind}_bytes"] = sum(size for u, size in bodies.items() if test(u))
    weight["html_js_css_bytes"] = sum(weight[f"{k}_bytes"] for k in kinds)
    weight["other_bytes"] = sum(size for u, size in bodies.items() if not any(test(u) for test in kinds.values()))
    weight["transfer_bytes_all"] = sum(size for _, size in transfer)
    weight["files"] = sorted(u.removeprefix(url) or "/" for u in bodies)
    return weight


PHONE_WIDTH = 600  # narrower viewports are taken whole, at a phone's height


def screenshot(browser, url: str, path: Path, question: str, width: int = 1280) -> None:
    """The page answering ``question``, the first citation hovered so its quote shows. At a phone's
    width, the whole page with no hover (there is no pointer), and its Sources view beside it
    (``<stem>-sources.png``)."""
    phone = width < PHONE_WIDTH
    viewport = {"width": width, "height": 844 if phone else 800}
    context = browser.new_context(viewport=viewport, device_scale_factor=1, color_scheme="light")
    page = context.new_page()
    page.goto(url)
    page_first_token(page, question)
    path.parent.mkdir(parents=True, exist_ok=True)
    if phone:
        page.screenshot(path=str(path), full_page=True)
        page.click("#tab-sources")
        page.locator("#doc-rows tr").first.wait_for()
        page.screenshot(path=str(path.with_stem(path.stem + "-sources")), full_page=True)
    else:
        page.locator(".answer a.cite").first.hover()
        page.locator("#cite-tip").wait_for(state="visible")
        page.screenshot(path=str(path))
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="Timed questions for the page and for the API (after one warm-up each).")
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--screenshot", type=Path, help="Also write a PNG of the page answering the question here.")
    parser.add_argument("--screenshot-width", type=int, default=1280, help="The screenshot's viewport width in CSS pixels.")
    parser.add_argument("--json", type=Path, help="Write the results here as JSON too.")
    args = parser.parse_args(argv)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("Python package 'playwright' is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian package 'chromium' is not installed (apt-get install chromium)")

    newsdesk = str(Path(sys.executable).with_name("newsdesk"))
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-web-") as tmp:
        env = {**os.environ, "NEWSDESK_DATA_DIR": str(Path(tmp) / "data"), "NEWSDESK_API_KEYS": ""}
        subprocess.run([newsdesk, "ingest", str(REPO / "examples" / "articles")], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        serve = [newsdesk, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with running_process(serve, Path(tmp) / "serve.log", f"{url}readyz", env=env, seconds=180):
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                weight = page_weight(browser, url)
                context = browser.new_context()
                page = context.new_page()
                page.goto(url)
                client = httpx.Client(base_url=url.rstrip("/"), timeout=60)
                page_first_token(page, args.question)  # warm-ups: first request of each kind
                api_first_event(client, args.question)
                page_ms, api_event_ms, api_delta_ms = [], [], []
                for _ in range(args.runs):
                    page.click("#new-conversation")  # the same question each time, not a follow-up
                    page_ms.append(page_first_token(page, args.question))
                    event, delta = api_first_event(client, args.question)
                    api_event_ms.append(event)
                    api_delta_ms.append(delta)
                client.close()
                context.close()
                if args.screenshot:
                    screenshot(browser, url, args.screenshot, args.question, args.screenshot_width)
                browser.close()

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    results = {
        "question": args.question,
        "runs": args.runs,
        "page_weight": weight,
        "page_first_token_shown_ms_median": median(page_ms),
        "api_first_sse_event_ms_median": median(api_event_ms),
        "api_first_delta_event_ms_median": median(api_delta_ms),
        "page_first_token_shown_ms": [round(v, 1) for v in page_ms],
        "api_first_sse_event_ms": [round(v, 1) for v in api_event_ms],
        "api_first_delta_event_ms": [round(v, 1) for v in api_delta_ms],
    }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.screenshot:
        print(f"screenshot: {args.screenshot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
