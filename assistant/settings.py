"""One settings object for every door (CLI, API, Slack) and every part of the engine.

Values come from ``NEWSDESK_*`` environment variables (and a ``.env`` file); Slack credentials keep
Slack's own ``SLACK_*`` names. Nothing reads settings at import time: call :func:`get_settings`.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_file=".env", extra="ignore")

    # --- store -----------------------------------------------------------------------------------
    data_dir: Path = Field(default=Path(".newsdesk"), description="Chroma, the keyword index and logs live here.")
    collection: str = Field(default="articles", description="Chroma collection name for chunks.")
    chroma_host: str | None = Field(default=None, description="Use a Chroma server instead of the local store.")
    chroma_port: int = 8000
    chroma_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest wait for one reply of the Chroma server (connecting: 1 s)."
    )

    # --- embedding -------------------------------------------------------------------------------
    embedding: Literal["minilm-onnx", "sentence-transformers", "openai", "ollama"] = Field(
        default="minilm-onnx",
        description="Who embeds: the packaged MiniLM (offline), sentence-transformers (extra "
        "newsdesk[sentence-transformers]), an OpenAI-compatible /v1/embeddings server (newsdesk[openai-embeddings]) "
        "or Ollama (newsdesk[ollama-embeddings]). A collection keeps the embedder it was built with.",
    )
    embedding_model: str | None = Field(
        default=None,
        description="Model name (sentence-transformers: default sentence-transformers/all-MiniLM-L6-v2, or a local "
        "path; openai: default text-embedding-3-small; ollama: default nomic-embed-text).",
    )
    embedding_base_url: str | None = Field(
        default=None, description="openai: an OpenAI-compatible server's /v1 URL (default OpenAI's); ollama: its URL."
    )
    embedding_api_key: SecretStr | None = Field(
        default=None, description="openai: the API key (else OPENAI_API_KEY; not needed with a base URL)."
    )
    embedding_dimensions: int | None = Field(
        default=None, ge=1, description="openai: ask for vectors this long (models that can shorten them)."
    )
    # Texts per onnxruntime run. Its memory grows with the batch (attention is batch x 256 x 256 per
    # head, and onnxruntime's arena keeps its peak), and on 2 cores smaller batches of length-sorted
    # texts are no slower: 1,200 dev chunks embedded alone peaked at 882 MB RSS at 16 against 589 MB
    # at 8, and bench/ingest --batch-sizes 4,8,16 --limit 150 (2026-12-06, load 1.6) gave 4: 1.085,
    # 8: 1.049 of 16's chunks/s. 8, not 4: for a server it is also the texts per request.
    # bench/ingest --rss --rss-batch-sizes 8,16 measures it over whole ingests.
    embed_batch_size: int = Field(default=8, ge=1, description="Texts per embedding call (per request to a server).")
    # A GPU server is kept busy only if the next batch is already waiting when one finishes.
    embed_batches_in_flight: int = Field(
        default=4, ge=1, description="openai/ollama: embedding requests sent at once while ingesting."
    )
    embedding_timeout_s: float = Field(default=60.0, gt=0, description="openai/ollama: each request's timeout.")
    embedding_max_retries: int = Field(default=2, ge=0, description="openai: retries of a failed request.")
    embed_threads: int = Field(default=0, description="onnxruntime intra-op threads; 0 = all cores.")

    # --- chunking --------------------------------------------------------------------------------
    # MiniLM reads 256 word pieces; a chunk (title and date included) must fit or its tail is unseen.
    chunk_tokens: int = 256
    chunk_overlap: int = 32
    ingest_group_articles: int = Field(default=64, description="Articles embedded and committed together.")
    ingest_group_chunks: int = Field(
        default=256, ge=1, description="Chunks split, embedded and written together: what bounds ingest memory."
    )
    max_article_mb: float = Field(
        default=2.0, gt=0, description="Larger articles (text, in MB of UTF-8) are refused, each with one line."
    )

    # --- retrieval -------------------------------------------------------------------------------
    top_k: int = Field(default=5, description="Chunks handed to the answerer (one article each at most twice).")
    candidate_k: int = Field(default=40, description="Chunks each retriever contributes before fusion.")
    keyword_index: Literal["tantivy"] = Field(
        default="tantivy",
        description="The keyword (BM25) index: tantivy, under the data folder, updated in place by every ingest "
        "(docs/keyword-index.md; docs/deploy.md says when another would take its place).",
    )
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    article_bm25_weight: float = Field(
        default=1.0, ge=0.0, description="Weight of whole-article BM25 in the fusion (it ranks articles; 0 = off)."
    )
    # News supersedes news: among chunks that match about equally, the newer article's comes first.
    # A chunk of the store's newest article gains recency_weight times what ranking first in one more
    # retriever is worth; the gain halves every recency_half_life_days of age. 0 turns it off.
    # Measured on the RealTimeQA dev set (README): weight 0.5 moved answer_in_context@5 0.74 -> 0.81.
    recency_weight: float = Field(default=0.5, ge=0.0)
    recency_half_life_days: float = Field(default=120.0, gt=0.0)

    # --- answering -------------------------------------------------------------------------------
    llm: Literal["extractive", "openai", "ollama", "llamacpp"] = Field(
        default="extractive",
        description="Who writes answers: the built-in extractive answerer (no LLM), an OpenAI-compatible server "
        "(extra newsdesk[openai]), Ollama (newsdesk[ollama]) or a local GGUF file (newsdesk[llamacpp]).",
    )
    llm_model: str | None = Field(
        default=None,
        description="Model name sent to the server (openai: default gpt-4o-mini; ollama: default llama3.2; "
        "llamacpp: only a label, default the GGUF file's name).",
    )
    llm_base_url: str | None = Field(
        default=None, description="openai: an OpenAI-compatible server's /v1 URL (default OpenAI's); ollama: its URL."
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="openai: the API key (else OPENAI_API_KEY; not needed with a base URL)."
    )
    llm_model_path: Path | None = Field(default=None, description="llamacpp: the GGUF file to load in-process.")
    # The most one request waits for the LLM, generation included (condensing and answering share it);
    # past it the engine answers extractively instead. Also each HTTP call's own timeout.
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0, description="Retries of a failed LLM call (within the timeout).")
    llm_context_window: int = Field(default=4096, ge=512, description="The model's context window, in tokens.")
    llm_max_tokens: int = Field(default=256, ge=1, description="Most tokens the LLM may write for one answer.")
    llm_temperature: float = Field(default=0.0, ge=0.0)
    llm_context: Literal["chunks", "sentences"] = Field(
        default="chunks",
        description="What the LLM reads: the retrieved chunks, or only their sentences that best match the "
        "question (far better for small models).",
    )
    max_answer_sentences: int = 3
    # The best sentences the answerer embeds and compares with the question (0: none): the embedder's
    # own judgement of whether a sentence answers, at a few milliseconds per sentence.
    answer_embedded_sentences: int = Field(default=6, ge=0)
    # A question about something new ("this week" fully, "the latest" half as much) prefers sentences of
    # newer articles: their score halves every this many days of age behind the newest that matched.
    recent_half_life_days: float = Field(default=60.0, gt=0)
    max_answer_words: int = 72
    # A second or third sentence joins the answer when it scores within this share of the best one.
    # On the RealTimeQA dev set a looser share under a tighter word cap (0.4 / 75 words, against
    # 0.6 / 80) put the answer in 3 more of 103 answers at about the same mean length (64 words):
    # the best sentence is often about the right event without naming what was asked.
    answer_follow_ratio: float = 0.4
    # Evidence (the answerability model's probability that the leading sentence answers, times its
    # article's fit) under which the answerer declines. Calibrated with bench/fit_answerability.py on
    # both RealTimeQA dev splits pooled, 2026-12-05: the threshold that declines the most unanswerable
    # questions while declining at most 10 % of answerable ones (README, Evaluation).
    decline_threshold: float = 0.277
    today: date | None = Field(
        default=None,
        description="The day 'this week' and 'yesterday' in questions count from (YYYY-MM-DD); unset: the clock's "
        "today, or an archive's newest article day (assistant/understanding/timescope/reference.py).",
    )

    # --- fetching URLs, feeds and sitemaps (ingest/fetch.py, ingest/web.py) ------------------------
    # Hosts resolving to private, loopback, link-local, multicast or reserved addresses are refused
    # (a URL in a feed must not reach the intranet or a cloud metadata service) unless this is on.
    fetch_allow_private: bool = Field(default=False, description="Allow fetching from private/loopback addresses.")
    fetch_timeout_s: float = Field(default=10.0, gt=0, description="Connect and read timeout of each request.")
    # A server dripping a byte a second never trips the read timeout; this bounds the whole fetch.
    fetch_deadline_s: float = Field(default=60.0, gt=0, description="Most time one fetch takes, redirects and body included.")
    fetch_max_bytes: int = Field(default=5_000_000, ge=1, description="Largest body read (counted decompressed).")
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_per_host: int = Field(default=2, ge=1, description="Requests in flight at once to one host.")
    fetch_user_agent: str = Field(default="", description="User-Agent header; empty: Newsdesk/<version> (+project URL).")
    fetch_max_links: int = Field(default=500, ge=1, description="Pages one feed, sitemap or home page yields at most.")
    fetch_max_sitemaps: int = Field(default=20, ge=1, description="Child sitemaps of a sitemap index read (newest first).")

    # --- feed subscriptions (ingest/subscriptions.py, ingest/sync.py) -------------------------------
    sync_every: str = Field(
        default="",
        description='How often `newsdesk serve` syncs the subscribed feeds in the background ("15m", "1h", "900"); '
        "empty: never (run `newsdesk sync` yourself).",
    )

    # --- API -------------------------------------------------------------------------------------
    max_question_chars: int = 2000
    max_body_bytes: int = Field(default=1_000_000, description="Larger request bodies get 413.")
    max_history_turns: int = 50
    # A comma-separated string (one key or several). Kept a str: pydantic-settings would parse a
    # list field as JSON. Use ``api_key_list``.
    api_keys: str = ""
    cors_origins: str = Field(default="", description="Comma-separated allowed origins; empty = CORS off.")

    api_key: SecretStr | None = Field(
        default=None,
        description="The key `newsdesk ingest/ask/chat --server URL` sends (Authorization: Bearer); unset: the first of api_keys.",
    )

    @property
    def api_key_list(self) -> list[str]:
        return [k.strip() for k in self.api_keys.split(",") if k.strip()]

    @property
    def client_api_key(self) -> str | None:
        """The key this process sends to a Newsdesk server: ``api_key``, else the first of ``api_keys``."""
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return self.api_key.get_secret_value().strip()
        return next(iter(self.api_key_list), None)

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    # --- Slack (Slack's own names) ---------------------------------------------------------------
    slack_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "NEWSDESK_SLACK_BOT_TOKEN")
    )
    slack_app_token: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "NEWSDESK_SLACK_APP_TOKEN")
    )
    slack_signing_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "NEWSDESK_SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(default=None, description="Slack Web API base URL (GovSlack, tests).")
    slack_stream_interval_s: float = Field(
        default=1.0, description="Least time between two chat.update calls while a generated answer streams."
    )
    slack_dm_memory_minutes: float = Field(
        default=30.0,
        ge=0,
        description="A direct message sent outside a thread follows up on the DM exchange of this many minutes "
        "before it (0: every such DM stands alone). Threads are always read whole.",
    )

    @property
    def feedback_log(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"


class SettingsError(ValueError):
    """A ``NEWSDESK_*`` value that cannot be used. ``str()`` is one line naming each variable and its problem."""

    code = 1


def settings_problems(exc: ValidationError) -> str:
    """Pydantic's multi-line report as one line: ``NEWSDESK_TOP_K='abc': Input should be a valid integer``.
    A secret's value is not repeated (it may be a real key set in the wrong variable)."""
    problems = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field = Settings.model_fields.get(name)
        variable = f"NEWSDESK_{name.upper()}" if field is not None else name.upper()  # else an alias: SLACK_*
        secret = field is not None and "SecretStr" in str(field.annotation)
        shown = "" if secret or "input" not in error or isinstance(error["input"], dict) else f"={error['input']!r}"
        problems.append(f"{variable}{shown}: {error['msg']}")
    return "bad setting " + "; ".join(problems)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; :class:`SettingsError` (one line) when a value is unusable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(settings_problems(exc)) from None
