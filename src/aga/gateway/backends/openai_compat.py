"""OpenAI-compatible chat and embedding backends (OpenAI, Ollama, vLLM, LM Studio, llama.cpp server).

Built on the official ``openai`` SDK with its own retries switched off: the gateway owns retries.
Structured output adapts to the server (``aga.gateway.structured``): json_schema, then
json_object with the schema, then a forced tool call, then the plain prompt (the gateway
validates and repairs either way); a refused form is replaced at once and remembered per
endpoint and model, never counted against the retry budget. ``--llm-option KEY=VALUE`` fields
ride in the body of every call; cached prompt tokens are read where the server reports them. ``max_tokens`` is sent on every call
(``max_completion_tokens`` where the server insists). SDK errors become
``TransientBackendError`` (timeouts, connection errors, 429, 5xx) or ``FatalBackendError``
(400/401/403/404...), keeping the HTTP status and the server's message, with keys scrubbed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import numpy as np
import openai

from aga.errors import InputError
from aga.gateway.secrets import scrub
from aga.gateway.structured import (
    FORM_MEMORY,
    FORMS,
    FormMemory,
    check_structured,
    is_refusal,
    looks_like_prose,
)
from aga.gateway.tokens import count_tokens
from aga.gateway.types import FatalBackendError, LLMRequest, LLMResponse, TransientBackendError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 120.0
NO_KEY = "no-key-needed"
KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


def is_local(base_url: str) -> bool:
    """True for loopback, private-network and ``.local`` hosts (no key needed, no cost)."""
    host = (urlparse(base_url).hostname or "").lower()
    if host in ("localhost", "0.0.0.0", "host.docker.internal") or host.endswith(".local"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private


def client_from_env(what: str, *, timeout: float | None = None) -> tuple[openai.AsyncOpenAI, str, str]:
    """An SDK client from OPENAI_BASE_URL / OPENAI_API_KEY; returns (client, base_url, backend name).

    Raises:
        InputError: no key for a non-local endpoint, or a malformed base URL.
    """
    base_url = (
        os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE") or DEFAULT_BASE_URL
    ).rstrip("/")
    if urlparse(base_url).scheme not in ("http", "https") or not urlparse(base_url).hostname:
        raise InputError(
            f"OPENAI_BASE_URL {base_url!r} is not an http(s) URL (e.g. http://localhost:11434/v1)"
        )
    local = is_local(base_url)
    key = os.environ.get("OPENAI_API_KEY") or ""
    if not key and not local:
        raise InputError(
            f"{what}: OPENAI_API_KEY is not set for {base_url}; set it, or point OPENAI_BASE_URL at a local "
            "server (Ollama: http://localhost:11434/v1)"
        )
    if timeout is None:
        timeout = _env_float("AGA_LLM_TIMEOUT", DEFAULT_TIMEOUT)
    client = openai.AsyncOpenAI(api_key=key or NO_KEY, base_url=base_url, timeout=timeout, max_retries=0)
    name = (
        "openai"
        if urlparse(base_url).hostname == "api.openai.com"
        else ("openai-local" if local else "openai-compatible")
    )
    return client, base_url, name


def _env_float(var: str, default: float) -> float:
    raw = os.environ.get(var)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{var}={raw!r} is not a number of seconds") from None
    if value <= 0:
        raise InputError(f"{var}={raw!r} must be positive")
    return value


def map_error(
    err: Exception, base_url: str, secrets: Sequence[str] = ()
) -> TransientBackendError | FatalBackendError:
    """The backend failure kind for an SDK exception, with the status and the server's message."""
    if isinstance(err, openai.APITimeoutError):
        return TransientBackendError(None, f"no answer from {base_url} before the timeout")
    if isinstance(err, openai.APIConnectionError):
        cause = f" ({err.__cause__})" if err.__cause__ else ""
        return TransientBackendError(None, scrub(f"cannot connect to {base_url}{cause}", secrets))
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        message = scrub(_server_message(err), secrets)
        if status == 429:
            if (
                getattr(err, "code", None) == "insufficient_quota"
                or "exceeded your current quota" in message.lower()
            ):
                return FatalBackendError(
                    429,
                    message,
                    "the account's quota is spent: add credit or raise the quota, "
                    "then continue with `aga run -t <sim> -s N`",
                )
            return TransientBackendError(429, message, retry_after(err.response.headers))
        if status in (408, 409) or status >= 500:
            return TransientBackendError(status, message, retry_after(err.response.headers))
        return FatalBackendError(status, message, _fatal_hint(status, base_url))
    if isinstance(err, (openai.APIResponseValidationError, json.JSONDecodeError, ValueError)):
        return TransientBackendError(None, f"malformed response from {base_url}")
    return TransientBackendError(None, scrub(f"{type(err).__name__}: {err}", secrets))


