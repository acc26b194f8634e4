"""Reading the conversation: each of the user's questions, as rewritten, with what it mentions and asks for,
and the engine's answer to it (an :class:`Exchange`). An answer to a question that asked for a name names
what the user may go on to ask about (``Exchange.answer_subject``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.understanding.answer_types import answer_type
from assistant.understanding.condense.mentions import Mention
from assistant.understanding.condense.vocabulary import GROUP_NOUNS


@dataclass
class Exchange:
    """One question of the user's, read against the ones before it, and the engine's answer to it."""

    standalone: str  # the user's question as rewritten, without the carried context
    mentions: tuple[Mention, ...]  # its names, then its noun phrases
    topic: list[str]  # its topic words (context.topic_words)
    asks_for: str | None  # the kind of name it asked for ("person", "place", "group", "thing") or None
    answer: tuple[Mention, ...] = ()  # the mentions of the engine's answer to it
    answer_text: str = ""

    def answer_subject(self) -> Mention | None:
        """Rule: what the answer names first when the question asked for a name ("Which line ...?" "The
        Northshore Line."), as a thing of the asked kind; None when the answer opens otherwise ("He is
        the current vice president ...")."""
        if self.asks_for is None or not self.answer or self.answer[0].start > 5:
            return None
        first = self.answer[0]
        kind = first.kind
        if self.asks_for in ("person", "place"):
            kind = self.asks_for
        elif kind in ("place", "person", "name") or self.asks_for == "group":
            kind = self.asks_for
        return Mention(first.text, kind, first.gender if kind == "person" else None, first.start)


def asks_for(question: str) -> str | None:
    """Rule: the kind of name ``question`` asks for ("Which team won?" -> "group"), None if it asks no name."""
    atype = answer_type(question)
    if atype.kind != "name":
        return None
    if atype.person:
        return "person"
    if atype.places or re.match(r"^\W*where\b", question, re.I):
        return "place"
    focus = re.search(r"\b(?:which|what)\s+(\w+)", question, re.I)
    if focus and focus.group(1).lower() in GROUP_NOUNS:
        return "group"
    return "thing"
