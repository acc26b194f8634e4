"""The LLM named by the settings, built on llama-index's LLM integrations, and calling it with a deadline.

``NEWSDESK_LLM`` picks the provider:

* ``openai`` — OpenAI or any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio, ...) through
  llama-index's ``OpenAILike`` (``is_chat_model=True`` and an explicit context window: the ``OpenAI``
  class rejects model names it does not know). Extra ``newsdesk[openai]``.
* ``ollama`` — an Ollama server through llama-index's ``Ollama``. Extra ``newsdesk[ollama]``.
* ``llamacpp`` — a GGUF file loaded in-process by llama-cpp-python through llama-index's ``LlamaCPP``,
  prompted with the chat template stored in the GGUF file. Extra ``newsdesk[llamacpp]``.
* ``extractive`` — no LLM (:func:`build_llm` returns ``None``).

Provider packages are imported only when their provider is chosen; a missing one raises
:class:`MissingExtraError` naming the extra to install. Timeouts and retries are set explicitly.

:func:`stream_chat` runs a chat in a worker thread and hands its token deltas over as they come, raising
:class:`LLMError` when the LLM fails or the deadline passes, so no caller ever waits past its deadline.
"""

from __future__ import annotations

import importlib
import os
import queue
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

from assistant.settings import Settings

# provider -> (module to import, the pip extra that brings it, the PyPI packages it holds)
PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openai": ("llama_index.llms.openai_like", "openai", "llama-index-llms-openai-like"),
    "ollama": ("llama_index.llms.ollama", "ollama", "llama-index-llms-ollama"),
    "llamacpp": ("llama_index.llms.llama_cpp", "llamacpp", "llama-index-llms-llama-cpp, llama-cpp-python"),
}
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "ollama": "llama3.2"}


class MissingExtraError(ImportError):
    """The chosen provider's optional dependency is not installed (the message names the extra)."""


class LLMConfigError(ValueError):
    """The settings do not describe a usable LLM (the message names the variable to set)."""


class LLMError(RuntimeError):
    """The LLM could not answer: unreachable, an error, or no answer within the deadline."""


def _import(provider: str):
    module, extra, packages = PROVIDERS[provider]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"NEWSDESK_LLM={provider} needs the optional dependency {packages}: "
            f"pip install 'newsdesk[{extra}]' (import failed: {exc})"
        ) from exc


def model_name(settings: Settings) -> str:
    """The model's name as the Answer reports it (``generator = "llm:<name>"``)."""
    if settings.llm_model:
        return settings.llm_model
    if settings.llm == "llamacpp" and settings.llm_model_path is not None:
        return Path(settings.llm_model_path).stem
    return DEFAULT_MODELS.get(settings.llm, settings.llm)


def build_llm(settings: Settings):
    """The llama-index LLM that ``settings`` name, or ``None`` for the extractive answerer."""
    provider = settings.llm
    if provider == "extractive":
        return None
    if provider == "openai":
        return _openai_like(settings)
    if provider == "ollama":
        return _ollama(settings)
    if provider == "llamacpp":
        return _llamacpp(settings)
    raise LLMConfigError(f"NEWSDESK_LLM={provider!r}: unknown provider (extractive, openai, ollama, llamacpp)")


