"""The embedded default answerer (no LLM): judges whether the retrieved sentences answer the question,
and composes a cited answer from verbatim quotes, or declines.

One entry, :class:`ExtractiveAnswerer` (``answerer``), whose ``judge`` and ``compose`` call small steps in
order: which sentences may be quoted (``sentences``), scoring them (``scoring``), the answerability
judgement (``judgement``), composing the quoted answer (``composing``) or a summary (``summary``), and
the numbered sources (``sources``).

Exported here: the answerer, what it hands on (:class:`Judgement`, :class:`ScoredSentence`,
:class:`Draft`, :data:`DECLINE_TEXT`) and the helpers the engine and ``assistant.answering``'s other
modules share (``with_verdict``, ``led_by``, ``dated_label``, ``quote_units``, ``source_for``).
Those are its only importers, and they import from the package; its modules share names among
themselves, and underscored names are private to one module. It
imports nothing from ``assistant.engine``, ``assistant.api``, ``assistant.slack`` or ``assistant.cli``.
"""

from assistant.answering.extractive.answerer import ExtractiveAnswerer
from assistant.answering.extractive.composing import DECLINE_TEXT, FIGURE_RATIO, Draft, led_by, with_verdict
from assistant.answering.extractive.judgement import ANSWERABILITY, Judgement, answerability
from assistant.answering.extractive.scoring import ScoredSentence, Similarity
from assistant.answering.extractive.sentences import quote_units
from assistant.answering.extractive.sources import dated_label, source_for

__all__ = [
    "ANSWERABILITY",
    "DECLINE_TEXT",
    "FIGURE_RATIO",
    "Draft",
    "ExtractiveAnswerer",
    "Judgement",
    "ScoredSentence",
    "Similarity",
    "answerability",
    "dated_label",
    "led_by",
    "quote_units",
    "source_for",
    "with_verdict",
]
