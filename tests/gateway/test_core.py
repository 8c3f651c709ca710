"""Gateway.ask / choose / embed over the scripted test double: validation, repair, fallback, retries."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from aga.errors import BackendUnavailable, InputError
from aga.gateway import FatalBackendError, MemoryCache, TransientBackendError
from aga.gateway.parsing import in_words
from aga.testing import ScriptedBackend

from .conftest import PICK, PLAN, RATE, Plan, Rating, make_gateway

T0 = datetime(2023, 2, 13, 7, 30)


def run(coro):
    return asyncio.run(coro)


def test_ask_returns_a_schema_valid_answer_and_one_ledger_row():
    gw, backend, _ = make_gateway()
    answer = run(gw.ask(RATE, {"name": "Isabella", "event": "making coffee"}, agent="Isabella", game_time=T0))
    assert isinstance(answer, Rating) and answer.rating in (1, 2, 3, 4, 5)
    rows = gw.ledger.drain()
    assert len(rows) == 1
    row = rows[0]
    assert (row.task, row.agent, row.game_time, row.model, row.ok, row.kind) == (
        "rate_event",
        "Isabella",
        T0,
        "scripted",
        True,
        "llm",
    )
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    assert gw.ledger.drain() == []
    request = backend.calls[0]
    assert request.system.startswith("You score how much")
    assert '"rating": 1|2|3|4|5' in request.system  # the fixed answer format rides on the instructions
    assert request.user == "Person: Isabella\nEvent: making coffee"


def test_answer_inside_prose_and_code_fences_is_accepted():
    fenced = 'Sure! Here you go:\n```json\n{"rating": 4, "reason": "a {big} day"}\n```\nAnything else?'
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, faults=[fenced]))
    answer = run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert answer == Rating(rating=4, reason="a {big} day")


def test_invalid_answer_is_repaired_with_a_note_naming_the_problem():
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=['{"rating": 9, "reason": "x"}']))
    answer = run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert answer.rating in (1, 2, 3, 4, 5)
    assert len(backend.calls) == 2
    repair = backend.calls[1].user
    assert repair.startswith(backend.calls[0].user)  # same prefix: the note is appended at the end
    assert "rating" in repair and '{"rating": 9' in repair
    assert backend.calls[1].system == backend.calls[0].system
    rows = gw.ledger.drain()
    assert [r.ok for r in rows] == [False, True]
    assert rows[0].error.startswith("invalid answer: rating")


def test_attempts_spent_returns_the_fallback_marked_defaulted():
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=["no idea", "still none", "{}"]))
    fallback = Rating(rating=1, reason="default")
    answer = run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None, fallback=fallback))
    assert answer is fallback
    rows = gw.ledger.drain()
    assert len(rows) == 3 and len(backend.calls) == 3
    assert [r.defaulted for r in rows] == [False, False, True]
    assert not any(r.ok for r in rows)


def test_attempts_spent_without_fallback_return_none_and_the_ledger_says_defaulted():
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, faults=["nope"] * 3), max_attempts=3)
    assert run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None)) is None
    rows = gw.ledger.drain()
    assert len(rows) == 3 and [r.defaulted for r in rows] == [False, False, True]
    assert all(r.error.startswith("invalid answer:") for r in rows)
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, faults=['{"choice": "moon"}'] * 3))
    assert (
        run(gw.choose(PICK, ["cafe", "park"], {"name": "A", "query": "x"}, agent="A", game_time=None)) is None
    )
    assert gw.ledger.drain()[-1].defaulted


def test_an_input_the_template_does_not_use_is_refused_naming_task_and_inputs():
    gw, backend, _ = make_gateway()
    with pytest.raises(InputError, match=r"task 'rate_event' .*not used by the template: extra, mood"):
        run(gw.ask(RATE, {"name": "A", "event": "b", "mood": "x", "extra": 1}, agent="A", game_time=None))
    with pytest.raises(InputError, match=r"placeholder \$event has no value"):
        run(gw.ask(RATE, {"name": "A"}, agent="A", game_time=None))
    assert backend.calls == []


def test_choose_returns_exactly_one_option_and_accepts_loose_matches():
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=['{"choice": "  PARK   bench. "}']))
    options = ["cafe counter", "park bench", "library desk"]
    assert (
        run(gw.choose(PICK, options, {"name": "A", "query": "x"}, agent="A", game_time=None)) == "park bench"
    )
    request = backend.calls[0]
    assert request.choices == tuple(options)
    assert request.json_schema["properties"]["choice"]["enum"] == options
    assert request.user.endswith("Options:\n- cafe counter\n- park bench\n- library desk")


def test_choose_picks_by_query_words_with_the_scripted_double():
    gw, _, _ = make_gateway()
    options = ["cafe counter", "park bench", "library desk"]
    pick = run(
        gw.choose(PICK, options, {"name": "A", "query": "read at the library"}, agent="A", game_time=None)
    )
    assert pick == "library desk"


def test_choose_repairs_an_unknown_option_then_uses_the_fallback():
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=['{"choice": "moon"}'] * 3))
    options = ["cafe", "park"]
    assert (
        run(gw.choose(PICK, options, {"name": "A", "query": "x"}, agent="A", game_time=None, fallback="park"))
        == "park"
    )
    assert "'moon' is not one of the options" in backend.calls[1].user
    assert gw.ledger.drain()[-1].defaulted


def test_choose_with_one_option_costs_no_call():
    gw, backend, _ = make_gateway()
    assert (
        run(gw.choose(PICK, ["home", "home"], {"name": "A", "query": "x"}, agent="A", game_time=None))
        == "home"
    )
    assert backend.calls == [] and gw.ledger.drain() == []


def test_choose_rejects_a_fallback_outside_the_options():
    gw, _, _ = make_gateway()
    with pytest.raises(ValueError, match="not one of the options"):
        run(gw.choose(PICK, ["a", "b"], {"name": "A", "query": "x"}, agent="A", game_time=None, fallback="c"))


def test_schema_with_nested_lists_gets_a_valid_generic_answer():
    gw, _, _ = make_gateway()
    plan = run(gw.ask(PLAN, {"name": "Klaus"}, agent="Klaus", game_time=None))
    assert isinstance(plan, Plan) and 1 <= len(plan.steps) <= 3


def test_transient_failures_are_retried_with_backoff_and_recorded():
    faults = [
        TransientBackendError(503, "overloaded"),
        TransientBackendError(429, "slow down", retry_after=3.0),
    ]
    gw, _backend, sleep = make_gateway(ScriptedBackend(rules={}, faults=faults))
    run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert len(sleep.waits) == 2
    assert 0 < sleep.waits[0] <= 0.01 and sleep.waits[1] == 3.0  # Retry-After is honoured
    rows = gw.ledger.drain()
    assert [r.ok for r in rows] == [False, False, True]
    assert rows[0].error == "HTTP 503: overloaded" and rows[1].error == "HTTP 429: slow down"


def test_transient_failures_past_the_budget_raise_backend_unavailable():
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, faults=[TransientBackendError(500, "boom")] * 10))
    with pytest.raises(BackendUnavailable) as info:
        run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    err = info.value
    assert (err.backend, err.model, err.status) == ("scripted", "scripted", 500)
    assert "boom" in str(err) and "aga run -t" in err.hint
    assert len(gw.ledger.drain()) == 4  # max_tries of the fast policy


def test_fatal_failure_is_not_retried():
    gw, backend, sleep = make_gateway(ScriptedBackend(rules={}, faults=[FatalBackendError(401, "bad key")]))
    with pytest.raises(BackendUnavailable, match="HTTP 401: bad key") as info:
        run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert "API key" in info.value.hint
    assert len(backend.calls) == 1 and sleep.waits == []


def test_calls_in_flight_are_bounded():
    backend = ScriptedBackend(rules={}, delay=0.01)
    gw, _, _ = make_gateway(backend, max_in_flight=3)

    async def many():
        await asyncio.gather(
            *(gw.ask(RATE, {"name": f"P{i}", "event": "e"}, agent=None, game_time=None) for i in range(12))
        )

    run(many())
    assert backend.max_in_flight_seen == 3
    assert len(gw.ledger.drain()) == 12


def test_gateway_survives_two_event_loops():
    gw, _, _ = make_gateway(ScriptedBackend(rules={}, delay=0.001), max_in_flight=1)

    async def pair():
        await asyncio.gather(
            *(gw.ask(RATE, {"name": n, "event": "e"}, agent=None, game_time=None) for n in "AB")
        )

    run(pair())
    run(pair())
    assert len(gw.ledger.drain()) == 4


def test_response_cache_answers_repeats_for_free():
    gw, backend, _ = make_gateway(cache=MemoryCache())
    vars = {"name": "A", "event": "b"}
    first = run(gw.ask(RATE, vars, agent="A", game_time=None))
    second = run(gw.ask(RATE, vars, agent="A", game_time=None))
    assert first == second and len(backend.calls) == 1
    rows = gw.ledger.drain()
    assert [r.cached for r in rows] == [False, True]
    assert rows[1].prompt_tokens == rows[1].completion_tokens == 0


def test_embed_caches_by_text_and_coalesces_concurrent_requests():
    gw, _, _ = make_gateway()

    async def together():
        return await asyncio.gather(gw.embed(["a cat", "a dog"]), gw.embed(["a dog", "a cat"]))

    first, second = run(together())
    assert first.shape == (2, 256) and second.shape == (2, 256) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(second, axis=1), 1.0)
    assert np.allclose(first[0], second[1]) and np.allclose(first[1], second[0])
    assert gw.embedder.calls == 1  # the second request waited for the first batch
    blank = run(gw.embed([""]))
    assert gw.embedder.calls == 2 and np.isclose(np.linalg.norm(blank), 1.0)
    new = gw.drain_new_embeddings()
    assert sorted(t for _, t, _ in new) == ["", "a cat", "a dog"]
    assert all(m == "hash-embedder-v1" for m, _, _ in new)
    run(gw.embed(["a cat"]))
    assert gw.embedder.calls == 2 and gw.drain_new_embeddings() == []
    rows = gw.ledger.drain()
    assert [r.kind for r in rows] == ["embed", "embed"] and rows[0].model == "hash-embedder-v1"


def test_preloaded_embeddings_are_not_computed_again():
    gw, _, _ = make_gateway()
    stored = {"old memory": np.ones(256, dtype=np.float32)}
    assert gw.preload_embeddings(gw.embed_model, stored.items()) == 1
    vec = run(gw.embed(["old memory"]))
    assert gw.embedder.calls == 0 and np.isclose(np.linalg.norm(vec), 1.0)
    assert gw.drain_new_embeddings() == []


def test_embed_failure_reaches_every_waiting_caller():
    class Broken:
        model, dim, name = "broken", 4, "test"

        async def embed(self, texts):
            await asyncio.sleep(0)
            raise FatalBackendError(403, "no access")

    gw, _, _ = make_gateway()
    gw.embedder = Broken()

    async def together():
        return await asyncio.gather(gw.embed(["x"]), gw.embed(["x"]), return_exceptions=True)

    results = run(together())
    assert all(isinstance(r, BackendUnavailable) for r in results)
    assert not gw.ledger.drain()[0].ok


def test_a_re_ask_is_sampled_warmer_so_the_same_wrong_answer_is_less_likely():
    from aga.gateway.core import REPAIR_TEMPERATURES

    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=["no idea", '{"rating": 9}']))
    run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    temps = [c.temperature for c in backend.calls]
    assert len(temps) == 3 and temps[0] == RATE.temperature
    assert (
        temps[1:] == [max(RATE.temperature, t) for t in REPAIR_TEMPERATURES]
        and temps[2] > temps[1] > temps[0]
    )


def test_an_answer_its_check_refuses_is_shown_again_in_plain_words_not_as_json():
    checked = replace(RATE, check=lambda a: "the reason must name the event" if a.reason == "x" else None)
    gw, backend, _ = make_gateway(ScriptedBackend(rules={}, faults=['{"rating": 3, "reason": "x"}']))
    run(gw.ask(checked, {"name": "A", "event": "b"}, agent="A", game_time=None))
    repair = backend.calls[1].user
    assert repair.startswith(backend.calls[0].user)
    note = repair[len(backend.calls[0].user) :]
    assert "3, x" in note and "the reason must name the event" in note
    assert '{"rating"' not in note  # the JSON is what a small model copies back


def test_in_words_flattens_an_answer_and_leaves_text_that_is_not_json():
    plan = (
        '{"items": [{"activity": "get up", "hour": 6}, {"activity": "go to bed", "hour": 23}], "done": true}'
    )
    assert in_words(plan) == "get up, 6; go to bed, 23, yes"
    assert in_words("no idea") == "no idea"
