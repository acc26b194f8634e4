"""The LLM answerer: a generated answer whose every citation is checked against its source.

The retrieved chunks are grouped by article and numbered ``[1]..[K]`` in retrieval order; each
article's text goes into the prompt fenced, as data (``prompts/answer_with_sources.md``) — or, with
``context="sentences"`` (``NEWSDESK_LLM_CONTEXT=sentences``, for small models), only the sentences
that best match the question, each ending with its source's ``[n]`` (``prompts/answer_with_facts.md``).
The model's reply is then verified with the support check the evaluator uses
(:func:`assistant.answering.citations.supports`):

* every ``[n]`` must name one of the numbered sources, and that source's retrieved text must support
  the sentence it follows; other citations are dropped;
* a sentence left without a supporting citation (or that never had one) is removed;
* a reply with no supported sentence becomes a decline, with the closest sources, as the extractive
  answerer gives.

The sources left are renumbered 1..N in order of first citation, and each one's ``quote`` is the
sentence of its retrieved text that best supports the sentence that first cites it, verbatim.

Before any call, the answerer weighs the evidence as the extractive answerer does: under the decline
threshold it declines without asking the LLM, so a generated answer declines at least as often as a
quoted one when the sources are silent.

:class:`LLMCondenser` rewrites follow-ups with the LLM (``prompts/condense_followup.md``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from llama_index.core.schema import MetadataMode, NodeWithScore

from assistant.answer import Source, Turn, Verification, source_details
from assistant.answering.citations import cited_sentences, normalise, supports
from assistant.understanding.condense import KeywordCondenser
from assistant.answering.extractive import DECLINE_TEXT, ExtractiveAnswerer, Judgement, ScoredSentence
from assistant.understanding.question import flat_idf
from assistant.answering.injection import without_instructions
from assistant.answering.llm import LLMError, complete_chat, stream_chat
from assistant.answering.prompts import ACROSS_PROMPT, ANSWER_PROMPT, CONDENSE_PROMPT, FACTS_PROMPT, VERDICT_PROMPT, Prompt, fence, load_prompt
from assistant.text import sentence_spans, terms

# Rough characters per token, to keep the prompt inside the model's context window.
_CHARS_PER_TOKEN = 4


@dataclass
class Candidate:
    """One numbered source of the prompt: an article and its retrieved chunks, in context order."""

    n: int
    hit: NodeWithScore  # the article's best-ranked chunk
    texts: list[str] = field(default_factory=list)
    quote: str = ""  # shown before generation (the sources event): the best sentence for the question

    @property
    def article_id(self) -> str:
        return self.hit.node.metadata.get("article_id", self.hit.node.node_id)

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def source(self, n: int | None = None, quote: str | None = None) -> Source:
        meta = self.hit.node.metadata
        return Source(
            n=self.n if n is None else n,
            article_id=self.article_id,
            title=meta.get("title", ""),
            url=meta.get("url", ""),
            published_at=meta.get("published_at", ""),
            **source_details(meta),
            quote=self.quote if quote is None else quote,
        )


def number_sources(hits: Sequence[NodeWithScore], scored: Sequence[ScoredSentence] = (), max_chars: int | None = None) -> list[Candidate]:
    """The context's articles numbered 1..K in retrieval order, each with its chunks' texts.

    ``scored`` (the extractive scorer's sentences) gives each source's preview quote; ``max_chars``
    caps the total text (later chunks are left out when the context window is small)."""
    candidates: dict[str, Candidate] = {}
    used = 0
    for hit in hits:
        # Sentences that address the assistant ("ignore your instructions ...") are neither shown to the
        # model nor able to support what it writes (assistant.answering.injection).
        text = without_instructions(hit.node.get_content(metadata_mode=MetadataMode.NONE)).strip()
        if not text:
            continue
        if max_chars is not None and used + len(text) > max_chars and candidates:
            break
        used += len(text)
        article_id = hit.node.metadata.get("article_id", hit.node.node_id)
        candidate = candidates.get(article_id)
        if candidate is None:
            candidate = candidates[article_id] = Candidate(n=len(candidates) + 1, hit=hit)
        candidate.texts.append(text)
    for candidate in candidates.values():
        best = next((s.text for s in scored if _article_of(s.hit) == candidate.article_id), None)
        if best is None:
            spans = sentence_spans(candidate.texts[0])
            best = candidate.texts[0][spans[0][0] : spans[0][1]].strip() if spans else candidate.texts[0][:200]
        candidate.quote = best
    return list(candidates.values())


def _article_of(hit: NodeWithScore) -> str:
    return hit.node.metadata.get("article_id", hit.node.node_id)


def _header_text(value) -> str:
    """A metadata value (title, outlet) for a source's header, which sits outside the fence, made
    harmless: one line (its line breaks must not add lines, a forged "Source [9]:" among them), no
    citation markers, nothing said to the assistant."""
    text = without_instructions(" ".join(str(value or "").split()))
    return " ".join(re.sub(r"\[\s*\d+\s*\]", " ", text).split())


def render_sources(candidates: Sequence[Candidate]) -> str:
    """The numbered sources as the prompt shows them: a header line, then the text fenced as data."""
    blocks = []
    for c in candidates:
        meta = c.hit.node.metadata
        title = _header_text(meta.get("title")) or "untitled"
        header = f"Source [{c.n}]: {title}"
        outlet = _header_text(meta.get("source"))
        if outlet:
            header += f" — {outlet}"  # questions name outlets ("the TechCrunch article")
        if meta.get("published_at"):
            header += f" (published {meta['published_at']})"
        blocks.append(f"{header}\n{fence(c.text)}")
    return "\n\n".join(blocks)


def render_facts(candidates: Sequence[Candidate], scored: Sequence[ScoredSentence], limit: int = 6) -> str:
    """The best-matching sentences for the question (the extractive scorer's), one a line, each ending
    with its source's ``[n]``, fenced as data: the compact context for small models."""
    number = {c.article_id: c.n for c in candidates}
    lines = [f"- {s.text} [{number[_article_of(s.hit)]}]" for s in scored if _article_of(s.hit) in number][:limit]
    if not lines:  # nothing scored: each source's opening sentence
        lines = [f"- {c.quote} [{c.n}]" for c in candidates]
    return fence("\n".join(lines))


# --- verification ------------------------------------------------------------------------------------
@dataclass
class Verified:
    """A generated reply after verification: the answer text (empty when nothing survived), its
    renumbered sources and what was removed."""

    text: str
    sources: list[Source]
    dropped_citations: int = 0
    removed_sentences: int = 0
    recited_sentences: int = 0

    @property
    def declined(self) -> bool:
        return not self.text

    @property
    def verification(self) -> Verification:
        return Verification(
            dropped_citations=self.dropped_citations,
            removed_sentences=self.removed_sentences,
            recited_sentences=self.recited_sentences,
        )


_CITE_LIST = re.compile(r"\[\s*(?:sources?\s*)?(\d+(?:\s*(?:,|and)\s*(?:sources?\s*)?\d+)*)\s*\]", re.I)
_MARKS_THEN_PUNCT = re.compile(r"((?:\s*\[\d+\])+)\s*([.!?;:,]+)")
_LEAD = re.compile(r"^\s*(?:answer|response)\s*:\s*", re.I)


def normalise_citations(reply: str) -> str:
    """Models' citation habits in the one form ``cited_sentences`` reads: "[1, 2]" and "[Source 1]"
    become "[1][2]" and "[1]"; a full stop after the markers moves before them ("x [1]." -> "x. [1]")."""
    reply = _LEAD.sub("", reply.strip())
    reply = _CITE_LIST.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), reply)
    return _MARKS_THEN_PUNCT.sub(lambda m: m.group(2) + m.group(1), reply)


