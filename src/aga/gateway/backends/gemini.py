"""Gemini backend and embedder on the ``google-genai`` SDK.

``gemini:<model>`` with GOOGLE_API_KEY (or GEMINI_API_KEY); GOOGLE_GEMINI_BASE_URL points it
elsewhere (a proxy, or the fake server in tests). The answer's JSON schema goes in
``response_json_schema`` with JSON output; a server that rejects the schema gets plain JSON mode
from then on. Token counts come from the usage metadata (thinking tokens count as output).
The SDK's own retries are off; SDK errors become ``TransientBackendError`` (timeouts, connection
errors, 429 with its retry delay, 5xx) or ``FatalBackendError`` (400/401/403/404).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import httpx2
import numpy as np
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from aga.errors import InputError
from aga.gateway.secrets import scrub
from aga.gateway.tokens import count_tokens
from aga.gateway.types import FatalBackendError, LLMRequest, LLMResponse, TransientBackendError

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_TIMEOUT = 120.0
_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def client_from_env(what: str, *, timeout: float | None = None) -> tuple[genai.Client, str, str]:
    """An SDK client from GOOGLE_API_KEY / GEMINI_API_KEY; returns (client, base_url, key).

    Raises:
        InputError: no key is set.
    """
    key = os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY") or ""
    if not key:
        raise InputError(
            f"{what}: GOOGLE_API_KEY is not set; create a key at https://aistudio.google.com/apikey"
        )
    base_url = (os.environ.get("GOOGLE_GEMINI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    if timeout is None:
        raw = os.environ.get("AGA_LLM_TIMEOUT")
        try:
            timeout = float(raw) if raw else DEFAULT_TIMEOUT
        except ValueError:
            raise InputError(f"AGA_LLM_TIMEOUT={raw!r} is not a number of seconds") from None
    options = types.HttpOptions(
        base_url=base_url,
        timeout=max(1, int(timeout * 1000)),
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(api_key=key, http_options=options), base_url, key


def retry_delay(err: genai_errors.APIError) -> float | None:
    """Seconds from the error's RetryInfo (``"27s"``) or a Retry-After header, or None."""
    details = err.details if isinstance(err.details, dict) else {}
    inner = details.get("error", details)
    for item in inner.get("details", []) if isinstance(inner, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("retryDelay"), str):
            match = _DELAY.match(item["retryDelay"])
            if match:
                return float(match.group(1))
    headers = getattr(err.response, "headers", None)
    raw = headers.get("retry-after") if headers is not None else None
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def map_error(err: Exception, base_url: str, key: str) -> TransientBackendError | FatalBackendError:
    """The backend failure kind for an SDK or transport exception."""
    if isinstance(err, genai_errors.APIError):
        status = int(err.code) if err.code else None
        message = scrub(str(err.message or err.status or "error"), [key])
        if status == 429:
            return TransientBackendError(429, message, retry_delay(err))
        if status is None or status in (408, 409) or status >= 500:
            return TransientBackendError(status, message, retry_delay(err))
        tail = "then continue with `aga run -t <sim> -s N`"
        if status in (401, 403) or "api key" in message.lower():
            hint = f"check GOOGLE_API_KEY; {tail}"
        elif status == 404:
            hint = f"check the model name (e.g. gemini-2.0-flash); {tail}"
        else:
            hint = f"the Gemini API rejected the request; {tail}"
        return FatalBackendError(status, message, hint)
    if isinstance(err, httpx2.TimeoutException):
        return TransientBackendError(None, f"no answer from {base_url} before the timeout")
    if isinstance(err, httpx2.TransportError):
        return TransientBackendError(None, scrub(f"cannot connect to {base_url} ({err})", [key]))
    if isinstance(err, ValueError):
        return TransientBackendError(None, f"malformed response from {base_url}")
    return TransientBackendError(None, scrub(f"{type(err).__name__}: {err}", [key]))


_EXPECTED = (genai_errors.APIError, httpx2.HTTPError, ValueError)


