"""Small talk: "thanks", "hi", "ok" get a short reply and no sources.

A message is small talk when every word of it is a greeting, a thank-you, an acknowledgement or a
question about the assistant itself, so "thanks, and who won?" is a question, not small talk. Quoting
an article in reply to "thanks!" (which shares no word with any story) only shows that the answerer
will quote whatever ranks first.
"""

from __future__ import annotations

import re

# Words that make up small talk and nothing else. Kept to what people type in chat; a message with
# any other word goes to retrieval.
_SMALL_TALK_WORDS = frozenset(
    """hi hello hey hiya howdy yo morning afternoon evening good great thanks thank thx ty you so much
    very a lot lots ok okay k kk cool nice got it understood perfect awesome sounds fine alright right
    sure bye goodbye later see cheers appreciate appreciated that's thats helpful wow gotcha ah oh i
    there all well done excellent brilliant lovely yes yeah yep no nope really super that was is it this quite
    truly""".split()
)
_ABOUT_YOU = re.compile(
    r"^\W*(?:(?:wait|so|ok|okay|and|but|hey|um|sorry)\W+)*(?:(who|what)\s+(are|r)\s+(you|u)\b|what\s+(can|do)\s+(you|u)\s+do\b|"
    r"how\s+(do|does)\s+(you|this)\s+work\b|(help|what is this)\W*$)",
    re.I,
)
_WORD = re.compile(r"[a-z']+")

_THANKS = re.compile(r"\b(thanks|thank|thx|ty|cheers|appreciate|appreciated|helpful)\b", re.I)
_GREETING = re.compile(r"\b(hi|hello|hey|hiya|howdy|yo|morning|afternoon|evening)\b", re.I)
_FAREWELL = re.compile(r"\b(bye|goodbye|later)\b", re.I)

ABOUT = (
    "I answer questions about the news articles that have been ingested here, quoting them with numbered "
    "citations you can check. Ask me who, what, when, where or why about a story, or ask for the latest on a topic."
)


def small_talk_reply(message: str) -> str | None:
    """The reply to ``message`` when it is small talk, else None (it is a question for the articles)."""
    text = message.strip().lower()
    if not text or len(text) > 80:
        return None
    if _ABOUT_YOU.search(text):
        return ABOUT
    words = _WORD.findall(text.replace("’", "'"))
    if not words or any(w not in _SMALL_TALK_WORDS for w in words):
        return None
    if _THANKS.search(text):
        return "You're welcome. Ask me anything else about the articles."
    if _FAREWELL.search(text):
        return "Goodbye. I'm here when you have another question about the news."
    if _GREETING.search(text):
        return "Hello. " + ABOUT
    return "OK. Ask me anything else about the articles."
