"""Starting a coroutine at once instead of in a task: asyncio helpers shared by the runner and
the gateway.

A task costs its creation, a turn of the event loop to start and one to report back. Most of a
step's work never waits for anything (a resident walking on, a scripted answer, a cached one),
so :func:`start` runs a coroutine's first stretch where it is called, in the caller's order, and
only when it then waits for a future does the rest go on in a task (:func:`carry_on`), which
resumes it as a task would: when what it waits for is done, with cancellation passed on.

Python 3.12's eager task factory does the same for a whole event loop; this is the 3.11 form, for
the few places that make many short-lived coroutines. It is on only where :data:`EAGER` says so:
the runner turns it on for a gateway whose model and embedder answer inside this process without
network libraries (the test doubles). Code that ties itself to the running task (the cancel
scopes of anyio under httpx) must not run in a stretch started outside its own task, so with a
model behind HTTP every coroutine gets its task as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["EAGER", "carry_on", "gather", "gather_or_cancel", "start"]

T = TypeVar("T")

EAGER: ContextVar[bool] = ContextVar("aga_eager_start", default=False)
"""Whether :func:`start` runs a coroutine's first stretch at once (else it makes a task)."""


def start(coro: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    """Run ``coro`` until it first waits: ``(True, its result)`` when it finished without waiting,
    else ``(False, a task that carries it on)``. An exception it raises on the way propagates.
    With :data:`EAGER` off, simply ``(False, a task running it)``."""
    if not EAGER.get():
        return False, asyncio.ensure_future(coro)
    try:
        yielded = coro.send(None)
    except StopIteration as done:
        return True, done.value
    task = asyncio.ensure_future(carry_on(coro, yielded))
    task.add_done_callback(lambda done: _cancelled_before_start(done, coro))
    return False, task


def _cancelled_before_start(task: asyncio.Future[Any], coro: Coroutine[Any, Any, Any]) -> None:
    """A carrying task cancelled before its first step never resumed ``coro``: the cancellation
    is passed on to it here, as a task would have, and any clean-up that waits is carried on."""
    if not task.cancelled() or getattr(coro, "cr_frame", None) is None:  # carry_on saw it end
        return
    try:
        yielded = coro.throw(asyncio.CancelledError())
    except BaseException:  # noqa: BLE001, S110 - it ended (cancelled or cleaned up): nothing more
        return
    asyncio.ensure_future(carry_on(coro, yielded))


async def carry_on(coro: Coroutine[Any, Any, T], yielded: Any) -> T:
    """Drive ``coro``, started outside a task and now waiting for ``yielded`` (a future, or None
    for a bare yield), to its end, the way a task would: each time what it waits for is done it
    is resumed and reads the outcome itself; a cancellation of this task reaches it."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False  # taken over, as a task's step does
                await yielded
        except asyncio.CancelledError as err:
            if yielded is None or not yielded.cancelled():  # this task itself was cancelled
                try:
                    yielded = coro.throw(err)
                except StopIteration as done:
                    return done.value  # type: ignore[no-any-return]
                continue
        except BaseException:  # noqa: S110 - the coroutine reads the failure from the future
            pass
        try:
            yielded = coro.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def gather(*coros: Coroutine[Any, Any, Any]) -> list[Any]:
    """``asyncio.gather`` of coroutines, each started at once (:func:`start`) in order: a task
    only for those that wait. Every coroutine is started even when an earlier one raised; the
    first exception then propagates, and the ones still waiting go on, as under ``asyncio.gather``."""
    results: list[Any] = []
    waiting: dict[int, asyncio.Future[Any]] = {}
    error: BaseException | None = None
    for coro in coros:
        try:
            done, value = start(coro)
        except BaseException as err:  # noqa: BLE001 - re-raised once every coroutine has started
            if error is None:
                error = err
            results.append(None)
            continue
        if not done:
            waiting[len(results)] = value
        results.append(value)
    if error is not None:
        raise error
    if waiting:
        for i, value in zip(waiting, await asyncio.gather(*waiting.values())):
            results[i] = value
    return results


async def gather_or_cancel(coros: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``coros`` concurrently; if one fails, cancel the others and wait for them, then re-raise.

    Unlike a bare ``asyncio.gather``, no sibling keeps calling the model (or mutating a resident)
    after the step has failed, and their ledger rows are recorded before the error propagates.

    Each coroutine is started at once, in order, as a task's first step would be
    (:func:`start`); only one that then waits for something (a model call, an embedding)
    goes on in a task. Most residents finish a step without waiting, and for them no task is made.
    """
    results: list[Any] = []
    waiting: dict[int, asyncio.Future[Any]] = {}
    it = iter(coros)
    try:
        for coro in it:
            done, value = start(coro)
            if not done:
                waiting[len(results)] = value
            results.append(value)
        if waiting:
            for i, value in zip(waiting, await asyncio.gather(*waiting.values())):
                results[i] = value
    except BaseException:
        for rest in it:  # not started: closed, so none is left never awaited
            rest.close()
        for task in waiting.values():
            task.cancel()
        await asyncio.gather(*waiting.values(), return_exceptions=True)
        raise
    return results
