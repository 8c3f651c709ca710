"""``build_gateway``: from a ``--llm`` / ``--embed`` spec to a ready Gateway and its layers.

Kinds come from the backend registry (``aga.gateway.registry``); heavy or vendor modules
(llama.cpp, onnxruntime, openai, google-genai) are imported only for the spec that needs them.
Building does no network call and loads no model weights eagerly where the backend allows it,
so the runner can validate a spec cheaply. The layers are stacked here (``stack_layers``):
retry, ledger, response cache, concurrency bound, timeout, around the backend's one method.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aga.errors import InputError
from aga.gateway.cache import MemoryCache, ResponseCache, SqliteCache
from aga.gateway.core import Gateway
from aga.gateway.layers import stack_layers
from aga.gateway.ledger import Ledger
from aga.gateway.registry import (
    BuildOptions,
    check_local,
    embed_kind,
    llm_kind,
    register_embedder,
    register_llm,
)
from aga.gateway.retry import RetryPolicy
from aga.gateway.structured import STRUCTURED_CHOICES
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
    max_in_flight: int | None = None,
    max_attempts: int = 3,
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    cache: ResponseCache | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    structured: str = "auto",
    llm_options: Mapping[str, Any] | Iterable[str] | None = None,
    sampling_seed: int = 0,
) -> Gateway:
    """Build the gateway for a model spec.

    Args:
        llm: ``scripted``, ``embedded``, ``embedded:fast``, ``gguf:<path>``, ``openai:<model>``
            or ``gemini:<model>``.
        embed: None for the backend's natural embedder, ``embedded``, ``hash`` (test double),
            ``openai:<model>`` or ``gemini:<model>``.
        cache_path: a SQLite response-cache file (``":memory:"`` for an in-process cache);
            None for no response cache.
        max_in_flight: most backend calls at once, across all residents; None for the kind's
            default (1 for the embedded model, 8 for remote endpoints).
        max_attempts: answers tried per task before the ask gives up (None, ledger: defaulted).
        retry: budget for transient failures (default: 6 tries within 2 minutes).
        timeout: optional per-call time limit of the gateway, in seconds.
        cache: a ready response cache (overrides ``cache_path``).
        sleep: how retries wait (tests pass a fast one).
        structured: ``auto`` or a forced structured-output form (OpenAI-compatible servers).
        llm_options: extra request fields, as a mapping or ``KEY=VALUE`` texts (``--llm-option``).
        sampling_seed: mixed into the embedded model's sampling seed (a simulation passes its own
            seed; 0 keeps the seed a function of the prompt alone).

    Raises:
        InputError: the spec is unknown or incomplete (message lists the valid forms), a bad
            ``--llm-option`` / ``--structured``, or a remote endpoint while tests run.
    """
    spec = (llm or "").strip()
    kind, _, arg = spec.partition(":")
    if structured not in STRUCTURED_CHOICES:
        raise InputError(f"--structured {structured!r} is not one of: {', '.join(STRUCTURED_CHOICES)}")
    options = parse_llm_options(llm_options)
    found = llm_kind(kind)
    if found is None:
        raise InputError(f"unknown --llm {spec!r}; valid forms: {LLM_FORMS}")
    if options and not found.takes_options:
        raise InputError(
            f"--llm-option applies to OpenAI-compatible servers (openai:<model>), not to --llm {spec!r}"
        )
    backend: Backend = found.factory(arg.strip(), BuildOptions(spec, structured, options, sampling_seed))
    check_local(backend, f"--llm {spec!r}")
    embedder = _embedder(embed.strip() if embed else None, kind)
    check_local(embedder, f"--embed {embed or kind!r}")
    if cache is None and cache_path is not None:
        cache = MemoryCache() if str(cache_path) == ":memory:" else SqliteCache(cache_path)
    limit = found.default_in_flight if max_in_flight is None else max_in_flight
    if limit < 1:
        raise InputError(f"--max-in-flight {limit} must be at least 1")
    retry = retry or RetryPolicy()
    stack = stack_layers(
        backend, ledger=Ledger(), cache=cache, retry=retry, max_in_flight=limit, timeout=timeout, sleep=sleep
    )
    return Gateway(
        backend,
        embedder,
        cache=cache,
        retry=retry,
        max_attempts=max_attempts,
        timeout=timeout,
        sleep=sleep,
        stack=stack,
    )


def parse_llm_options(options: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` texts as request fields: VALUE as JSON when it parses (numbers, true/false,
    objects), else as text; a dotted KEY nests (``chat_template_kwargs.enable_thinking=false``).

    Raises:
        InputError: an option without ``=`` or with an empty key.
    """
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return dict(options)
    out: dict[str, Any] = {}
    for text in options:
        key, sep, raw = str(text).partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise InputError(f"--llm-option {text!r}: write KEY=VALUE, e.g. reasoning_effort=low")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InputError(f"--llm-option {text!r}: {part} is already set to a value")
            node = child
        node[parts[-1]] = value
    return out


