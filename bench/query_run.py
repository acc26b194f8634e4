"""Warm query latency of ``Engine.ask`` beside a plain llama-index ``VectorStoreIndex`` query.

Both run on the same store and embedder, interleaved question by question so machine noise hits both
alike. The baseline is the cheapest useful query llama-index offers (dense top-5 retrieval, no
answer); the ratio says what hybrid retrieval, fusion and the extractive answer cost on top.
The corpus is ingested first (idempotently, as ``newsdesk eval --corpus`` does).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.common import RTQA, forget_questions, percentile, read_jsonl, require


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    parser.add_argument("--questions", type=Path, default=RTQA / "questions.jsonl")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from llama_index.core import VectorStoreIndex

    from assistant.settings import get_settings
    from eval.runner import open_engine

    questions = [q["question"] for q in read_jsonl(require(args.questions))]
    setup = open_engine(get_settings(), require(args.corpus))
    engine = setup.engine
    baseline = VectorStoreIndex.from_vector_store(
        engine.store.vector_store(), embed_model=engine.embed_model
    ).as_retriever(similarity_top_k=engine.settings.top_k)

    for question in questions[:5]:  # warm: models, BM25 load, Chroma caches
        engine.ask(question)
        baseline.retrieve(question)

    ask_ms: list[float] = []
    base_ms: list[float] = []
    for _ in range(args.repeat):
        for question in questions:
            forget_questions(engine)  # each side embeds every question
            start = time.perf_counter()
            engine.ask(question)
            ask_ms.append((time.perf_counter() - start) * 1000)
            forget_questions(engine)  # each side embeds every question
            start = time.perf_counter()
            baseline.retrieve(question)
            base_ms.append((time.perf_counter() - start) * 1000)

    result = {
        "questions": len(questions),
        "repeat": args.repeat,
        "ask_p50_ms": round(percentile(ask_ms, 50), 2),
        "ask_p95_ms": round(percentile(ask_ms, 95), 2),
        "vector_index_p50_ms": round(percentile(base_ms, 50), 2),
        "vector_index_p95_ms": round(percentile(base_ms, 95), 2),
    }
    result["ratio_p50"] = round(result["ask_p50_ms"] / result["vector_index_p50_ms"], 3)
    result["ratio_p95"] = round(result["ask_p95_ms"] / result["vector_index_p95_ms"], 3)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{len(questions)} questions x {args.repeat}")
        print(f"newsdesk ask         p50 {result['ask_p50_ms']:7.2f} ms   p95 {result['ask_p95_ms']:7.2f} ms")
        print(f"VectorStoreIndex     p50 {result['vector_index_p50_ms']:7.2f} ms   p95 {result['vector_index_p95_ms']:7.2f} ms")
        print(f"ratio ask / vector index: p50 {result['ratio_p50']:.2f}x   p95 {result['ratio_p95']:.2f}x")


if __name__ == "__main__":
    main()