def _server_message(err: openai.APIStatusError) -> str:
    body = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return err.message


def retry_after(headers: Any) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (numbers only), or None."""
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(header) if headers is not None else None
        if raw:
            try:
                return max(0.0, float(raw) / divisor)
            except ValueError:
                continue
    return None


def _fatal_hint(status: int, base_url: str) -> str:
    tail = "then continue with `aga run -t <sim> -s N`"
    if status in (401, 403):
        return f"check OPENAI_API_KEY for {base_url}; {tail}"
    if status == 404:
        return f"check the model name (is it pulled/served at {base_url}?) and OPENAI_BASE_URL; {tail}"
    return f"the server at {base_url} rejected the request; {tail}"


def _schema_name(task: str) -> str:
    return (re.sub(r"[^A-Za-z0-9_-]", "_", task) or "answer")[:64]


def _mentions(err: Exception, *words: str) -> bool:
    text = (
        str(getattr(err, "message", err)).lower()
        + json.dumps(getattr(err, "body", None), default=str).lower()
    )
    return any(w in text for w in words)


class OpenAIBackend:
    """Chat completions on an OpenAI-compatible endpoint, adapting the structured-output form.

    Args:
        model: the model name as the server knows it.
        client: an ``openai.AsyncOpenAI`` built with ``max_retries=0``.
        base_url: the endpoint (for messages and the form memory).
        name: backend name for the ledger (``openai``, ``openai-local``, ``openai-compatible``).
        structured: ``auto`` (adapt: json_schema, json_object, tools, prompt) or one form to force.
        options: extra request fields (``--llm-option``), sent in the body of every call.
        memory: where the learned form is kept (the process-wide one by default).
    """

    def __init__(
        self,
        model: str,
        client: openai.AsyncOpenAI,
        *,
        base_url: str,
        name: str = "openai",
        structured: str = "auto",
        options: Mapping[str, Any] | None = None,
        memory: FormMemory | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.base_url = base_url
        self.structured = check_structured(structured)
        self.options = dict(options or {})
        self._memory = memory or FORM_MEMORY
        self._client = client
        self.tokens_param = "max_tokens"  # or "max_completion_tokens" if the server insists

    @classmethod
    def from_env(
        cls,
        model: str,
        *,
        timeout: float | None = None,
        structured: str = "auto",
        options: Mapping[str, Any] | None = None,
    ) -> OpenAIBackend:
        """Build from OPENAI_BASE_URL / OPENAI_API_KEY (a key is optional for local servers)."""
        client, base_url, name = client_from_env(f"--llm openai:{model}", timeout=timeout)
        return cls(model, client, base_url=base_url, name=name, structured=structured, options=options)

    @property
    def format_mode(self) -> str:
        """The structured-output form the next schema call uses."""
        if self.structured != "auto":
            return self.structured
        return self._memory.get(self.base_url, self.model)

    @property
    def server(self) -> str:
        """The endpoint as shown in messages (host and port)."""
        parsed = urlparse(self.base_url)
        return parsed.netloc or self.base_url

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """One answer. A refused structured form is replaced at once by the next one (never
        counted as an outage); an outage or another rejection is raised for the retry layer."""
        form = self.format_mode if request.json_schema is not None else "prompt"
        billed_prompt = billed_completion = billed_cached = 0
        for _ in range(len(FORMS) + 3):
            try:
                completion = await self._client.chat.completions.create(**self._params(request, form))
            except openai.APIStatusError as err:
                message = _server_message(err)
                if self.tokens_param == "max_tokens" and _mentions(err, "max_completion_tokens"):
                    self.tokens_param = "max_completion_tokens"
                    continue
                if (
                    request.json_schema is not None
                    and form != "prompt"
                    and is_refusal(err.status_code, message)
                ):
                    following = self._refused(form, f"HTTP {err.status_code}: {scrub(message)[:120]}")
                    if following is not None:
                        form = following
                        continue
                    raise FatalBackendError(
                        err.status_code,
                        scrub(message, [self._client.api_key]),
                        f"the server at {self.base_url} refuses the {form} form; "
                        "try --structured auto, or another form",
                    ) from None
                raise map_error(err, self.base_url, [self._client.api_key]) from None
            except (openai.OpenAIError, ValueError) as err:
                raise map_error(err, self.base_url, [self._client.api_key]) from None
            response = self._response(completion, request, form)
            if request.json_schema is not None and form != "prompt" and looks_like_prose(response.text):
                # prose from a form that has answered JSON before is a bad answer (the gateway
                # repairs it), not a refusal: one odd answer must not change the form for the run;
                # before any JSON, the first prose answer is repaired too and a second one (any
                # call) means the server ignores the form
                confirmed = self._memory.confirmed(self.base_url, self.model, form)
                odd = confirmed or self._memory.prose(self.base_url, self.model, form) < 2
                following = None if odd else self._refused(form, "it answered prose")
                if following is not None:
                    billed_prompt += response.prompt_tokens
                    billed_completion += response.completion_tokens
                    billed_cached += response.cached_tokens
                    form = following
                    continue
            if request.json_schema is not None and form != "prompt" and not looks_like_prose(response.text):
                self._memory.confirm(self.base_url, self.model, form)
            return LLMResponse(
                response.text,
                response.prompt_tokens + billed_prompt,
                response.completion_tokens + billed_completion,
                response.model,
                response.cached_tokens + billed_cached,
            )
        raise FatalBackendError(
            400, "the server kept rejecting the request parameters", _fatal_hint(400, self.base_url)
        )

    def _refused(self, form: str, why: str) -> str | None:
        """The next form after a refusal of ``form`` (None when forced or none is left)."""
        if self.structured != "auto":
            return None
        return self._memory.refused(self.base_url, self.model, form, self.server, why)

    def _params(self, request: LLMRequest, form: str) -> dict[str, Any]:
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.user})
        params: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": request.temperature,
            self.tokens_param: request.max_tokens,
        }
        schema = request.json_schema
        name = _schema_name(request.task)
        if schema is not None and form == "json_schema":
            params["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
        elif schema is not None and form == "json_object":
            params["response_format"] = {"type": "json_object", "schema": schema}
        elif schema is not None and form == "tools":
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": name, "description": "Give the answer.", "parameters": schema},
                }
            ]
            params["tool_choice"] = {"type": "function", "function": {"name": name}}
        if self.options:
            params["extra_body"] = dict(self.options)
        return params

    def _response(self, completion: Any, request: LLMRequest, form: str) -> LLMResponse:
        choices = getattr(completion, "choices", None)
        if not choices:
            raise TransientBackendError(None, f"malformed response from {self.base_url} (no choices)")
        message = choices[0].message
        text = message.content or ""
        calls = getattr(message, "tool_calls", None) or []
        if form == "tools" and calls:
            function = getattr(calls[0], "function", None)
            text = getattr(function, "arguments", None) or text
        usage = getattr(completion, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) if details is not None else None
        if prompt is None:
            prompt = count_tokens(request.system) + count_tokens(request.user)
        if completion_tokens is None:
            completion_tokens = count_tokens(text)
        return LLMResponse(
            text,
            int(prompt),
            int(completion_tokens),
            getattr(completion, "model", None) or self.model,
            int(cached or 0),
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint.

    Args:
        model: embedding model name.
        client: an ``openai.AsyncOpenAI`` built with ``max_retries=0``.
        base_url: the endpoint (for messages).
        name: backend name for the ledger.
    """

    def __init__(
        self, model: str, client: openai.AsyncOpenAI, *, base_url: str, name: str = "openai"
    ) -> None:
        self.model = model
        self.name = name
        self.base_url = base_url
        self.dim = KNOWN_DIMS.get(model, 0)  # learned from the first answer otherwise
        self._client = client

    @classmethod
    def from_env(cls, model: str, *, timeout: float | None = None) -> OpenAIEmbedder:
        """Build from OPENAI_BASE_URL / OPENAI_API_KEY."""
        client, base_url, name = client_from_env(f"--embed openai:{model}", timeout=timeout)
        return cls(model, client, base_url=base_url, name=name)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` float32 rows."""
        vectors, _ = await self.embed_counted(texts)
        return vectors

    async def embed_counted(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """Rows and the prompt tokens the server billed."""
        try:
            result = await self._client.embeddings.create(model=self.model, input=list(texts))
        except (openai.OpenAIError, ValueError) as err:
            raise map_error(err, self.base_url, [self._client.api_key]) from None
        data = sorted(getattr(result, "data", None) or [], key=lambda d: d.index)
        if len(data) != len(texts):
            raise TransientBackendError(
                None, f"malformed response from {self.base_url} ({len(data)} vectors for {len(texts)} texts)"
            )
        vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        self.dim = int(vectors.shape[1])
        usage = getattr(result, "usage", None)
        tokens = getattr(usage, "prompt_tokens", None)
        return vectors, int(tokens) if tokens is not None else sum(count_tokens(t) for t in texts)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()
