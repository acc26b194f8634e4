"""Composing a quoted answer from a judgement: which sentence leads, what follows it, and the cited text.

The steps, in the order :meth:`~.answerer.ExtractiveAnswerer.compose` takes them: :func:`choose_lead`;
a sentence that completes the lead (:func:`reason_after` for "why", :func:`typed_companion` for a
figure, place or person); :func:`with_followers` (up to ``max_sentences`` in all); for "who",
:func:`with_full_name`; then :func:`cited`. A yes/no question's answer may then be led by its verdict
(:func:`with_verdict`, :func:`led_by`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from llama_index.core.schema import MetadataMode

from assistant.answer import Source
from assistant.answering.extractive.judgement import Judgement, of_kind_in
from assistant.answering.extractive.scoring import ScoredSentence
from assistant.answering.extractive.sentences import ASKS, BOILERPLATE, FULL_NAME, TERMINATED, quote_units
from assistant.answering.extractive.sources import article_id_of, source_for
from assistant.answering.verdicts import verdict, yes_no
from assistant.text import terms
from assistant.understanding.answer_types import type_match
from assistant.understanding.question import Question

DECLINE_TEXT = "The ingested articles don't answer this question."

# A sentence holding the asked figure leads when its answerability is at least this share of the best.
FIGURE_RATIO = 0.5


@dataclass
class Draft:
    """An answer before it becomes an Answer: text with [n] markers and its numbered sources."""

    text: str
    sources: list[Source]
    declined: bool
    evidence: float


def asks_for_a_figure(atype) -> bool:
    """Whether the question asks for a figure ("how much", "when") or a place of a kind ("which state"):
    a sentence can cover every word of the question and still not give the sum. (Not for people:
    "Vastakis was chosen" answers "who" though a surname alone is no sure name.)"""
    return atype is not None and (atype.kind in ("number", "date", "time") or bool(atype.places or atype.head))


def choose_lead(best: list[ScoredSentence], figure: bool, passes: float) -> ScoredSentence:
    """The sentence the answer leads with, of the few best-scoring ``best``: the one most likely to answer;
    before it, one that passes the threshold ``passes`` and in which the question's subject does the asked
    thing ("Canada has promised ...": it states what was asked); before both, when the question asks for
    a ``figure``, one that holds one and answers at least ``FIGURE_RATIO`` as well as the best."""
    most = max(s.answerability for s in best)
    return max(best, key=lambda s: (figure and s.answerability >= max(passes, FIGURE_RATIO * most) and s.match >= 1.0,
                                    s.states and s.answerability >= passes, s.answerability))


def typed_companion(lead: ScoredSentence, scored: list[ScoredSentence], max_words: int, companion_window: int) -> list[ScoredSentence]:
    """For "how much", "when", "which museum", "who": when the lead tells the story without the asked
    kind of thing, the best sentence of the same article that holds one follows it. A report names
    the event once, fully, and gives its figure, place or person in a sentence of its own ("Investigators
    will examine the 63-pound plug"), which shares few of the question's words."""
    for candidate in of_kind_in(lead, scored, companion_window):
        if len(lead.text.split()) + len(candidate.text.split()) <= max_words:
            return [candidate]
    return []


def reason_after(lead: ScoredSentence, asked: Question, max_words: int) -> list[ScoredSentence]:
    """For "why": when the lead restates what is asked without its cause ("The talks were not
    easy."), the sentence after it in the article, if that one gives a cause more plainly."""
    text = lead.hit.node.get_content(metadata_mode=MetadataMode.NONE)
    units = quote_units(text)
    for i, (start, end) in enumerate(units[:-1]):
        if " ".join(text[start:end].split()) != lead.text:
            continue
        after = " ".join(text[units[i + 1][0] : units[i + 1][1]].split())
        if (TERMINATED.search(after) and not ASKS.search(after) and not BOILERPLATE.search(after)
                and len(lead.text.split()) + len(after.split()) <= max_words
                and type_match(asked.atype, after, asked.words) > lead.match):
            return [ScoredSentence(after, lead.hit_rank, lead.hit, coverage=0.0, score=0.0, match=1.0)]
        break
    return []


def with_followers(
    chosen: list[ScoredSentence],
    scored: list[ScoredSentence],
    subject: set[str],
    *,
    max_sentences: int,
    follow_ratio: float,
    min_answerability: float,
    max_words: int,
) -> list[ScoredSentence]:
    """``chosen`` (the lead first) and the best-scoring sentences of ``scored`` (the lead first) that add
    something: each within ``follow_ratio`` of the lead's score, answering at least ``min_answerability``,
    bringing three new words, under ``max_words`` in all; up to ``max_sentences``."""
    chosen = list(chosen)
    lead = chosen[0]
    n_words = len(lead.text.split())
    covered = set(terms(lead.text))
    for candidate in scored[1:]:
        if len(chosen) >= max_sentences:
            break
        if candidate.score < follow_ratio * scored[0].score:
            break
        if candidate.answerability < min_answerability:
            continue  # a sentence that would not answer on its own is filler beside one that does
        if subject and article_id_of(candidate.hit) != article_id_of(lead.hit) and not subject & set(terms(candidate.text)):
            continue  # another story's sentence that never names who or what the question is about
        extra = len(candidate.text.split())
        new_terms = set(terms(candidate.text)) - covered
        if n_words + extra > max_words or len(new_terms) < 3:
            continue
        if any(candidate.text in c.text or c.text in candidate.text for c in chosen):
            continue  # a sentence and the look-back window that holds it: quote it once
        chosen.append(candidate)
        n_words += extra
        covered |= new_terms
    return chosen


def with_full_name(chosen: list[ScoredSentence], max_words: int) -> list[ScoredSentence]:
    """For a "who" question: when the lead calls someone by surname alone ("Boodram is one of 16
    contestants"), the sentence before it in the article that gives the full name ("Avi Boodram,
    a nurse from Dover, ...") follows it, as news copy names a person in full at first mention.
    Followers give way to it when the answer would run over ``max_words``."""
    lead = chosen[0]
    text = lead.hit.node.get_content(metadata_mode=MetadataMode.NONE)
    at = text.find(lead.text)
    if at <= 0:
        return chosen
    # A surname alone: a capitalised word with no other capitalised word beside it ("Boodram is").
    bare = set(re.findall(r"(?<![A-Za-z.]\s)(?<!^[A-Z]\s)\b([A-Z][a-z][\w’'-]*)\b(?!\s+[A-Z])", lead.text))
    bare = {w for w in bare if not re.search(rf"\b[A-Z][\w.]*\s+{re.escape(w)}\b", lead.text)}
    if not bare:
        return chosen
    for start, end in reversed(quote_units(text[:at])):  # the nearest earlier mention first
        sentence = " ".join(text[start:end].split())
        if not TERMINATED.search(sentence) or sentence.endswith("?") or any(sentence in c.text or c.text in sentence for c in chosen):
            continue
        if any(m.group(1) in bare for m in FULL_NAME.finditer(sentence)):
            if len(lead.text.split()) + len(sentence.split()) > max_words:
                return chosen
            intro = ScoredSentence(sentence, lead.hit_rank, lead.hit, coverage=0.0, score=0.0)
            kept = [lead, intro]
            words = len(lead.text.split()) + len(sentence.split())
            for follower in chosen[1:]:
                if words + len(follower.text.split()) <= max_words:
                    kept.append(follower)
                    words += len(follower.text.split())
            return kept
    return chosen


def cited(chosen: list[ScoredSentence], evidence: float) -> Draft:
    """The answer: each chosen sentence followed by its article's ``[n]``, the articles numbered in order."""
    sources: list[Source] = []
    parts: list[str] = []
    for sentence in chosen:
        source = source_for(sources, sentence.hit, sentence.text)
        parts.append(f"{sentence.text} [{source.n}]")
    return Draft(" ".join(parts), sources, False, evidence)


# --- a yes/no question's verdict --------------------------------------------------------------------
def with_verdict(question: str, draft: Draft, judgement: Judgement) -> Draft:
    """A quoted answer to a yes/no question, led by "Yes — " or "No — " when its first sentence plainly
    states the asked event or its negation (:mod:`assistant.answering.verdicts`); otherwise as it was."""
    asked = yes_no(question)
    if asked is None or draft.declined:
        return draft
    lead = re.sub(r"\s*\[\d+\].*$", "", draft.text, flags=re.S)
    return led_by(verdict(asked, lead), draft)


def led_by(said: str | None, draft: Draft) -> Draft:
    """``draft`` led by the verdict ``said`` ("Yes — ..."), or as it was when there is none."""
    return replace(draft, text=f"{said} — {draft.text}") if said else draft