class GeminiBackend:
    """Gemini ``generateContent`` behind the backend seam.

    Args:
        model: e.g. ``gemini-2.0-flash``.
        client: a ``genai.Client`` with SDK retries off.
        base_url: the endpoint (for messages).
        key: the API key (only to scrub it from messages).
    """

    name = "gemini"

    def __init__(
        self, model: str, client: genai.Client, *, base_url: str = DEFAULT_BASE_URL, key: str = ""
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._client = client
        self._key = key
        self.use_schema = True
        self.no_thinking = model.startswith(
            "gemini-2.5-flash"
        )  # thinking costs output tokens; off where allowed

    @classmethod
    def from_env(cls, model: str, *, timeout: float | None = None) -> GeminiBackend:
        """Build from GOOGLE_API_KEY / GEMINI_API_KEY (and GOOGLE_GEMINI_BASE_URL)."""
        client, base_url, key = client_from_env(f"--llm gemini:{model}", timeout=timeout)
        return cls(model, client, base_url=base_url, key=key)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """One generateContent call; adapts once per kind of rejected option."""
        for _ in range(3):
            try:
                result = await self._client.aio.models.generate_content(
                    model=self.model, contents=request.user, config=self._config(request)
                )
            except genai_errors.ClientError as err:
                if err.code == 400 and self._adapt(err):
                    continue
                raise map_error(err, self.base_url, self._key) from None
            except _EXPECTED as err:
                raise map_error(err, self.base_url, self._key) from None
            return self._response(result, request)
        raise FatalBackendError(400, "the Gemini API kept rejecting the request options")

    def _config(self, request: LLMRequest) -> types.GenerateContentConfig:
        kw: dict[str, Any] = {
            "temperature": request.temperature,
            "max_output_tokens": request.max_tokens,
        }
        if request.system:
            kw["system_instruction"] = request.system
        if request.json_schema is not None:
            kw["response_mime_type"] = "application/json"
            if self.use_schema:
                kw["response_json_schema"] = request.json_schema
        if self.no_thinking:
            kw["thinking_config"] = types.ThinkingConfig(thinking_budget=0)
        return types.GenerateContentConfig(**kw)

    def _adapt(self, err: genai_errors.APIError) -> bool:
        text = str(err.message or "").lower()
        if self.no_thinking and "thinking" in text:
            self.no_thinking = False
            return True
        if self.use_schema and ("schema" in text or "response_json" in text):
            self.use_schema = False
            return True
        return False

    def _response(self, result: Any, request: LLMRequest) -> LLMResponse:
        parts = []
        for candidate in (getattr(result, "candidates", None) or [])[:1]:
            content = getattr(candidate, "content", None)
            for part in getattr(content, "parts", None) or []:
                if getattr(part, "text", None) and not getattr(part, "thought", False):
                    parts.append(part.text)
        text = "".join(parts)  # a blocked or empty answer is "" and fails validation (then repair)
        usage = getattr(result, "usage_metadata", None)
        prompt = getattr(usage, "prompt_token_count", None)
        output = (getattr(usage, "candidates_token_count", None) or 0) + (
            getattr(usage, "thoughts_token_count", None) or 0
        )
        cached = getattr(usage, "cached_content_token_count", None) or 0  # part of the prompt count
        if prompt is None:
            prompt = count_tokens(request.system) + count_tokens(request.user)
            output = output or count_tokens(text)
        return LLMResponse(
            text, int(prompt), int(output), getattr(result, "model_version", None) or self.model, int(cached)
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.aio.aclose()


class GeminiEmbedder:
    """Gemini embeddings (``batchEmbedContents``).

    Args:
        model: e.g. ``text-embedding-004`` or ``gemini-embedding-001``.
        client: a ``genai.Client`` with SDK retries off.
        base_url: the endpoint (for messages).
        key: the API key (only to scrub it from messages).
    """

    name = "gemini"

    def __init__(
        self, model: str, client: genai.Client, *, base_url: str = DEFAULT_BASE_URL, key: str = ""
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.dim = 0  # learned from the first answer
        self._client = client
        self._key = key

    @classmethod
    def from_env(cls, model: str, *, timeout: float | None = None) -> GeminiEmbedder:
        """Build from GOOGLE_API_KEY / GEMINI_API_KEY."""
        client, base_url, key = client_from_env(f"--embed gemini:{model}", timeout=timeout)
        return cls(model, client, base_url=base_url, key=key)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` float32 rows."""
        try:
            contents: list[Any] = list(texts)
            result = await self._client.aio.models.embed_content(model=self.model, contents=contents)
        except _EXPECTED as err:
            raise map_error(err, self.base_url, self._key) from None
        embeddings = getattr(result, "embeddings", None) or []
        if len(embeddings) != len(texts):
            raise TransientBackendError(
                None,
                f"malformed response from {self.base_url} ({len(embeddings)} vectors for {len(texts)} texts)",
            )
        vectors = np.asarray([e.values for e in embeddings], dtype=np.float32)
        self.dim = int(vectors.shape[1])
        return vectors

    async def aclose(self) -> None:
        """Close the SDK's HTTP client."""
        await self._client.aio.aclose()
