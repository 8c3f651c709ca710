"""The layers around the one backend method, each a small wrapper with the same call shape.

A layer is an async callable ``(request, meta) -> LLMResponse`` wrapping an inner one. The
stack ``build_gateway`` builds, outermost first::

    Retry -> Ledger -> Cache -> Bound -> Timeout -> BackendCall

* ``RetryLayer`` retries transient failures with backoff and jitter; past its budget, or at once
  on a fatal failure, ``BackendUnavailable``.
* ``LedgerLayer`` leaves one ledger row per attempt: a cache hit, a billed answer or a failure.
* ``CacheLayer`` answers a repeated request from the response cache; a new answer is stored only
  once the Gateway found it valid (``meta.accept()``), so a failed answer is never replayed.
* ``BoundLayer`` bounds the backend calls in flight (``--max-in-flight``), counting the calls
  waiting and in flight for the progress line.
* ``TimeoutLayer`` turns a call that takes too long into a transient failure.
* ``BackendCall`` is the backend's ``complete``.

``CallMeta`` travels down with each call: who asked (for the ledger), the rows left so far,
the time spent waiting for a slot, and what to do once the answer proves valid.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from aga.aio import start
from aga.gateway.cache import ResponseCache, request_key
from aga.gateway.ledger import Ledger, LedgerRow
from aga.gateway.retry import RetryPolicy, call_with_retries
from aga.gateway.secrets import scrub
from aga.gateway.types import Backend, BackendError, LLMRequest, LLMResponse, TransientBackendError

T = TypeVar("T")

log = logging.getLogger("aga.gateway")


@dataclass
class CallMeta:
    """What travels down the stack with one request.

    Attributes:
        agent: the resident the call is for (ledger).
        game_time: the simulation time of the call (ledger).
        rows: ledger rows this ask left so far, oldest first (the Gateway marks the last one
            invalid or defaulted).
        queued: seconds the current attempt waited for a slot (not counted as call time).
        on_valid: what to do once the current attempt's answer passed validation.
    """

    agent: str | None = None
    game_time: datetime | None = None
    rows: list[LedgerRow] = field(default_factory=list)
    queued: float = 0.0
    on_valid: list[Callable[[], None]] = field(default_factory=list)

    def accept(self) -> None:
        """The current answer is valid: run (and forget) what waited for that."""
        todo, self.on_valid = self.on_valid, []
        for action in todo:
            action()


class Call(Protocol):
    """One layer (or the whole stack): answer ``request``."""

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The backend's answer to ``request``."""
        ...


class BackendCall:
    """The bottom of the stack: the backend's one method."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """``backend.complete(request)``."""
        return await self.backend.complete(request)


class TimeoutLayer:
    """A call that takes longer than ``seconds`` fails as a transient error (None: no limit)."""

    def __init__(self, inner: Call, seconds: float | None) -> None:
        self.inner = inner
        self.seconds = seconds

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The inner answer within the time limit."""
        return await with_timeout(lambda: self.inner(request, meta), self.seconds)


async def with_timeout(call: Callable[[], Awaitable[T]], seconds: float | None) -> T:
    """``call()`` within ``seconds``; a timeout becomes ``TransientBackendError``."""
    if seconds is None:
        return await call()
    try:
        awaitable = call()
        if asyncio.iscoroutine(awaitable):  # an answer at hand (a test double) needs no task
            done, value = start(awaitable)
            if done:
                return value  # type: ignore[no-any-return]
            awaitable = value
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise TransientBackendError(None, f"no answer within {seconds:g} s") from None


class Bound:
    """At most ``limit`` calls at once, across every caller; counts waiting and in-flight calls.

    The semaphore belongs to the running event loop (a gateway may outlive one ``asyncio.run``).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.limit = limit
        self.waiting = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.limit)
        return self._semaphore

    async def run(self, call: Callable[[], Awaitable[T]], waited: Callable[[float], None] | None = None) -> T:
        """``call()`` once a slot is free; ``waited`` is told the seconds spent waiting for it."""
        slot = self._slot()
        t0 = time.monotonic()
        self.waiting += 1
        try:
            await slot.acquire()
        finally:
            self.waiting -= 1
        if waited is not None:
            waited(time.monotonic() - t0)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await call()
        finally:
            self.in_flight -= 1
            slot.release()


class BoundLayer:
    """The concurrency bound around the inner call; the wait goes to ``meta.queued``."""

    def __init__(self, inner: Call, bound: Bound) -> None:
        self.inner = inner
        self.bound = bound

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The inner answer, once a slot is free."""

        def waited(seconds: float) -> None:
            meta.queued = seconds

        return await self.bound.run(lambda: self.inner(request, meta), waited)