def best_quote(sentence: str, texts: Sequence[str]) -> str:
    """The sentence of ``texts`` that best supports ``sentence`` (most of its content words; the
    shorter on a tie), verbatim."""
    target = set(terms(sentence))
    best, best_key = "", None
    for text in texts:
        for start, end in sentence_spans(text):
            candidate = text[start:end].strip()
            if not candidate:
                continue
            if normalise(candidate) == normalise(sentence):
                return candidate
            key = (len(target & set(terms(candidate))), -len(candidate))
            if best_key is None or key > best_key:
                best, best_key = candidate, key
    return best


def verify(reply: str, candidates: Sequence[Candidate], question: str | None = None) -> Verified:
    """Keep the sentences of ``reply`` that a cited source supports, with only those citations.

    A stretch of several sentences before one run of markers is checked sentence by sentence against
    those markers. Citations are deduplicated per stretch; a dropped citation is one naming no source
    or a source that supports none of the stretch's sentences. With ``question``, a sentence must also
    be about it: it, or the source sentence that best supports it, shares a word with the question
    (a supported sentence about something else answers nothing)."""
    by_n = {c.n: c for c in candidates}
    asked = set(terms(question)) if question else None

    def supported(sentence: str, n: int) -> bool:
        if n not in by_n or not supports(sentence, by_n[n].text, given=question or ""):
            return False
        if asked is None or asked & set(terms(sentence)):
            return True
        return bool(asked & set(terms(best_quote(sentence, by_n[n].texts))))

    kept: list[tuple[str, list[int]]] = []
    dropped = removed = recited = 0
    for stretch, numbers in cited_sentences(normalise_citations(reply)):
        numbers = list(dict.fromkeys(numbers))
        used: set[int] = set()
        for sentence in _sentences(stretch):
            valid = [n for n in numbers if supported(sentence, n)]
            if not valid and numbers:
                # Small models often cite the wrong number for a sentence they copied from another
                # source: it goes to the first source that does support it (the wrong [n] counts as
                # dropped). A sentence no source supports is still removed.
                valid = [c.n for c in candidates if supported(sentence, c.n)][:1]
                recited += bool(valid)
            if valid:
                kept.append((sentence, valid))
                used.update(valid)
            else:
                removed += 1
        dropped += len([n for n in numbers if n not in used])

    renumber: dict[int, int] = {}
    sources: list[Source] = []
    parts: list[str] = []
    for sentence, numbers in kept:
        for n in numbers:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                candidate = by_n[n]
                sources.append(candidate.source(n=renumber[n], quote=best_quote(sentence, candidate.texts)))
        parts.append(sentence + " " + "".join(f"[{renumber[n]}]" for n in numbers))
    return Verified(
        text=" ".join(parts), sources=sources, dropped_citations=dropped, removed_sentences=removed, recited_sentences=recited
    )


