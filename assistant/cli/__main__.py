"""``python -m assistant.cli``: the same command line as ``newsdesk``."""

from assistant.cli.main import run

run()
