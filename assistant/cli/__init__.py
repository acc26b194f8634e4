"""The ``newsdesk`` command line, a door: arguments to engine and ingest calls, answers to the terminal.

* :mod:`.main` -- the Typer ``app`` and ``run()`` (the console script); ``ingest``, ``ask``,
  ``chat``, ``sources``, ``delete``, ``reindex``, ``serve``, ``slack``, and ``eval`` mounted from
  ``eval.cli``;
* :mod:`.loading` -- what a command opens first: the settings, the local store's lock, the engine or
  the ingester;
* :mod:`.extract`, :mod:`.feeds` -- ``newsdesk extract``, ``newsdesk feeds ...`` and ``sync``;
* :mod:`.remote`, :mod:`.ingest_remote` -- ``--server URL``: the CLI as a client of ``newsdesk serve``.

Imports the top of :mod:`assistant` (engine, answer, settings, library), ``ingest``, ``eval.cli``,
and the other doors it starts (``serve``, ``slack``). Nothing imports it.
"""


def run() -> None:
    """The ``newsdesk`` console script (``pyproject.toml``): :func:`assistant.cli.main.run`, imported
    only when called, so that importing one of this package's modules does not load them all."""
    from assistant.cli.main import run as run_main

    run_main()
