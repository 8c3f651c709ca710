"""The Gemini backend with the real google-genai SDK against the fake Gemini server (a test double)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from aga.errors import BackendUnavailable, InputError
from aga.gateway import RetryPolicy, build_gateway
from aga.testing import ScriptedBackend
from aga.testing.fake_gemini import FakeGeminiServer
from aga.testing.fake_openai import dead_url

from .conftest import PICK, PLAN, RATE, Plan, Rating, SleepRecorder

KEY = "AIzaTestDoubleKey0123456789abcdef"
RETRY = RetryPolicy(max_tries=4, budget_seconds=10.0, base_delay=0.001, max_delay=0.01)


@pytest.fixture
def env(monkeypatch):
    with FakeGeminiServer(backend=ScriptedBackend(rules={}), slow_seconds=1.5) as fake:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.delenv("GEMINI_API_KEY", raising=False)
        monkeypatch.setenv("AGA_LLM_TIMEOUT", "1")
        yield fake


def gateway():
    sleep = SleepRecorder()
    return build_gateway(
        "gemini:gemini-2.0-flash", embed="gemini:text-embedding-004", retry=RETRY, sleep=sleep
    ), sleep


def test_valid_answers_usage_and_embeddings_through_the_real_sdk(env):
    gw, _ = gateway()

    async def work():
        rating = await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None)
        pick = await gw.choose(
            PICK, ["cafe", "park"], {"name": "A", "query": "go to the park"}, agent="A", game_time=None
        )
        plan = await gw.ask(PLAN, {"name": "A"}, agent="A", game_time=None)
        vectors = await gw.embed(["one text", "another text"])
        await gw.aclose()
        return rating, pick, plan, vectors

    rating, pick, plan, vectors = asyncio.run(work())
    assert isinstance(rating, Rating) and isinstance(plan, Plan) and pick == "park"
    assert vectors.shape == (2, 256) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    first = env.requests[0]
    assert first["path"].endswith("models/gemini-2.0-flash:generateContent") and first["key"] == KEY
    config = first["body"]["generationConfig"]
    assert config["maxOutputTokens"] == RATE.max_tokens and config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"]["properties"]["rating"]["enum"] == [1, 2, 3, 4, 5]
    assert first["body"]["systemInstruction"]["parts"][0]["text"].startswith("You score")
    rows = gw.ledger.drain()
    assert all(r.ok for r in rows) and rows[0].model == "fake-gemini" and rows[0].backend == "gemini"
    assert rows[0].prompt_tokens > 0 and rows[0].completion_tokens > 0


def test_each_fault_is_survived_and_counted(env):
    plans = [("429", "500", "slow"), ("truncated", "drop"), ("invalid_json", "blocked")]
    gw, sleep = gateway()

    async def work():
        answers = []
        for event, plan in zip("abc", plans):
            env.fail(*plan)
            answers.append(await gw.ask(RATE, {"name": "A", "event": event}, agent="A", game_time=None))
        await gw.aclose()
        return answers

    answers = asyncio.run(work())
    assert all(isinstance(a, Rating) for a in answers)
    assert env.faults_played == [f for plan in plans for f in plan]
    rows = gw.ledger.drain()
    errors = [r.error for r in rows if not r.ok]
    assert len(errors) == 7 and sum(r.ok for r in rows) == 3
    assert errors[0].startswith("HTTP 429") and errors[1].startswith("HTTP 500") and "timeout" in errors[2]
    assert errors[3].startswith("invalid answer") and "cannot connect" in errors[4]
    assert errors[5].startswith("invalid answer")
    assert errors[6] == "invalid answer: the answer holds no JSON object"  # blocked: no candidates
    assert 0.01 in sleep.waits  # the RetryInfo delay was honoured


def test_bad_key_is_fatal_and_scrubbed(env):
    env.fail("bad_key")
    gw, sleep = gateway()
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    text = str(info.value)
    assert info.value.status == 400 and "API key not valid" in text and "GOOGLE_API_KEY" in text
    assert KEY not in text and sleep.waits == []


def test_schema_rejection_falls_back_to_json_mode(monkeypatch):
    with FakeGeminiServer(backend=ScriptedBackend(rules={}), json_schema_support=False) as fake:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        gw, _ = gateway()
        answer = asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert isinstance(answer, Rating)
    with_schema = ["responseJsonSchema" in r["body"]["generationConfig"] for r in fake.requests]
    assert with_schema[0] and not any(with_schema[1:])


def test_dead_endpoint_raises_backend_unavailable(monkeypatch):
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", dead_url().removesuffix("/v1"))
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    gw, _ = gateway()
    with pytest.raises(BackendUnavailable) as info:
        asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert info.value.backend == "gemini" and info.value.model == "gemini-2.0-flash"
    assert "cannot connect" in str(info.value) and KEY not in str(info.value)


def test_missing_key_is_a_clear_input_error(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    with pytest.raises(InputError, match="GOOGLE_API_KEY is not set"):
        build_gateway("gemini:gemini-2.0-flash", embed="hash")


def test_cached_prompt_tokens_are_counted(monkeypatch):
    with FakeGeminiServer(backend=ScriptedBackend(rules={}), prompt_cache=True) as fake:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        gw, _ = gateway()

        async def two():
            await gw.ask(RATE, {"name": "A", "event": "coffee"}, agent="A", game_time=None)
            await gw.ask(RATE, {"name": "B", "event": "tea"}, agent="B", game_time=None)
            await gw.aclose()

        asyncio.run(two())
    first, second = gw.ledger.drain()
    assert first.cached_tokens == 0 and 0 < second.cached_tokens < second.prompt_tokens
