"""Main-text F1 of `newsdesk extract --json` against gold texts: bag of words, as extraction
benchmarks score it (precision and recall of the token multiset; tokens are lower-cased words).

    python -m bench.extract_f1 GOLD.jsonl [--predictions EXTRACTED.jsonl] [--json]

GOLD.jsonl has one object per page: ``origin`` (a file path, relative to the gold file or
absolute, or a URL) and ``text`` (the page's main text). Without --predictions, the pages are run
through `newsdesk extract --json` in a subprocess, exactly as a user would; with it, an earlier
run's output is scored. A page with no extracted article scores 0 and counts as empty.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.common import REPO, read_jsonl

_WORD = re.compile(r"\w+")


def tokens(text: str) -> Counter:
    return Counter(_WORD.findall(text.casefold()))


def bag_of_words_f1(predicted: str, gold: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the predicted text's words against the gold text's."""
    p, g = tokens(predicted), tokens(gold)
    common = sum((p & g).values())
    if not common:
        return 0.0, 0.0, 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def gold_origin(row: dict, gold_file: Path) -> str:
    origin = row["origin"]
    if origin.startswith(("http://", "https://")):
        return origin
    path = Path(origin)
    return str((path if path.is_absolute() else gold_file.parent / path).resolve())


def run_extract(origins: list[str]) -> list[dict]:
    """`newsdesk extract --json` over the pages; its failures pass through to our stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "extract", "--json", *origins],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    sys.stderr.write(done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def score(gold_rows: list[dict], gold_file: Path, extracted: list[dict]) -> dict:
    by_origin: dict[str, str] = {}
    for row in extracted:
        origin = row["origin"]
        by_origin.setdefault(origin if origin.startswith(("http://", "https://")) else str(Path(origin).resolve()), row["text"])
    pages = []
    for row in gold_rows:
        origin = gold_origin(row, gold_file)
        text = by_origin.get(origin, "")
        p, r, f = bag_of_words_f1(text, row["text"])
        pages.append({"origin": row["origin"], "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "empty": not text.strip()})
    n = max(1, len(pages))
    return {
        "pages": len(pages),
        "mean_f1": round(sum(x["f1"] for x in pages) / n, 4),
        "mean_precision": round(sum(x["precision"] for x in pages) / n, 4),
        "mean_recall": round(sum(x["recall"] for x in pages) / n, 4),
        "empty": sum(x["empty"] for x in pages),
        "per_page": pages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, help="JSONL of {origin, text}")
    parser.add_argument("--predictions", type=Path, help="score this `newsdesk extract --json` output instead of running it")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    gold_rows = read_jsonl(args.gold)
    if args.predictions:
        extracted = read_jsonl(args.predictions)
    else:
        extracted = run_extract([gold_origin(row, args.gold) for row in gold_rows])
    result = score(gold_rows, args.gold, extracted)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for page in result["per_page"]:
        flag = "  EMPTY" if page["empty"] else ""
        print(f"{page['f1']:.3f}  P {page['precision']:.3f}  R {page['recall']:.3f}  {page['origin']}{flag}")
    print(f"mean F1 {result['mean_f1']:.3f} (P {result['mean_precision']:.3f}, R {result['mean_recall']:.3f}) "
          f"over {result['pages']} pages, {result['empty']} empty")


if __name__ == "__main__":
    main()
