"""The backend seam: what a model call looks like on the wire side of the gateway.

Backends implement one method, ``complete(LLMRequest) -> LLMResponse``; embedders one method,
``embed(texts) -> ndarray``. Everything else (validation, repair, retries, cache, ledger) lives
above this seam in the gateway. A backend reports failures with the two exceptions below and
nothing else: ``TransientBackendError`` (worth retrying) or ``FatalBackendError`` (not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class LLMRequest:
    """One model call, fully rendered.

    Attributes:
        task: the task name (metrics key, scripted-rule key).
        system: the static instructions (sent first / as the system message).
        user: the changing input, with any repair note appended at the end.
        json_schema: JSON schema of the answer object. For choice tasks it is the
            ``{"choice": enum}`` object schema, so schema-constrained backends need nothing else.
        choices: for choice tasks, the allowed options (answer is ``{"choice": <one of these>}``).
        max_tokens: upper bound on generated tokens; always sent to the backend.
        temperature: sampling temperature.
        vars: the task inputs, for logs and tests' own probes only (never sent to a model; the
            scripted test double's rules do not read them).
        hint: the value of the task's one declared hint input, if it has one: a test double may
            read it, a model never sees it.
    """

    task: str
    system: str
    user: str
    json_schema: dict[str, Any] | None
    choices: tuple[str, ...] | None
    max_tokens: int
    temperature: float
    vars: Mapping[str, Any] = field(default_factory=dict, compare=False)
    hint: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class LLMResponse:
    """What a backend answered: the raw text and the token counts it reported.

    Attributes:
        text: the answer text.
        prompt_tokens: input tokens billed (cached ones included).
        completion_tokens: output tokens billed.
        model: the model that answered.
        cached_tokens: of ``prompt_tokens``, those the server read from its prompt cache (when it
            reports them: ``usage.prompt_tokens_details.cached_tokens``); priced apart.
        cached: answered from the gateway's response cache (set by the cache layer; no cost).
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    cached_tokens: int = 0
    cached: bool = False


@runtime_checkable
class Backend(Protocol):
    """A language model behind the seam."""

    name: str
    model: str

    async def complete(self, request: LLMRequest) -> LLMResponse:
        """Answer one request; raise TransientBackendError / FatalBackendError on failure."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """A text embedding model: ``(n, dim)`` float32 rows."""

    model: str
    dim: int

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; one row per text."""
        ...


class BackendError(Exception):
    """Base of the two backend failure kinds. Messages must already be free of secrets."""

    def __init__(self, status: int | None, message: str) -> None:
        self.status = status
        self.message = message
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{code}{message}")


class TransientBackendError(BackendError):
    """A failure worth retrying: timeout, connection error, 429, 5xx.

    Args:
        status: HTTP status, or None for timeouts and connection errors.
        message: the server's (scrubbed) message.
        retry_after: seconds the server asked us to wait, if it said so.
    """

    def __init__(self, status: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(status, message)
        self.retry_after = retry_after


class FatalBackendError(BackendError):
    """A failure retrying will not fix: bad key (401/403), unknown model (404), bad request (400).

    Args:
        status: HTTP status, if any.
        message: the server's (scrubbed) message.
        hint: what the user should do about it.
    """

    def __init__(self, status: int | None, message: str, hint: str = "") -> None:
        super().__init__(status, message)
        self.hint = hint


def choice_schema(options: Sequence[str]) -> dict[str, Any]:
    """The JSON schema of a choice answer: ``{"choice": <one of options>}``."""
    return {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": list(options)}},
        "required": ["choice"],
        "additionalProperties": False,
    }