class CacheLayer:
    """Answers a repeated request from ``cache``; stores a new answer once it proved valid.

    Args:
        inner: the layer below.
        cache: the storage.
        backend: backend name, part of the key.
        model: model name, part of the key.
    """

    def __init__(self, inner: Call, cache: ResponseCache, *, backend: str, model: str) -> None:
        self.inner = inner
        self.cache = cache
        self.backend = backend
        self.model = model

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The stored answer (marked ``cached``), or the inner one (stored on ``meta.accept()``)."""
        key = request_key(self.backend, self.model, request)
        hit = self.cache.get(key)
        if hit is not None:
            return LLMResponse(hit.text, 0, 0, hit.model, 0, cached=True)
        response = await self.inner(request, meta)
        meta.on_valid.append(lambda: self.cache.put(key, response))
        return response


class LedgerLayer:
    """One ledger row per attempt: cached, billed or failed (with the scrubbed reason).

    Args:
        inner: the layer below.
        ledger: where the rows go (drained by the runner each step).
        backend: backend name of the rows (for pricing).
        model: model asked (the answer's own model name wins when it gives one).
    """

    def __init__(self, inner: Call, ledger: Ledger, *, backend: str, model: str) -> None:
        self.inner = inner
        self.ledger = ledger
        self.backend = backend
        self.model = model

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The inner answer; its row (or the failure's) is added to the ledger and ``meta.rows``."""
        meta.queued = 0.0
        t0 = time.monotonic()
        try:
            response = await self.inner(request, meta)
        except BackendError as err:
            seconds = max(0.0, time.monotonic() - t0 - meta.queued)
            self._add(
                meta,
                LedgerRow(
                    request.task,
                    meta.agent,
                    meta.game_time,
                    self.model,
                    self.backend,
                    seconds=seconds,
                    ok=False,
                    error=scrub(str(err))[:300],
                ),
            )
            log.warning("%s call for task %s failed: %s", self.backend, request.task, scrub(str(err)))
            raise
        seconds = max(0.0, time.monotonic() - t0 - meta.queued)
        self._add(
            meta,
            LedgerRow(
                request.task,
                meta.agent,
                meta.game_time,
                response.model or self.model,
                self.backend,
                int(response.prompt_tokens),
                int(response.completion_tokens),
                seconds,
                cached=response.cached,
                cached_tokens=int(response.cached_tokens),
                prompt=f"{request.system}\n\n{request.user}",
                answer=response.text,
            ),
        )
        return response

    def _add(self, meta: CallMeta, row: LedgerRow) -> None:
        meta.rows.append(row)
        self.ledger.add(row)


class RetryLayer:
    """Retries transient failures of the inner call within ``policy`` (see ``call_with_retries``).

    Args:
        inner: the layer below.
        policy: the retry budget.
        backend: backend name, for the final error.
        model: model name, for the final error.
        rng: jitter source (seeded by the caller).
        sleep: how to wait (tests pass a fast one).
    """

    def __init__(
        self,
        inner: Call,
        policy: RetryPolicy,
        *,
        backend: str,
        model: str,
        rng: random.Random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.backend = backend
        self.model = model
        self.rng = rng
        self.sleep = sleep

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        """The inner answer, retried while the failures are transient and the budget lasts."""
        return await call_with_retries(
            lambda: self.inner(request, meta),
            policy=self.policy,
            backend=self.backend,
            model=self.model,
            rng=self.rng,
            on_failure=lambda err, seconds: None,
            sleep=self.sleep,
        )


@dataclass
class Stack:
    """The built stack: its top, and the pieces the Gateway and the progress line look at."""

    top: Call
    bound: Bound
    ledger: Ledger
    timeout: float | None


def stack_layers(
    backend: Backend,
    *,
    ledger: Ledger,
    cache: ResponseCache | None = None,
    retry: RetryPolicy | None = None,
    max_in_flight: int = 4,
    timeout: float | None = None,
    rng: random.Random | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Stack:
    """Stack Retry -> Ledger -> Cache (if any) -> Bound -> Timeout -> BackendCall.

    Args:
        backend: the language model.
        ledger: where the rows go.
        cache: optional response cache.
        retry: budget for transient failures (default ``RetryPolicy()``).
        max_in_flight: most backend calls at once.
        timeout: optional per-call limit in seconds.
        rng: jitter source (default: seeded by backend and model names).
        sleep: how retries wait.
    """
    bound = Bound(max_in_flight)
    call: Call = TimeoutLayer(BackendCall(backend), timeout)
    call = BoundLayer(call, bound)
    if cache is not None:
        call = CacheLayer(call, cache, backend=backend.name, model=backend.model)
    call = LedgerLayer(call, ledger, backend=backend.name, model=backend.model)
    call = RetryLayer(
        call,
        retry or RetryPolicy(),
        backend=backend.name,
        model=backend.model,
        rng=rng or jitter_rng(backend),
        sleep=sleep,
    )
    return Stack(call, bound, ledger, timeout)


def jitter_rng(backend: Backend) -> random.Random:
    """A jitter source seeded by sha256 of the backend's name and model (no global randomness)."""
    import hashlib

    digest = hashlib.sha256(f"{backend.name}/{backend.model}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
