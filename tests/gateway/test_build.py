"""build_gateway: spec parsing, natural embedders, clear errors for bad specs."""

from __future__ import annotations

import asyncio

import pytest

from aga.errors import InputError
from aga.gateway import Gateway, MemoryCache, SqliteCache, build_gateway
from aga.testing import HashEmbedder, ScriptedBackend

from .conftest import RATE


def test_scripted_spec_builds_the_test_doubles():
    gw = build_gateway("scripted")
    assert isinstance(gw, Gateway)
    assert isinstance(gw.backend, ScriptedBackend) and isinstance(gw.embedder, HashEmbedder)
    assert gw.embed_model == "hash-embedder-v1" and gw.cache is None
    answer = asyncio.run(gw.ask(RATE, {"name": "A", "event": "b"}, agent="A", game_time=None))
    assert answer.rating in (1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "spec", ["gpt-4", "openai", "openai:", "gemini:", "gguf:", "embedded:huge", "scripted:x", ""]
)
def test_unknown_or_incomplete_specs_raise_input_error_naming_the_spec(spec):
    with pytest.raises(InputError) as info:
        build_gateway(spec)
    assert repr(spec.strip()) in str(info.value) or "unknown --llm" in str(info.value)


def test_unknown_spec_lists_the_valid_forms():
    with pytest.raises(
        InputError, match=r"valid forms: embedded .*gguf:<path.*openai:<model>.*gemini:<model>.*scripted"
    ):
        build_gateway("claude")


def test_gguf_spec_with_a_missing_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(InputError, match=f"model file {missing} does not exist"):
        build_gateway(f"gguf:{missing}")


def test_bad_embed_spec_raises_input_error():
    with pytest.raises(InputError, match="unknown --embed 'word2vec'"):
        build_gateway("scripted", embed="word2vec")


def test_cache_path_selects_the_cache_storage(tmp_path):
    assert isinstance(build_gateway("scripted", cache_path=":memory:").cache, MemoryCache)
    gw = build_gateway("scripted", cache_path=tmp_path / "c" / "llm_cache.db")
    assert isinstance(gw.cache, SqliteCache) and (tmp_path / "c" / "llm_cache.db").is_file()
    asyncio.run(gw.aclose())
