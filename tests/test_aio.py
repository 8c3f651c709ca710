"""aga.aio: coroutines started at once, carried on in a task only when they wait."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aga import aio


def _run(main: Any, *, eager: bool) -> Any:
    async def wrapped() -> Any:
        aio.EAGER.set(eager)
        return await main()

    return asyncio.run(wrapped())


def _count_tasks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made = [0]
    real = asyncio.ensure_future

    def counting(*args: Any, **kwargs: Any) -> Any:
        made[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "ensure_future", counting)
    return made


def test_coroutines_that_never_wait_run_in_order_without_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    made = _count_tasks(monkeypatch)
    order: list[int] = []

    async def quick(i: int) -> int:
        order.append(i)
        return i * 10

    async def main() -> list[int]:
        return await aio.gather_or_cancel(quick(i) for i in range(5))

    assert _run(main, eager=True) == [0, 10, 20, 30, 40]
    assert order == [0, 1, 2, 3, 4]
    assert made[0] == 0
    order.clear()
    assert _run(main, eager=False) == [0, 10, 20, 30, 40]  # the same results, one task each
    assert order == [0, 1, 2, 3, 4]
    assert made[0] == 5


def test_a_coroutine_that_waits_is_carried_on_and_sees_results_and_failures() -> None:
    async def leaf(i: int) -> int:
        await asyncio.sleep(0.001 * i)
        if i == 2:
            raise ValueError("leaf 2")
        return i

    async def inner(i: int) -> tuple[int, list[Any]]:
        got: list[Any] = []
        for j in range(3):
            try:
                got.append(await asyncio.ensure_future(leaf(j)))
            except ValueError as err:
                got.append(str(err))
        both = await aio.gather(leaf(0), leaf(1))  # nested, started at once too
        await asyncio.sleep(0)  # a bare yield
        return i, got + both

    async def main() -> list[Any]:
        return await aio.gather_or_cancel(inner(i) for i in range(3))

    for eager in (True, False):
        assert _run(main, eager=eager) == [(i, [0, 1, "leaf 2", 0, 1]) for i in range(3)]


def test_a_failure_cancels_the_waiting_siblings_and_closes_the_unstarted_ones() -> None:
    cancelled: list[str] = []
    started: list[str] = []

    async def slow(name: str) -> None:
        started.append(name)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def boom() -> None:
        started.append("boom")
        raise RuntimeError("model endpoint died")

    async def main() -> None:
        await aio.gather_or_cancel(iter([slow("a"), boom(), slow("never")]))

    with pytest.raises(RuntimeError, match="endpoint died"):
        _run(main, eager=True)
    assert started == ["a", "boom"]
    assert cancelled == ["a"]  # cancelled while it waited; the third was closed, never run


def test_cancelling_the_carrying_task_reaches_the_coroutine() -> None:
    seen: list[str] = []

    async def waits() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            return "cleaned up"
        return "woke"

    async def main() -> tuple[bool, Any]:
        done, task = aio.start(waits())
        assert not done
        await asyncio.sleep(0)
        task.cancel()
        return done, await task

    assert _run(main, eager=True) == (False, "cleaned up")
    assert seen == ["cancelled"]


def test_with_eager_start_off_each_coroutine_runs_in_its_own_task() -> None:
    """What anyio's cancel scopes (httpx) need: the running task is the coroutine's own."""

    async def whose_task() -> bool:
        return asyncio.current_task() is not outer[0]

    outer: list[Any] = [None]

    async def main() -> list[bool]:
        outer[0] = asyncio.current_task()
        return await aio.gather_or_cancel(whose_task() for _ in range(2))

    assert _run(main, eager=False) == [True, True]
    assert _run(main, eager=True) == [False, False]  # which is why it is for in-process doubles only
