"""The evaluator: runs evaluation sets through the engine and reports retrieval, answer, citation and
decline metrics (``newsdesk eval``, mounted by the CLI from :mod:`.cli`).

:mod:`.runner` runs the questions, :mod:`.metrics` scores them, :mod:`.report` prints and saves
them; ``sets/`` holds the project's own sets. Like ``bench/`` and the tests, it may look below the
top of :mod:`assistant` (it scores citations with :mod:`assistant.answering.citations`, ranks
single-retriever baselines with :mod:`assistant.retrieval.hybrid`); nothing in :mod:`assistant`
imports it but the CLI.
"""
