"""The real embedded model (default profile) and the real MiniLM embedder, one call of each kind.

Loads the 1.5B model once (make setup installs and assembles it) and keeps every answer short,
so the module takes well under a minute on 2 cores. Deselect with ``-m "not embedded"``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal

import numpy as np
import pytest
from pydantic import BaseModel, Field

from aga.gateway.backends.embedded import EmbeddedBackend
from aga.gateway.backends.onnx_embedder import MiniLMEmbedder
from aga.gateway.types import LLMRequest, LLMResponse, choice_schema

pytestmark = pytest.mark.embedded

SYSTEM = (
    "You voice the residents of a small simulated town called the Ville. "
    "Reply with one JSON object and nothing else."
)


class Importance(BaseModel):
    rating: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class WakeHour(BaseModel):
    hour: Literal[4, 5, 6, 7, 8, 9, 10, 11]


class Doing(BaseModel):
    doing: str = Field(min_length=1, max_length=40)


class Steps(BaseModel):
    steps: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(min_length=2, max_length=4)


@pytest.fixture(scope="module")
def backend() -> EmbeddedBackend:
    return EmbeddedBackend("default")


def ask(
    backend: EmbeddedBackend,
    task: str,
    instructions: str,
    user: str,
    schema: type[BaseModel] | None,
    max_tokens: int,
    choices: tuple[str, ...] | None = None,
) -> LLMResponse:
    json_schema = choice_schema(choices) if choices else schema.model_json_schema() if schema else None
    request = LLMRequest(task, f"{SYSTEM} {instructions}", user, json_schema, choices, max_tokens, 0.0)
    return asyncio.run(backend.complete(request))


def test_rating_is_an_integer_from_the_enum(backend: EmbeddedBackend) -> None:
    out = ask(
        backend,
        "importance",
        "Rate how much a memory matters to the resident, 1 = trivial, 10 = life-changing.",
        "Isabella Rodriguez remembers: her café burned down last night.",
        Importance,
        8,
    )
    assert 1 <= Importance.model_validate_json(out.text).rating <= 10
    assert out.model == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert out.prompt_tokens > 20 and 0 < out.completion_tokens <= 8


def test_hour_is_one_of_the_allowed_hours(backend: EmbeddedBackend) -> None:
    out = ask(
        backend,
        "wake_up_hour",
        "Give the hour (24-hour clock) the resident gets up.",
        "Klaus Mueller, a student who studies late into the night.",
        WakeHour,
        8,
    )
    assert WakeHour.model_validate_json(out.text).hour in range(4, 12)


def test_free_text_is_short_and_valid(backend: EmbeddedBackend) -> None:
    out = ask(
        backend,
        "describe_action",
        "Say in a few words what the resident is doing.",
        "Maria Lopez, 10:00, at her desk in the dorm with a textbook open.",
        Doing,
        16,
    )
    assert 1 <= len(Doing.model_validate_json(out.text).doing) <= 40


def test_list_of_short_strings_respects_its_bounds(backend: EmbeddedBackend) -> None:
    out = ask(
        backend,
        "subtasks",
        "Break the activity into 2 to 4 short steps.",
        "Isabella opens the café in the morning.",
        Steps,
        48,
    )
    steps = Steps.model_validate_json(out.text).steps
    assert 2 <= len(steps) <= 4 and all(1 <= len(s) <= 30 for s in steps)


def test_choice_is_one_of_the_options_and_the_loop_keeps_running(backend: EmbeddedBackend) -> None:
    options = ("Hobbs Cafe", "Oak Hill College", "Johnson Park")
    request = LLMRequest(
        "choose_place",
        f"{SYSTEM} Pick the place where the resident goes next.",
        "Klaus wants to attend his morning lecture. Places: Hobbs Cafe, Oak Hill College, Johnson Park.",
        choice_schema(options),
        options,
        16,
        0.0,
    )

    async def call_and_tick() -> tuple[LLMResponse, int]:
        ticks = 0
        task = asyncio.ensure_future(backend.complete(request))
        while not task.done():
            await asyncio.sleep(0.02)
            ticks += 1
        return await task, ticks

    out, ticks = asyncio.run(call_and_tick())
    assert json.loads(out.text)["choice"] in options
    assert ticks >= 5  # the event loop ran while the model worked in its own thread


def test_lazy_grammar_check_gives_the_same_answer_as_llama_cpps_full_pass(backend: EmbeddedBackend) -> None:
    full = EmbeddedBackend("default", lazy_grammar=False)  # shares the loaded model
    request = LLMRequest(
        "subtasks",
        f"{SYSTEM} Break the activity into 2 to 4 short steps.",
        "Klaus prepares for his seminar.",
        Steps.model_json_schema(),
        None,
        40,
        0.0,
    )
    answers = []
    for each in (backend, full):
        each.clear_prefix_cache()  # both start from an empty KV cache: same numbers in, same tokens out
        answers.append(each.complete_sync(request).text)
    assert answers[0] == answers[1]
    Steps.model_validate_json(answers[0])


def test_every_task_of_the_project_gets_a_grammar_llama_cpp_accepts() -> None:
    import llama_cpp

    from aga.gateway import Task
    from aga.gateway.backends import model_files
    from aga.gateway.backends.embedded import grammar_for_choices, grammar_for_schema
    from aga.prompts import tasks

    path = model_files.assemble(model_files.PROFILES["default"])
    vocab_model = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(vocab_model.model)
    found = [t for t in vars(tasks).values() if isinstance(t, Task)]
    assert found
    for task in found:
        schema = task.json_schema()
        grammar = grammar_for_schema(schema) if schema else grammar_for_choices(["a place", 'a "quoted" one'])
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        assert sampler, f"llama.cpp refused the grammar of task {task.name}:\n{grammar}"
        llama_cpp.llama_sampler_free(sampler)


def test_embedding_batch_gives_unit_rows_that_rank_meaning() -> None:
    texts = [
        "Isabella is brewing coffee for her customers",
        "a barista makes espresso at the café",
        "Klaus writes a chapter of his sociology paper",
        "",
    ]
    vectors = asyncio.run(MiniLMEmbedder().embed(texts))
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2
