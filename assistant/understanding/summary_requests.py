"""Which questions ask for a summary or a story's course, and what about: "What happened with X?",
"the main points of X", "the latest on X", "what's new this week" ask for a summary of X (nothing
named: the newest stories); "How has X changed?", "the timeline of X", "what happened between A and
B" ask for a timeline. How the answer is made is :mod:`assistant.answering.extractive.summary`'s
business."""

from __future__ import annotations

import re

# How a reader asks for a summary; what remains once the phrasing is cut away is the topic.
_ASKS_SUMMARY = re.compile(
    r"^\W*(?:(?:can|could|would) you\s+|please\s+)?(?:"
    r"summari[sz]e|sum up|recap|give me (?:a |the )?(?:summary|rundown|recap|gist|overview|brief(?:ing)?)(?: of| on| about)?|"
    r"catch me up(?: on| with)?|fill me in(?: on| about)?|brief me(?: on| about)?|tell me (?:about|more about)|"
    r"what(?:'s| is| are| were)?\s+(?:the\s+)?(?:main|key)\s+points(?: of| in| about)?|"
    r"what(?:'s| is| are)?\s+(?:the\s+)?(?:latest|news|story|gist|deal)(?:\s+news)?(?:\s+(?:on|about|with|from|in|regarding))?|"
    r"what(?:'s| is| has been)?\s+(?:going on|happening|new)(?:\s+(?:with|in|at|on|about|for))?|"
    r"what happened(?:\s+(?:with|to|in|at|on|during|about))?|any (?:news|updates?)(?:\s+(?:on|about|with))?|"
    r"what do we know(?:\s+(?:about|so far about))?"
    r")\b",
    re.I,
)
# Words that only frame the request ("the story", "so far", "this week" stays: it is a time).
_FRAMING = re.compile(r"\b(?:please|for me|so far|in (?:a|one) (?:sentence|paragraph)|briefly|quickly)\b", re.I)


_ASKS_TIMELINE = re.compile(
    r"^\W*(?:how\s+(?:has|have|did)\s+(?P<changed>.+?)\s+(?:(?:chang|evolv|develop|unfold)(?:e|ed|ing)?|moved on)\b"
    r"(?=\s*(?:$|[?.!,;]|(?:since|over|after|between|from|in|during|throughout|this|last)\b))"
    r"|(?:(?:give me|show me|what(?:'s| is))\s+)?(?:a\s+|the\s+)?timeline\s+(?:of|for|on)\s+(?P<timeline>.+)"
    r"|what happened (?P<between>between\b.+))",
    re.I,
)


def timeline_topic(question: str) -> str | None:
    """What a request for a story's course is about ("how has the strike changed since May?" -> "the
    strike since May"), or None when the question asks something else."""
    match = _ASKS_TIMELINE.match(question.strip())
    if not match:
        return None
    topic = match.group("changed") or match.group("timeline") or match.group("between")
    rest = question.strip()[match.end() :] if match.group("changed") else ""
    return " ".join(f"{topic} {rest}".strip(" ?.!,:;").split())


def summary_topic(question: str) -> str | None:
    """What a summary request is about ("" when it names nothing: "What's new?"), or None when the
    question asks something else."""
    match = _ASKS_SUMMARY.match(question.strip())
    if not match:
        return None
    rest = question.strip()[match.end() :]
    if re.match(r"^\s*(?:did|does|do|is|was|were|will)\b", rest, re.I):
        return None  # "What happened did ..." is no summary request; "What's the latest" with a verb may ask a fact
    rest = _FRAMING.sub(" ", rest)
    return " ".join(rest.strip(" ?.!,:;").split())
