"""The servers Newsdesk may depend on that can go away: the Chroma server (``NEWSDESK_CHROMA_HOST``)
and an embedding server (``NEWSDESK_EMBEDDING=openai|ollama``). Either failing is an outage, told in
one line that names the server (the API's 503, Slack's "unavailable"), not a fault of the request."""

from __future__ import annotations

from assistant.retrieval.embedding import EmbeddingFailed
from assistant.retrieval.store_http import RETRY_AFTER_S, StoreUnavailable

__all__ = ["OUTAGES", "RETRY_AFTER_S", "EmbeddingFailed", "StoreUnavailable"]

OUTAGES: tuple[type[Exception], ...] = (StoreUnavailable, EmbeddingFailed)
