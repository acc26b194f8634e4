"""What a command opens before it runs: the settings, the local store's lock, then the engine or the
ingester (the models load after the lock, so a store another process holds is refused at once)."""

from __future__ import annotations

import gc
from contextlib import contextmanager


def current_settings():
    from assistant.settings import get_settings

    return get_settings()


@contextmanager
def loading():
    """Loading the engine makes a great many objects that live as long as the process (modules,
    models, indexes), and the collector would walk them again and again. Collect rarely while loading,
    then freeze what was loaded out of the later collections. Measured over a whole `newsdesk ask` on
    2 busy cores: 544 collections, 0.6-0.7 s before; 116, 0.13-0.16 s with this."""
    threshold = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.freeze()


def open_engine(warm_up: bool = True, command: str | None = None):
    from assistant.library import claim_local_store

    settings = current_settings()
    claim_local_store(settings, command)  # before the models load: a store in use is refused at once
    with loading():
        from assistant.engine import Engine

        return Engine(settings, warm_up=warm_up)


def open_ingester(command: str | None = None):
    from assistant.library import claim_local_store

    settings = current_settings()
    claim_local_store(settings, command)
    with loading():
        from ingest.pipeline import Ingester

        return Ingester.open(settings)
