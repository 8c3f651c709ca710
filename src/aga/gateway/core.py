"""The Gateway: the one door cognition uses to reach language and embedding models.

Layers, top to bottom: ``ask``/``choose`` render the task and validate the answer (re-asking
with a repair note, then the fallback or ``ModelAnswerError``); ``_complete`` consults the
response cache, bounds the calls in flight and retries transient failures; the backend does the
call. Every backend call (and every failed attempt) leaves one ledger row.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from aga.errors import ModelAnswerError
from aga.gateway.cache import ResponseCache, request_key
from aga.gateway.embeddings import EmbeddingCache
from aga.gateway.ledger import Ledger, LedgerRow
from aga.gateway.parsing import AnswerProblem, match_choice, parse_answer
from aga.gateway.retry import RetryPolicy, call_with_retries
from aga.gateway.secrets import scrub
from aga.gateway.task import Task
from aga.gateway.tokens import count_tokens
from aga.gateway.types import (
    Backend,
    BackendError,
    Embedder,
    LLMRequest,
    LLMResponse,
    TransientBackendError,
    choice_schema,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

log = logging.getLogger("aga.gateway")

INVALID_ANSWER = "invalid answer: "
"""Ledger error prefix of an answer that arrived but did not fit (billed, unlike a transport failure)."""

REPAIR_NOTE = (
    "\n\nYour previous answer could not be used: {problem}.\n"
    "Previous answer: {previous}\n"
    "Answer again, with only the JSON object."
)


class Gateway:
    """Asks tasks of a backend and embeds texts, with validation, retries, cache and ledger.

    Args:
        backend: the language model.
        embedder: the embedding model.
        cache: optional response cache (``MemoryCache`` or ``SqliteCache``).
        retry: budget for transient backend failures.
        max_in_flight: most backend calls running at once.
        max_attempts: answers tried per ask/choose before the fallback or ``ModelAnswerError``.
        timeout: optional per-call time limit in seconds (a timeout is a transient failure).
        sleep: how retries wait (tests pass a fast one).
    """

    def __init__(
        self,
        backend: Backend,
        embedder: Embedder,
        *,
        cache: ResponseCache | None = None,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 4,
        max_attempts: int = 3,
        timeout: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.backend = backend
        self.embedder = embedder
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self.max_in_flight = max_in_flight
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.ledger = Ledger()
        self._sleep = sleep
        self._embeddings = EmbeddingCache()
        self._jitter = random.Random(
            int.from_bytes(hashlib.sha256(f"{backend.name}/{backend.model}".encode()).digest()[:8], "big")
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    @property
    def embed_model(self) -> str:
        """Name of the embedding model; part of every stored vector's key."""
        return self.embedder.model

    # ----------------------------------------------------------------- cognition calls

    async def ask(
        self,
        task: Task[M],
        vars: Mapping[str, Any],
        *,
        agent: str | None,
        game_time: datetime | None,
        fallback: M | None = None,
    ) -> M:
        """Ask ``task`` and return its validated answer.

        Raises:
            ModelAnswerError: no valid answer within the attempts and no fallback given.
            BackendUnavailable: the backend failed past the retry budget.
        """
        schema = task.schema
        if schema is None:
            raise TypeError(f"task '{task.name}' has no schema; use Gateway.choose for choice tasks")
        system, user = task.render(vars)
        request = LLMRequest(
            task.name, system, user, task.json_schema(), None, task.max_tokens, task.temperature, dict(vars)
        )
        return await self._solve(request, lambda text: parse_answer(text, schema), agent, game_time, fallback)

    async def choose(
        self,
        task: Task[None],
        options: Sequence[str],
        vars: Mapping[str, Any],
        *,
        agent: str | None,
        game_time: datetime | None,
        fallback: str | None = None,
    ) -> str:
        """Ask the model to pick one of ``options``; returns exactly one of them.

        A single option is returned without a model call.

        Raises:
            ModelAnswerError: no valid pick within the attempts and no fallback given.
            BackendUnavailable: the backend failed past the retry budget.
        """
        if task.schema is not None:
            raise TypeError(f"task '{task.name}' has a schema; use Gateway.ask")
        opts = list(dict.fromkeys(str(o) for o in options))
        if not opts:
            raise ValueError(f"task '{task.name}': choose needs at least one option")
        if fallback is not None and fallback not in opts:
            raise ValueError(f"task '{task.name}': fallback {fallback!r} is not one of the options")
        if len(opts) == 1:
            return opts[0]
        system, user = task.render(vars)
        user = f"{user}\n\nOptions:\n" + "\n".join(f"- {o}" for o in opts)
        request = LLMRequest(
            task.name,
            system,
            user,
            choice_schema(opts),
            tuple(opts),
            task.max_tokens,
            task.temperature,
            dict(vars),
        )
        return await self._solve(request, lambda text: match_choice(text, opts), agent, game_time, fallback)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, dim)`` float32 unit rows; cached by (model, text); concurrent requests coalesced."""
        return await self._embeddings.get(self.embed_model, self.embedder.dim, list(texts), self._embed_batch)

    # ----------------------------------------------------------------- embedding store

    def drain_new_embeddings(self) -> list[tuple[str, str, np.ndarray]]:
        """``(model, text, vector)`` computed since the last drain, for the runner to persist."""
        return self._embeddings.drain_new()

    def preload_embeddings(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Restore stored vectors of ``model`` so they are not computed again; returns the count."""
        return self._embeddings.preload(model, items)

    async def aclose(self) -> None:
        """Release the backend's and the cache's resources (HTTP clients, files)."""
        for thing in (self.backend, self.embedder):
            closer = getattr(thing, "aclose", None)
            if closer is not None:
                await closer()
        close = getattr(self.cache, "close", None)
        if close is not None:
            close()

    # ----------------------------------------------------------------- layers

    async def _solve(
        self,
        request: LLMRequest,
        read: Callable[[str], T],
        agent: str | None,
        game_time: datetime | None,
        fallback: T | None,
    ) -> T:
        """Validation and repair: ask, read, re-ask with the problem, then fallback or raise."""
        rows: list[LedgerRow] = []
        text, problem = "", ""
        try:
            for attempt in range(self.max_attempts):
                req = request if attempt == 0 else _repaired(request, text, problem)
                response, row = await self._complete(req, agent, game_time, rows)
                try:
                    return read(response.text)
                except AnswerProblem as err:
                    text, problem = response.text, str(err)
                    row.ok, row.error = False, f"{INVALID_ANSWER}{problem}"[:300]
                    log.debug("task %s attempt %d: %s", request.task, attempt + 1, problem)
            if fallback is not None:
                rows[-1].defaulted = True
                log.info(
                    "task %s: no valid answer after %d attempts; using the fallback",
                    request.task,
                    self.max_attempts,
                )
                return fallback
            raise ModelAnswerError(request.task, text, problem)
        finally:
            self.ledger.extend(rows)

    async def _complete(
        self, request: LLMRequest, agent: str | None, game_time: datetime | None, rows: list[LedgerRow]
    ) -> tuple[LLMResponse, LedgerRow]:
        """Cache, concurrency bound and retries around one backend call; appends its ledger rows."""
        backend = self.backend
        key = request_key(backend.name, backend.model, request) if self.cache is not None else ""
        if self.cache is not None:
            t0 = time.monotonic()
            hit = self.cache.get(key)
            if hit is not None:
                row = LedgerRow(
                    request.task,
                    agent,
                    game_time,
                    hit.model,
                    backend.name,
                    0,
                    0,
                    time.monotonic() - t0,
                    cached=True,
                )
                rows.append(row)
                return hit, row
        timing: dict[str, float] = {}

        def failed(err: BackendError, seconds: float) -> None:
            rows.append(
                LedgerRow(
                    request.task,
                    agent,
                    game_time,
                    backend.model,
                    backend.name,
                    seconds=seconds,
                    ok=False,
                    error=scrub(str(err))[:300],
                )
            )
            log.warning("%s call for task %s failed: %s", backend.name, request.task, scrub(str(err)))

        response = await call_with_retries(
            lambda: self._attempt(lambda: backend.complete(request), timing),
            policy=self.retry,
            backend=backend.name,
            model=backend.model,
            rng=self._jitter,
            on_failure=failed,
            sleep=self._sleep,
        )
        row = LedgerRow(
            request.task,
            agent,
            game_time,
            response.model or backend.model,
            backend.name,
            int(response.prompt_tokens),
            int(response.completion_tokens),
            timing["seconds"],
            prompt=f"{request.system}\n\n{request.user}",
            answer=response.text,
        )
        rows.append(row)
        if self.cache is not None:
            self.cache.put(key, response)
        return response, row

    async def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """One embedder call (with retries); leaves its ledger rows.

        An embedder may offer ``embed_counted(texts) -> (vectors, billed tokens)``; otherwise the
        tokens are estimated.
        """
        embedder = self.embedder
        name = str(getattr(embedder, "name", "embedded"))
        rows: list[LedgerRow] = []
        timing: dict[str, float] = {}

        def failed(err: BackendError, seconds: float) -> None:
            rows.append(
                LedgerRow(
                    "embed",
                    model=embedder.model,
                    backend=name,
                    seconds=seconds,
                    ok=False,
                    error=scrub(str(err))[:300],
                    kind="embed",
                )
            )

        counted = getattr(embedder, "embed_counted", None)

        async def one_call() -> tuple[np.ndarray, int | None]:
            if counted is not None:
                return await counted(texts)
            return await embedder.embed(texts), None

        try:
            vectors, tokens = await call_with_retries(
                lambda: self._attempt(one_call, timing),
                policy=self.retry,
                backend=name,
                model=embedder.model,
                rng=self._jitter,
                on_failure=failed,
                sleep=self._sleep,
            )
            prompt_tokens = int(tokens) if tokens is not None else sum(count_tokens(t) for t in texts)
            rows.append(
                LedgerRow(
                    "embed",
                    model=embedder.model,
                    backend=name,
                    prompt_tokens=prompt_tokens,
                    seconds=timing["seconds"],
                    kind="embed",
                )
            )
            return vectors
        finally:
            self.ledger.extend(rows)

    async def _attempt(self, call: Callable[[], Awaitable[T]], timing: dict[str, float]) -> T:
        """One backend call inside the concurrency bound and the optional time limit."""
        async with self._bound():
            t0 = time.monotonic()
            try:
                if self.timeout is None:
                    result = await call()
                else:
                    result = await asyncio.wait_for(call(), self.timeout)
            except TimeoutError:
                raise TransientBackendError(None, f"no answer within {self.timeout:g} s") from None
            timing["seconds"] = time.monotonic() - t0
            return result

    def _bound(self) -> asyncio.Semaphore:
        """The semaphore of the running event loop (a gateway may outlive one ``asyncio.run``)."""
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.max_in_flight)
        return self._semaphore


def _repaired(request: LLMRequest, previous: str, problem: str) -> LLMRequest:
    """The request again, with a short note on what was wrong appended to the input."""
    shown = previous.strip().replace("\n", " ")
    shown = shown if len(shown) <= 300 else shown[:297] + "..."
    note = REPAIR_NOTE.format(problem=problem, previous=shown or "(empty)")
    return LLMRequest(
        request.task,
        request.system,
        request.user + note,
        request.json_schema,
        request.choices,
        request.max_tokens,
        request.temperature,
        request.vars,
    )
