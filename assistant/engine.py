"""The engine: one object that every door (CLI, API, Slack, evaluator) asks questions of.

``Engine.ask(question, history)`` runs one pipeline for every answerer: condense the follow-up into a
standalone question -> read the time it speaks of -> retrieve with the hybrid retriever -> judge
whether the retrieved sentences answer it (:meth:`ExtractiveAnswerer.judge`) -> answer, quoting or,
with an LLM, generating and verifying -> one :class:`Answer`. Models and clients load once, in the
constructor; ``ask`` is safe to call from several threads.

The answer is quoted unless ``NEWSDESK_LLM`` names an LLM (:mod:`assistant.answering.llm`); then it is generated
and its citations verified (:mod:`assistant.answering.generative`) and follow-ups are condensed by the LLM. The
judge decides declines either way. The LLM is a wrapper around the quoted answer: whenever it is
unreachable, fails, runs past ``llm_timeout_s`` (one budget per question, condensing and answering
together) or writes nothing its sources support, the quoted answer stands in, with
``Answer.fallback_reason`` saying why.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np
from llama_index.core import VectorStoreIndex

from assistant.answer import Answer, SearchFilters, TimeScope, Turn, Verification, day_date
from assistant.answering.extractive import Draft, ExtractiveAnswerer, Judgement, led_by, with_verdict
from assistant.answering.generative import GenerativeAnswerer, LLMCondenser, LLMVerdict
from assistant.answering.llm import LLMError, build_llm, model_name
from assistant.answering.multipart import (
    PART_EMBEDDED,
    absent_outlets,
    asks_verdict,
    combined_judgement,
    covering,
    decline_absent,
    describes_by_clauses,
    judge_parts,
    part_excerpts,
    retrieve_parts,
    search_clauses,
)
from assistant.answering.multipart import compose as compose_parts
from assistant.retrieval.embedding import SENTENCE_CACHE, SentenceVectors, build_embedding
from assistant.retrieval.hybrid import HybridRetriever, Mode, RecencyPrior, article_ranking, one_per_cluster
from assistant.retrieval.keyword_component import keyword_cache
from assistant.retrieval.store import ArticleStore
from assistant.retrieval.store_embedder import check_embedder
from assistant.settings import Settings, get_settings
from assistant.text import for_embedding
from assistant.understanding.condense import Condenser, KeywordCondenser
from assistant.understanding.outlets import OutletDirectory
from assistant.understanding.parts import split_parts
from assistant.understanding.question import analyse
from assistant.understanding.small_talk import small_talk_reply
from assistant.understanding.summary_requests import summary_topic, timeline_topic
from assistant.understanding.timescope import parse_time_scope, reference_date
from assistant.understanding.timescope import warm_up as warm_up_time_scopes
from assistant.understanding.timescope import preferred_window, search_window

log = logging.getLogger(__name__)

# Ages are counted from the newest of this many best-ranked articles: "the rest of what matched".
NEWEST_AMONG = 10


@dataclass
class Trace:
    """An answer with what produced it: for the evaluator and for debugging, not for front-ends."""

    answer: Answer
    context: list = field(default_factory=list)  # the chunks handed to the answerer
    hits: list = field(default_factory=list)  # every fused hit, best first
    evidence: float = 0.0  # the score compared with the decline threshold
    judgement: Judgement | None = None  # every scored sentence, best first


@dataclass
class Outcome:
    """How the answering step went: the draft (None: the quoted answer must stand in), why the LLM's
    answer could not be used, what verification removed, and what a stream has already sent."""

    draft: object = None
    failure: str | None = None
    verification: Verification | None = None
    streamed: bool = False  # the model's tokens went out as deltas
    sources_sent: bool = False  # the candidate sources went out as the first event


class Engine:
    def __init__(
        self,
        settings: Settings | None = None,
        store: ArticleStore | None = None,
        embed_model=None,
        llm=None,
        warm_up: bool = True,
    ):
        """``llm``: a llama-index LLM to answer with instead of the one the settings name. ``warm_up``:
        pay first-use costs now (a server answers many questions); a one-question command skips it."""
        self.settings = settings or get_settings()
        self.store = store or ArticleStore(self.settings)
        self.embed_model = embed_model or build_embedding(self.settings)
        check_embedder(self.store, self.embed_model)  # a question embedded by another model finds nothing
        self.bm25 = keyword_cache(self.settings, self.store)  # the keyword side, as the settings choose it
        # BM25 runs beside the question's embedding and dense query (retrieval.HybridRetriever).
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="newsdesk-retrieval")
        # The parts of a question across articles are searched side by side; each search hands its BM25
        # to ``executor``, so they run on a pool of their own (one pool waiting on itself could stall).
        self.part_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsdesk-parts")
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
            article_weight=self.settings.article_bm25_weight,
            executor=self.executor,
        )
        # The sentences the answerer compares with questions come from the stories people are asking
        # about, so the same ones come up again and again: their vectors are kept (the embedder was
        # most of the answer step's time).
        self.sentence_vectors = SentenceVectors(SENTENCE_CACHE)
        self._outlet_directory: tuple[str | None, OutletDirectory] | None = None
        self._outlets_lock = threading.Lock()
        if warm_up:
            warm_up_time_scopes()  # dateparser's first parse costs ~0.1 s: pay it at start-up, not on a question
        self.condenser: Condenser = KeywordCondenser(similarity=self._similarity)
        self.answerer = ExtractiveAnswerer(
            max_sentences=self.settings.max_answer_sentences,
            max_words=self.settings.max_answer_words,
            decline_threshold=self.settings.decline_threshold,
            follow_ratio=self.settings.answer_follow_ratio,
            embedded_sentences=self.settings.answer_embedded_sentences,
            recent_half_life_days=self.settings.recent_half_life_days,
        )
        # A part of a question across articles is judged on few chunks, its best few sentences embedded.
        self.part_answerer = copy.copy(self.answerer)
        self.part_answerer.embedded_sentences = min(PART_EMBEDDED, self.answerer.embedded_sentences)
        self.llm = llm if llm is not None else build_llm(self.settings)
        self.generative: GenerativeAnswerer | None = None
        self.verdicts: LLMVerdict | None = None
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
            self.verdicts = LLMVerdict(self.llm, lock=lock)

    def retrieve(self, query: str, mode: Mode = "hybrid", filters: SearchFilters | None = None, prefer=None, bm25=None):
        """Fused hits for ``query``, best first (``mode`` picks one retriever, for baselines;
        ``prefer``: a date window whose articles are preferred, not required; ``bm25``: the chunk BM25
        retriever to use, default the one the store's version stamp calls for now)."""
        return self.retriever.retrieve_mode(query, mode, filters, prefer=prefer, bm25=bm25)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Answer ``question`` in the context of ``history`` (earlier turns, oldest first)."""
        return self.run(question, history, top_k, filters).answer

    def run(
        self,
        question: str,
        history: Sequence[Turn | dict] | None = None,
        top_k: int | None = None,
        filters: SearchFilters | None = None,
    ) -> Trace:
        """The answer with what produced it (the evaluator's entry point)."""
        for kind, payload in self._pipeline(question, history, top_k, filters, stream=False):
            if kind == "trace":
                return payload
        raise AssertionError("the answer pipeline ended without an answer")  # pragma: no cover

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
        for kind, payload in self._pipeline(question, history, top_k, filters, stream=True):
            yield ("done", payload.answer) if kind == "trace" else (kind, payload)

    # --- the one answer pipeline ---------------------------------------------------------------------
    def _pipeline(
        self,
        question: str,
        history: Sequence[Turn | dict] | None,
        top_k: int | None,
        filters: SearchFilters | None,
        stream: bool,
    ) -> Iterator[tuple[str, object]]:
        """condense -> time scope -> retrieve -> judge answerability -> answer (extractive, or generated
        and verified) -> Answer. With ``stream``, ``sources`` and ``delta`` events on the way; always a
        last ``("trace", Trace)``. A generated answer that fails falls back to the extractive one."""
        question, turns = _validated(question, history)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        reply = small_talk_reply(question)
        if reply is not None:
            # "thanks", "hi": a reply, not a search; quoting an article here would cite at random.
            timings["total"] = _ms(started)
            answer = _answer(question, question, [], timings, answer=reply, conversational=True, generator="conversation")
            if stream:
                yield "sources", []
                yield "delta", reply
            yield "trace", Trace(answer=answer)
            return
        # One LLM budget per question, condensing and answering together.
        deadline = time.monotonic() + self.settings.llm_timeout_s if self.generative is not None else None

        standalone, failure = self._condense(question, turns, deadline)
        timings["condense"] = _ms(started)

        mark = time.perf_counter()
        bm25 = self.bm25.get()  # one read of the store's version: the whole question uses that index
        scope = self._time_scope(standalone)
        # A summary request ("What happened with X?") is searched and judged on its topic alone.
        topic = summary_topic(standalone)
        # "How has X changed?": the stories of X in the order they came out.
        chronological = timeline_topic(standalone)
        if chronological is not None:
            topic = chronological
        focus = topic or standalone
        # The outlets and report dates it names: each is searched on its own (assistant.answering.multipart).
        outlets = self._outlets(bm25)
        plan = split_parts(focus, outlets, self._reference_day()) if topic is None else None

        def search_part(query: str, filters: SearchFilters) -> list:
            return self.retrieve(query, filters=filters, bm25=bm25)

        found = None
        if plan is not None and plan.spans_articles:
            # The parts carry the question's dates: no one window filters them all. The unnarrowed
            # search, run beside the parts', adds what no part's outlet holds (an outlet left unnamed).
            scope = None
            unnarrowed = self.part_executor.submit(self.retrieve, plan.searchable, filters=filters, bm25=bm25)
            found = retrieve_parts(plan, search_part, filters, self.part_executor)
            hits = covering(found.results, unnarrowed.result(), *self._described(plan, filters, bm25))
        else:
            if plan is not None and plan.parts:
                found = retrieve_parts(plan, search_part, filters)
                focus = plan.searchable  # an outlet's name is the article's metadata, not its words
            window = search_window(filters, scope)
            hits = self.retrieve(focus, filters=window, prefer=preferred_window(scope), bm25=bm25)
            if not hits and window is not filters:
                # Nothing was published in the named window: its dates are the event's ("cloned in 1996"),
                # not the reports', so search without them.
                hits = self.retrieve(focus, filters=filters, prefer=preferred_window(scope), bm25=bm25)
                scope = scope.model_copy(update={"applied": False})
            if found is not None:
                # One outlet named ("What did TechCrunch say about ..."): its best chunk leads, the
                # rest rank with the unnarrowed search's, so a misread outlet cannot crowd out the answer.
                hits = covering(found.results, hits)
        idf = self.bm25.stats().idf
        if plan is not None and plan.spans_articles:
            focus = plan.searchable
        asked = analyse(scope.without_filter_words(focus) if scope else focus, idf)
        newest = max((int(h.node.metadata.get("published_day") or 0) for h in hits[:NEWEST_AMONG]), default=0)
        if scope is not None and scope.kind == "recent":
            # "this week", "yesterday": the question names its time, so newer stories are preferred
            # strongly; a bare "new" or "latest" only leans that way (question.recency_strength).
            asked.recency = max(asked.recency, 1.0)
        limit = top_k or self.settings.top_k
        if plan is not None and plan.spans_articles:
            limit = max(limit, len(plan.parts) + 1)  # every part's best chunk, and one more
        # One copy of a syndicated story reaches the answerer (its source names the others); all stay in hits.
        context = one_per_cluster(hits, self.bm25.clusters(), limit=limit)
        timings["retrieve"] = _ms(mark)

        # "As reported by Bloomberg", over a store without Bloomberg: no stored article can say it.
        absent = absent_outlets(standalone, outlets, context) if topic is None else []

        mark = time.perf_counter()
        if absent:
            judgement = Judgement(standalone, list(context), [], 0.0, True, asked=asked)
        elif plan is not None and plan.spans_articles:
            # Each part is judged on its own chunks, by its own words.
            judge_parts(found, lambda part, part_hits: self.part_answerer.judge(
                analyse(part.query, idf), part_hits, idf, self._similarity, newest, self.store.article_texts),
                self.answerer.decline_threshold)
            judgement = combined_judgement(standalone, found, context)
        else:
            judgement = self.answerer.judge(asked, context, idf, self._similarity, newest, self.store.article_texts)
        # "What's new?": no topic to judge by, so the newest stories that came up.
        stories = context if topic == "" else None
        if stories is not None:
            judgement.declined = not stories
        outcome = Outcome()
        across = plan is not None and plan.spans_articles
        # A yes/no across articles: the quoted sentence of each, and the LLM's verdict on those alone.
        verdict_only = across and asks_verdict(plan) and self.verdicts is not None
        if self.generative is not None and not judgement.declined and failure is None and not verdict_only:
            outcome = yield from self._generate(standalone, context, judgement, deadline, stream, across)
            failure = outcome.failure
        if outcome.draft is None:
            if failure is not None:
                log.warning("LLM %s failed, answering extractively instead: %s", self.generative.model, failure)
            if absent:
                outcome.draft = decline_absent(self.answerer, absent, judgement)
            elif across:
                outcome.draft = compose_parts(self.answerer, found, judgement)
                if verdict_only and failure is None and not outcome.draft.declined:
                    outcome.draft, failure = self._with_llm_verdict(standalone, outcome.draft, deadline)
            elif topic is not None:
                outcome.draft = self.answerer.compose_summary(judgement, self.store.article_texts, stories,
                                                              oldest_first=chronological is not None)
            else:
                outcome.draft = self.answerer.compose(judgement)
                outcome.draft = with_verdict(standalone, outcome.draft, judgement)
        draft = outcome.draft
        timings["answer"] = _ms(mark)
        timings["total"] = _ms(started)

        fields = dict(answer=draft.text, sources=draft.sources, declined=draft.declined, time_scope=scope)
        if outcome.verification is not None:
            fields.update(verification=outcome.verification)
        if failure is not None:
            fields.update(fallback_reason=failure)
        elif self.generative is not None:  # generated, or declined without asking the model
            fields.update(generator=self.generative.generator)
        answer = _answer(question, standalone, hits, timings, **fields)
        if stream and not outcome.streamed:
            # No token streamed: the deltas are the final answer's pieces, as for the extractive answerer
            # (and the sources event too, unless the candidates already went out).
            if not outcome.sources_sent:
                yield "sources", answer.sources
            for piece in _pieces(answer):
                yield "delta", piece
        yield "trace", Trace(answer=answer, context=context, hits=hits, evidence=judgement.evidence, judgement=judgement)

    def _generate(self, standalone: str, context: list, judgement: Judgement, deadline: float | None, stream: bool,
                  across: bool = False):
        """The LLM's answer, wrapped around the quoted one: yields the ``sources`` and ``delta`` events
        of a stream and returns an :class:`Outcome` whose draft is None when the quoted answer must
        stand in (the LLM failed, or nothing it wrote survived verification)."""
        outcome = Outcome()
        plan = self.generative.prepare(standalone, context, judgement=judgement, across=across)
        if stream:
            yield "sources", plan.candidate_sources
            outcome.sources_sent = True
        pieces: list[str] = []
        try:
            for delta in self.generative.stream(plan, deadline):
                pieces.append(delta)
                if stream:
                    yield "delta", delta
        except LLMError as exc:
            outcome.failure = str(exc)
            outcome.streamed = stream and bool(pieces)  # no token sent yet: the fallback's pieces are the deltas
            return outcome
        draft = self.generative.finish(plan, "".join(pieces))
        outcome.streamed, outcome.verification = stream, draft.verification
        if draft.declined:
            # The judge found an answer in the sources, but nothing the model wrote survived
            # verification (or it said they don't answer): the judge decides declines, so the quoted
            # answer stands in, and says why.
            outcome.failure = "the model's reply held no sentence its sources support"
        else:
            outcome.draft = draft
        return outcome

    def _with_llm_verdict(self, question: str, draft: Draft, deadline: float) -> tuple[Draft, str | None]:
        """``draft`` led by "Yes — " or "No — " when the LLM finds that its quoted sentences settle the
        question; as it was when they do not (or, with the reason, when the LLM fails)."""
        try:
            said = self.verdicts.judge(question, part_excerpts(draft), deadline)
        except LLMError as exc:
            return draft, f"judging the verdict: {exc}"
        return led_by(said, draft), None

    def _described(self, plan, filters, bm25) -> tuple[list[list], tuple[str, ...]]:
        """For a name asked by several descriptions credited to two or more outlets: each clause's BM25
        hits among the named outlets' articles, and those outlets' sources, whose chunks then rank first
        (:func:`assistant.answering.multipart.covering`).

        Measured on both halves of multihop-dev (inference questions so described, all gold articles in
        the top 10): without 0.474 / 0.405; those outlets first 0.526 / 0.436; with hybrid clause
        searches 0.556 / 0.479; with BM25 clause searches 0.681 / 0.589, at a sixteenth of the hybrid
        searches' time (a clause is a few exact words; the embedder adds little to it and costs most).
        With one outlet named they found 2 more of 77 and cost 10 false declines (the single judge reads
        the context), so those questions keep the unnarrowed order."""
        if not describes_by_clauses(plan):
            return [], ()

        def keyword_search(query: str, filters: SearchFilters) -> list:
            return self.retrieve(query, mode="bm25", filters=filters, bm25=bm25)

        return search_clauses(plan, keyword_search, filters), plan.named_sources

    def _condense(self, question: str, turns: list[Turn], deadline: float | None) -> tuple[str, str | None]:
        """(the standalone question, why the LLM could not condense it or None)."""
        condenser = self.condenser
        if isinstance(condenser, LLMCondenser):
            try:
                return condenser.condense_or_raise(question, turns, deadline), None
            except LLMError as exc:
                return condenser.fallback.condense(question, turns), f"condensing the follow-up: {exc}"
        return condenser.condense(question, turns), None

    def _outlets(self, bm25) -> OutletDirectory:
        """The publishers of the store version ``bm25`` indexes (built once per version)."""
        version = getattr(bm25, "version", None)
        with self._outlets_lock:
            if self._outlet_directory is None or self._outlet_directory[0] != version:
                self._outlet_directory = (version, OutletDirectory(bm25.sources() if bm25 is not None else ()))
            return self._outlet_directory[1]

    def _reference_day(self) -> dt.date:
        """The day a date without a year is counted back from: today, or the archive's newest day."""
        return reference_date(self.settings.today, day_date(self.bm25.stats().newest_day), dt.date.today())

    def time_scope(self, question: str) -> TimeScope | None:
        """The dates ``question`` speaks of ("in January", "this week"), resolved against today, or
        against the newest article when the store is an archive (``NEWSDESK_TODAY`` pins today)."""
        self.bm25.get()  # the term statistics, and so the newest day, of the store as it is now
        return self._time_scope(question)

    def _time_scope(self, question: str) -> TimeScope | None:
        """:meth:`time_scope` against the index this thread holds (its newest day)."""
        return parse_time_scope(question, self._reference_day())

    def _similarity(self, question: str, texts: list[str]) -> list[float]:
        """Cosine similarity of the question to each text, in the embedder's space."""
        query = np.asarray(self.embed_model.get_query_embedding(for_embedding(question)), dtype=np.float32)
        vectors = self.sentence_vectors.get(self.embed_model, texts)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        return (vectors @ query / np.clip(norms, 1e-12, None)).tolist()


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
