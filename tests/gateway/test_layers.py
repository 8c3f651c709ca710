"""Each layer of the gateway stack on its own, over a small backend test double, then the stack."""

from __future__ import annotations

import asyncio
import random

import pytest

from aga.errors import BackendUnavailable
from aga.gateway import FatalBackendError, LLMRequest, LLMResponse, MemoryCache, TransientBackendError
from aga.gateway.layers import (
    BackendCall,
    Bound,
    BoundLayer,
    CacheLayer,
    CallMeta,
    LedgerLayer,
    RetryLayer,
    TimeoutLayer,
    stack_layers,
)
from aga.gateway.ledger import Ledger
from aga.gateway.retry import RetryPolicy
from aga.testing import ScriptedBackend

from .conftest import RATE, SleepRecorder, make_gateway

REQ = LLMRequest("t", "sys", "user", None, None, 10, 0.0)


def run(coro):
    return asyncio.run(coro)


class Inner:
    """Test double of the layer below: answers (or raises) from a script, counts its calls."""

    def __init__(self, *script: object, delay: float = 0.0) -> None:
        self.script = list(script)
        self.calls = 0
        self.delay = delay

    async def __call__(self, request: LLMRequest, meta: CallMeta) -> LLMResponse:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        item = self.script.pop(0) if self.script else LLMResponse("answer", 5, 2, "m")
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, LLMResponse)
        return item


def test_backend_call_is_the_backends_one_method():
    backend = ScriptedBackend(handler=lambda r, rng: "hello")
    response = run(BackendCall(backend)(REQ, CallMeta()))
    assert response.text == "hello" and backend.calls == [REQ]


def test_timeout_layer_turns_a_slow_call_into_a_transient_failure():
    slow = Inner(delay=0.2)
    with pytest.raises(TransientBackendError, match="no answer within 0.05 s"):
        run(TimeoutLayer(slow, 0.05)(REQ, CallMeta()))
    assert run(TimeoutLayer(Inner(), None)(REQ, CallMeta())).text == "answer"


def test_bound_layer_keeps_calls_in_flight_at_the_limit_and_counts_the_waiting():
    bound = Bound(2)
    inner = Inner(delay=0.02)
    layer = BoundLayer(inner, bound)
    seen: list[tuple[int, int]] = []

    async def watch():
        for _ in range(5):
            await asyncio.sleep(0.005)
            seen.append((bound.waiting, bound.in_flight))

    async def many():
        await asyncio.gather(watch(), *(layer(REQ, CallMeta()) for _ in range(6)))

    run(many())
    assert inner.calls == 6 and bound.most_in_flight == 2
    assert max(f for _, f in seen) == 2 and max(w for w, _ in seen) >= 3  # 6 calls, 2 slots
    assert (bound.waiting, bound.in_flight) == (0, 0)
    with pytest.raises(ValueError):
        Bound(0)


def test_cache_layer_stores_an_answer_only_once_it_is_accepted():
    cache = MemoryCache()
    inner = Inner(LLMResponse("first", 5, 2, "m"), LLMResponse("second", 5, 2, "m"))
    layer = CacheLayer(inner, cache, backend="b", model="m")
    meta = CallMeta()
    assert run(layer(REQ, meta)).text == "first"
    assert len(cache) == 0  # not validated yet: nothing stored
    meta.on_valid.clear()  # the gateway found it invalid
    meta = CallMeta()
    assert run(layer(REQ, meta)).text == "second" and len(cache) == 0
    meta.accept()
    hit = run(layer(REQ, CallMeta()))
    assert (hit.text, hit.cached, hit.prompt_tokens) == ("second", True, 0)
    assert inner.calls == 2


def test_ledger_layer_leaves_one_row_per_attempt_with_the_reason_of_a_failure():
    ledger = Ledger()
    inner = Inner(TransientBackendError(503, "busy"), LLMResponse("ok", 7, 3, "served-model", 4))
    layer = LedgerLayer(inner, ledger, backend="b", model="asked")
    meta = CallMeta(agent="Ann")
    with pytest.raises(TransientBackendError):
        run(layer(REQ, meta))
    run(layer(REQ, meta))
    rows = ledger.drain()
    assert rows == meta.rows and len(rows) == 2
    assert (rows[0].ok, rows[0].error, rows[0].model) == (False, "HTTP 503: busy", "asked")
    assert (rows[1].ok, rows[1].model, rows[1].prompt_tokens, rows[1].cached_tokens) == (
        True,
        "served-model",
        7,
        4,
    )
    assert rows[1].agent == "Ann"


def test_retry_layer_retries_transient_failures_only_within_the_budget():
    sleep = SleepRecorder()
    policy = RetryPolicy(max_tries=3, base_delay=0.001, max_delay=0.01)
    flaky = Inner(TransientBackendError(500, "a"), TransientBackendError(None, "b"))
    layer = RetryLayer(flaky, policy, backend="b", model="m", rng=random.Random(1), sleep=sleep)
    assert run(layer(REQ, CallMeta())).text == "answer" and flaky.calls == 3 and len(sleep.waits) == 2
    dead = Inner(*[TransientBackendError(500, "down")] * 5)
    with pytest.raises(BackendUnavailable, match="gave up after 3 tries"):
        run(
            RetryLayer(dead, policy, backend="b", model="m", rng=random.Random(1), sleep=sleep)(
                REQ, CallMeta()
            )
        )
    fatal = Inner(FatalBackendError(401, "key"))
    with pytest.raises(BackendUnavailable, match="401"):
        run(
            RetryLayer(fatal, policy, backend="b", model="m", rng=random.Random(1), sleep=sleep)(
                REQ, CallMeta()
            )
        )
    assert fatal.calls == 1


def test_the_stack_is_retry_ledger_cache_bound_timeout_backend():
    stack = stack_layers(
        ScriptedBackend(), ledger=Ledger(), cache=MemoryCache(), max_in_flight=3, timeout=5.0
    )
    names = []
    layer = stack.top
    while layer is not None:
        names.append(type(layer).__name__)
        layer = getattr(layer, "inner", None)
    assert names == ["RetryLayer", "LedgerLayer", "CacheLayer", "BoundLayer", "TimeoutLayer", "BackendCall"]
    assert stack.bound.limit == 3


def test_an_answer_that_fails_validation_is_never_cached():
    cache = MemoryCache()
    bad = '{"rating": 9, "reason": "out of range"}'
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=[bad, bad, bad]), cache=cache)
    vars = {"name": "A", "event": "b"}
    assert run(gw.ask(RATE, vars, agent="A", game_time=None)) is None  # all three answers invalid
    assert len(cache) == 0
    answer = run(gw.ask(RATE, vars, agent="A", game_time=None))  # asked again: a fresh call, valid now
    assert answer is not None and len(backend.calls) == 4 and len(cache) == 1
    again = run(gw.ask(RATE, vars, agent="A", game_time=None))
    assert again == answer and len(backend.calls) == 4  # the valid one is replayed for free
    rows = gw.ledger.drain()
    assert [r.defaulted for r in rows[:3]] == [False, False, True] and rows[-1].cached
