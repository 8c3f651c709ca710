"""The Gateway: the one door cognition uses to reach language and embedding models.

The Gateway renders a task (refusing inputs its template does not use), validates the answer
against the schema or the options, and re-asks with a repair note; when the attempts are spent
``ask``/``choose`` return None (or the caller's fallback) and the last ledger row says
``defaulted``. Everything between the Gateway and the backend is a stack of small layers
(``aga.gateway.layers``: retry, ledger, response cache, concurrency bound, timeout), built by
``build_gateway``; every backend call and every failed attempt leaves one ledger row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from aga.gateway.cache import ResponseCache
from aga.gateway.embeddings import EmbeddingCache
from aga.gateway.layers import CallMeta, Stack, jitter_rng, stack_layers, with_timeout
from aga.gateway.ledger import Ledger, LedgerRow
from aga.gateway.parsing import AnswerProblem, WrongAnswer, in_words, match_choice, parse_answer
from aga.gateway.retry import RetryPolicy, call_with_retries
from aga.gateway.secrets import scrub
from aga.gateway.task import Task
from aga.gateway.tokens import count_tokens
from aga.gateway.types import (
    Backend,
    BackendError,
    Embedder,
    LLMRequest,
    choice_schema,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

log = logging.getLogger("aga.gateway")

INVALID_ANSWER = "invalid answer: "
"""Ledger error prefix of an answer that arrived but did not fit (billed, unlike a transport failure)."""

SHOWN_CHARS = 900
"""How much of a rejected answer a re-ask quotes: a whole day's plan, so that what was right in
it (the party to prepare) can be kept while the one wrong thing is fixed."""
REPAIR_NOTE = (
    "\n\nYour previous answer could not be used: {problem}.\n"
    "Previous answer: {previous}\n"
    "Answer again, with only the JSON object."
)
WRONG_NOTE = (
    "\n\nYour previous answer could not be used: {previous}\n"
    "The problem: {problem}. Write the whole answer again with that corrected, as one JSON object."
)
"""The re-ask of an answer that fit its schema but failed the task's check: its values in plain
words first (:func:`in_words`), then what is wrong with it."""
REPAIR_TEMPERATURES = (0.5, 0.8)
"""The lowest sampling temperature of the first re-ask and of every later one."""


class Gateway:
    """Asks tasks of a backend and embeds texts: rendering, validation and repair on top of layers.

    Args:
        backend: the language model.
        embedder: the embedding model.
        cache: optional response cache (``MemoryCache`` or ``SqliteCache``); only answers that
            passed validation are stored.
        retry: budget for transient backend failures.
        max_in_flight: most backend calls running at once, across every caller.
        max_attempts: answers tried per ask/choose before giving up (None / the fallback).
        timeout: optional per-call time limit in seconds (a timeout is a transient failure).
        sleep: how retries wait (tests pass a fast one).
        stack: a ready stack of layers (``build_gateway`` passes one); built from the arguments
            above when None.
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
        stack: Stack | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.backend = backend
        self.embedder = embedder
        self.cache = cache
        self.retry = retry or RetryPolicy()
        self.max_attempts = max_attempts
        self.timeout = timeout
        if stack is None:
            stack = stack_layers(
                backend,
                ledger=Ledger(),
                cache=cache,
                retry=self.retry,
                max_in_flight=max_in_flight,
                timeout=timeout,
                sleep=sleep,
            )
        self.stack = stack
        self.ledger = stack.ledger
        self.bound = stack.bound
        self._sleep = sleep
        self._embeddings = EmbeddingCache()
        self._jitter = jitter_rng(backend)

    @property
    def in_process(self) -> bool:
        """Whether the model and the embedder both answer inside this process without network
        libraries (their ``in_process`` attribute: the test doubles), so that coroutines may be
        started outside a task of their own (:mod:`aga.aio`)."""
        return bool(
            getattr(self.backend, "in_process", False) and getattr(self.embedder, "in_process", False)
        )

    @property
    def embed_model(self) -> str:
        """Name of the embedding model; part of every stored vector's key."""
        return self.embedder.model

    @property
    def max_in_flight(self) -> int:
        """Most backend calls at once."""
        return self.bound.limit

    def load(self) -> tuple[int, int]:
        """``(calls waiting for a slot, calls in flight)`` right now, for the progress line."""
        return self.bound.waiting, self.bound.in_flight

    # ----------------------------------------------------------------- cognition calls

    async def ask(
        self,
        task: Task[M],
        vars: Mapping[str, Any],
        *,
        agent: str | None,
        game_time: datetime | None,
        fallback: M | None = None,
    ) -> M | None:
        """Ask ``task``; its validated answer, or None when the attempts are spent.

        When no valid answer came, the last ledger row says ``defaulted`` and ``fallback`` (None
        unless given) is returned, so a caller tells a failed answer by ``is None``.

        Raises:
            InputError: an input the template does not use, or a placeholder no input fills.
            BackendUnavailable: the backend failed past the retry budget.
        """
        schema = task.schema
        if schema is None:
            raise TypeError(f"task '{task.name}' has no schema; use Gateway.choose for choice tasks")
        system, user = task.render(vars)
        request = LLMRequest(
            task.name,
            system,
            user,
            task.json_schema(),
            None,
            task.max_tokens,
            task.temperature,
            dict(vars),
            task.hint_of(vars),
        )
        return await self._solve(
            request, lambda text: task.checked(parse_answer(text, schema)), agent, game_time, fallback
        )

    async def choose(
        self,
        task: Task[None],
        options: Sequence[str],
        vars: Mapping[str, Any],
        *,
        agent: str | None,
        game_time: datetime | None,
        fallback: str | None = None,
    ) -> str | None:
        """Ask the model to pick one of ``options``: exactly one of them, or None when the
        attempts are spent (``fallback`` instead, when given; the ledger row says ``defaulted``).

        A single option is returned without a model call.

        Raises:
            InputError: an input the template does not use, or a placeholder no input fills.
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
            task.hint_of(vars),
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

    # ----------------------------------------------------------------- validation and repair

    async def _solve(
        self,
        request: LLMRequest,
        read: Callable[[str], T],
        agent: str | None,
        game_time: datetime | None,
        fallback: T | None,
    ) -> T | None:
        """Ask, read, re-ask with the problem; then the fallback (None unless given)."""
        meta = CallMeta(agent, game_time)
        text, problem, wrong = "", "", False
        for attempt in range(self.max_attempts):
            req = request if attempt == 0 else _repaired(request, text, problem, attempt, wrong)
            response = await self.stack.top(req, meta)
            try:
                answer = read(response.text)
            except AnswerProblem as err:
                meta.on_valid.clear()  # the cache never keeps an answer that did not fit
                text, problem = response.text, str(err)
                if isinstance(err, WrongAnswer):
                    text, wrong = in_words(text), True
                else:
                    wrong = False
                row = meta.rows[-1]
                row.ok, row.error = False, f"{INVALID_ANSWER}{problem}"[:300]
                log.debug("task %s attempt %d: %s", request.task, attempt + 1, problem)
                continue
            meta.accept()
            return answer
        meta.rows[-1].defaulted = True
        log.info("task %s: no valid answer after %d attempts; defaulted", request.task, self.max_attempts)
        return fallback

    # ----------------------------------------------------------------- embeddings

    async def _embed_batch(self, texts: list[str]) -> np.ndarray:
        """One embedder call (with retries, inside the bound and the time limit); leaves its rows.

        An embedder may offer ``embed_counted(texts) -> (vectors, billed tokens)``; otherwise the
        tokens are estimated.
        """
        embedder = self.embedder
        name = str(getattr(embedder, "name", "embedded"))
        timing: dict[str, float] = {}

        def failed(err: BackendError, seconds: float) -> None:
            self.ledger.add(
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

        async def timed() -> tuple[np.ndarray, int | None]:
            t0 = time.monotonic()
            result = await with_timeout(one_call, self.timeout)
            timing["seconds"] = time.monotonic() - t0
            return result

        vectors, tokens = await call_with_retries(
            lambda: self.bound.run(timed),
            policy=self.retry,
            backend=name,
            model=embedder.model,
            rng=self._jitter,
            on_failure=failed,
            sleep=self._sleep,
        )
        prompt_tokens = int(tokens) if tokens is not None else sum(count_tokens(t) for t in texts)
        self.ledger.add(
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


def _repaired(
    request: LLMRequest, previous: str, problem: str, attempt: int = 1, wrong: bool = False
) -> LLMRequest:
    """The request again, with a short note on what was wrong appended to the input, sampled at
    least as warm as :data:`REPAIR_TEMPERATURES` says for this attempt (a small model asked the
    same question greedily again mostly gives the same wrong answer back, word for word)."""
    shown = previous.strip().replace("\n", " ")
    shown = shown if len(shown) <= SHOWN_CHARS else shown[: SHOWN_CHARS - 3] + "..."
    note = (WRONG_NOTE if wrong else REPAIR_NOTE).format(problem=problem, previous=shown or "(empty)")
    return LLMRequest(
        request.task,
        request.system,
        request.user + note,
        request.json_schema,
        request.choices,
        request.max_tokens,
        max(request.temperature, REPAIR_TEMPERATURES[min(attempt, len(REPAIR_TEMPERATURES)) - 1]),
        request.vars,
        request.hint,
    )
