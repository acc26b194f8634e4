"""The keyword follow-up rewriter: turns the latest question into one that stands alone, given the
conversation history, without an LLM. Exports :class:`KeywordCondenser` and the :class:`Condenser`
protocol that the engine takes (an LLM condenser, :mod:`assistant.answering.generative`, keeps it).

Only the engine and answering import this package; it imports nothing from ``assistant.engine``,
``assistant.api``, ``assistant.slack`` or ``assistant.cli``. Its rules are listed in
:mod:`.condenser`, where ``KeywordCondenser.condense`` runs them as a few named steps, each in a module
of its own and tested on its own (tests/test_condense_steps.py):

- :mod:`.vocabulary` — the word lists and patterns the rules read;
- :mod:`.words` — a text's tokens and the tests of a single word;
- :mod:`.mentions` — the names a turn uses and what kind each is, and its noun phrases;
- :mod:`.exchange` — a question as read, with the engine's answer to it;
- :mod:`.rewrite` — the follow-up made to stand alone: ellipsis, pronouns;
- :mod:`.context` — what the rewritten follow-up carries in brackets;
- :mod:`.condenser` — ``KeywordCondenser``: the conversation read, then rewrite, then context.
"""

from assistant.understanding.condense.condenser import Condenser, KeywordCondenser

__all__ = ["Condenser", "KeywordCondenser"]
