"""Runs an evaluation set through the engine and turns each question into one scored row.

The engine sees only what a user would type: the question and the conversation history. Ids, gold
answers, gold sources and the answerable flag stay here, for scoring.

An item may instead name a ``ref``: the id of a question in another set (``--refs``), whose gold
answers, gold sources, answerable flag and unanswerable kind it takes. A follow-up set is built that
way: each conversation's last turn asks for what its ref asks, in context; ``standalone=True`` asks
the ref's own question with no history instead, so the two runs compare the same questions.

An item may name its ``kind`` (amount, who, yesno, summary, chitchat, ...: reader sets do) and, for a
summary, its ``key_facts``; the kind picks how the answer is scored (``eval.metrics.row_correct``).

A multi-article set (multihop-dev) gives each item a ``question_type`` ("inference", "comparison",
"temporal", "null"), reported per type, and ``gold_facts`` (``[{"id": article id, "fact": evidence
sentence}]``), which score the fused chunks: a chunk is relevant when it holds a gold fact.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from eval.metrics import CONTEXT_K, MRR_K, citation_counts, contains_answer, first_fact_rank, key_fact_coverage, row_correct

BASELINE_MODES = ("bm25", "dense")
EVIDENCE_SENTENCES = 3  # as ExtractiveAnswerer.evidence_sentences: the evidence is the best of these
_MAX_COLLECTION = 63 - len("__articles")  # the store adds a manifest collection "<name>__articles"


class SetFormatError(ValueError):
    """A malformed evaluation set: the message names the file and the line."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    answers: list[str]
    gold_sources: list[str]
    answerable: bool
    history: list[dict] = field(default_factory=list)
    unanswerable_kind: str | None = None  # why an unanswerable question is so ("absent", "incidental", ...)
    ref: str | None = None  # the id of the refs-file question this item takes its gold from
    kind: str | None = None  # what the question asks for ("yesno", "summary", "chitchat", ...): how it is scored
    key_facts: list[list[str]] = field(default_factory=list)  # a summary's facts, each a list of alternatives
    question_type: str | None = None  # a multi-article set's type ("inference", "comparison", "temporal", "null")
    gold_facts: list[dict] = field(default_factory=list)  # [{"id": article id, "fact": evidence sentence}]


# --- the set file ------------------------------------------------------------------------------------
def _str_list(obj: dict, key: str, where: str) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SetFormatError(f"{where}: '{key}' must be a list of strings")
    return value


_FROM_REF = ("answers", "gold_sources", "answerable", "unanswerable_kind", "key_facts", "question_type", "gold_facts")


