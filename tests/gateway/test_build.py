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


def test_calls_in_flight_default_per_backend_kind_and_can_be_set(monkeypatch):
    from aga.gateway.build import default_in_flight

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert build_gateway("scripted").max_in_flight == 4
    assert build_gateway("openai:m", embed="hash").max_in_flight == 8
    assert default_in_flight("embedded") == 1 and default_in_flight("gguf:/x.gguf") == 1
    assert default_in_flight("gemini:g") == 8
    assert build_gateway("openai:m", embed="hash", max_in_flight=3).max_in_flight == 3
    with pytest.raises(InputError, match="at least 1"):
        build_gateway("scripted", max_in_flight=0)


def test_a_run_closes_the_gateway(tmp_path):
    from aga.runner.lifecycle import RunSettings, fork, open_simulation
    from aga.runner.progress import run_with_progress

    folder = fork(
        "base_the_ville_isabella_maria_klaus", tmp_path, "closing", settings=RunSettings(llm="scripted")
    )
    sim = open_simulation(folder)
    closed = []
    real = sim.gateway.aclose

    async def recording_aclose() -> None:
        closed.append(sim.step)
        await real()

    sim.gateway.aclose = recording_aclose  # type: ignore[method-assign]
    try:
        assert asyncio.run(run_with_progress(sim, 3, quiet=True)) == 0
    finally:
        sim.close()
    assert closed == [3]


def test_a_run_into_a_log_file_prints_plain_progress_lines(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from aga.runner import progress
    from aga.runner.lifecycle import RunSettings, fork, open_simulation

    monkeypatch.setattr(progress, "PLAIN_EVERY", 2)
    folder = fork(
        "base_the_ville_isabella_maria_klaus", tmp_path, "log", settings=RunSettings(llm="scripted")
    )
    sim = open_simulation(folder)
    out = io.StringIO()
    try:
        assert asyncio.run(progress.run_with_progress(sim, 4, console=Console(file=out, width=200))) == 0
    finally:
        sim.close()
    lines = [ln for ln in out.getvalue().splitlines() if " steps, " in ln]
    assert [ln.split(": ")[1].split(" steps")[0] for ln in lines] == ["2/4", "4/4"]
    assert lines[0].startswith("Feb 13 00:00") and "calls" in lines[0]


def test_the_run_seed_reaches_the_embedded_sampler_and_changes_its_draws():
    from aga.gateway.backends.embedded import sampling_seed_for
    from aga.gateway.types import LLMRequest

    gw = build_gateway("embedded", sampling_seed=7)  # the model itself loads on the first call
    assert gw.backend.sampling_seed == 7
    assert build_gateway("embedded").backend.sampling_seed == 0
    req = LLMRequest("t", "sys", "What next?", None, None, 50, 0.6, {})
    other = LLMRequest("t", "sys", "What then?", None, None, 50, 0.6, {})
    assert sampling_seed_for(req, 7) == sampling_seed_for(req, 7)  # reproducible within a run
    assert sampling_seed_for(req, 7) != sampling_seed_for(req, 8)  # another run draws otherwise
    assert sampling_seed_for(req, 0) != sampling_seed_for(other, 0)
    warmer = LLMRequest("t", "sys", "What next?", None, None, 50, 0.8, {})
    assert sampling_seed_for(req, 7) != sampling_seed_for(warmer, 7)  # a warmer re-ask draws anew


def test_embedded_threads_come_from_the_environment_and_bad_values_are_named(monkeypatch):
    monkeypatch.setenv("AGA_EMBEDDED_THREADS", "1")
    assert build_gateway("embedded").backend.n_threads == 1
    monkeypatch.setenv("AGA_EMBEDDED_THREADS", "two")
    with pytest.raises(InputError, match="AGA_EMBEDDED_THREADS='two' is not a whole number"):
        build_gateway("embedded")