def _openai_like(settings: Settings):
    module = _import("openai")
    if settings.llm_api_key is not None and settings.llm_api_key.get_secret_value():
        api_key = settings.llm_api_key.get_secret_value()
    elif os.environ.get("OPENAI_API_KEY"):
        api_key = os.environ["OPENAI_API_KEY"]
    elif settings.llm_base_url:
        api_key = "not-needed"  # most self-hosted OpenAI-compatible servers ignore the key
    else:
        raise LLMConfigError(
            "NEWSDESK_LLM=openai without NEWSDESK_LLM_BASE_URL talks to OpenAI: set NEWSDESK_LLM_API_KEY "
            "(or OPENAI_API_KEY), or point NEWSDESK_LLM_BASE_URL at your OpenAI-compatible server"
        )
    kwargs = dict(
        model=model_name(settings),
        api_key=api_key,
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=settings.llm_context_window,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
    if settings.llm_base_url:
        kwargs["api_base"] = settings.llm_base_url
    return module.OpenAILike(**kwargs)


def _ollama(settings: Settings):
    module = _import("ollama")
    kwargs = dict(
        model=model_name(settings),
        request_timeout=settings.llm_timeout_s,
        context_window=settings.llm_context_window,
        temperature=settings.llm_temperature,
        # Ollama's own option names: the most tokens to write, and the context it allocates.
        additional_kwargs={"num_predict": settings.llm_max_tokens, "num_ctx": settings.llm_context_window},
    )
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    # The ollama client has no retry setting: a failed call is not retried (the engine falls back).
    return module.Ollama(**kwargs)


def _llamacpp(settings: Settings):
    module = _import("llamacpp")
    path = settings.llm_model_path
    if path is None:
        raise LLMConfigError("NEWSDESK_LLM=llamacpp needs NEWSDESK_LLM_MODEL_PATH: the GGUF file to load")
    path = Path(path).expanduser()
    if not path.is_file():
        raise LLMConfigError(f"NEWSDESK_LLM_MODEL_PATH={path}: no such file")
    llm = module.LlamaCPP(
        model_path=str(path),
        temperature=settings.llm_temperature,
        max_new_tokens=settings.llm_max_tokens,
        context_window=settings.llm_context_window,
        generate_kwargs={},
        model_kwargs={"n_threads": max(1, os.cpu_count() or 1)},
        verbose=False,
    )
    chat_template_prompt(llm)
    return llm


def chat_template_prompt(llm) -> bool:
    """Prompt an in-process ``LlamaCPP`` with the chat template stored in its GGUF file (llama-index's
    default is Llama 2's format, which other models misread). False when the file has no template."""
    model = llm._model
    template = (model.metadata or {}).get("tokenizer.chat_template")
    if not template:
        return False
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token_id: int) -> str:
        if token_id < 0:
            return ""
        return model.detokenize([token_id], special=True).decode("utf-8", errors="ignore")

    eos = token_text(model.token_eos())
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=token_text(model.token_bos()))

    def messages_to_prompt(messages: Sequence) -> str:
        rendered = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        return formatter(messages=rendered).prompt

    llm.messages_to_prompt = messages_to_prompt
    stops = [s for s in {eos, "<|im_end|>"} if s]
    llm.generate_kwargs = {**llm.generate_kwargs, "stop": stops}
    return True


# --- calling the LLM with a deadline -------------------------------------------------------------------
def describe_failure(exc: BaseException) -> str:
    """A one-line reason for ``Answer.fallback_reason`` and the log."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if "Timeout" in name or "timed out" in text.lower():
        kind = "LLM timed out"
    elif "Connect" in name or "connection" in text.lower() or isinstance(exc, ConnectionError):
        kind = "LLM unreachable"
    else:
        kind = "LLM error"
    detail = f"{name}: {text}" if text else name
    return f"{kind} ({detail[:200]})"


_END = object()


def stream_chat(llm, messages: list, deadline: float, lock: threading.Lock | None = None) -> Iterator[str]:
    """The text deltas of ``llm.stream_chat(messages)`` as they arrive.

    The chat runs in a daemon thread; this generator waits for each delta only until ``deadline`` (a
    ``time.monotonic()`` value) and raises :class:`LLMError` when it passes or the LLM fails. A chat
    given up on is told to stop at its next delta (its HTTP stream is then closed). ``lock`` serialises
    calls to an LLM that is not thread-safe (an in-process llama.cpp model).
    """
    handoff: queue.Queue = queue.Queue()
    stop = threading.Event()

    def produce() -> None:
        try:
            if lock is not None:
                lock.acquire()
            try:
                if stop.is_set():
                    return
                responses = llm.stream_chat(messages)
                try:
                    for response in responses:
                        if stop.is_set():
                            break
                        handoff.put(("delta", response.delta or ""))
                finally:
                    close = getattr(responses, "close", None)
                    if close is not None:
                        close()
            finally:
                if lock is not None:
                    lock.release()
            handoff.put(("end", _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises LLMError
            handoff.put(("error", exc))

    worker = threading.Thread(target=produce, name="newsdesk-llm", daemon=True)
    worker.start()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMError("LLM timed out (no complete answer within the timeout)")
            try:
                kind, value = handoff.get(timeout=remaining)
            except queue.Empty:
                raise LLMError("LLM timed out (no complete answer within the timeout)") from None
            if kind == "delta":
                if value:
                    yield value
            elif kind == "end":
                return
            else:
                raise LLMError(describe_failure(value)) from value
    finally:
        stop.set()


def complete_chat(llm, messages: list, deadline: float, lock: threading.Lock | None = None) -> str:
    """The whole reply of a chat, within ``deadline`` (see :func:`stream_chat`)."""
    return "".join(stream_chat(llm, messages, deadline, lock))
