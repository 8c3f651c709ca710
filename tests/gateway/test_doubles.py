"""The scripted model and hash embedder test doubles: deterministic, valid, similarity by shared words."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import numpy as np

from aga.gateway import LLMRequest
from aga.gateway.tokens import SimpleCounter
from aga.gateway.types import choice_schema
from aga.testing import HashEmbedder, ScriptedBackend
from aga.testing.scripted import instance_of, load_rules

from .conftest import Plan, Rating


def _req(task="t", user="Event: coffee at the cafe", schema=None, choices=None, vars=None) -> LLMRequest:
    return LLMRequest(task, "sys", user, schema, choices, 50, 0.0, vars or {})


def test_same_request_same_answer_different_prompt_may_differ():
    backend = ScriptedBackend(rules={})
    schema = Rating.model_json_schema()
    answers = {backend.answer(_req(user=f"Event: {i}", schema=schema)) for i in range(20)}
    assert backend.answer(_req(schema=schema)) == backend.answer(_req(schema=schema))
    assert len(answers) > 3
    for text in answers:
        Rating.model_validate_json(text)


def test_a_run_seed_gives_other_draws_each_reproducible_and_the_build_passes_it():
    from aga.gateway.build import build_gateway

    schema = Rating.model_json_schema()
    reqs = [_req(user=f"Event: {i}", schema=schema) for i in range(20)]
    plain, seeded = ScriptedBackend(rules={}), ScriptedBackend(rules={}, seed=1)
    assert [plain.answer(r) for r in reqs] != [seeded.answer(r) for r in reqs]
    assert [seeded.answer(r) for r in reqs] == [ScriptedBackend(rules={}, seed=1).answer(r) for r in reqs]
    assert [plain.answer(r) for r in reqs] == [ScriptedBackend(rules={}, seed=0).answer(r) for r in reqs]
    assert build_gateway("scripted", embed="hash", sampling_seed=7).backend.seed == 7


def test_generic_instances_fit_nested_schemas():
    import random

    for seed in range(30):
        value = instance_of(Plan.model_json_schema(), random.Random(seed), ["walk", "dog"])
        Plan.model_validate(value)


def test_choice_follows_the_words_of_the_input_and_ties_are_deterministic():
    backend = ScriptedBackend(rules={})
    options = ("Hobbs Cafe", "Oak Hill College library", "Johnson Park")
    menu = "\n\nOptions:\n" + "\n".join(f"- {o}" for o in options)
    req = _req(user="Activity: study at the library" + menu, choices=options, schema=choice_schema(options))
    assert json.loads(backend.answer(req)) == {"choice": "Oak Hill College library"}
    tie = _req(user="nothing shared" + menu, choices=options, schema=choice_schema(options))
    assert backend.answer(tie) == backend.answer(tie)
    no_query = _req(user="Go to the park now\n\nOptions:\n- Hobbs Cafe\n- Johnson Park", choices=options)
    assert json.loads(backend.answer(no_query)) == {"choice": "Johnson Park"}


def test_rules_see_the_rendered_prompt_and_the_hint_never_the_inputs():
    got = []

    def rule(req, rng):
        got.append((dict(req.vars), req.hint, req.user))
        return {"rating": 3, "reason": "rule"}

    backend = ScriptedBackend(rules={"t": rule})
    req = LLMRequest(
        "t", "sys", "Event: tea", Rating.model_json_schema(), None, 50, 0.0, {"secret": 1}, "the hint"
    )
    backend.answer(req)
    assert got == [({}, "the hint", "Event: tea")]
    probe = ScriptedBackend(handler=rule)  # a test's own handler may probe the inputs
    probe.answer(req)
    assert got[-1][0] == {"secret": 1}


def test_seen_reads_back_what_each_placeholder_of_a_bundled_template_filled():
    from aga.gateway.task import Task
    from aga.prompts.tasks import ACTION_SECTOR, DECIDE_TO_TALK
    from aga.testing.scripted import seen

    def rendered(task: Task, vars: dict) -> LLMRequest:
        system, user = task.render(vars)
        return LLMRequest(task.name, system, user + "\n\nOptions:\n- a\n- b", None, ("a", "b"), 10, 0.0)

    names = sorted(ACTION_SECTOR.placeholders())
    vars = {n: f"value of {n} with  two spaces" for n in names}
    got = seen(rendered(ACTION_SECTOR, vars))
    assert {k: got[k] for k in names} == {n: f"value of {n} with  two spaces" for n in names}
    talk = {n: f"<{n}>" for n in DECIDE_TO_TALK.placeholders()}
    assert seen(rendered(DECIDE_TO_TALK, talk))["context"] == "<context>"


def test_rules_are_used_per_task_and_a_handler_overrides_them():
    rules = {"t": lambda req, rng: {"rating": 3, "reason": "rule"}}
    backend = ScriptedBackend(rules=rules)
    assert json.loads(backend.answer(_req(schema=Rating.model_json_schema()))) == {
        "rating": 3,
        "reason": "rule",
    }
    other = _req(task="other", schema=Rating.model_json_schema())
    Rating.model_validate_json(backend.answer(other))  # no rule: generic
    handled = ScriptedBackend(rules=rules, handler=lambda req, rng: "scripted text")
    assert handled.answer(_req()) == "scripted text"


def test_the_project_rules_load_when_present():
    rules = load_rules()
    assert isinstance(rules, dict) and all(callable(r) for r in rules.values())


def test_faults_are_played_in_order_and_tokens_counted():
    backend = ScriptedBackend(rules={}, faults=[ValueError("boom"), "raw text"], counter=SimpleCounter())

    async def calls():
        try:
            await backend.complete(_req())
        except ValueError as err:
            first = str(err)
        second = await backend.complete(_req())
        third = await backend.complete(_req())
        return first, second, third

    first, second, third = asyncio.run(calls())
    assert first == "boom" and second.text == "raw text" and third.text == "ok"
    assert third.model == "scripted" and third.prompt_tokens == 1 + 6 and third.completion_tokens == 1


def test_hash_embedder_similarity_follows_shared_words():
    emb = HashEmbedder()
    v = emb.embed_sync(["Isabella is making coffee", "Isabella is making tea", "the bus is late tonight", ""])
    assert v.shape == (4, 256) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2]
    assert np.allclose(emb.embed_sync(["ISABELLA is making coffee!"]), v[0])


def test_hash_embedder_is_stable_across_processes():
    code = (
        "from aga.testing import HashEmbedder; "
        "print(HashEmbedder().embed_sync(['a stable text'])[0][:8].tolist())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1
