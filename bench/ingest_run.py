"""Ingest throughput against the raw embedder, measured in the same run.

1. Ingest the corpus (or its first --limit articles) into a fresh store, --round articles at a time:
   chunks/s of the whole pipeline (split, embed, write to Chroma, manifest, BM25 rebuild).
2. After each round, embed the very chunk texts that round stored (as indexed: title and date
   included) with the bare embedder: chunks/s of embedding alone. Alternating the two keeps a change
   in machine load from landing on one side only. Ratio = pipeline / raw (goal >= 0.9).
3. Ingest everything again, unchanged: its time as a share of the first (goal <= 2 %).

With ``--server`` it measures ingest through an embedding server (NEWSDESK_EMBEDDING=openai): llama-cpp-
python's server with SmolLM2 (:mod:`bench.embed_server`), started for the run, or ``--server-url``. At
each of ``--in-flight`` (default 1,4,8) batches in flight, the first --limit articles are ingested
into a fresh store, and the very chunk texts stored (as indexed) are posted to the server's
/v1/embeddings directly, in batches of the same size with as many requests in flight: ratio =
ingest chunks/s / the server's raw chunks/s (goal >= 0.9). The two alternate which goes first.

With ``--batch-sizes 8,16,32,64`` it measures the embedder alone instead: the chunk texts of the first
--limit articles (default 300), split and annotated as the pipeline does, embedded the way the
pipeline embeds them (llama-index's ``get_text_embedding_batch``, batches of ``embed_batch_size``),
with ratios against the current default (``Settings().embed_batch_size``, always measured in the
same run). The texts are cut into blocks and each block is embedded at every size
in turn (rotating orders), so the ratios are paired per block and a change in machine load lands on
all sizes alike. The load average before and after is printed: on a shared machine the absolute
chunks/s are only as good as it is idle.

With ``--rss big,corpus`` it measures memory instead: each input is ingested by ``newsdesk ingest`` in
a process of its own, into a fresh store, and its peak RSS is the kernel's (``os.wait4``). Inputs:
``big``, one plain-text article of ``--big-mb`` MB of synthetic sentences (bench/synthetic_text.py;
``NEWSDESK_MAX_ARTICLE_MB`` raised to take it), and ``corpus``, the whole ``--corpus``. The baseline,
in the same run, is a 0.1 MB text of the same sentences: its peak is what loading the models and the
store costs, and each ratio to it what the input adds. Goal: every peak <= 1.5 GB. With
``--rss-batch-sizes 16,32`` every input is ingested at each ``NEWSDESK_EMBED_BATCH_SIZE``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench.common import RTQA, require


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=RTQA / "corpus.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles (default: all)")
    parser.add_argument("--round", type=int, default=200, help="articles per alternation round (each round also rebuilds BM25)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--batch-sizes", default="", help="comma-separated embedder batch sizes to sweep (e.g. 8,16,32,64)")
    parser.add_argument("--repeats", type=int, default=2, help="sweep: passes over the chunks")
    parser.add_argument("--server", action="store_true", help="ingest through an embedding server (see above)")
    parser.add_argument("--server-url", default="", help="--server: this OpenAI-compatible /v1 URL instead of starting one")
    parser.add_argument("--server-model", default="smollm2", help="--server: the model name sent")
    parser.add_argument("--server-threads", type=int, default=1, help="--server: threads of the server started")
    parser.add_argument("--in-flight", default="1,4,8", help="--server: batches in flight to compare")
    parser.add_argument("--chunk-tokens", type=int, default=None, help="chunk size (default: the setting's)")
    parser.add_argument("--rss", default="", help="peak RSS of ingesting these inputs, comma-separated: big, corpus")
    parser.add_argument("--big-mb", type=float, default=20.0, help="--rss big: size of the synthetic text")
    parser.add_argument("--rss-batch-sizes", default="", help="--rss: each input at each of these embed batch sizes")
    args = parser.parse_args()
    if args.server:
        counts = [int(n) for n in args.in_flight.split(",") if n.strip()]
        return server_run(args, args.limit or 40, counts)
    if args.rss:
        sizes = [int(s) for s in args.rss_batch_sizes.split(",") if s.strip()] or [None]
        return peak_rss(args.rss.split(","), args.corpus, args.big_mb, sizes, args.json)
    if args.batch_sizes:
        sizes = [int(s) for s in args.batch_sizes.split(",") if s.strip()]
        return batch_sweep(args.corpus, args.limit or 300, sizes, args.repeats, args.json)

    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    from assistant.retrieval.embedding import build_embedding
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
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


def server_run(args, limit: int, in_flight: list[int]) -> None:
    import os
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    from assistant.retrieval.embedding import build_embedding
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from bench.embed_server import embedding_server
    from ingest.loaders import load_file
    from ingest.pipeline import Ingester

    from bench.llm_run import _sigterm_exits

    _sigterm_exits()  # a run stopped by `timeout` still stops the server it started
    articles = load_file(require(args.corpus)).articles[:limit]
    # Shorter chunks make a run of a few hundred chunks short on a CPU server (overlap kept in proportion).
    chunking = {"chunk_tokens": args.chunk_tokens, "chunk_overlap": args.chunk_tokens // 8} if args.chunk_tokens else {}

    def ingest(url: str, tmp: Path, n: int) -> tuple[float, list[str], int]:
        settings = Settings(
            data_dir=tmp / f"store-{n}", embedding="openai", embedding_base_url=url, embedding_model=args.server_model,
            embed_batches_in_flight=n, embedding_max_retries=0, embedding_timeout_s=600, _env_file=None, **chunking,
        )
        store = ArticleStore(settings)
        ingester = Ingester(store, build_embedding(settings), settings)
        start = time.perf_counter()
        chunks = ingester.ingest_articles(articles).chunks
        took = time.perf_counter() - start
        texts = [  # what was embedded: title and date included
            metadata_dict_to_node(meta, text=text).get_content(metadata_mode=MetadataMode.EMBED)
            for _id, text, meta in store.iter_chunks()
        ]
        store.close()
        return took, texts, settings.embed_batch_size

    def raw(url: str, texts: list[str], size: int, n: int) -> float:
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        with httpx.Client(timeout=600) as client, ThreadPoolExecutor(max_workers=n) as pool:
            def post(batch):
                reply = client.post(f"{url}/embeddings", json={"model": args.server_model, "input": batch})
                reply.raise_for_status()
                assert len(reply.json()["data"]) == len(batch)

            start = time.perf_counter()
            list(pool.map(post, batches))
            return time.perf_counter() - start

    rows = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        server = nullcontext((args.server_url, None)) if args.server_url else embedding_server(tmp / "server.log", threads=args.server_threads)
        with server as (url, _proc):
            load_before = os.getloadavg()
            raw(url, ["warm-up"] * 4, 4, 1)
            texts: list[str] = []  # every turn stores the same chunks: the first turn's texts serve all
            for turn, n in enumerate(in_flight):
                if turn % 2:  # the raw rate first on every other turn: a drift in load lands on both sides
                    raw_took = raw(url, texts, size, n)
                    took, texts, size = ingest(url, tmp, n)
                else:
                    took, texts, size = ingest(url, tmp, n)
                    raw_took = raw(url, texts, size, n)
                rows.append({"in_flight": n, "chunks": len(texts), "ingest_s": took, "raw_s": raw_took, "size": size})
                print(f"  {n} in flight: ingest {len(texts) / took:.2f} chunks/s, raw {len(texts) / raw_took:.2f} chunks/s", file=sys.stderr, flush=True)
            load_after = os.getloadavg()

    result = {
        "articles": len(articles),
        "chunks": rows[0]["chunks"] if rows else 0,
        "batch_size": rows[0]["size"] if rows else 0,
        "server": args.server_url or f"llama_cpp.server, {args.server_model}, {args.server_threads} thread(s)",
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "rows": [
            {
                "in_flight": r["in_flight"],
                "ingest_chunks_per_s": round(r["chunks"] / r["ingest_s"], 2),
                "raw_chunks_per_s": round(r["chunks"] / r["raw_s"], 2),
                "ratio_ingest_to_raw": round(r["raw_s"] / r["ingest_s"], 3),
            }
            for r in rows
        ],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"articles {result['articles']}, chunks {result['chunks']}, batch {result['batch_size']}; server: {result['server']}")
    print(f"{result['cpu_count']} cores; load average before {result['load_average_before']}, after {result['load_average_after']}")
    print("in flight  ingest chunks/s  raw chunks/s  ratio (goal >= 0.9)")
    for row in result["rows"]:
        print(f"{row['in_flight']:9d}  {row['ingest_chunks_per_s']:15.2f}  {row['raw_chunks_per_s']:12.2f}  {row['ratio_ingest_to_raw']:.3f}")


def batch_sweep(corpus: Path, limit: int, sizes: list[int], repeats: int, as_json: bool, block: int = 128) -> None:
    """Chunks/s of the bare embedder at each batch size, on the same chunk texts.

    The texts are cut into blocks of ``block`` chunks, and every block is embedded at every size in
    turn, the order rotating from block to block: a change in machine load lands on all sizes alike.
    Each size's ratio to the default is the median over blocks of the default's time over its time
    on the same block (paired, so robust to load drifting between blocks); its chunks/s is over all
    its blocks."""
    import os
    import statistics

    from llama_index.core.schema import MetadataMode

    from assistant.retrieval.embedding import build_embedding
    from assistant.settings import Settings
    from bench.common import percentile
    from ingest.loaders import load_file
    from ingest.chunking import AnnotateChunks, make_splitter, to_document

    settings = Settings(_env_file=None)
    default = settings.embed_batch_size
    sizes = list(dict.fromkeys(sizes + ([default] if default not in sizes else [])))
    articles = load_file(require(corpus)).articles[:limit]
    splitter = make_splitter(settings.chunk_tokens, settings.chunk_overlap)
    nodes = AnnotateChunks()(splitter.get_nodes_from_documents([to_document(a) for a in articles]))
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]  # what the pipeline embeds
    blocks = [texts[i : i + block] for i in range(0, len(texts), block)]
    model = build_embedding(settings)
    model.get_text_embedding_batch(texts[:64])  # warm-up: onnxruntime's first runs allocate

    load_before = os.getloadavg()
    seconds = {size: 0.0 for size in sizes}
    ratios: dict[int, list[float]] = {size: [] for size in sizes}  # per block: default's time / this size's
    turn = 0
    for repeat in range(repeats):
        for texts_block in blocks:
            order = sizes[turn % len(sizes):] + sizes[: turn % len(sizes)]
            turn += 1
            took = {}
            for size in order:
                # What the pipeline calls: llama-index cuts the list into batches of embed_batch_size.
                model.embed_batch_size = size
                start = time.perf_counter()
                model.get_text_embedding_batch(texts_block)
                took[size] = time.perf_counter() - start
                seconds[size] += took[size]
            for size in sizes:
                ratios[size].append(took[default] / took[size])
        if not as_json:
            print(f"  pass {repeat + 1}: " + ", ".join(f"{s}: {len(texts) * (repeat + 1) / seconds[s]:.1f}" for s in sizes), flush=True)
    load_after = os.getloadavg()

    result = {
        "articles": len(articles),
        "chunks": len(texts),
        "blocks": len(blocks),
        "block_chunks": block,
        "repeats": repeats,
        "default_batch_size": default,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "sizes": [
            {
                "batch_size": size,
                "chunks_per_s": round(len(texts) * repeats / seconds[size], 2),
                "ratio_to_default_median": round(statistics.median(ratios[size]), 3),
                "ratio_to_default_p25": round(percentile(ratios[size], 25), 3),
                "ratio_to_default_p75": round(percentile(ratios[size], 75), 3),
            }
            for size in sizes
        ],
    }
    result["best_batch_size"] = max(result["sizes"], key=lambda row: row["ratio_to_default_median"])["batch_size"]
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"articles {result['articles']}, chunks {result['chunks']} in {len(blocks)} blocks, {repeats} repeats; "
          "each block embedded at every size, orders rotating")
    print(f"load average before {result['load_average_before']}, after {result['load_average_after']}")
    print("batch  chunks/s  ratio to default per block (median [p25, p75])")
    for row in result["sizes"]:
        mark = "  (default)" if row["batch_size"] == default else ""
        print(
            f"{row['batch_size']:5d}  {row['chunks_per_s']:8.1f}  {row['ratio_to_default_median']:.3f} "
            f"[{row['ratio_to_default_p25']:.3f}, {row['ratio_to_default_p75']:.3f}]{mark}"
        )
    print(f"best: {result['best_batch_size']}")


GOAL_RSS_MB = 1536  # 1.5 GB


def peak_rss(inputs: list[str], corpus: Path, big_mb: float, batch_sizes: list[int | None], as_json: bool) -> None:
    """Peak RSS of ``newsdesk ingest`` on each input (see the module docstring), in processes of their own."""
    from bench.synthetic_text import write_text

    newsdesk = str(Path(sys.executable).parent / "newsdesk")
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-rss-") as tmp:
        work = Path(tmp)
        paths = {"small": write_text(work / "small.txt", 100_000)}
        for name in inputs:
            if name == "big":
                paths["big"] = write_text(work / "big.txt", int(big_mb * 1_000_000))
            elif name == "corpus":
                paths["corpus"] = require(corpus)
            else:
                raise SystemExit(f"--rss: unknown input {name!r} (big, corpus)")
        rows = []
        for size in batch_sizes:
            for name, path in paths.items():
                env = {**os.environ, "NEWSDESK_DATA_DIR": str(work / f"store-{name}-{size}"),
                       "NEWSDESK_MAX_ARTICLE_MB": str(max(2.0, path.stat().st_size / 1_000_000 + 1))}
                if size:
                    env["NEWSDESK_EMBED_BATCH_SIZE"] = str(size)
                start = time.perf_counter()
                proc = subprocess.Popen([newsdesk, "ingest", str(path), "--json"], env=env, stdout=subprocess.PIPE, text=True)
                out = proc.stdout.read()
                _pid, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - start
                if os.waitstatus_to_exitcode(status) != 0:
                    raise SystemExit(f"newsdesk ingest {path} failed (exit {os.waitstatus_to_exitcode(status)})")
                summary = json.loads(out)
                rows.append({"input": name, "embed_batch_size": size or "default", "mb": round(path.stat().st_size / 1e6, 2),
                             "articles": summary["added"], "chunks": summary["chunks"], "seconds": round(seconds, 1),
                             "peak_rss_mb": round(usage.ru_maxrss / 1024)})
                if not as_json:
                    print(f"  {rows[-1]}", flush=True)
    for row in rows:
        base = next(r for r in rows if r["input"] == "small" and r["embed_batch_size"] == row["embed_batch_size"])
        row["ratio_to_small"] = round(row["peak_rss_mb"] / base["peak_rss_mb"], 3)
        row["within_goal"] = row["peak_rss_mb"] <= GOAL_RSS_MB
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print(f"| input | MB | embed batch | articles | chunks | s | peak RSS MB | ratio to small | <= {GOAL_RSS_MB} MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['input']} | {r['mb']} | {r['embed_batch_size']} | {r['articles']} | {r['chunks']} | {r['seconds']} | "
              f"{r['peak_rss_mb']} | {r['ratio_to_small']} | {'yes' if r['within_goal'] else 'NO'} |")


if __name__ == "__main__":
    main()