def default_in_flight(llm: str) -> int:
    """The concurrency default of a ``--llm`` spec's kind (1 when the kind is unknown)."""
    found = llm_kind((llm or "").strip().partition(":")[0])
    return found.default_in_flight if found is not None else 1


def _embedder(spec: str | None, llm_kind_name: str) -> Embedder:
    if spec is None:
        found = llm_kind(llm_kind_name)
        natural = "hash" if found is not None and found.double else "embedded"
        return _embedder(natural, llm_kind_name)
    kind, _, arg = spec.partition(":")
    found = embed_kind(kind)
    if found is None:
        raise InputError(f"unknown --embed {spec!r}; valid forms: {EMBED_FORMS}")
    embedder: Embedder = found.factory(arg.strip(), spec)
    return embedder


# ---------------------------------------------------------------------- the real backends


def _embedded(arg: str, opts: BuildOptions) -> Backend:
    if arg not in ("", "default", "fast"):
        raise InputError(f"unknown --llm {opts.spec!r}; valid forms: {LLM_FORMS}")
    return _embedded_module().EmbeddedBackend(arg or "default", sampling_seed=opts.sampling_seed)


def _gguf(arg: str, opts: BuildOptions) -> Backend:
    if not arg:
        raise InputError(
            f"--llm {opts.spec!r}: give the model file, e.g. gguf:/models/qwen2.5-1.5b-instruct-q4_k_m.gguf"
        )
    path = Path(arg).expanduser()
    if not path.is_file():
        raise InputError(f"--llm {opts.spec!r}: model file {path} does not exist")
    return _embedded_module().EmbeddedBackend(
        "default", gguf_path=str(path), sampling_seed=opts.sampling_seed
    )


def _openai(arg: str, opts: BuildOptions) -> Backend:
    if not arg:
        raise InputError(
            f"--llm {opts.spec!r}: name the model, e.g. openai:gpt-4o-mini or openai:llama3.2 (Ollama)"
        )
    from aga.gateway.backends.openai_compat import OpenAIBackend

    return OpenAIBackend.from_env(arg, structured=opts.structured, options=opts.options)


def _gemini(arg: str, opts: BuildOptions) -> Backend:
    if not arg:
        raise InputError(f"--llm {opts.spec!r}: name the model, e.g. gemini:gemini-2.0-flash")
    from aga.gateway.backends.gemini import GeminiBackend

    return GeminiBackend.from_env(arg)


def _minilm(arg: str, spec: str) -> Embedder:
    if arg:
        raise InputError(f"unknown --embed {spec!r}; valid forms: {EMBED_FORMS}")
    try:
        from aga.gateway.backends.onnx_embedder import MiniLMEmbedder
    except ImportError as err:
        raise InputError(
            f"the local MiniLM embedder cannot be loaded ({err}); reinstall aga with its dependencies, "
            "or choose --embed openai:<model> / gemini:<model>"
        ) from None
    return MiniLMEmbedder()


def _openai_embedder(arg: str, spec: str) -> Embedder:
    if not arg:
        raise InputError(f"unknown --embed {spec!r}; valid forms: {EMBED_FORMS}")
    from aga.gateway.backends.openai_compat import OpenAIEmbedder

    return OpenAIEmbedder.from_env(arg)


def _gemini_embedder(arg: str, spec: str) -> Embedder:
    if not arg:
        raise InputError(f"unknown --embed {spec!r}; valid forms: {EMBED_FORMS}")
    from aga.gateway.backends.gemini import GeminiEmbedder

    return GeminiEmbedder.from_env(arg)


def _embedded_module():  # type: ignore[no-untyped-def]  # returns a module
    try:
        from aga.gateway.backends import embedded
    except ImportError as err:
        raise InputError(
            f"the embedded model backend cannot be loaded ({err}); install llama-cpp-python, "
            "or choose --llm openai:<model> / gemini:<model>"
        ) from None
    return embedded


register_llm("embedded", _embedded, default_in_flight=1)
register_llm("gguf", _gguf, default_in_flight=1)
register_llm("openai", _openai, takes_options=True, default_in_flight=8)
register_llm("gemini", _gemini, default_in_flight=8)
register_embedder("embedded", _minilm)
register_embedder("minilm", _minilm)
register_embedder("openai", _openai_embedder)
register_embedder("gemini", _gemini_embedder)
