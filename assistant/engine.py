"""The engine: one object that every door (CLI, API, Slack, evaluator) asks questions of.

``Engine.ask(question, history)`` condenses a follow-up into a standalone question, retrieves with
the hybrid retriever, answers with the configured answerer and returns one :class:`Answer`. Models
and clients load once, in the constructor; ``ask`` is safe to call from several threads.

The answerer is the extractive one unless ``NEWSDESK_LLM`` names an LLM (:mod:`assistant.llm`); then
answers are generated and their citations verified (:mod:`assistant.generative`), follow-ups are
condensed by the LLM, and whenever the LLM is unreachable, fails or runs past ``llm_timeout_s`` (one
budget per question, condensing and answering together) the extractive answer stands in, with
``Answer.fallback_reason`` saying why.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from llama_index.core import VectorStoreIndex

from assistant.answer import Answer, SearchFilters, Turn
from assistant.bm25 import BM25Cache
from assistant.condense import Condenser, KeywordCondenser
from assistant.embedding import build_embedding
from assistant.extractive import ExtractiveAnswerer
from assistant.generative import GenerativeAnswerer, LLMCondenser
from assistant.llm import LLMError, build_llm, model_name
from assistant.retrieval import HybridRetriever, Mode, RecencyPrior, article_ranking
from assistant.settings import Settings, get_settings
from assistant.store import ArticleStore

log = logging.getLogger(__name__)


@dataclass
class Trace:
    """An answer with what produced it: for the evaluator and for debugging, not for front-ends."""

    answer: Answer
    context: list = field(default_factory=list)  # the chunks handed to the answerer
    hits: list = field(default_factory=list)  # every fused hit, best first
    evidence: float = 0.0  # the score compared with the decline threshold


class Engine:
    def __init__(
        self, settings: Settings | None = None, store: ArticleStore | None = None, embed_model=None, llm=None
    ):
        """``llm``: a llama-index LLM to answer with instead of the one the settings name."""
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
            recency=RecencyPrior(self.settings.recency_weight, self.settings.recency_half_life_days),
            newest_day=lambda: self.bm25.stats().newest_day,
            article_bm25_source=self.bm25.get_articles,
            article_weight=self.settings.article_bm25_weight,
        )
        self.condenser: Condenser = KeywordCondenser()
        self.answerer = ExtractiveAnswerer(
            max_sentences=self.settings.max_answer_sentences,
            max_words=self.settings.max_answer_words,
            decline_threshold=self.settings.decline_threshold,
            follow_ratio=self.settings.answer_follow_ratio,
        )
        self.llm = llm if llm is not None else build_llm(self.settings)
        self.generative: GenerativeAnswerer | None = None
        if self.llm is not None:
            # An in-process llama.cpp model is not thread-safe: its calls take turns.
            lock = threading.Lock() if self.settings.llm == "llamacpp" else None
            self.generative = GenerativeAnswerer(
                self.llm,
                self.settings.llm_model or getattr(self.llm, "model", None) or model_name(self.settings),
                self.answerer,
                context=self.settings.llm_context,
                context_window=self.settings.llm_context_window,
                max_tokens=self.settings.llm_max_tokens,
                lock=lock,
            )
            self.condenser = LLMCondenser(self.llm, timeout_s=self.settings.llm_timeout_s, lock=lock)

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

        With an LLM the deltas are the model's tokens as they arrive, and ``sources`` comes first with
        the *candidate* sources: the retrieved articles numbered as the prompt numbers them, which the
        model's raw ``[n]`` refer to. The ``done`` Answer is the *verified* one: unsupported citations
        dropped, unsupported sentences removed, sources renumbered 1..N (a reply with nothing supported
        becomes a decline), so its ``answer`` and ``sources`` may differ from the concatenated deltas and
        the first event. Front-ends should replace what they streamed with ``done``'s answer. When the
        evidence is too weak (a decline without asking the LLM) or the LLM fails before its first token,
        the deltas are the final answer's pieces, as for the extractive answerer; when it fails later,
        ``done`` carries the extractive answer with ``fallback_reason`` set.
        """
        if self.generative is None:
            answer = self.ask(question, history, top_k, filters)
            yield "sources", answer.sources
            for piece in _pieces(answer):
                yield "delta", piece
            yield "done", answer
            return
        for kind, payload in self._generate(question, history, top_k, filters, stream=True):
            if kind == "trace":
                yield "done", payload.answer
            else:
                yield kind, payload

    def run(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Trace:
        if self.generative is not None:
            for kind, payload in self._generate(question, history, top_k, filters, stream=False):
                if kind == "trace":
                    return payload
            raise AssertionError("the answer pipeline ended without an answer")  # pragma: no cover
        question, turns = _validated(question, history)
        timings: dict[str, float] = {}
        started = time.perf_counter()

        standalone = self.condenser.condense(question, turns)
        timings["condense"] = _ms(started)

        hits, context = self._retrieve_timed(standalone, filters, top_k, timings)
        mark = time.perf_counter()
        text, sources, declined, evidence = self.answerer.answer(standalone, context, self.bm25.stats().idf)
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)

        answer = _answer(question, standalone, hits, timings, answer=text, sources=sources, declined=declined)
        return Trace(answer=answer, context=context, hits=hits, evidence=evidence)

    def _retrieve_timed(self, standalone: str, filters, top_k: int | None, timings: dict[str, float]):
        """(every fused hit, the chunks handed to the answerer), timing the retrieval stage."""
        mark = time.perf_counter()
        hits = self.retrieve(standalone, filters=filters)
        timings["retrieve"] = _ms(mark)
        return hits, hits[: top_k or self.settings.top_k]

    def _generate(
        self,
        question: str,
        history: Sequence[Turn | dict] | None,
        top_k: int | None,
        filters: SearchFilters | None,
        stream: bool,
    ) -> Iterator[tuple[str, object]]:
        """The LLM pipeline as events: with ``stream``, ``sources`` and ``delta`` events; always a last
        ``("trace", Trace)``. Falls back to the extractive answer when the LLM fails."""
        question, turns = _validated(question, history)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        deadline = time.monotonic() + self.settings.llm_timeout_s  # one LLM budget per question
        failure: str | None = None

        condenser = self.condenser
        if isinstance(condenser, LLMCondenser):
            try:
                standalone = condenser.condense_or_raise(question, turns, deadline)
            except LLMError as exc:
                failure = f"condensing the follow-up: {exc}"
                standalone = condenser.fallback.condense(question, turns)
        else:
            standalone = condenser.condense(question, turns)
        timings["condense"] = _ms(started)

        hits, context = self._retrieve_timed(standalone, filters, top_k, timings)
        mark = time.perf_counter()
        idf = self.bm25.stats().idf
        generative = self.generative
        plan = generative.prepare(standalone, context, idf)
        result = None
        fallback: tuple | None = None
        streamed = sources_sent = False
        if plan.declined:
            result = generative.decline(plan)
        elif failure is None:
            if stream:
                yield "sources", plan.candidate_sources
                streamed = sources_sent = True
            pieces: list[str] = []
            try:
                for delta in generative.stream(plan, deadline):
                    pieces.append(delta)
                    if stream:
                        yield "delta", delta
                result = generative.finish(plan, "".join(pieces))
            except LLMError as exc:
                failure = str(exc)
                streamed = streamed and bool(pieces)  # no token sent yet: the fallback's pieces are the deltas
        if result is None:
            log.warning("LLM %s failed, answering extractively instead: %s", generative.model, failure)
            fallback = self.answerer.answer(standalone, context, idf)
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)

        if fallback is not None:
            text, sources, declined, evidence = fallback
            answer = _answer(
                question, standalone, hits, timings,
                answer=text, sources=sources, declined=declined, fallback_reason=failure,
            )
        else:
            answer = _answer(
                question, standalone, hits, timings,
                answer=result.text, sources=result.sources, declined=result.declined,
                generator=generative.generator, verification=result.verification,
            )
            evidence = result.evidence
        if stream and not streamed:
            # No token streamed: the deltas are the final answer's pieces, as for the extractive answerer
            # (and the sources event too, unless the candidates already went out).
            if not sources_sent:
                yield "sources", answer.sources
            for piece in _pieces(answer):
                yield "delta", piece
        yield "trace", Trace(answer=answer, context=context, hits=hits, evidence=evidence)


def _validated(question: str, history: Sequence[Turn | dict] | None) -> tuple[str, list[Turn]]:
    question = question.strip()
    if not question:
        raise ValueError("question is empty")
    return question, [t if isinstance(t, Turn) else Turn.model_validate(t) for t in (history or [])]


def _answer(question: str, standalone: str, hits: list, timings: dict[str, float], **fields) -> Answer:
    """The Answer every path returns: the question as asked and as retrieved, the top-10 articles."""
    fields.setdefault("generator", "extractive")
    return Answer(
        question=question,
        standalone_question=standalone,
        retrieved=article_ranking(hits, 10),
        timings_ms=timings,
        **fields,
    )


def _pieces(answer: Answer) -> list[str]:
    """The answer text cut after each citation: what the stream's deltas carry when nothing streamed."""
    pieces = re.findall(r".+?(?:\]\s*|$)", answer.answer) if not answer.declined else [answer.answer]
    return [p for p in pieces if p]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
