"""Finding the chunks that may answer: the store, the embedder, the keyword index, and their fusion.

* :mod:`.hybrid` -- ``HybridRetriever``: dense and BM25 fused by weighted reciprocal rank,
  diversified by article, one copy per syndication cluster;
* :mod:`.store` -- the Chroma component (``PersistentClient`` or ``NEWSDESK_CHROMA_HOST``), the
  manifest of articles and the store version; :mod:`.store_lock` (one process per local store),
  :mod:`.store_http` (a Chroma server's client), :mod:`.store_embedder` (a collection remembers its
  embedder);
* :mod:`.embedding` -- the embedding component (``NEWSDESK_EMBEDDING``);
* :mod:`.keyword_component`, :mod:`.keyword`, :mod:`.keyword_tantivy` -- the keyword index in
  tantivy, kept at the store's version;
* :mod:`.clusters`, :mod:`.signatures` -- syndicated copies of one story, and the MinHash
  signatures they are found by.

Imports: :mod:`assistant.answer`, :mod:`assistant.settings`, :mod:`assistant.text`. Imported by the
engine, :mod:`assistant.library`, :mod:`assistant.outages` and ``ingest`` (the writer).
"""
