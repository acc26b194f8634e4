"""Block Kit rendering of answers: pure functions from :class:`Answer` to Slack message payloads.

No Slack I/O here. Every block the bot posts carries a ``block_id`` starting with ``nd_`` so that the
bot can later recognise its own messages in a thread: ``nd_answer_*`` blocks mark an answer (whose
top-level ``text`` is the plain answer, used as the assistant turn of the thread's history),
``nd_pending`` a placeholder still being answered and ``nd_error`` an apology.

Slack limits respected: section text ≤ 3000 characters, ≤ 50 blocks per message, button values
≤ 2000 characters, button labels ≤ 75 characters.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from assistant.answer import Answer, Source

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 2000
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_CHARS = 3900  # top-level ``text``: notifications and screen readers; Slack truncates at 40k
MAX_TITLE_CHARS = 200
MAX_ALSO_IN = 5  # other copies of a source's story named under it (a line stays well within a context block)
MIN_SOURCE_BLOCKS = 10  # a very long answer is shortened before the sources are dropped

PLACEHOLDER_TEXT = "Looking that up in the news archive…"
USAGE_TEXT = (
    "Ask me a question about the news, e.g. `/newsdesk When does the Cedar Point library open?` — "
    "or mention me in a channel, or send me a direct message. Follow-ups in the same thread are "
    "understood in context."
)

FEEDBACK_BLOCK_ID = "nd_feedback"
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
POST_BLOCK_ID = "nd_post"
POST_TO_CHANNEL = "post_to_channel"

_CITATION = re.compile(r"\[(\d+)\]")


# --- text ----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_url(url: str) -> str | None:
    """A url safe inside ``<url|label>``, or None when it is not an http(s) url."""
    url = (url or "").strip()
    if not re.match(r"https?://\S+$", url):
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _link_label(text: str) -> str:
    # a label cannot contain ``|`` or ``>`` (it would end the link); escaping handles ``>``
    return escape(text.replace("|", "¦"))


def link_citations(answer_text: str, sources: Iterable[Source]) -> str:
    """The answer as mrkdwn: escaped, each ``[n]`` that names a source with a url a link to it."""
    urls = {s.n: _link_url(s.url) for s in sources}

    def link(match: re.Match) -> str:
        url = urls.get(int(match.group(1)))
        return f"<{url}|[{match.group(1)}]>" if url else match.group(0)

    return _CITATION.sub(link, escape(answer_text))


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at a paragraph, line, sentence or
    word boundary when there is one (a ``<url|[n]>`` link has no whitespace, so it is never cut)."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "? ", "! ", " "):
            at = window.rfind(sep)
            if at > limit // 3:
                cut = at + len(sep.rstrip(" ")) if sep.strip() else at
                break
        if cut <= 0:
            cut = limit
            # never cut inside a <...> link
            opening, closing = window.rfind("<"), window.rfind(">")
            if opening > closing and opening > 0:
                cut = opening
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fallback_text(answer: Answer) -> str:
    """The message's top-level ``text``: the plain answer with its ``[n]`` markers (escaped).

    It is what notifications show and what the bot reads back as its own turn in a thread."""
    return _truncate(escape(answer.answer.strip()), MAX_FALLBACK_CHARS)


# --- blocks --------------------------------------------------------------------------------------


def _section(text: str, block_id: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _context(text: str, block_id: str) -> dict:
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text}]}


def source_line(source: Source) -> str:
    """``[n] <url|title> · date`` (the title plain when the source has no http(s) url), and a line
    naming the other outlets that ran the same story, if any."""
    title = _truncate(source.title.strip() or source.article_id, MAX_TITLE_CHARS)
    url = _link_url(source.url)
    label = f"<{url}|{_link_label(title)}>" if url else escape(title)
    date = f" · {escape(source.published_at)}" if source.published_at else ""
    return _truncate(f"[{source.n}] {label}{date}{_also_in(source)}", MAX_CONTEXT_CHARS)


def _also_in(source: Source) -> str:
    """A second line naming the story's other copies ("also in: <url|Outlet>, ..."), or ""."""
    names = []
    for copy in source.also_in[:MAX_ALSO_IN]:
        name = _truncate(copy.source.strip() or copy.title.strip() or "another outlet", 80)
        url = _link_url(copy.url)
        names.append(f"<{url}|{_link_label(name)}>" if url else escape(name))
    if len(source.also_in) > MAX_ALSO_IN:
        names.append(f"{len(source.also_in) - MAX_ALSO_IN} more")
    return "\nalso in: " + ", ".join(names) if names else ""


def feedback_value(question: str, request_id: str = "") -> str:
    """The buttons' value: JSON with the question (shortened to fit) and the request id.

    The answer is read back from the message itself when a button is clicked."""
    q = question
    while True:
        value = json.dumps({"q": q, "r": request_id}, ensure_ascii=False)
        if len(value) <= MAX_BUTTON_VALUE:
            return value
        q = q[: max(0, len(q) - (len(value) - MAX_BUTTON_VALUE) - 1)]


def parse_value(value: str | None) -> dict:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def feedback_actions(question: str, request_id: str = "") -> dict:
    value = feedback_value(question, request_id)
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK_ID,
        "elements": [
            {"type": "button", "action_id": FEEDBACK_UP, "value": value,
             "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True}},
            {"type": "button", "action_id": FEEDBACK_DOWN, "value": value,
             "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True}},
        ],
    }


def answer_blocks(
    answer: Answer,
    *,
    feedback: bool = True,
    request_id: str = "",
    note: str | None = None,
    extra: list[dict] | None = None,
) -> list[dict]:
    """An answer as blocks: the answer text (split over sections), then one context block per
    source, the dates searched when the question named a time, an optional ``note`` (mrkdwn, e.g. who
    asked), then 👍/👎 buttons and ``extra`` blocks.

    A declined answer says so plainly and lists the closest sources under that heading."""
    tail: list[dict] = []
    if answer.time_scope is not None:
        tail.append(_context(escape(f"Searched: {answer.time_scope.describe()}"), "nd_time_scope"))
    if note:
        tail.append(_context(_truncate(note, MAX_CONTEXT_CHARS), "nd_note"))
    if feedback:
        tail.append(feedback_actions(answer.question, request_id))
    tail.extend(extra or [])

    sources = list(answer.sources)
    header = 1 if sources else 0
    budget = MAX_BLOCKS - len(tail) - header
    text = answer.answer.strip() or "(no answer text)"
    if answer.declined:
        body = ":warning: *No answer found.* " + escape(text)
    else:
        body = link_citations(text, sources)
    sections = split_text(body)
    max_sections = max(1, budget - min(len(sources), MIN_SOURCE_BLOCKS))
    if len(sections) > max_sections:
        sections = sections[:max_sections]
        sections[-1] = _truncate(sections[-1], MAX_SECTION_CHARS - 30) + " _(answer shortened)_"

    blocks = [_section(s, f"nd_answer_{i}") for i, s in enumerate(sections)]
    if sources:
        room = budget - len(sections)
        shown, hidden = sources[:room], sources[room:]
        heading = "*Closest sources* (they don't answer the question):" if answer.declined else "*Sources*"
        if hidden:
            heading += f" (and {len(hidden)} more not shown)"
        blocks.append(_context(heading, "nd_sources"))
        blocks.extend(_context(source_line(s), f"nd_source_{s.n}") for s in shown)
    blocks.extend(tail)
    return blocks[:MAX_BLOCKS]


def ephemeral_answer_blocks(answer: Answer, token: str, request_id: str = "") -> list[dict]:
    """The ``/newsdesk`` answer, only for the asker, with a button that posts it to the channel."""
    post = {
        "type": "actions",
        "block_id": POST_BLOCK_ID,
        "elements": [
            {"type": "button", "action_id": POST_TO_CHANNEL, "style": "primary",
             "value": json.dumps({"t": token, "r": request_id}),
             "text": {"type": "plain_text", "text": "Post to channel", "emoji": True}},
        ],
    }
    return answer_blocks(answer, feedback=False, extra=[post])


def partial_blocks(text: str) -> list[dict]:
    """An answer still being written (a generated one, streaming): its text so far, unverified."""
    body = _truncate(escape(text.strip()), MAX_SECTION_CHARS - 2)
    return [_section(body + " …", "nd_partial"), _context(":writing_hand: writing… (citations are checked when done)", "nd_pending")]


def placeholder_blocks() -> list[dict]:
    return [_context(f":mag: {PLACEHOLDER_TEXT}", "nd_pending")]


def apology_text(request_id: str) -> str:
    return (f"Sorry — something went wrong while answering this. Please try again in a moment. "
            f"(request id `{request_id}`)")


def unavailable_text(request_id: str, service: str = "article store") -> str:
    return (f"Newsdesk is unavailable right now: its {service} is not answering. Please try again in a minute. "
            f"(request id `{request_id}`)")


def apology_blocks(request_id: str, text: str | None = None) -> list[dict]:
    """The failure notice in place of an answer: ``text`` (default the apology) under a warning sign."""
    return [_section(":warning: " + (text or apology_text(request_id)), "nd_error")]


def notice_blocks(text: str) -> list[dict]:
    """A short message from the bot that is not an answer (usage hints, a too-long question)."""
    return [_section(_truncate(text, MAX_SECTION_CHARS), "nd_notice")]


def thanks_blocks(blocks: list[dict], verdict: str, user: str) -> list[dict]:
    """The message's blocks with the 👍/👎 buttons replaced by a thank-you."""
    kept = [b for b in blocks if b.get("block_id") != FEEDBACK_BLOCK_ID]
    mark = "👍" if verdict == "up" else "👎"
    who = f"<@{user}>" if user else "you"
    kept.append(_context(f"{mark} Thanks for the feedback, {who}!", "nd_thanks"))
    return kept[:MAX_BLOCKS]
