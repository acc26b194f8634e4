"""Ingest, the store's writer: articles from files, web pages and feeds, chunked, embedded and written
to Chroma and the keyword index at one new store version (pending, then complete, so a killed run is
repaired by the next).

* loading: :mod:`.loaders` (md, txt, html, json/jsonl), :mod:`.html` and :mod:`.html_meta`,
  :mod:`.encoding`, :mod:`.dates`, :mod:`.reflow`, :mod:`.article` (the ``Article`` type);
* fetching: :mod:`.web`, :mod:`.fetch`, :mod:`.feeds`, :mod:`.subscriptions`, :mod:`.sync`;
* writing: :mod:`.pipeline` (``Ingester``) with its stages :mod:`.chunking`, :mod:`.writes` (the
  crash-safe write), :mod:`.reclustering` and :mod:`.summary`; :mod:`.syndication`, :mod:`.shard`,
  :mod:`.reindex`, :mod:`.progress` (the terminal's progress bar).

Imports :mod:`assistant.answer`, :mod:`assistant.settings`, :mod:`assistant.text` and
:mod:`assistant.retrieval` (the store, the embedder, the keyword index). Imported by the doors and
the evaluator; never by the engine.
"""
