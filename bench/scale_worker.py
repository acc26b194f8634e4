"""The processes bench/scale starts against a store: a keyword-index build, and a worker holding an Engine.

``python -m bench.scale_worker build``: the keyword index built whole for the store as it is; prints
one JSON line (seconds, peak RSS).

``python -m bench.scale_worker serve QUESTION``: builds an Engine (as ``newsdesk serve`` does per
worker), answers QUESTION, prints ``{"event": "ready", ...}`` with wall-clock marks, then answers JSON
lines on stdin (``{"cmd": "ask"|"fusion", "question": ...}``, with ``"since"``/``"until"`` for a date
window; ``{"cmd": "ingest", "path": ...}`` starts ingesting a file in a thread of this process, as
``POST /v1/documents`` does in a running server, and ``{"cmd": "ingested"}`` says whether it is done;
``{"cmd": "quit"}``), one JSON line each.
``fusion`` is llama-index's own hybrid: ``QueryFusionRetriever`` over the engine's vector index and the
engine's chunk keyword retriever (the same index, so it adds no memory); reciprocal rerank, one query.

Both read the store from the environment (``NEWSDESK_CHROMA_HOST``/``PORT``, ``NEWSDESK_DATA_DIR``,
``NEWSDESK_COLLECTION``), never from a ``.env`` file.
"""

from __future__ import annotations

import json
import resource
import sys
import time

STARTED = time.time()


def _emit(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def build() -> None:
    from assistant.retrieval.keyword_component import refresh_keywords
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore

    settings = Settings(_env_file=None)
    store = ArticleStore(settings)
    start = time.perf_counter()
    refresh_keywords(settings, store)
    _emit({"event": "built", "bm25_build_s": round(time.perf_counter() - start, 2), "peak_rss_mb": _peak_rss_mb(),
           "version": store.version(), "keyword_index": settings.keyword_index})


class Fusion:
    """llama-index's QueryFusionRetriever over the engine's own vector index and chunk BM25."""

    def __init__(self, engine, top_n: int):
        from llama_index.core import VectorStoreIndex
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever

        k = engine.settings.candidate_k  # the depth Newsdesk asks of each of its retrievers
        vector = VectorStoreIndex.from_vector_store(engine.store.vector_store(), embed_model=engine.embed_model)
        self.engine = engine
        self.vector = vector.as_retriever(similarity_top_k=k)
        self.top_n = top_n
        self._version = None
        self.retriever = None
        # MockLLM: with num_queries=1 no query is generated, but the constructor resolves an LLM
        # (the global default would be OpenAI's).
        self._make = lambda bm25: QueryFusionRetriever(
            [self.vector, bm25], llm=MockLLM(), mode="reciprocal_rerank", similarity_top_k=top_n,
            num_queries=1, use_async=False,
        )

    def retrieve(self, question: str):
        bm25 = self.engine.bm25.get()  # follows the store's version, as the engine's does
        if self.retriever is None or self._version != self.engine.bm25.version:
            self.retriever, self._version = self._make(bm25), self.engine.bm25.version
        return self.retriever.retrieve(question)


def serve(first_question: str) -> None:
    import datetime as dt

    from bench.common import forget_questions
    from assistant.answer import SearchFilters
    from assistant.retrieval.hybrid import article_ranking
    from assistant.settings import Settings

    imported = time.time()
    from assistant.engine import Engine

    engine = Engine(Settings(_env_file=None))
    constructed = time.time()
    answer = engine.ask(first_question)
    answered = time.time()
    _emit({
        "event": "ready", "started": STARTED, "imported": imported, "engine": constructed, "first_answer": answered,
        "first_timings": answer.timings_ms, "chunks": engine.store.count_chunks(),
        "newest_day": engine.bm25.stats().newest_day, "keyword_index": engine.settings.keyword_index,
    })
    fusion = None
    ingesting: dict = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "quit":
            break
        if request["cmd"] == "ingest":
            ingesting = _ingest_in_background(engine, request["path"])
            _emit({"started": True})
            continue
        if request["cmd"] == "ingested":
            _emit({key: value for key, value in ingesting.items() if key != "thread"})
            continue
        question = request["question"]
        forget_questions(engine)  # each side embeds every question
        if request["cmd"] == "ask":
            window = {k: dt.date.fromisoformat(request[k]) for k in ("since", "until") if request.get(k)}
            start = time.perf_counter()
            answer = engine.ask(question, filters=SearchFilters(**window) if window else None)
            ms = (time.perf_counter() - start) * 1000
            _emit({"ms": ms, "retrieve_ms": answer.timings_ms.get("retrieve"), "retrieved": answer.retrieved,
                   "declined": answer.declined})
        elif request["cmd"] == "keyword":  # the keyword list alone: whether the index has seen an article
            hits = engine.retrieve(question, mode="bm25")
            _emit({"retrieved": article_ranking(hits, 10), "stale": bool(engine.bm25.get().stale)})
        elif request["cmd"] == "fusion":
            if fusion is None:
                fusion = Fusion(engine, top_n=30)  # 30 chunks: the hybrid's own cut before diversifying
            start = time.perf_counter()
            nodes = fusion.retrieve(question)
            ms = (time.perf_counter() - start) * 1000
            _emit({"ms": ms, "retrieved": article_ranking(nodes, 10)})
        else:
            _emit({"error": f"unknown command {request['cmd']!r}"})


def _ingest_in_background(engine, path: str) -> dict:
    """Ingest the file at ``path`` in a thread, with the engine's store and embedder (what the API's
    ingest route does beside its questions); the returned dict gets ``s`` and ``summary`` when done."""
    import threading

    from ingest.loaders import load_paths
    from ingest.pipeline import Ingester

    state: dict = {"done": False}

    def run() -> None:
        start = time.perf_counter()
        try:
            loaded = load_paths([path])
            ingester = Ingester(engine.store, engine.embed_model, engine.settings)
            summary = ingester.ingest_articles(loaded.articles, loaded.failures)
            state["summary"] = summary.as_dict()
        except Exception as exc:  # reported to the bench, which records it
            state["error"] = f"{type(exc).__name__}: {exc}"
        state["s"] = round(time.perf_counter() - start, 2)
        state["done"] = True

    state["thread"] = threading.Thread(target=run, name="bench-ingest", daemon=True)
    state["thread"].start()
    return state


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build()
    elif sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        raise SystemExit(f"usage: python -m bench.scale_worker build | serve QUESTION (got {sys.argv[1:]})")