def _optional_str(obj: dict, key: str, where: str) -> str | None:
    """``obj[key]`` when it is a non-empty string, None when absent or null; anything else is an error."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SetFormatError(f"{where}: '{key}' must be a non-empty string")
    return value


def _key_facts(obj: dict, where: str) -> list[list[str]]:
    """``obj["key_facts"]``: a list of facts, each a non-empty list of alternative strings (an empty
    fact could never be covered); [] when absent."""
    facts = obj.get("key_facts") or []
    if not isinstance(facts, list) or not all(
        isinstance(fact, list) and fact and all(isinstance(alt, str) for alt in fact) for fact in facts
    ):
        raise SetFormatError(f"{where}: 'key_facts' must be a list of facts, each a non-empty list of alternative strings")
    return facts


def _gold_facts(obj: dict, where: str) -> list[dict]:
    """``obj["gold_facts"]``: a list of ``{"id": article id, "fact": non-empty text}`` (other keys
    dropped; the id may be missing or null); [] when absent."""
    facts = obj.get("gold_facts") or []
    if not isinstance(facts, list) or not all(
        isinstance(fact, dict) and isinstance(fact.get("fact"), str) and fact["fact"].strip()
        and isinstance(fact.get("id"), (str, type(None)))
        for fact in facts
    ):
        raise SetFormatError(f"{where}: 'gold_facts' must be a list of {{\"id\": article id, \"fact\": text}} objects")
    return [{"id": fact.get("id"), "fact": fact["fact"]} for fact in facts]


def _history(obj: dict, where: str) -> list[dict]:
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise SetFormatError(f"{where}: 'history' must be a list of {{role, content}} objects")
    for i, turn in enumerate(history, start=1):
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise SetFormatError(f"{where}: history turn {i} must be {{\"role\": \"user\"|\"assistant\", \"content\": str}}")
    return [{"role": t["role"], "content": t["content"]} for t in history]


def parse_item(
    obj,
    where: str,
    refs: dict[str, EvalItem] | None = None,
    refs_name: str | None = None,
    standalone: bool = False,
) -> EvalItem:
    """One set line as an :class:`EvalItem`; ``where`` (``path:line``) prefixes every error.

    An item with ``ref`` takes answers, gold sources, answerable, unanswerable kind and key facts from
    ``refs[ref]`` (the questions of the file ``refs_name``), and its question type and gold facts,
    and may not state them itself; with
    ``standalone`` it asks the ref's question with no history instead of its own conversation. Its
    ``kind`` is its own when it states one (a follow-up is asked as one), else the ref's.
    """
    if not isinstance(obj, dict):
        raise SetFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    for key in ("id", "question"):
        if key not in obj:
            raise SetFormatError(f"{where}: missing '{key}'")
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise SetFormatError(f"{where}: '{key}' must be a non-empty string")
    ref_id = _optional_str(obj, "ref", where)
    kind = _optional_str(obj, "kind", where)
    if ref_id is not None:
        if refs is None:
            raise SetFormatError(f"{where}: 'ref' {ref_id!r} needs a refs file (--refs REFS.jsonl) to take its gold answers from")
        stated = [key for key in _FROM_REF if key in obj]
        if stated:
            raise SetFormatError(f"{where}: '{stated[0]}' comes from the ref {ref_id!r}; an item with 'ref' may not state it")
        target = refs.get(ref_id)
        if target is None:
            raise SetFormatError(f"{where}: unknown ref {ref_id!r} (no question with that id in {refs_name or 'the refs file'})")
        history = _history(obj, where)
        return EvalItem(
            id=obj["id"],
            question=target.question if standalone else obj["question"],
            answers=list(target.answers),
            gold_sources=list(target.gold_sources),
            answerable=target.answerable,
            history=[] if standalone else history,
            unanswerable_kind=target.unanswerable_kind,
            ref=ref_id,
            kind=kind or target.kind,
            key_facts=list(target.key_facts),
            question_type=target.question_type,
            gold_facts=list(target.gold_facts),
        )
    if "answerable" not in obj:
        raise SetFormatError(f"{where}: missing 'answerable'")
    if not isinstance(obj["answerable"], bool):
        raise SetFormatError(f"{where}: 'answerable' must be true or false")
    answers = _str_list(obj, "answers", where)
    gold_sources = _str_list(obj, "gold_sources", where)
    history = _history(obj, where)
    return EvalItem(
        id=obj["id"],
        question=obj["question"],
        answers=answers,
        gold_sources=gold_sources,
        answerable=obj["answerable"],
        history=history,
        unanswerable_kind=_optional_str(obj, "unanswerable_kind", where),
        kind=kind,
        key_facts=_key_facts(obj, where),
        question_type=_optional_str(obj, "question_type", where),
        gold_facts=_gold_facts(obj, where),
    )


def _set_lines(path: Path):
    """(line number, ``path:line``, parsed JSON) of each non-blank line; raises :class:`SetFormatError`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SetFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SetFormatError(f"{path}: is a folder, not a JSONL file") from None
    except UnicodeDecodeError as exc:
        raise SetFormatError(f"{path}: not UTF-8 text ({exc.reason})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SetFormatError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        yield number, where, obj


def load_set(path: str | Path, refs: str | Path | None = None, standalone: bool = False) -> list[EvalItem]:
    """The questions of a JSONL set; raises :class:`SetFormatError` naming ``path:line`` on a bad line.

    ``refs``: a set whose questions items with ``ref`` take their gold from (see :func:`parse_item`);
    ``standalone``: such items ask their ref's question alone.
    """
    path = Path(path)
    ref_items = None
    if refs is not None:
        ref_items = {item.id: item for item in load_set(refs)}
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for number, where, obj in _set_lines(path):
        item = parse_item(obj, where, ref_items, str(refs) if refs is not None else None, standalone)
        if item.id in seen:
            raise SetFormatError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise SetFormatError(f"{path}: no questions in the set")
    return items


# --- the corpus --------------------------------------------------------------------------------------
def corpus_collection_name(corpus: str | Path) -> str:
    """A Chroma collection name of the corpus's own: ``eval-<parent folder>-<stem>``, slugified.

    Chroma wants 3-63 characters of ``[a-zA-Z0-9._-]`` starting and ending alphanumeric; the store adds
    ``__articles`` for the manifest, so names stay within 53. A long name is cut and given a short hash
    of the full path so that two long corpora don't share a collection.
    """
    resolved = Path(corpus).resolve()
    raw = f"eval-{resolved.parent.name}-{resolved.stem}"
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-zA-Z0-9-]+", "-", raw)).strip("-_.")
    if len(slug) > _MAX_COLLECTION:
        digest = hashlib.sha1(str(resolved).encode("utf-8")).hexdigest()[:8]
        slug = slug[: _MAX_COLLECTION - 9].rstrip("-") + "-" + digest
    return slug if len(slug) >= 3 else f"eval-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


