"""Structured output that adapts to the server, against fake OpenAI-compatible servers on loopback.

Each fake refuses or ignores the schema forms the way some real server does; every run must
complete with the right form, the right number of retries (none for a refusal), one notice.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from aga.errors import BackendUnavailable, InputError
from aga.gateway import RetryPolicy, build_gateway
from aga.gateway.prices import load_prices
from aga.gateway.structured import FORM_MEMORY, is_refusal
from aga.testing import ScriptedBackend
from aga.testing.fake_openai import FakeOpenAIServer

from .conftest import PICK, PLAN, RATE, Plan, Rating, SleepRecorder

RETRY = RetryPolicy(max_tries=4, budget_seconds=10.0, base_delay=0.001, max_delay=0.01)


@pytest.fixture(autouse=True)
def fresh_memory():
    FORM_MEMORY.forget()
    yield
    FORM_MEMORY.forget()


def serve(monkeypatch, **kw) -> FakeOpenAIServer:
    fake = FakeOpenAIServer(backend=ScriptedBackend(rules={}), **kw).start()
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a loopback server needs no key
    monkeypatch.setenv("AGA_LLM_TIMEOUT", "5")
    return fake


def gateway(model: str = "fake-model", **kw):
    sleep = SleepRecorder()
    return build_gateway(f"openai:{model}", embed="hash", retry=RETRY, sleep=sleep, **kw), sleep


async def ask_all(gw):
    rating = await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None)
    pick = await gw.choose(
        PICK, ["cafe", "park", "library"], {"name": "A", "query": "the park"}, agent="A", game_time=None
    )
    plan = await gw.ask(PLAN, {"name": "A"}, agent="A", game_time=None)
    await gw.aclose()
    return rating, pick, plan


def forms(fake: FakeOpenAIServer) -> list[str]:
    return [fake.form_of(r["body"]) for r in fake.requests if r["path"].endswith("/chat/completions")]


def notices(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "does not take" in r.getMessage()]


@pytest.mark.parametrize("status", ["400", "422", "500"])
def test_a_server_refusing_json_schema_gets_json_object_at_once_without_retries(monkeypatch, caplog, status):
    fake = serve(monkeypatch, structured={"json_schema": status})
    caplog.set_level(logging.WARNING, logger="aga.gateway")
    server = fake.url.split("//")[1].split("/")[0]
    try:
        gw, sleep = gateway()
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    assert forms(fake) == [
        "json_schema",
        "json_object",
        "json_object",
        "json_object",
    ]  # refused once, remembered
    assert sleep.waits == []  # a refused form is no outage: the retry budget is untouched
    rows = gw.ledger.drain()
    assert len(rows) == 3 and all(r.ok for r in rows)
    (notice,) = notices(caplog)  # said once
    assert notice.startswith(f"{server} does not take json_schema (HTTP {status}: ")
    assert notice.endswith("; using json_object")


def test_a_server_answering_prose_for_json_schema_gets_json_object_and_the_prose_is_billed(monkeypatch):
    fake = serve(monkeypatch, structured={"json_schema": "prose"})
    try:
        gw, sleep = gateway()
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    # the first prose answer is repaired like any bad answer (one odd answer must not change the
    # form); the second, before json_schema ever gave JSON, shows the server ignores it
    assert forms(fake) == ["json_schema", "json_schema", "json_object", "json_object", "json_object"]
    assert sleep.waits == []
    rows = gw.ledger.drain()
    assert len(rows) == 4 and not rows[0].ok and all(r.ok for r in rows[1:])
    calls = [r for r in fake.requests if r["path"].endswith("/chat/completions")]
    assert calls[1]["body"]["messages"] == calls[2]["body"]["messages"]  # the repaired question again
    assert rows[1].prompt_tokens > rows[2].prompt_tokens  # both calls of the repaired ask are counted


def test_one_prose_answer_after_json_schema_worked_is_repaired_and_the_form_kept(monkeypatch, caplog):
    fake = serve(monkeypatch)
    caplog.set_level(logging.WARNING, logger="aga.gateway")

    async def two_asks(gw):
        first = await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None)
        fake.fail("invalid_json")  # the next answer is prose, once (a flaky model, not a refusal)
        second = await gw.ask(PLAN, {"name": "A"}, agent="A", game_time=None)
        await gw.aclose()
        return first, second

    try:
        gw, sleep = gateway()
        first, second = asyncio.run(two_asks(gw))
    finally:
        fake.stop()
    assert isinstance(first, Rating) and isinstance(second, Plan)
    assert forms(fake) == ["json_schema", "json_schema", "json_schema"]  # prose, then the repair
    assert notices(caplog) == []  # no form change announced
    assert sleep.waits == []


def test_a_server_refusing_every_schema_form_is_asked_by_prompt_and_the_gateway_validates(
    monkeypatch, caplog
):
    fake = serve(monkeypatch, structured={"json_schema": "500", "json_object": "422", "tools": "400"})
    caplog.set_level(logging.WARNING, logger="aga.gateway")
    try:
        gw, sleep = gateway()
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    assert forms(fake) == ["json_schema", "json_object", "tools", "prompt", "prompt", "prompt"]
    assert sleep.waits == [] and all(r.ok for r in gw.ledger.drain())
    assert [n.split(" does not take ")[1].split(" ")[0] for n in notices(caplog)] == [
        "json_schema",
        "json_object",
        "tools",
    ]


def test_a_server_ignoring_the_response_format_gets_a_forced_tool_call(monkeypatch):
    fake = serve(monkeypatch, structured={"json_schema": "prose", "json_object": "prose"})
    try:
        gw, _ = gateway()
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    # each ignored form answers prose twice (the first is repaired as an odd answer)
    assert forms(fake) == [
        "json_schema",
        "json_schema",
        "json_object",
        "json_object",
        "tools",
        "tools",
        "tools",
    ]
    body = fake.requests[-1]["body"]
    assert body["tool_choice"]["function"]["name"] == "plan_day" and "response_format" not in body


def test_transient_failures_are_retried_and_never_taken_for_a_refusal(monkeypatch):
    fake = serve(monkeypatch, structured={"json_schema": "500"})
    fake.fail("500", "500")  # an outage first: "The server had an error ..." names no format
    try:
        gw, sleep = gateway()
        rating = asyncio.run(gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None))
    finally:
        fake.stop()
    assert isinstance(rating, Rating)
    assert forms(fake) == ["json_schema", "json_schema", "json_schema", "json_object"]
    assert len(sleep.waits) == 2  # two outages, two retries; the refusal cost none
    rows = gw.ledger.drain()
    assert [r.ok for r in rows] == [False, False, True] and "HTTP 500" in rows[0].error


def test_a_server_that_takes_json_schema_keeps_it_through_outages(monkeypatch):
    fake = serve(monkeypatch)
    fake.fail("500", "429")
    try:
        gw, sleep = gateway()
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan)
    assert set(forms(fake)) == {"json_schema"} and len(sleep.waits) == 2


@pytest.mark.parametrize("form", ["json_schema", "json_object", "tools", "prompt"])
def test_a_forced_form_is_the_only_one_sent(monkeypatch, form):
    fake = serve(monkeypatch)
    try:
        gw, _ = gateway(structured=form)
        rating, pick, plan = asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    assert forms(fake) == [form] * 3


def test_a_forced_form_the_server_refuses_stops_at_once_with_a_hint(monkeypatch):
    fake = serve(monkeypatch, structured={"json_schema": "400"})
    try:
        gw, sleep = gateway(structured="json_schema")
        with pytest.raises(BackendUnavailable, match="--structured auto"):
            asyncio.run(gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None))
    finally:
        fake.stop()
    assert forms(fake) == ["json_schema"] and sleep.waits == []


def test_the_form_is_remembered_per_endpoint_and_model_for_the_run(monkeypatch):
    fake = serve(monkeypatch, structured={"json_schema": "422"})
    try:
        asyncio.run(ask_all(gateway("model-a")[0]))
        asyncio.run(ask_all(gateway("model-a")[0]))  # a new gateway, same endpoint and model
        asyncio.run(ask_all(gateway("model-b")[0]))  # another model on the same server
    finally:
        fake.stop()
    assert forms(fake) == (
        ["json_schema", "json_object", "json_object", "json_object"]
        + ["json_object"] * 3
        + ["json_schema", "json_object", "json_object", "json_object"]
    )


def test_refusal_needs_a_refusing_status_and_a_message_naming_the_format():
    assert is_refusal(500, "Unsupported param: response_format.json_schema")
    assert is_refusal(400, "tools are not supported")
    assert not is_refusal(500, "The server had an error while processing your request")
    assert not is_refusal(503, "response_format is fine, we are just overloaded")
    assert not is_refusal(401, "invalid schema key")


def test_llm_options_ride_in_every_request_body(monkeypatch):
    fake = serve(monkeypatch)
    try:
        gw, _ = gateway(
            llm_options=["chat_template_kwargs.enable_thinking=false", "reasoning_effort=low", "top_k=20"]
        )
        asyncio.run(ask_all(gw))
    finally:
        fake.stop()
    for body in (r["body"] for r in fake.requests if r["path"].endswith("/chat/completions")):
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
        assert body["reasoning_effort"] == "low" and body["top_k"] == 20


@pytest.mark.parametrize("bad", ["novalue", "=1", "a..b=1"])
def test_a_malformed_llm_option_is_a_clear_input_error(monkeypatch, bad):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(InputError, match="KEY=VALUE"):
        build_gateway("openai:m", embed="hash", llm_options=[bad])


def test_llm_options_are_refused_for_backends_that_take_none():
    with pytest.raises(InputError, match="OpenAI-compatible"):
        build_gateway("scripted", llm_options=["a=1"])


def test_cached_prompt_tokens_are_counted_and_priced_lower(monkeypatch, tmp_path):
    fake = serve(monkeypatch, prompt_cache=True)
    try:
        gw, _ = gateway("gpt-4o-mini")
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None))
        asyncio.run(gw.ask(RATE, {"name": "B", "event": "tea"}, agent="B", game_time=None))
    finally:
        fake.stop()
    first, second = gw.ledger.drain()
    assert first.cached_tokens == 0 and 0 < second.cached_tokens < second.prompt_tokens
    table = load_prices()
    full = table.cost("gpt-4o-mini", "openai", second.prompt_tokens, second.completion_tokens)
    cached = table.cost(
        "gpt-4o-mini", "openai", second.prompt_tokens, second.completion_tokens, second.cached_tokens
    )
    assert full is not None and cached is not None
    assert cached == pytest.approx(full - second.cached_tokens * (0.15 - 0.075) / 1e6)


def test_a_run_against_a_server_refusing_json_schema_with_500_completes(monkeypatch, tmp_path, caplog):
    """The reported case: `aga run ... --llm openai:<alias>` against a server answering 500 to
    json_schema used to retry six times and stop at step 0."""
    from aga.runner.lifecycle import RunSettings, fork, open_simulation

    fake = serve(monkeypatch, structured={"json_schema": "500"})
    caplog.set_level(logging.WARNING, logger="aga.gateway")
    try:
        settings = RunSettings(llm="openai:alias", embed="hash")
        folder = fork("base_the_ville_isabella_maria_klaus", tmp_path, "x", settings=settings)
        sim = open_simulation(folder)
        asyncio.run(sim.run(30))
        assert sim.step == 30
        sim.close()
    finally:
        fake.stop()
    kinds = forms(fake)
    refused = kinds.count("json_schema")  # the calls already in flight when the first refusal came
    assert 1 <= refused <= 8 and kinds[0] == "json_schema"  # 8: the default bound of calls in flight
    assert "json_schema" not in kinds[8:] and len(kinds) > 10  # after those, json_object only
    assert len(notices(caplog)) == 1  # said once
