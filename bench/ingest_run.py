"""Ingest throughput against the raw embedder, measured in the same run.

1. Ingest the corpus (or its first --limit articles) into a fresh store, --round articles at a time:
   chunks/s of the whole pipeline (split, embed, write to Chroma, manifest, BM25 rebuild).
2. After each round, embed the very chunk texts that round stored (as indexed: title and date
   included) with the bare embedder: chunks/s of embedding alone. Alternating the two keeps a change
   in machine load from landing on one side only. Ratio = pipeline / raw (goal >= 0.9).
3. Ingest everything again, unchanged: its time as a share of the first (goal <= 2 %).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.common import RTQA, require


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles (default: all)")
    parser.add_argument("--round", type=int, default=200, help="articles per alternation round (each round also rebuilds BM25)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    from assistant.embedding import build_embedding
    from assistant.settings import Settings
    from assistant.store import ArticleStore
    from ingest.loaders import load_file
    from ingest.pipeline import Ingester

    loaded = load_file(require(args.corpus))
    articles = loaded.articles[: args.limit] if args.limit else loaded.articles

    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)
        store = ArticleStore(settings)
        embed_model = build_embedding(settings)
        ingester = Ingester(store, embed_model, settings)

        ingest_s = raw_s = 0.0
        chunks = raw_chunks = 0
        for start_at in range(0, len(articles), args.round):
            batch = articles[start_at : start_at + args.round]
            start = time.perf_counter()
            chunks += ingester.ingest_articles(batch).chunks
            ingest_s += time.perf_counter() - start

            texts = [
                metadata_dict_to_node(meta, text=text).get_content(metadata_mode=MetadataMode.EMBED)
                for _id, text, meta in store.iter_chunks(where={"article_id": {"$in": [a.id for a in batch]}})
            ]
            start = time.perf_counter()
            embed_model.get_text_embedding_batch(texts)
            raw_s += time.perf_counter() - start
            raw_chunks += len(texts)

        start = time.perf_counter()
        second = ingester.ingest_articles(articles)
        reingest_s = time.perf_counter() - start

    result = {
        "articles": len(articles),
        "chunks": chunks,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(chunks / ingest_s, 2),
        "raw_embed_s": round(raw_s, 2),
        "raw_chunks_per_s": round(raw_chunks / raw_s, 2),
        "ratio_ingest_to_raw": round((chunks / ingest_s) / (raw_chunks / raw_s), 3),
        "reingest_s": round(reingest_s, 3),
        "reingest_share_of_first": round(reingest_s / ingest_s, 4),
        "reingest_unchanged": second.unchanged,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"articles {result['articles']}, chunks {result['chunks']}")
        print(f"ingest      {result['ingest_s']:8.1f} s  {result['ingest_chunks_per_s']:7.1f} chunks/s")
        print(f"raw embed   {result['raw_embed_s']:8.1f} s  {result['raw_chunks_per_s']:7.1f} chunks/s")
        print(f"ratio ingest/raw: {result['ratio_ingest_to_raw']:.3f}  (goal >= 0.9)")
        print(f"re-ingest unchanged: {result['reingest_s']:.3f} s = {100 * result['reingest_share_of_first']:.2f} % of the first  (goal <= 2 %)")


if __name__ == "__main__":
    main()
