"""Prompt files for the LLM answerer and condenser, kept as Markdown in the repo's ``prompts/`` folder.

A prompt file has a ``<!-- system -->`` section, optionally one worked example (``<!-- example user -->``
and ``<!-- example assistant -->``, sent as an earlier turn of the chat: small models follow a format
they have seen far better than one they are told about) and a ``<!-- user -->`` section (anything
before the first marker is a comment for maintainers). ``{name}`` placeholders are filled by :meth:`Prompt.messages`;
filled-in values are never read as placeholders again, so article text cannot inject one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The repo's prompts/ folder sits next to the assistant package.
PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"

ANSWER_PROMPT = "answer_with_sources"  # the sources' retrieved text (NEWSDESK_LLM_CONTEXT=chunks)
FACTS_PROMPT = "answer_with_facts"  # their best-matching sentences only (NEWSDESK_LLM_CONTEXT=sentences)
ACROSS_PROMPT = "answer_across_articles"  # a question that spans articles named by outlet and date
CONDENSE_PROMPT = "condense_followup"
VERDICT_PROMPT = "verdict_across_articles"  # yes or no from the quoted sentence of each article compared

_SECTION = re.compile(r"^<!--\s*(system|example user|example assistant|user)\s*-->\s*$", re.M)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class PromptError(RuntimeError):
    """A prompt file is missing or malformed (the message names the file)."""


@dataclass(frozen=True)
class Prompt:
    name: str
    system: str
    user: str
    example_user: str = ""
    example_assistant: str = ""

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system)) | set(_PLACEHOLDER.findall(self.user))

    def render(self, template: str, values: dict[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)

    def messages(self, **values: str) -> list:
        """The llama-index chat messages (system, then user) with the placeholders filled."""
        from llama_index.core.llms import ChatMessage, MessageRole

        out = []
        if self.system:
            out.append(ChatMessage(role=MessageRole.SYSTEM, content=self.render(self.system, values)))
        if self.example_user and self.example_assistant:  # a worked example: literal text, no placeholders
            out.append(ChatMessage(role=MessageRole.USER, content=self.example_user))
            out.append(ChatMessage(role=MessageRole.ASSISTANT, content=self.example_assistant))
        out.append(ChatMessage(role=MessageRole.USER, content=self.render(self.user, values)))
        return out


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    """``prompts/<name>.md`` parsed into its system and user sections."""
    path = (directory or PROMPTS_DIR) / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"prompt file not found: {path} (prompts/ must sit next to the assistant package)") from None
    sections: dict[str, str] = {}
    marks = list(_SECTION.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections[mark.group(1)] = text[mark.end() : end].strip()
    if not sections.get("user"):
        raise PromptError(f"{path}: no '<!-- user -->' section")
    if bool(sections.get("example user")) != bool(sections.get("example assistant")):
        raise PromptError(f"{path}: an example needs both '<!-- example user -->' and '<!-- example assistant -->'")
    return Prompt(
        name=name,
        system=sections.get("system", ""),
        user=sections["user"],
        example_user=sections.get("example user", ""),
        example_assistant=sections.get("example assistant", ""),
    )


def fence(text: str) -> str:
    """``text`` between lines of backticks longer than any run of backticks inside it, so that nothing
    in the text can close the fence early (CommonMark's rule)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}\n{text.strip()}\n{bar}"
