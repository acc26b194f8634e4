"""The engine: one object that every door (CLI, API, Slack, evaluator) asks questions of.

``Engine.ask(question, history)`` condenses a follow-up into a standalone question, retrieves with
the hybrid retriever, answers with the configured answerer and returns one :class:`Answer`. Models
and clients load once, in the constructor; ``ask`` is safe to call from several threads.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from llama_index.core import VectorStoreIndex

from assistant.answer import Answer, SearchFilters, Turn
from assistant.bm25 import BM25Cache
from assistant.condense import Condenser, KeywordCondenser
from assistant.embedding import build_embedding
from assistant.extractive import ExtractiveAnswerer
from assistant.retrieval import HybridRetriever, Mode, article_ranking
from assistant.settings import Settings, get_settings
from assistant.store import ArticleStore


@dataclass
class Trace:
    """An answer with what produced it: for the evaluator and for debugging, not for front-ends."""

    answer: Answer
    context: list = field(default_factory=list)  # the chunks handed to the answerer
    hits: list = field(default_factory=list)  # every fused hit, best first
    evidence: float = 0.0  # the score compared with the decline threshold


class Engine:
    def __init__(self, settings: Settings | None = None, store: ArticleStore | None = None, embed_model=None):
        self.settings = settings or get_settings()
        self.store = store or ArticleStore(self.settings)
        self.embed_model = embed_model or build_embedding(self.settings)
        self.bm25 = BM25Cache(self.store, self.settings.candidate_k)
        index = VectorStoreIndex.from_vector_store(self.store.vector_store(), embed_model=self.embed_model)
        self.retriever = HybridRetriever(
            index,
            self.bm25.get,
            candidate_k=self.settings.candidate_k,
            rrf_k=self.settings.rrf_k,
            dense_weight=self.settings.dense_weight,
            bm25_weight=self.settings.bm25_weight,
        )
        self.condenser: Condenser = KeywordCondenser()
        self.answerer = ExtractiveAnswerer(
            max_sentences=self.settings.max_answer_sentences,
            max_words=self.settings.max_answer_words,
            decline_threshold=self.settings.decline_threshold,
            follow_ratio=self.settings.answer_follow_ratio,
        )

    def retrieve(self, query: str, mode: Mode = "hybrid", filters: SearchFilters | None = None):
        """Fused hits for ``query``, best first (``mode`` picks one retriever, for baselines)."""
        return self.retriever.retrieve_mode(query, mode, filters)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Answer ``question`` in the context of ``history`` (earlier turns, oldest first)."""
        return self.run(question, history, top_k, filters).answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Iterator[tuple[str, object]]:
        """The answer as events, for front-ends that stream: ``("sources", [Source])``, then
        ``("delta", str)`` pieces of the answer text, then ``("done", Answer)``.

        The extractive answerer has its whole answer at once, so the pieces are its cited sentences;
        concatenated they give exactly ``Answer.answer``.
        """
        answer = self.ask(question, history, top_k, filters)
        yield "sources", answer.sources
        pieces = re.findall(r".+?(?:\]\s*|$)", answer.answer) if not answer.declined else [answer.answer]
        for piece in pieces:
            if piece:
                yield "delta", piece
        yield "done", answer

    def run(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Trace:
        question = question.strip()
        if not question:
            raise ValueError("question is empty")
        turns = [t if isinstance(t, Turn) else Turn.model_validate(t) for t in (history or [])]
        timings: dict[str, float] = {}
        started = time.perf_counter()

        standalone = self.condenser.condense(question, turns)
        timings["condense"] = _ms(started)

        mark = time.perf_counter()
        hits = self.retrieve(standalone, filters=filters)
        timings["retrieve"] = _ms(mark)

        mark = time.perf_counter()
        context = hits[: top_k or self.settings.top_k]
        text, sources, declined, evidence = self.answerer.answer(standalone, context, self.bm25.stats().idf)
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)

        answer = Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            sources=sources,
            retrieved=article_ranking(hits, 10),
            declined=declined,
            generator="extractive",
            timings_ms=timings,
        )
        return Trace(answer=answer, context=context, hits=hits, evidence=evidence)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