def _sentences(stretch: str) -> list[str]:
    spans = sentence_spans(stretch)
    pieces = [stretch[s:e].strip() for s, e in spans]
    return [p for p in pieces if p] or [stretch.strip()]


# --- the answerer ------------------------------------------------------------------------------------
@dataclass
class Plan:
    """What the answerer decided before calling the LLM."""

    question: str
    hits: list
    scored: list[ScoredSentence]
    evidence: float
    candidates: list[Candidate]
    messages: list
    declined: bool  # the evidence is under the threshold: decline without asking the LLM

    @property
    def candidate_sources(self) -> list[Source]:
        return [c.source() for c in self.candidates]


@dataclass
class Generated:
    text: str
    sources: list[Source]
    declined: bool
    evidence: float
    verification: Verification
    reply: str = ""  # the model's reply before verification ("" when the LLM was not asked)


class GenerativeAnswerer:
    """Answers with an LLM, then verifies every citation (see the module docstring)."""

    def __init__(
        self,
        llm,
        model: str,
        extractive: ExtractiveAnswerer,
        *,
        prompt: Prompt | None = None,
        context: str = "chunks",
        max_facts: int = 6,
        context_window: int = 4096,
        max_tokens: int = 256,
        lock=None,
    ):
        if context not in ("chunks", "sentences"):
            raise ValueError(f"context must be 'chunks' or 'sentences', got {context!r}")
        self.llm = llm
        self.model = model
        self.extractive = extractive  # scores the evidence and picks the closest sources of a decline
        # What the model reads: the retrieved chunks, or only their best-matching sentences.
        self.context = context
        self.max_facts = max_facts
        self.prompt = prompt or load_prompt(FACTS_PROMPT if context == "sentences" else ANSWER_PROMPT)
        # A question across articles reads whole chunks, each headed by its outlet and date.
        self.across_prompt = load_prompt(ACROSS_PROMPT)
        self.context_window = context_window
        self.max_tokens = max_tokens
        self.lock = lock  # serialises an LLM that is not thread-safe

    @property
    def generator(self) -> str:
        return f"llm:{self.model}"

    def prepare(
        self,
        question: str,
        hits: list[NodeWithScore],
        idf: Callable[[str], float] = flat_idf,
        judgement: Judgement | None = None,
        across: bool = False,
    ) -> Plan:
        """The prompt for ``question`` over ``hits``, from the answerability judgement (made here
        when not given): a plan to decline without asking the LLM when the evidence is too weak.
        ``across``: the question spans articles (assistant.understanding.parts): the prompt for comparing them."""
        if judgement is None:
            judgement = self.extractive.judge(question, hits, idf)
        scored = judgement.scored
        prompt = self.across_prompt if across else self.prompt
        overhead = len(prompt.system) + len(prompt.user) + len(question) + 200
        budget = (self.context_window - self.max_tokens) * _CHARS_PER_TOKEN - overhead
        # The chunk holding the judge's most answerable sentence is shown first, as source [1]: small
        # models lean on what they read first, and the rest keep their retrieval order.
        # (Across articles, the hits already lead with each part's best chunk: their order stands.)
        lead = None if across else judgement.most_answerable()
        ordered = ([lead.hit] + [h for h in hits if h is not lead.hit]) if lead is not None and any(h is lead.hit for h in hits) else list(hits)
        candidates = number_sources(ordered, scored, max_chars=max(budget, 1000))
        if self.context == "sentences" and not across:
            rendered = render_facts(candidates, scored, self.max_facts)
        else:
            rendered = render_sources(candidates)
        messages = prompt.messages(sources=rendered, question=question)
        declined = not hits or judgement.declined
        return Plan(question, list(hits), scored, judgement.evidence, candidates, messages, declined)

    def decline(self, plan: Plan, verification: Verification | None = None, reply: str = "") -> Generated:
        sources = self.extractive.closest_sources(plan.scored, plan.hits)
        return Generated(DECLINE_TEXT, sources, True, plan.evidence, verification or Verification(), reply)

    def stream(self, plan: Plan, deadline: float) -> Iterator[str]:
        """The model's reply as text deltas (raises :class:`LLMError` on failure or past ``deadline``)."""
        return stream_chat(self.llm, plan.messages, deadline, self.lock)

    def finish(self, plan: Plan, reply: str) -> Generated:
        verified = verify(reply, plan.candidates, plan.question)
        if verified.declined:
            return self.decline(plan, verified.verification, reply)
        return Generated(verified.text, verified.sources, False, plan.evidence, verified.verification, reply)

    def answer(
        self, question: str, hits: list[NodeWithScore], idf: Callable[[str], float] = flat_idf, deadline: float | None = None
    ) -> Generated:
        """Plan, generate and verify in one call (raises :class:`LLMError` when the LLM fails)."""
        plan = self.prepare(question, hits, idf)
        if plan.declined:
            return self.decline(plan)
        deadline = deadline if deadline is not None else time.monotonic() + 30.0
        return self.finish(plan, "".join(self.stream(plan, deadline)))


