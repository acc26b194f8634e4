"""The keyword index on tantivy against Newsdesk's bm25s index, on the same synthetic chunks and the
same tokens, in one run (issue 24's first measurements).

For each size: the time to index the analysed chunks (bm25s: ``BM25.index`` over token ids, as
``assistant.bm25_build`` scores them; tantivy: add and commit), query p50 unfiltered and under a
one-week window (bm25s through the retriever Newsdesk answers from, a weight mask for the window;
tantivy, a range clause), and what one more article (10 chunks) costs before a query finds it
(tantivy: add, commit, search; bm25s can only be rebuilt whole, so its figure is the build's).
With ``--store``, the rankings of both over a real store's chunks for the questions of ``--questions``:
how many of bm25s's first 10 tantivy also returns.

    bench/keyword [--sizes 10000,100000] [--queries 200]
    bench/keyword --store DATA_DIR --collection NAME --questions Q.jsonl
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from assistant.answer import SearchFilters, day_date, day_number
from bench.common import read_jsonl
from bench.synthetic_text import sentence
from eval.metrics import chunk_metrics, first_fact_rank, first_gold_rank, retrieval_metrics

SOURCES = [f"Outlet {i}" for i in range(20)]
DAYS = 180
CHUNK_SENTENCES = 7
K = 40


def synthetic_chunks(n: int, seed: int = 24) -> list[tuple[str, str, str, int, str]]:
    """(chunk id, article id, text, day, source): articles of 10 chunks over DAYS days."""
    rng = random.Random(seed)
    start = 20230101
    out = []
    for i in range(n):
        article = i // 10
        day_offset = (article * 7919) % DAYS
        day = _yyyymmdd(start, day_offset)
        text = " ".join(sentence(rng) for _ in range(CHUNK_SENTENCES))
        out.append((f"a{article}::{i % 10}", f"a{article}", text, day, SOURCES[article % len(SOURCES)]))
    return out


def corpus_chunks(corpus: Path, n: int, words: int = 120) -> list[tuple[str, str, str, int, str]]:
    """(chunk id, article id, text, day, source) from a corpus's articles, ``words`` words a chunk;
    past the corpus's own chunks, copies of its articles with 15 % of their words replaced by corpus
    words (``bench.scale_corpus.vary_text``: a copy reads like a re-edited story)."""
    return list(iter_corpus_chunks(corpus, n, words))


def iter_corpus_chunks(corpus: Path, n: int, words: int = 120) -> Iterator[tuple[str, str, str, int, str]]:
    """:func:`corpus_chunks` one at a time."""
    from bench.scale_corpus import WORD, vary_text

    originals = []
    for item in read_jsonl(corpus):
        text = (item.get("text") or item.get("body") or "").split()
        day = int((item.get("published_at") or "0")[:10].replace("-", "") or 0)
        pieces = [" ".join(text[i:i + words]) for i in range(0, len(text), words)] or [item.get("title", "")]
        originals.append((str(item["id"]), pieces, day, str(item.get("source") or "")))
    pool = [w.lower() for _a, pieces, _d, _s in originals[:300] for p in pieces for w in WORD.findall(p)]
    made = copy = 0
    while made < n:
        rng = np.random.default_rng(copy)
        for article_id, pieces, day, source in originals:
            new_id = article_id if copy == 0 else f"{article_id}~{copy}"
            for position, piece in enumerate(pieces):
                text = piece if copy == 0 else vary_text(piece, pool, rng)
                yield f"{new_id}::{position}", new_id, text, day, source
                made += 1
                if made >= n:
                    return
        copy += 1


def _yyyymmdd(start: int, offset: int) -> int:
    """The day ``offset`` days from ``start`` (both YYYYMMDD)."""
    import datetime as dt

    return day_number(day_date(start) + dt.timedelta(days=offset))


def _bm25s_retriever(tokens: list[list[str]], chunks: list[tuple[str, str, str, int, str]]):
    """Newsdesk's retriever class over a bm25s index of ``tokens`` (ids as bm25_build gives them), with
    the filter keys (day, source) of ``chunks``, as ``assistant.bm25_mapped.FilterKeys`` writes them."""
    import bm25s
    from bm25s.tokenization import Tokenized

    from assistant.bm25 import store_retriever_class
    from assistant.bm25_mapped import FilterKeys

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in tokens]
    started = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(Tokenized(ids=ids, vocab=dict(vocab)), show_progress=False)
    seconds = time.perf_counter() - started
    pairs: dict[tuple[int, str], int] = {}
    key_of_doc = np.asarray([pairs.setdefault((day, source), len(pairs)) for _c, _a, _t, day, source in chunks],
                            dtype=np.int32)
    retriever = store_retriever_class()(bm25, version="bench", store=None, filter_keys=FilterKeys(list(pairs), key_of_doc),
                                        top_k=K, superseded=threading.Event())
    return retriever, seconds


def _p50_ms(fn, queries) -> float:
    times = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run_size(n: int, queries: int, work: Path, corpus: Path | None = None, questions: Path | None = None) -> dict:
    from assistant.keyword_tantivy import ChunkDoc, KeywordIndex, analyse

    chunks = corpus_chunks(corpus, n) if corpus else synthetic_chunks(n)
    started = time.perf_counter()
    tokens = analyse([text for _c, _a, text, _d, _s in chunks])
    analysed_s = time.perf_counter() - started
    docs = [ChunkDoc(c, a, t, d, s) for (c, a, _text, d, s), t in zip(chunks, tokens)]

    path = work / f"tantivy-{n}"
    shutil.rmtree(path, ignore_errors=True)
    started = time.perf_counter()
    index = KeywordIndex(path)
    index.add(docs)
    index.commit()
    tantivy_build_s = time.perf_counter() - started

    retriever, bm25s_build_s = _bm25s_retriever(tokens, chunks)

    rng = random.Random(7)
    if questions:
        asked = [item["question"] for item in read_jsonl(questions, queries)]
    else:
        asked = [" ".join(sentence(rng).split()[:12]) for _ in range(queries)]
    # A week in the middle of the store's days.
    dated = sorted(d for _c, _a, _t, d, _s in chunks if d)
    middle = str(dated[len(dated) // 2]) if dated else "20230301"
    first = _yyyymmdd(int(middle), -3)
    week = (first, _yyyymmdd(first, 6))

    window = SearchFilters(since=day_date(week[0]), until=day_date(week[1]))

    def bm25s_week(q):
        # As Newsdesk narrows (retrieval._masked): a view masked for the query, then scored under it.
        return retriever.masked(window)._top(q)

    out = {
        "chunks": n,
        "analyse_s": round(analysed_s, 2),
        "bm25s_build_s": round(bm25s_build_s, 2),
        "tantivy_build_s": round(tantivy_build_s, 2),
        "bm25s_p50_ms": round(_p50_ms(retriever._top, asked), 3),
        "tantivy_p50_ms": round(_p50_ms(lambda q: index.search(q, K), asked), 3),
        "bm25s_week_p50_ms": round(_p50_ms(bm25s_week, asked), 3),
        "tantivy_week_p50_ms": round(_p50_ms(lambda q: index.search(q, K, since=week[0], until=week[1]), asked), 3),
    }
    # One more article: how long before a query finds it.
    rng_new = random.Random(99)
    fresh = [ChunkDoc(f"fresh::{i}", "fresh", analyse([" ".join(sentence(rng_new) for _ in range(CHUNK_SENTENCES))
                                                       + " zanzibarquay"])[0], 20230702, SOURCES[0]) for i in range(10)]
    started = time.perf_counter()
    index.add(fresh)
    index.commit()
    found = index.search("zanzibarquay", 5)
    out["tantivy_add_article_s"] = round(time.perf_counter() - started, 4)
    out["tantivy_add_found"] = len(found)
    started = time.perf_counter()
    index.delete_articles(["fresh"])
    index.commit()
    out["tantivy_delete_article_s"] = round(time.perf_counter() - started, 4)
    out["tantivy_after_delete_found"] = len(index.search("zanzibarquay", 5))
    index.close()
    return out


def streamed_build(corpus: Path, n: int, path: Path, page: int = 2000) -> dict:
    """Build the keyword index of ``n`` corpus chunks as a store's would be built: streamed a page at a
    time (analysed, added), committed once; the seconds and this process's peak RSS."""
    import resource

    from assistant.keyword_tantivy import ChunkDoc, KeywordIndex, analyse

    started = time.perf_counter()
    index = KeywordIndex(path)
    batch: list = []
    spent = {"analyse_s": 0.0, "index_s": 0.0}  # the bench's own text making is neither

    def flush() -> None:
        mark = time.perf_counter()
        tokens = analyse([text for _c, _a, text, _d, _s in batch])
        spent["analyse_s"] += time.perf_counter() - mark
        mark = time.perf_counter()
        index.add(ChunkDoc(c, a, t, d, s) for (c, a, _text, d, s), t in zip(batch, tokens))
        spent["index_s"] += time.perf_counter() - mark
        batch.clear()

    for chunk in iter_corpus_chunks(corpus, n):
        batch.append(chunk)
        if len(batch) >= page:
            flush()
    if batch:
        flush()
    mark = time.perf_counter()
    index.commit()
    index.close()
    spent["index_s"] += time.perf_counter() - mark
    return {"chunks": index.num_docs, "seconds": round(time.perf_counter() - started, 1),
            **{k: round(v, 1) for k, v in spent.items()},
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def ranking_diff(data_dir: Path, collection: str, questions: Path, work: Path) -> dict:
    """bm25s's and tantivy's rankings over a real store, question by question: how much of the first
    10 chunks and articles they share, and both scored as ``newsdesk eval`` scores a baseline."""
    from llama_index.core.schema import QueryBundle

    from assistant.engine import Engine
    from assistant.keyword_tantivy import build_from_store
    from assistant.settings import Settings

    engine = Engine(Settings(data_dir=data_dir, collection=collection))
    started = time.perf_counter()
    built = build_from_store(engine.store, work / "tantivy-store")
    built_s = time.perf_counter() - started
    bm25 = engine.bm25.get()
    overlaps, same_first, article_overlaps, rows = [], 0, [], []
    items = read_jsonl(questions)
    for item in items:
        question = item["question"]
        ours = bm25.retrieve(QueryBundle(question))
        # Tantivy returns ids: its chunks as the store holds them (article, text) in one read.
        found = [chunk_id for chunk_id, _score in built.chunks.search(question, K)]
        nodes = bm25.live_nodes(found)
        theirs = [nodes[chunk_id] for chunk_id in found if chunk_id in nodes]
        ours_ids, theirs_ids = [h.node.node_id for h in ours[:10]], [n.node_id for n in theirs[:10]]
        if ours_ids:
            overlaps.append(len(set(ours_ids) & set(theirs_ids)) / len(ours_ids))
            same_first += bool(theirs_ids) and ours_ids[0] == theirs_ids[0]
        articles = [article_id for article_id, _score in bm25.articles.ranked_ids(question)][:10]
        if articles:
            found_articles = {article_id for article_id, _score in built.articles.search(question, 10)}
            article_overlaps.append(len(set(articles) & found_articles) / len(articles))
        answerable = item.get("answerable", True)
        row = {"answerable": answerable, "gold_sources": item.get("gold_sources") or [],
               # Articles in the order their chunks first come, as a baseline's retrieval is read.
               "retrieved": list(dict.fromkeys(h.node.metadata["article_id"] for h in ours)),
               "baselines": {"tantivy": list(dict.fromkeys(n.metadata["article_id"] for n in theirs))}}
        facts = [fact["fact"] for fact in item.get("gold_facts") or []]
        if facts and answerable:
            # The benchmark's chunk rule on each list's texts.
            row["chunk_rank"] = first_fact_rank([h.node.get_content() for h in ours], facts)
            row["baselines_chunk_rank"] = {"tantivy": first_fact_rank([n.get_content() for n in theirs], facts)}
        rows.append(row)
    out = {"questions": len(items), "chunks": built.chunks.num_docs, "tantivy_build_from_store_s": round(built_s, 2),
           "top10_overlap": round(statistics.mean(overlaps), 3), "same_first": round(same_first / len(overlaps), 3),
           "article_top10_overlap": round(statistics.mean(article_overlaps), 3)}
    if any(r["answerable"] and r["gold_sources"] for r in rows):
        for name, key in (("bm25s", None), ("tantivy", "tantivy")):
            scores = retrieval_metrics(rows, key)
            out[f"mrr@10 {name}"], out[f"recall@5 {name}"] = round(scores["mrr@10"], 3), round(scores["recall@5"], 3)
        # How the first gold article's rank (11: not in the first 10) moved from bm25s to tantivy.
        scored = [r for r in rows if r["answerable"] and r["gold_sources"]]
        pairs = [tuple(first_gold_rank(ranking[:10], set(r["gold_sources"])) or 11
                       for ranking in (r["retrieved"], r["baselines"]["tantivy"])) for r in scored]
        out["first_gold_rank up / same / down"] = (sum(b < a for a, b in pairs), sum(a == b for a, b in pairs),
                                                  sum(b > a for a, b in pairs))
    for name, key in (("bm25s", None), ("tantivy", "tantivy")):
        scores = chunk_metrics(rows, key)
        if scores:
            out[f"chunk_mrr@10 {name}"] = round(scores["chunk_mrr@10"], 3)
            out[f"chunk_hits@10 {name}"] = round(scores["chunk_hits@10"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="synthetic store sizes, in chunks")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--corpus", type=Path, help="chunks from this corpus (JSONL articles) instead of synthetic sentences")
    parser.add_argument("--build-rss", type=int, metavar="N",
                        help="with --corpus: build the index of N chunks streamed, and print its time and peak RSS")
    parser.add_argument("--store", type=Path, help="a data dir whose collection to diff rankings on")
    parser.add_argument("--collection")
    parser.add_argument("--questions", type=Path, help="questions (JSONL): the queries, and with --store the diff's")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-keyword-"))
    try:
        if args.build_rss:
            if not args.corpus:
                parser.error("--build-rss needs --corpus")
            print(streamed_build(args.corpus, args.build_rss, work / "streamed"))
            return
        if args.store:
            if not (args.collection and args.questions):
                parser.error("--store needs --collection and --questions")
            print(ranking_diff(args.store, args.collection, args.questions, work))
            return
        rows = [run_size(int(n), args.queries, work, args.corpus, args.questions) for n in args.sizes.split(",")]
        print("| chunks | analyse s | bm25s build s | tantivy build s | p50 ms bm25s / tantivy | one-week window p50 ms bm25s / tantivy | one article added, found (s) | deleted (s) |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['chunks']:,} | {r['analyse_s']} | {r['bm25s_build_s']} | {r['tantivy_build_s']} | "
                  f"{r['bm25s_p50_ms']} / {r['tantivy_p50_ms']} | {r['bm25s_week_p50_ms']} / {r['tantivy_week_p50_ms']} | "
                  f"{r['tantivy_add_article_s']} ({r['tantivy_add_found']} found) | {r['tantivy_delete_article_s']} "
                  f"({r['tantivy_after_delete_found']} left) |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