@dataclass
class EvalSetup:
    engine: object
    store: object
    collection: str
    ingest: dict | None = None  # the ingest summary when a corpus was ingested
    ingest_line: str = ""


def open_engine(settings, corpus: str | Path | None = None, progress=None, embed_model=None) -> EvalSetup:
    """The engine to evaluate. With ``corpus``: ingest it (idempotently) into a collection of its own
    in the same data dir, then build the engine over that collection, sharing one embedder.

    ``embed_model``: an embedder already loaded (by the engine of another set), so that evaluating
    several sets loads the model once; default: one built from the settings."""
    from assistant.engine import Engine

    if corpus is None:
        engine = Engine(settings, embed_model=embed_model)
        return EvalSetup(engine=engine, store=engine.store, collection=settings.collection)

    from ingest.pipeline import Ingester

    corpus = Path(corpus)
    if not corpus.exists():
        raise FileNotFoundError(2, "no such file or folder", str(corpus))
    name = corpus_collection_name(corpus)
    corpus_settings = settings.model_copy(update={"collection": name})
    ingester = Ingester.open(corpus_settings, embed_model)
    # prune: the collection mirrors the corpus, so articles since removed from it go too.
    summary = ingester.ingest_paths([corpus], prune=True, progress=progress)
    engine = Engine(corpus_settings, ingester.store, ingester.embed_model)
    return EvalSetup(engine=engine, store=ingester.store, collection=name, ingest=summary.as_dict(), ingest_line=summary.line())


# --- running the questions ---------------------------------------------------------------------------
class SourceTexts:
    """``store.article_text`` with a cache: an article is fetched once per evaluation."""

    def __init__(self, store):
        self.store = store
        self.cache: dict[str, str] = {}

    def __call__(self, article_id: str) -> str:
        if article_id not in self.cache:
            self.cache[article_id] = self.store.article_text(article_id)
        return self.cache[article_id]

    def title(self, article_id: str) -> str | None:
        """The stored article's title ("" when it has none), or None when the store lacks the article."""
        record = self.store.get_record(article_id)
        return None if record is None else record.title


def chunk_rank(item: EvalItem, hits) -> int | None:
    """The 1-based rank of the first of ``hits`` (NodeWithScore, best first) among the first 10
    whose text holds one of ``item``'s gold facts, whitespace ignored; None when none does."""
    texts = [hit.node.get_content() for hit in hits[:MRR_K]]
    return first_fact_rank(texts, [fact["fact"] for fact in item.gold_facts])


def scored_on_chunks(item: EvalItem) -> bool:
    """Whether the item's retrieved chunks are scored: answerable, with gold facts."""
    return item.answerable and bool(item.gold_facts)


