"""Newsdesk's engine and its doors.

The top is what a door imports:

* :mod:`assistant.engine` -- ``Engine``: ``ask``/``run`` a question (with its history), ``retrieve``;
* :mod:`assistant.answer` -- ``Answer``, ``Source``, ``Turn``, ``TimeScope``: what flows to every door
  and to the evaluator;
* :mod:`assistant.settings` -- ``Settings``, ``get_settings()`` (``NEWSDESK_*``), read when called;
* :mod:`assistant.library` -- the store without a model: claim it, list what it holds;
* :mod:`assistant.outages` -- the errors that mean a server Newsdesk uses is away.

Below it, the engine's parts, each a package that picks its implementation by a settings field where
there is a choice: :mod:`assistant.understanding` (what a question asks), :mod:`assistant.retrieval`
(the store, the embedder, the keyword index, hybrid fusion) and :mod:`assistant.answering` (the
extractive and LLM answerers, citations). :mod:`assistant.text` is the analyser all of them share.

The doors: :mod:`assistant.cli`, :mod:`assistant.api` (with the web page in ``web/``),
:mod:`assistant.slack`. They translate to and from the top and import nothing below it; nothing
below imports a door. ``docs/architecture.md`` draws the layers; ``tests/test_layers.py`` checks them.
"""
