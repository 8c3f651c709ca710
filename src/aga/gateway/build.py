"""``build_gateway``: from a ``--llm`` / ``--embed`` spec to a ready Gateway.

Heavy or vendor modules (llama.cpp, onnxruntime, openai, google-genai) are imported only for
the spec that needs them. Building does no network call and loads no model weights eagerly
where the backend allows it, so the runner can validate a spec cheaply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aga.errors import InputError
from aga.gateway.cache import MemoryCache, ResponseCache, SqliteCache
from aga.gateway.core import Gateway
from aga.gateway.retry import RetryPolicy
from aga.gateway.types import Backend, Embedder

LLM_FORMS = (
    "embedded (default, local Qwen2.5 1.5B), embedded:fast (local 0.5B), gguf:<path to a .gguf file>, "
    "openai:<model> (OpenAI or any OpenAI-compatible server via OPENAI_BASE_URL), gemini:<model>, "
    "scripted (test double)"
)
EMBED_FORMS = (
    "embedded (local MiniLM), openai:<model>, gemini:<model>, hash (test double); "
    "leave it out for the backend's natural choice"
)


def build_gateway(
    llm: str = "embedded",
    *,
    embed: str | None = None,
    cache_path: str | Path | None = None,
    max_in_flight: int = 4,
    max_attempts: int = 3,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    cache: ResponseCache | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Gateway:
    """Build the gateway for a model spec.

    Args:
        llm: ``scripted``, ``embedded``, ``embedded:fast``, ``gguf:<path>``, ``openai:<model>``
            or ``gemini:<model>``.
        embed: None for the backend's natural embedder, ``embedded``, ``hash`` (test double),
            ``openai:<model>`` or ``gemini:<model>``.
        cache_path: a SQLite response-cache file (``":memory:"`` for an in-process cache);
            None for no response cache.
        max_in_flight: most backend calls at once.
        max_attempts: answers tried per task before the fallback / ``ModelAnswerError``.
        retry: budget for transient failures (default: 6 tries within 2 minutes).
        timeout: optional per-call time limit of the gateway, in seconds.
        cache: a ready response cache (overrides ``cache_path``).
        sleep: how retries wait (tests pass a fast one).

    Raises:
        InputError: the spec is unknown or incomplete (message lists the valid forms).
    """
    spec = (llm or "").strip()
    kind, _, arg = spec.partition(":")
    backend = _backend(kind, arg.strip(), spec)
    embedder = _embedder(embed.strip() if embed else None, kind)
    if cache is None and cache_path is not None:
        cache = MemoryCache() if str(cache_path) == ":memory:" else SqliteCache(cache_path)
    return Gateway(
        backend,
        embedder,
        cache=cache,
        retry=retry,
        max_in_flight=max_in_flight,
        max_attempts=max_attempts,
        timeout=timeout,
        sleep=sleep,
    )


def _backend(kind: str, arg: str, spec: str) -> Backend:
    if kind == "scripted" and not arg:
        from aga.testing.scripted import ScriptedBackend

        return ScriptedBackend()
    if kind == "embedded" and arg in ("", "default", "fast"):
        embedded = _embedded_module()
        return embedded.EmbeddedBackend(arg or "default")
    if kind == "gguf":
        if not arg:
            raise InputError(
                f"--llm {spec!r}: give the model file, e.g. gguf:/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"
            )
        path = Path(arg).expanduser()
        if not path.is_file():
            raise InputError(f"--llm {spec!r}: model file {path} does not exist")
        embedded = _embedded_module()
        return embedded.EmbeddedBackend("default", gguf_path=str(path))
    if kind == "openai":
        if not arg:
            raise InputError(
                f"--llm {spec!r}: name the model, e.g. openai:gpt-4o-mini or openai:llama3.2 (Ollama)"
            )
        from aga.gateway.backends.openai_compat import OpenAIBackend

        return OpenAIBackend.from_env(arg)
    if kind == "gemini":
        if not arg:
            raise InputError(f"--llm {spec!r}: name the model, e.g. gemini:gemini-2.0-flash")
        from aga.gateway.backends.gemini import GeminiBackend

        return GeminiBackend.from_env(arg)
    raise InputError(f"unknown --llm {spec!r}; valid forms: {LLM_FORMS}")


def _embedder(spec: str | None, llm_kind: str) -> Embedder:
    if spec is None:
        if llm_kind == "scripted":
            return _hash()
        return _minilm()
    kind, _, arg = spec.partition(":")
    arg = arg.strip()
    if kind == "hash" and not arg:
        return _hash()
    if kind in ("embedded", "minilm") and not arg:
        return _minilm()
    if kind == "openai" and arg:
        from aga.gateway.backends.openai_compat import OpenAIEmbedder

        return OpenAIEmbedder.from_env(arg)
    if kind == "gemini" and arg:
        from aga.gateway.backends.gemini import GeminiEmbedder

        return GeminiEmbedder.from_env(arg)
    raise InputError(f"unknown --embed {spec!r}; valid forms: {EMBED_FORMS}")


def _hash() -> Embedder:
    from aga.testing.hash_embedder import HashEmbedder

    return HashEmbedder()


def _minilm() -> Embedder:
    try:
        from aga.gateway.backends.onnx_embedder import MiniLMEmbedder
    except ImportError as err:
        raise InputError(
            f"the local MiniLM embedder cannot be loaded ({err}); reinstall aga with its dependencies, "
            "or choose --embed openai:<model> / gemini:<model>"
        ) from None
    return MiniLMEmbedder()


def _embedded_module():  # type: ignore[no-untyped-def]  # returns a module
    try:
        from aga.gateway.backends import embedded
    except ImportError as err:
        raise InputError(
            f"the embedded model backend cannot be loaded ({err}); install llama-cpp-python, "
            "or choose --llm openai:<model> / gemini:<model>"
        ) from None
    return embedded