def score_trace(item: EvalItem, trace, latency_ms: float, source_text: SourceTexts) -> dict:
    """One report row: what the engine did with ``item`` and how it scores. An answerable item with
    gold facts also gets ``chunk_rank`` (:func:`chunk_rank` of the trace's fused hits); the facts
    themselves stay out of the row."""
    answer = trace.answer
    sources = [s.model_dump() for s in answer.sources]
    # A reply to small talk ("thanks") cites nothing and answers nothing: scored as a decline. Engines
    # from before Answer.conversational have no such replies.
    conversational = getattr(answer, "conversational", False)
    declined = answer.declined or conversational
    titles: dict[str, str] = {}
    for hit in trace.hits:
        meta = hit.node.metadata
        titles.setdefault(meta.get("article_id", hit.node.node_id), meta.get("title", ""))
    if item.answerable and item.answers:
        context = [hit.node.get_content() for hit in trace.context[:CONTEXT_K]]
        in_context = any(contains_answer(text, item.answers) for text in context)
        # Which retrieved articles hold a gold answer anywhere: a gold list that names only some of
        # them (as one built from a web search's results does) shows up as answer-bearing misses.
        answer_bearing = [contains_answer(source_text(a), item.answers) for a in answer.retrieved[:10]]
    else:
        in_context = None
        answer_bearing = None
    if declined:
        citations = {"cited": 0, "supported": 0, "sentences": 0, "sentences_supported": 0}
    else:
        citations = citation_counts(answer.answer, sources, source_text, answer.standalone_question)
    row = {
        "id": item.id,
        "ref": item.ref,
        "question": item.question,
        "history": item.history,
        "standalone_question": answer.standalone_question,
        "answerable": item.answerable,
        "unanswerable_kind": item.unanswerable_kind,
        "answers": item.answers,
        "gold_sources": item.gold_sources,
        "gold_titles": [source_text.title(a) for a in item.gold_sources],
        "retrieved": answer.retrieved[:10],
        "retrieved_titles": [titles.get(article_id, "") for article_id in answer.retrieved[:10]],
        "answer": answer.answer,
        "declined": answer.declined,
        "conversational": conversational,
        "sources": sources,
        "answer_in_context": in_context,
        "answer_bearing": answer_bearing,
        "evidence": trace.evidence,
        # The features of the sentences the evidence is read from, to refit the answerability model on
        # (bench/fit_answerability.py).
        "candidates": _candidates(trace),
        "latency_ms": round(latency_ms, 2),
        "timings_ms": dict(answer.timings_ms),
        "generator": answer.generator,
        "fallback_reason": answer.fallback_reason,
        "verification": answer.verification.model_dump(),
        "kind": item.kind,
        "question_type": item.question_type,
        "key_facts": item.key_facts,
        "key_fact_coverage": key_fact_coverage(answer.answer, item.key_facts, declined),
        "correct": row_correct(item.answerable, item.answers, answer.answer, declined,
                               kind=item.kind, key_facts=item.key_facts, sources=sources),
        "citations": citations,
    }
    if scored_on_chunks(item):
        row["chunk_rank"] = chunk_rank(item, trace.hits)
    return row


def _candidates(trace) -> list[dict]:
    judgement = getattr(trace, "judgement", None)
    if judgement is None:
        return []
    return [
        {"coverage": s.coverage, "dense": s.dense, "match": s.match, "age_days": s.age_days, "fit": s.fit}
        for s in judgement.scored[:EVIDENCE_SENTENCES]
    ]


def evaluate(
    engine,
    store,
    items: Sequence[EvalItem],
    *,
    top_k: int | None = None,
    compare: Sequence[str] = (),
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run every item through ``engine.run`` (question and history only) and score it.

    With ``compare``, answerable questions are also retrieved with each single retriever (on the hybrid
    run's standalone question); the rankings go to ``row["baselines"][mode]``, whether their first
    ``CONTEXT_K`` chunks hold a gold answer to ``row["baselines_in_context"][mode]``, and for items
    with gold facts the rank of their first chunk holding one to ``row["baselines_chunk_rank"][mode]``.
    """
    from assistant.retrieval.hybrid import article_ranking

    texts = SourceTexts(store)
    rows: list[dict] = []
    for item in items:
        started = time.perf_counter()
        trace = engine.run(item.question, item.history, top_k=top_k)
        latency_ms = (time.perf_counter() - started) * 1000
        row = score_trace(item, trace, latency_ms, texts)
        if compare:
            row["baselines"], row["baselines_in_context"] = {}, {}
            if scored_on_chunks(item):
                row["baselines_chunk_rank"] = {}
            for mode in compare:
                hits = engine.retrieve(row["standalone_question"], mode) if item.answerable else []
                row["baselines"][mode] = article_ranking(hits, 10)
                if row["answer_in_context"] is not None:
                    # Whether this retriever alone would have put a gold answer before the answerer.
                    top = [hit.node.get_content() for hit in hits[:CONTEXT_K]]
                    row["baselines_in_context"][mode] = any(contains_answer(text, item.answers) for text in top)
                if scored_on_chunks(item):
                    row["baselines_chunk_rank"][mode] = chunk_rank(item, hits)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows
