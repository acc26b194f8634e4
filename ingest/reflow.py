"""Hard-wrapped paragraphs of Markdown and plain-text files joined back into lines.

The answerer reads a line break as the end of a sentence (chunks keep the article's line structure:
a headline, a dateline, paragraphs), so a body wrapped at 80 or 100 columns would reach it as
sentence fragments that never state anything whole. A line is joined to the next one when it breaks
a sentence: it is as long as a wrapped line (a short one without punctuation is a subheading), it does
not end with a sentence's closing punctuation or a hard break (two spaces), it is no heading, table row
or rule, and the next line starts no Markdown block of its own (list item, quote, heading, fence).
"""

from __future__ import annotations

import re

_CLOSES_SENTENCE = re.compile(r"""[.!?:;…]["'”’)\]]*$""")
_BLOCK_START = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|>|\||```|~~~|---\s*$|===\s*$)")
_WHOLE_LINE = re.compile(r"^\s*(?:#{1,6}\s|\||```|~~~|---\s*$|===\s*$)")  # never continued on the next line
MIN_WRAPPED_CHARS = 40


def reflow(text: str) -> str:
    """``text`` with each wrapped paragraph on one line; blank lines, structure and code kept as they are."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        fence = line.lstrip().startswith(("```", "~~~"))
        if out and not in_code and not fence and _continues(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line)
        if fence:
            in_code = not in_code
    return "\n".join(out)


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` carries on the sentence ``previous`` left open (a soft wrap)."""
    if not previous.strip() or not line.strip():
        return False
    if len(previous.strip()) < MIN_WRAPPED_CHARS or previous.endswith("  "):
        return False
    if _WHOLE_LINE.match(previous) or _BLOCK_START.match(line):
        return False
    return not _CLOSES_SENTENCE.search(previous.rstrip())
