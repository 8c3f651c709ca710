"""Retrying transient backend failures with exponential backoff and jitter.

A transient failure (timeout, connection error, 429, 5xx) is retried after
``base_delay * 2**n`` seconds (capped, with +-jitter), or after the server's Retry-After when it
gave one. Past ``max_tries`` or the time budget, or at once on a fatal failure, the caller gets
``BackendUnavailable`` naming backend, model, status, the server's message and what to do.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aga.errors import BackendUnavailable
from aga.gateway.secrets import scrub
from aga.gateway.types import BackendError, FatalBackendError, TransientBackendError

T = TypeVar("T")

RESUME_HINT = "then continue the simulation with `aga run -t <sim> -s N`"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up.

    Attributes:
        max_tries: attempts in total (the first one included).
        budget_seconds: give up rather than wait past this much time since the first attempt.
        base_delay: the first wait; doubled after each failure.
        max_delay: no single wait is longer (a Retry-After is capped at the budget instead).
        jitter: each computed wait is scaled by a factor in ``[1 - jitter, 1 + jitter]``.
    """

    max_tries: int = 6
    budget_seconds: float = 120.0
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.25

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th failure (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return float(retry_after)
        base = min(self.max_delay, self.base_delay * (2 ** (failures - 1)))
        return max(0.0, base * (1 + rng.uniform(-self.jitter, self.jitter)))


def hint_for(status: int | None, backend: str) -> str:
    """What the user should do about a failure with this status."""
    if status in (401, 403):
        what = "check the API key and its permissions"
    elif status == 404:
        what = "check the model name and the endpoint URL"
    elif status == 429:
        what = "the endpoint is rate-limiting or the quota is spent: wait, or raise the quota"
    elif status is not None and status >= 500:
        what = "the server is failing: wait a little"
    elif status == 400:
        what = "the server rejected the request: check that the model supports this kind of call"
    else:
        what = "check that the endpoint is running and reachable (base URL, network)"
    return f"{what}; {RESUME_HINT}"


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    backend: str,
    model: str,
    rng: random.Random,
    on_failure: Callable[[BackendError, float], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, retrying transient failures within ``policy``.

    Args:
        call: makes one attempt.
        policy: the retry budget.
        backend: backend name, for the final error.
        model: model name, for the final error.
        rng: source of jitter (owned by the caller; no module-level randomness).
        on_failure: told about every failed attempt and its duration (the ledger row).
        sleep: how to wait (tests pass a fast one).

    Raises:
        BackendUnavailable: a fatal failure, or transient ones past the budget.
    """
    started = time.monotonic()
    failures = 0
    while True:
        t0 = time.monotonic()
        try:
            return await call()
        except TransientBackendError as transient:
            err: BackendError = transient
        except FatalBackendError as fatal:
            on_failure(fatal, time.monotonic() - t0)
            hint = fatal.hint or hint_for(fatal.status, backend)
            raise BackendUnavailable(
                backend, model, scrub(fatal.message), status=fatal.status, hint=hint
            ) from None
        on_failure(err, time.monotonic() - t0)
        failures += 1
        assert isinstance(err, TransientBackendError)
        wait = policy.delay(failures, err.retry_after, rng)
        spent = time.monotonic() - started
        if failures >= policy.max_tries or spent + wait > policy.budget_seconds:
            message = scrub(err.message)
            tail = f" (gave up after {failures} tries in {spent:.1f} s)"
            raise BackendUnavailable(
                backend, model, message + tail, status=err.status, hint=hint_for(err.status, backend)
            ) from None
        await sleep(wait)
