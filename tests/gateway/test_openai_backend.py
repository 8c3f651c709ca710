"""The OpenAI-compatible backend with the real SDK against the fake server test double on loopback."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from aga.errors import BackendUnavailable, InputError
from aga.gateway import RetryPolicy, build_gateway
from aga.gateway.backends.openai_compat import OpenAIBackend, is_local
from aga.testing import ScriptedBackend
from aga.testing.fake_openai import FakeOpenAIServer, dead_url, schema_from_shape

from .conftest import PICK, PLAN, RATE, Plan, Rating, SleepRecorder

KEY = "sk-test-double-key-0123456789abcdef"
RETRY = RetryPolicy(max_tries=4, budget_seconds=10.0, base_delay=0.001, max_delay=0.01)


@pytest.fixture
def server():
    with FakeOpenAIServer(backend=ScriptedBackend(rules={}), api_key=KEY, slow_seconds=2.5) as fake:
        yield fake


@pytest.fixture
def env(monkeypatch, server):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AGA_LLM_TIMEOUT", "1.5")  # room for a loaded machine; "slow" takes 2.5 s
    return server


def gateway(**kw):
    sleep = SleepRecorder()
    gw = build_gateway("openai:fake-model", embed="openai:fake-embed", retry=RETRY, sleep=sleep, **kw)
    return gw, sleep


async def _ask_all(gw):
    rating = await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None)
    pick = await gw.choose(
        PICK, ["cafe", "park", "library"], {"name": "A", "query": "the park"}, agent="A", game_time=None
    )
    plan = await gw.ask(PLAN, {"name": "A"}, agent="A", game_time=None)
    vectors = await gw.embed(["a walk in the park", "coffee"])
    await gw.aclose()
    return rating, pick, plan, vectors


def test_valid_answers_through_the_real_sdk_with_schema_and_max_tokens(env):
    gw, _ = gateway()
    rating, pick, plan, vectors = asyncio.run(_ask_all(gw))
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    assert vectors.shape == (2, 256) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    chats = [r["body"] for r in env.requests if r["path"].endswith("/chat/completions")]
    assert all(b["max_tokens"] > 0 for b in chats)
    assert chats[0]["response_format"]["type"] == "json_schema"
    assert chats[0]["response_format"]["json_schema"]["name"] == "rate_event"
    assert chats[1]["response_format"]["json_schema"]["schema"]["properties"]["choice"]["enum"] == [
        "cafe",
        "park",
        "library",
    ]
    assert chats[0]["messages"][0]["role"] == "system"
    rows = gw.ledger.drain()
    assert [r.kind for r in rows] == ["llm", "llm", "llm", "embed"]
    assert all(r.ok and r.prompt_tokens > 0 for r in rows)
    assert rows[0].backend == "openai-local" and rows[0].model == "fake-model"


def test_each_fault_is_survived_and_counted_in_the_ledger(env):
    plans = [("429", "500", "slow"), ("truncated", "broken_body"), ("invalid_json", "drop")]
    gw, sleep = gateway(structured="json_schema")  # forced: prose is a bad answer, not a refused form

    async def work():
        out = []
        for event, plan in zip(("coffee", "tea", "lunch"), plans):
            env.fail(*plan)
            out.append(await gw.ask(RATE, {"name": "A", "event": event}, agent="A", game_time=None))
        await gw.aclose()
        return out

    answers = asyncio.run(work())
    assert all(isinstance(a, Rating) for a in answers)
    assert env.faults_played == [f for plan in plans for f in plan]
    rows = gw.ledger.drain()
    failed = [r.error for r in rows if not r.ok]
    assert len(failed) == 7 and sum(r.ok for r in rows) == 3
    assert failed[0].startswith("HTTP 429") and failed[1].startswith("HTTP 500")
    assert "timeout" in failed[2]
    assert failed[3].startswith("invalid answer: the JSON object is not closed")
    assert "malformed response" in failed[4]
    assert failed[5].startswith("invalid answer: the answer holds no JSON object")
    assert "cannot connect" in failed[6]
    assert 0.01 in sleep.waits  # the 429's Retry-After was honoured


def test_a_dead_endpoint_raises_backend_unavailable_without_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", dead_url())
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    gw, sleep = gateway()
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    err = info.value
    text = str(err)
    assert err.backend == "openai-local" and err.model == "fake-model" and err.status is None
    assert "cannot connect to http://127.0.0.1:" in text and "aga run -t" in text
    assert KEY not in text and KEY not in repr(err.args)
    assert len(sleep.waits) == RETRY.max_tries - 1
    assert all(KEY not in (r.error or "") for r in gw.ledger.drain())


def test_a_bad_key_is_fatal_at_once_and_scrubbed(env):
    env.fail("401")
    gw, sleep = gateway()
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    text = str(info.value)
    assert info.value.status == 401 and "Incorrect API key provided" in text and "OPENAI_API_KEY" in text
    assert KEY not in text and "0123456789" not in text
    assert sleep.waits == []


def test_spent_quota_is_fatal_with_a_billing_hint(env):
    env.fail("quota")
    gw, _ = gateway()
    with pytest.raises(BackendUnavailable, match="HTTP 429.*quota"):
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))


def test_server_without_json_schema_gets_json_mode_from_then_on(monkeypatch):
    with FakeOpenAIServer(backend=ScriptedBackend(rules={}), json_schema_support=False) as fake:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # local server: no key needed
        gw, _ = gateway()
        rating, pick, plan, _ = asyncio.run(_ask_all(gw))
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick in ("cafe", "park", "library")
    chats = [r["body"] for r in fake.requests if r["path"].endswith("/chat/completions")]
    kinds = [b.get("response_format", {}).get("type") for b in chats]
    assert kinds == ["json_schema", "json_object", "json_object", "json_object"]  # rejected once, remembered
    assert isinstance(gw.backend, OpenAIBackend) and gw.backend.format_mode == "json_object"
    assert all(r.ok for r in gw.ledger.drain())


def test_missing_key_for_a_remote_endpoint_is_a_clear_input_error(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.example.com/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY is not set for https://api.example.com/v1"):
        build_gateway("openai:gpt-4o-mini", embed="hash")


def test_local_addresses_are_recognised():
    assert is_local("http://localhost:11434/v1") and is_local("http://127.0.0.1:8080/v1")
    assert is_local("http://192.168.1.20:1234/v1") and not is_local("https://api.openai.com/v1")


def test_json_mode_shape_line_reads_back_as_a_schema():
    system = RATE.render({"name": "A", "event": "b"})[0]
    schema = schema_from_shape(system)
    assert schema["properties"]["rating"] == {"enum": [1, 2, 3, 4, 5]}
    assert schema["properties"]["reason"] == {"type": "string"}
    plan_schema = schema_from_shape(PLAN.render({"name": "A"})[0])
    assert plan_schema["properties"]["steps"]["items"]["properties"]["minutes"] == {"type": "integer"}


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("OPENAI_BASE_URL", "localhost:11434", "is not an http\\(s\\) URL"),
        ("AGA_LLM_TIMEOUT", "soon", "AGA_LLM_TIMEOUT='soon' is not a number of seconds"),
        ("AGA_LLM_TIMEOUT", "-1", "must be positive"),
    ],
)
def test_bad_environment_values_are_clear_input_errors(monkeypatch, var, value, message):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv(var, value)
    with pytest.raises(InputError, match=message):
        build_gateway("openai:m", embed="hash")
