"""Questions that span articles: one retrieval and one judgement per part, one answer over all parts.

A question whose parts are outlets and dates (:mod:`assistant.understanding.parts`) is searched once per part, each
search narrowed to the part's outlet and date, so every named report can be found however little the
others' words match it. The answerer's context takes every part's best chunk before any part gets a
second. Each part is judged on its own chunks; when one finds nothing that answers it, the question is
declined, and the decline names the part.

Without an LLM there is no verdict to give for "Does A say ... while B says ...?": the answer states
what each part's article says, one cited sentence each, labelled by outlet and date. A question for a
name ("Who is the person that ... as reported by Fortune and TechCrunch?") is answered by the name that
the parts' best sentences share, with a sentence from each part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from concurrent.futures import Executor
from typing import Callable

from llama_index.core.schema import MetadataMode

from assistant.answer import SearchFilters, Source
from assistant.understanding.answer_types import candidates
from assistant.answering.citations import without_markers
from assistant.answering.extractive import Draft, ExtractiveAnswerer, Judgement, ScoredSentence, source_for, dated_label
from assistant.understanding.outlets import OutletDirectory, unknown_outlets
from assistant.understanding.parts import WIDE_MARGIN, Part, QuestionParts
from assistant.text import split_sentences

# Chunks of each part handed to its judge (the part's first chunks: its filter leaves few), and how
# many of their best sentences the judge embeds (the embedder is most of a judgement's time).
PART_CONTEXT = 3
PART_EMBEDDED = 3
# A part is answered when its best sentence reaches this share of the decline threshold: a part is one
# clause of a long question, and its outlet and date already narrow its search to few articles.
# (Swept on one half of multihop-dev, checked on the other: at 0.2 false declines 0.080 / 0.076 and
# null questions declined 0.98 / 0.96; at 1.0, the single-question bar, false declines 0.43 / 0.51.)
PART_GATE = 0.2
# A part's sentences searched for the shared name, and the share of parts it must be found in.
NAME_SENTENCES = 8
# Between the parts' sentences of a composed answer.
PART_SEPARATOR = " · "
# "Who/Which/What ... ?": a question for a name; the rest ("Does ...", "Between ..., was ...") for a comparison.
_ASKS_NAME = re.compile(r"^\W*(?:who|whom|whose|which|what)\b", re.I)


@dataclass
class PartResult:
    part: Part
    hits: list  # the part's fused hits, best first
    judgement: Judgement | None = None


@dataclass
class MultiPart:
    plan: QuestionParts
    results: list[PartResult] = field(default_factory=list)
    bar: float = 0.0  # the evidence a part needs (PART_GATE x the decline threshold)

    @property
    def missing(self) -> list[PartResult]:
        """The parts no source answers."""
        return [r for r in self.results if r.judgement is None or not r.judgement.scored or r.judgement.evidence < self.bar]


def retrieve_parts(
    plan: QuestionParts, retrieve: Callable[..., list], filters: SearchFilters | None, executor: Executor | None = None
) -> MultiPart:
    """Each part's hits, searched by its own words among its outlet's articles of its date (give or
    take a week, when none was published then); the parts side by side on ``executor``."""

    def search(part: Part) -> PartResult:
        hits = retrieve(part.query, filters=part.filters(filters))
        if not hits and part.date is not None:
            return PartResult(part, retrieve(part.query, filters=part.filters(filters, WIDE_MARGIN)))
        return PartResult(part, hits)

    if executor is None or len(plan.parts) < 2:
        return MultiPart(plan, [search(part) for part in plan.parts])
    return MultiPart(plan, list(executor.map(search, plan.parts)))


def covering(results: list[PartResult], rest: list, described: list[list] = (), named: tuple[str, ...] = ()) -> list:
    """Hits that cover every part: each part's best chunk first (the best of them leading), then the
    best chunk of each of ``described`` (the searches for a name question's clauses), then every other
    hit of the parts and of ``rest`` (the unnarrowed search) by fused score, the chunks of ``named``
    sources before the others; each chunk once.

    (Measured on both halves of multihop-dev, all gold articles in the top 10: taking the parts' hits
    in turns, 0.91 / 0.62 / 0.46 for comparisons / timelines / inference questions; by score with the
    unnarrowed search's hits among them, 0.92 / 0.84 / 0.49. The parts' best chunks by score rather than
    in the question's order: chunk MRR@10 0.597 -> 0.627 on half A, 0.578 -> 0.598 on half B.)"""
    leads = sorted((r.hits[0] for r in results if r.hits), key=lambda h: h.score, reverse=True)
    leads += [hits[0] for hits in described if hits]
    others = sorted([*(hit for r in results for hit in r.hits[1:]), *rest], key=lambda h: h.score, reverse=True)
    if named:
        others.sort(key=lambda h: h.node.metadata.get("source") not in named)  # stable: by score within each
    merged, seen = [], set()
    for hit in [*leads, *others]:
        if hit.node.node_id not in seen:
            seen.add(hit.node.node_id)
            merged.append(hit)
    return merged


def asks_verdict(plan: QuestionParts) -> bool:
    """Whether ``plan`` asks yes or no ("Does A say ... while B ...?", "Between ..., was ...?"), not for a name."""
    return not _ASKS_NAME.match(plan.question)


def part_excerpts(draft: Draft) -> list[str]:
    """The labelled sentences of a composed answer (:func:`compose`), one per part, without their marks."""
    return [without_markers(piece).strip() for piece in draft.text.split(PART_SEPARATOR)]


def describes_by_clauses(plan: QuestionParts) -> bool:
    """Whether ``plan`` asks for a name by several descriptions and no report date ("Which company,
    accused of ... according to The Age, and critiqued for ... by TechCrunch, ...?"): each clause
    describes one article, which a search of the whole question can rank below other stories."""
    return (bool(plan.parts) and all(p.date is None for p in plan.parts) and bool(_ASKS_NAME.match(plan.question))
            and len(plan.clauses) >= 2)


def search_clauses(plan: QuestionParts, retrieve: Callable[..., list], filters: SearchFilters | None) -> list[list]:
    """Each clause's hits among the named outlets' articles (:func:`describes_by_clauses`), one after
    another: keyword searches take a few milliseconds."""
    narrowed = (filters or SearchFilters()).model_copy(update={"sources": plan.named_sources or None})
    return [retrieve(clause, filters=narrowed) for clause in plan.clauses]


def judge_parts(found: MultiPart, judge: Callable[[Part, list], Judgement], threshold: float) -> None:
    found.bar = PART_GATE * threshold
    for result in found.results:
        if result.hits:
            result.judgement = judge(result.part, result.hits[:PART_CONTEXT])


def combined_judgement(question: str, found: MultiPart, hits: list) -> Judgement:
    """One judgement for the whole question: every part's sentences (best parts first), the weakest
    part's evidence, declined when any part is."""
    judged = [r.judgement for r in found.results if r.judgement is not None]
    scored = [s for j in judged for s in j.scored]
    scored.sort(key=lambda s: s.score, reverse=True)
    evidence = min((j.evidence for j in judged), default=0.0) if len(judged) == len(found.results) else 0.0
    asked = judged[0].asked if judged else None
    return Judgement(question, list(hits), scored, evidence, bool(found.missing), asked=asked)


def compose(answerer: ExtractiveAnswerer, found: MultiPart, judgement: Judgement) -> Draft:
    """The answer across parts: a decline naming the part nothing answers, the shared name with a
    sentence per part, or one labelled sentence per part."""
    if found.missing:
        return _decline(answerer, found, judgement)
    if _ASKS_NAME.match(found.plan.question):
        draft = _shared_name(found, judgement)
        if draft is not None:
            return draft
    sources: list[Source] = []
    pieces = []
    for result in found.results:
        lead = _lead(result.judgement)
        source = source_for(sources, lead.hit, lead.text)
        pieces.append(f"{_label(result.part, lead)}: {lead.text.strip()} [{source.n}]")
    return Draft(PART_SEPARATOR.join(pieces), sources, False, judgement.evidence)


def _lead(judgement: Judgement) -> ScoredSentence:
    return judgement.most_answerable() or judgement.scored[0]


def _label(part: Part, sentence: ScoredSentence) -> str:
    """The outlet the part names (else the article's) and the article's day."""
    return dated_label(sentence.hit, part.outlet.name if part.outlet is not None else None) or "An article"


def _decline(answerer: ExtractiveAnswerer, found: MultiPart, judgement: Judgement) -> Draft:
    reasons = []
    for result in found.missing:
        part = result.part
        where = part.outlet.name if part.outlet is not None else "the articles"
        when = f" published around {part.date.text}" if part.date is not None else ""
        if not result.hits:
            reasons.append(f"No article from {where}{when} is in the store.")
        else:
            topic = f" on “{_topic(part)}”" if part.own_words else ""
            reasons.append(f"The articles don't say what {where} reported{topic}{when}.")
    text = " ".join(dict.fromkeys(reasons))
    return Draft(text, answerer.closest_sources(judgement.scored, judgement.hits), True, judgement.evidence)


def _topic(part: Part, words: int = 12) -> str:
    pieces = part.query.split()
    return " ".join(pieces[:words]).rstrip(",;?.") + ("…" if len(pieces) > words else "")


def _shared_name(found: MultiPart, judgement: Judgement) -> Draft | None:
    """The name most parts' best sentences hold (not one the question says), with the best sentence
    holding it from each part; None when no name is held by more than one part."""
    asked = judgement.asked
    question_words = asked.words if asked is not None else set()
    atype = asked.atype if asked is not None else None
    held: dict[str, dict[int, ScoredSentence]] = {}
    for index, result in enumerate(found.results):
        for sentence in _sentences(result):
            for name in candidates(sentence.text, question_words, atype):
                best = held.setdefault(name, {}).get(index)
                if best is None or sentence.answerability > best.answerability:
                    held[name][index] = sentence
    # A surname and the full name are one person: the full name carries both counts.
    for name in list(held):
        for other in list(held):
            if other != name and other.endswith(" " + name):
                for index, sentence in held[name].items():
                    held[other].setdefault(index, sentence)
    ranked = sorted(
        held.items(),
        key=lambda item: (len(item[1]), sum(s.answerability for s in item[1].values()), len(item[0])),
        reverse=True,
    )
    if not ranked or len(ranked[0][1]) < 2:
        return None
    name, by_part = ranked[0]
    sources: list[Source] = []
    pieces = []
    for index, result in enumerate(found.results):
        sentence = by_part.get(index)
        if sentence is None:
            continue
        source = source_for(sources, sentence.hit, sentence.text)
        pieces.append(f"{_label(result.part, sentence)}: {sentence.text.strip()} [{source.n}]")
    shown = _as_written(name, [s.text for s in by_part.values()])
    # The name is a claim of its own, cited to every source whose sentence holds it.
    marks = "".join(f"[{n}]" for n in range(1, len(sources) + 1))
    return Draft(f"{shown} {marks} — " + PART_SEPARATOR.join(pieces), sources, False, judgement.evidence)


def _sentences(result: PartResult) -> list[ScoredSentence]:
    """Every sentence of the part's judged chunks: those the judge scored as scored, the rest (which
    share no word with the question, yet may name the person it describes) at no score."""
    scored = {s.text: s for s in result.judgement.scored}
    out = list(result.judgement.scored[:NAME_SENTENCES])
    for rank, hit in enumerate(result.hits[:PART_CONTEXT]):
        for sentence in split_sentences(hit.node.get_content(metadata_mode=MetadataMode.NONE)):
            if sentence not in scored:
                out.append(ScoredSentence(sentence, rank, hit, coverage=0.0, score=0.0))
    return out


def _as_written(name: str, texts: list[str]) -> str:
    """``name`` (lower-cased by the candidate finder) as the sentences write it."""
    for text in texts:
        at = text.lower().find(name)
        if at >= 0:
            return text[at : at + len(name)]
    return name.title()


def absent_outlets(question: str, directory: OutletDirectory, context: list) -> list[str]:
    """Publishers the question credits that the store holds nothing from, and that the retrieved text
    does not name either (a wire story carried by another outlet names its agency: "(Reuters)")."""
    named = unknown_outlets(question, directory)
    if not named:
        return []
    texts = " ".join(hit.node.get_content(metadata_mode=MetadataMode.NONE) for hit in context).lower()
    return [name for name in named if re.sub(r"^the\s+", "", name.lower()) not in texts]


def decline_absent(answerer: ExtractiveAnswerer, names: list[str], judgement: Judgement) -> Draft:
    listed = " or ".join(names)
    text = f"No article from {listed} is in the store, so the articles can't say what it reported."
    return Draft(text, answerer.closest_sources(judgement.scored, judgement.hits), True, 0.0)