# --- verdicts across articles ----------------------------------------------------------------------
class LLMVerdict:
    """"Yes" or "No" for a question comparing articles, judged by the LLM from the one quoted sentence
    of each article that the answer cites, so the verdict rests on what the reader sees cited.

    (A small model asked to write the whole comparison mostly paraphrased: verification removed its
    sentences, and its verdict with them. Here the sentences are the quoted answer's, verbatim.)"""

    def __init__(self, llm, *, prompt: Prompt | None = None, lock=None):
        self.llm = llm
        self.prompt = prompt or load_prompt(VERDICT_PROMPT)
        self.lock = lock

    def messages(self, question: str, excerpts: Sequence[str]) -> list:
        return self.prompt.messages(excerpts=fence("\n".join(" ".join(e.split()) for e in excerpts)), question=question)

    def judge(self, question: str, excerpts: Sequence[str], deadline: float) -> str | None:
        """"Yes", "No", or None when the model finds the excerpts unclear or replies otherwise (raises
        :class:`LLMError` when the LLM fails)."""
        return self.parse(complete_chat(self.llm, self.messages(question, excerpts), deadline, self.lock))

    @staticmethod
    def parse(reply: str) -> str | None:
        first = re.match(r"\W*([A-Za-z]+)", reply)
        word = first.group(1).lower() if first else ""
        return {"yes": "Yes", "no": "No"}.get(word)


# --- follow-ups ----------------------------------------------------------------------------------------
class LLMCondenser:
    """Rewrites a follow-up into a standalone question with the LLM.

    ``condense`` keeps the :class:`~assistant.understanding.condense.Condenser` protocol and falls back to the keyword
    condenser when the LLM fails; the engine calls :meth:`condense_or_raise` to learn of the failure."""

    def __init__(self, llm, *, prompt: Prompt | None = None, fallback=None, timeout_s: float = 30.0, lock=None,
                 max_history_turns: int = 6):
        self.llm = llm
        self.prompt = prompt or load_prompt(CONDENSE_PROMPT)
        self.fallback = fallback or KeywordCondenser()
        self.timeout_s = timeout_s
        self.lock = lock
        self.max_history_turns = max_history_turns

    def messages(self, question: str, history: Sequence[Turn]) -> list:
        turns = [t for t in history if t.content.strip()][-self.max_history_turns :]
        lines = "\n".join(f"{t.role}: {' '.join(t.content.split())}" for t in turns)
        return self.prompt.messages(history=fence(lines), question=question)

    def condense_or_raise(self, question: str, history: Sequence[Turn], deadline: float | None = None) -> str:
        if not any(t.role == "user" and t.content.strip() for t in history):
            return question  # nothing to follow up on: no LLM call
        deadline = deadline if deadline is not None else time.monotonic() + self.timeout_s
        reply = complete_chat(self.llm, self.messages(question, history), deadline, self.lock)
        return self.clean(reply, question)

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        try:
            return self.condense_or_raise(question, history)
        except LLMError:
            return self.fallback.condense(question, history)

    @staticmethod
    def clean(reply: str, question: str) -> str:
        """The rewritten question from the model's reply: its first non-empty line, without a label or
        quotes; the original question when the reply is empty or implausibly long."""
        for line in reply.strip().splitlines():
            line = re.sub(r"^\s*(?:standalone question|rewritten question|question)\s*:\s*", "", line, flags=re.I)
            line = re.sub(r"\s*\[\d+\]", "", line)  # a citation habit, not part of a question
            line = line.strip().strip("\"'“”`").strip()
            if line:
                if len(line) > 3 * len(question) + 200:
                    return question
                return line
        return question
