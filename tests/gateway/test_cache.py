"""Response cache storages: keys, the memory dict, the SQLite file shared by two processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from aga.errors import InputError
from aga.gateway import LLMRequest, LLMResponse, MemoryCache, SqliteCache
from aga.gateway.cache import request_key


def _req(**kw) -> LLMRequest:
    base = {
        "task": "t",
        "system": "s",
        "user": "u",
        "json_schema": {"type": "object"},
        "choices": None,
        "max_tokens": 10,
        "temperature": 0.0,
        "vars": {"x": 1},
    }
    base.update(kw)
    return LLMRequest(**base)


def test_key_covers_what_shapes_the_answer_and_ignores_vars():
    key = request_key("openai", "m", _req())
    assert key == request_key("openai", "m", _req(vars={"other": 2}))
    for changed in (
        _req(system="S"),
        _req(user="U"),
        _req(json_schema=None),
        _req(max_tokens=11),
        _req(temperature=0.5),
        _req(choices=("a", "b")),
    ):
        assert request_key("openai", "m", changed) != key
    assert request_key("gemini", "m", _req()) != key and request_key("openai", "n", _req()) != key
    assert len(key) == 64


def test_memory_cache_evicts_the_least_recently_used():
    cache = MemoryCache(max_entries=2)
    r = LLMResponse("x", 1, 1, "m")
    cache.put("a", r)
    cache.put("b", r)
    assert cache.get("a") == r
    cache.put("c", r)
    assert cache.get("b") is None and cache.get("a") == r and len(cache) == 2


WRITER = textwrap.dedent(
    """
    import sys
    from aga.gateway import LLMResponse, SqliteCache
    cache = SqliteCache(sys.argv[1])
    for i in range(200):
        cache.put(f"{sys.argv[2]}-{i}", LLMResponse(f"answer {i}", i, 1, "m"))
    cache.close()
    """
)


def test_sqlite_cache_is_shared_by_six_processes_starting_at_once(tmp_path):
    path = tmp_path / "llm_cache.db"
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE)
        for name in "abcdef"
    ]
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read().decode()
    cache = SqliteCache(path)
    assert len(cache) == 1200
    assert cache.get("b-7") == LLMResponse("answer 7", 7, 1, "m")
    cache.put("b-7", LLMResponse("other", 0, 0, "m"))  # first answer stored wins: reruns stay reproducible
    assert cache.get("b-7").text == "answer 7"
    cache.close()


def test_sqlite_cache_on_a_non_database_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "cache.db"
    bad.write_text("this is not sqlite" * 100)
    with pytest.raises(InputError, match=f"LLM cache file {bad} cannot be used"):
        SqliteCache(bad)


def test_a_rerun_with_the_cache_file_is_free_and_identical(tmp_path):
    import asyncio

    from aga.gateway import build_gateway

    from .conftest import PICK, RATE

    async def session():
        gw = build_gateway("scripted", cache_path=tmp_path / "llm_cache.db")
        out = [
            await gw.ask(RATE, {"name": "A", "event": e}, agent="A", game_time=None) for e in ("tea", "rain")
        ]
        out.append(
            await gw.choose(PICK, ["cafe", "park"], {"name": "A", "query": "park"}, agent="A", game_time=None)
        )
        await gw.aclose()
        return out, gw.ledger.drain()

    first, rows1 = asyncio.run(session())
    second, rows2 = asyncio.run(session())
    assert first == second
    assert not any(r.cached for r in rows1) and all(r.cached for r in rows2)
    assert sum(r.tokens for r in rows2) == 0
