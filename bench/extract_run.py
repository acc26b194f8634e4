"""Extraction throughput: ``article_from_html`` (decoding, metadata, main text, checks) beside
``trafilatura.extract`` called bare (its defaults, text only) on the same pages, in the same run.

Rounds alternate between the two (each round is one pass over every page) until each side has
done at least --seconds of work, so a change in machine load lands on both. Ratio = ours / bare
pages per second. The same run scores both sides' text against the gold (bag-of-words F1, as in
bench/extract_f1.py).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.common import REPO, read_jsonl
from bench.extract_f1 import bag_of_words_f1

PAGES = REPO / "tests" / "pages"
GOLD = REPO / "tests" / "extract_gold.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of .html pages (default: tests/pages)")
    parser.add_argument("--seconds", type=float, default=2.0, help="least work per side, in seconds")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    import trafilatura

    from ingest.html import article_from_html

    pages = [(str(p), p.read_bytes()) for p in sorted(args.pages.glob("*.htm*"))]
    if not pages:
        raise SystemExit(f"no .html pages in {args.pages}")

    def ours() -> list:
        return [(article_from_html(data, origin=origin).articles or [None])[0] for origin, data in pages]

    def bare() -> list:
        return [trafilatura.extract(data) for _origin, data in pages]

    ours(), bare()  # warm-up: imports, lazily built regexes and caches
    spent = {"ours": 0.0, "bare": 0.0}
    done = {"ours": 0, "bare": 0}
    while min(spent.values()) < args.seconds:
        for name, run in (("ours", ours), ("bare", bare)):
            start = time.perf_counter()
            run()
            spent[name] += time.perf_counter() - start
            done[name] += len(pages)

    result = {
        "pages": len(pages),
        "ours_pages_per_s": round(done["ours"] / spent["ours"], 1),
        "bare_pages_per_s": round(done["bare"] / spent["bare"], 1),
        "ratio_ours_to_bare": round((done["ours"] / spent["ours"]) / (done["bare"] / spent["bare"]), 3),
    }
    if args.pages.resolve() == PAGES and GOLD.exists():
        gold = {str((GOLD.parent / row["origin"]).resolve()): row["text"] for row in read_jsonl(GOLD)}
        ours_text = {origin: a.text if a else "" for (origin, _d), a in zip(pages, ours())}
        bare_text = {origin: t or "" for (origin, _d), t in zip(pages, bare())}
        for name, texts in (("ours", ours_text), ("bare", bare_text)):
            scores = [bag_of_words_f1(texts.get(origin, ""), text)[2] for origin, text in gold.items()]
            result[f"{name}_mean_f1"] = round(sum(scores) / len(scores), 4)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"pages {result['pages']}")
    print(f"article_from_html   {result['ours_pages_per_s']:8.1f} pages/s" + (f"   F1 {result['ours_mean_f1']:.3f}" if "ours_mean_f1" in result else ""))
    print(f"trafilatura.extract {result['bare_pages_per_s']:8.1f} pages/s" + (f"   F1 {result['bare_mean_f1']:.3f}" if "bare_mean_f1" in result else ""))
    print(f"ratio ours/bare: {result['ratio_ours_to_bare']:.3f}")


if __name__ == "__main__":
    main()
