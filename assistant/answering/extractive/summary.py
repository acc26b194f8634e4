"""Summaries without an LLM: the ledes of the best-matching stories, newest first (a timeline: oldest
first), each cited.

News is written as an inverted pyramid: a story's first sentences (its lede) say what happened. So a
summary request is answered with the lede of each of the few stories that best match its topic, one
per story (syndicated copies are one story: the retriever keeps one per cluster), newest first, each
cited; a request for a story's course gets the same ledes, oldest first, each labelled with its outlet
and day. Which questions ask for one is :mod:`assistant.understanding.summary_requests`' business;
this is how the quoted answer is made, from the judgement's best sentences or from the stories the
engine picked.
"""

from __future__ import annotations

from typing import Callable

from llama_index.core.schema import NodeWithScore

from assistant.answer import Source
from assistant.answering.extractive.composing import DECLINE_TEXT, Draft
from assistant.answering.extractive.judgement import Judgement
from assistant.answering.extractive.scoring import ScoredSentence
from assistant.answering.extractive.sentences import ASKS, BOILERPLATE, DATELINE, TERMINATED, quote_units
from assistant.answering.extractive.sources import article_id_of, day_of, source_for, dated_label
from assistant.answering.injection import addresses_the_assistant

LEDE_MIN_WORDS = 8
MAX_STORIES = 3
# A story joins the summary when its best sentence scores at least this share of the best story's.
STORY_RATIO = 0.4
# A lede is among an article's first few sentences (past captions and a standfirst), or it has none.
LEDE_WITHIN = 8


def best_stories(judgement: Judgement) -> tuple[list[NodeWithScore], dict[str, str]]:
    """(the stories to summarise, each article's best sentence to quote when its lede will not do): the
    articles of the judgement's best sentences, each kept when its best sentence scores at least
    ``STORY_RATIO`` of the best one's, ``MAX_STORIES`` at most. The judgement must have scored something."""
    best: dict[str, ScoredSentence] = {}
    for sentence in judgement.scored:
        best.setdefault(article_id_of(sentence.hit), sentence)
    top = judgement.scored[0].score
    chosen = [s for s in best.values() if s.score >= STORY_RATIO * top][:MAX_STORIES]
    fallback = {article_id_of(s.hit): s.text for s in chosen}
    return [s.hit for s in chosen], fallback


def summarise(
    judgement: Judgement,
    stories: list,
    fallback: dict[str, str],
    article_texts: Callable[[list[str]], dict[str, str]],
    oldest_first: bool,
    *,
    max_words: int,
    decline_threshold: float,
) -> Draft:
    """The lede of each of the newest ``MAX_STORIES`` articles among ``stories`` (one per article), newest
    first, or oldest first for a timeline with each labelled by its outlet and day; an article whose lede
    will not do is quoted by its ``fallback`` sentence, if any. A decline when nothing is left to quote."""
    newest_first: dict[str, NodeWithScore] = {}
    for hit in sorted(stories, key=day_of, reverse=True):  # newest first: news supersedes news
        newest_first.setdefault(article_id_of(hit), hit)  # one lede per article
    stories = list(newest_first.values())[:MAX_STORIES]
    if oldest_first:
        stories.reverse()
    if not stories:
        return Draft(DECLINE_TEXT, [], True, judgement.evidence)
    texts = article_texts([article_id_of(h) for h in stories])
    sources: list[Source] = []
    parts: list[str] = []
    for hit in stories:
        article = article_id_of(hit)
        sentence = lede(texts.get(article, ""), str(hit.node.metadata.get("title") or ""), max_words) or fallback.get(article)
        if sentence:
            cited = f"{sentence} [{source_for(sources, hit, sentence).n}]"
            parts.append(f"{dated_label(hit)}: {cited}" if oldest_first and dated_label(hit) else cited)
    if not parts:
        return Draft(DECLINE_TEXT, [], True, judgement.evidence)
    text = " · ".join(parts) if oldest_first else " ".join(parts)
    return Draft(text, sources, False, max(judgement.evidence, decline_threshold))


def lede(text: str, title: str, max_words: int) -> str | None:
    """The article's lede without its dateline, when it reads as one (not boilerplate, not too long)."""
    for start, end in quote_units(text)[:LEDE_WITHIN]:
        sentence = DATELINE.sub("", text[start:end].strip(), count=1)
        if sentence == title.strip() or not TERMINATED.search(sentence) or ASKS.search(sentence):
            continue
        if len(sentence.split()) < LEDE_MIN_WORDS or BOILERPLATE.search(sentence) or addresses_the_assistant(sentence):
            continue
        return sentence if len(sentence.split()) <= max_words else None
    return None
