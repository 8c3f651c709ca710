"""Every input a call site passes is used by its template; the scripted double reads only what a
model sees; the gateway imports nothing from the test doubles; tests reach only loopback."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest

import aga.gateway
from aga.errors import InputError
from aga.gateway import build_gateway
from aga.gateway.task import Task
from aga.gateway.types import LLMRequest
from aga.runner.lifecycle import RunSettings, fork, open_simulation
from aga.settings import SAVINGS
from aga.testing import ScriptedBackend

BASE = "base_the_ville_isabella_maria_klaus"
SRC = Path(aga.gateway.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory):
    """A scripted run of the 3-resident base up to late morning, every saving off and Mind
    Wandering on (the most tasks), recording each task's inputs and each request sent."""
    seen_inputs: dict[str, set[str]] = {}
    requests: list[LLMRequest] = []
    render = Task.render

    def recording_render(self, vars):  # type: ignore[no-untyped-def]
        seen_inputs.setdefault(self.name, set()).update(vars)
        return render(self, vars)  # the strict renderer: an unused input raises

    settings = RunSettings(llm="scripted").merged(
        {"policy": False, "relationship": False, "mind_wandering": True, "disabled_savings": list(SAVINGS)}
    )
    folder = fork(BASE, tmp_path_factory.mktemp("inputs"), "inputs", settings=settings)
    sim = open_simulation(folder)
    backend = sim.gateway.backend
    assert isinstance(backend, ScriptedBackend)
    Task.render = recording_render  # type: ignore[method-assign]
    try:
        asyncio.run(sim.run(3200))  # 00:00 to about 09:00: planning, grounding, chats, ratings
    finally:
        Task.render = render  # type: ignore[method-assign]
        sim.close()
    requests.extend(backend.calls)
    return seen_inputs, requests


def test_every_input_a_call_site_passes_is_used_by_its_template(scripted_run):
    seen_inputs, _ = scripted_run
    from aga.prompts.tasks import ALL_TASKS

    tasks = {t.name: t for t in ALL_TASKS}
    assert {"wake_up_hour", "daily_plan", "task_decomp", "action_sector", "event_importance"} <= set(
        seen_inputs
    )
    for name, given in seen_inputs.items():
        task = tasks[name]
        allowed = task.placeholders() | ({task.hint} if task.hint else set())
        assert given <= allowed, f"{name}: inputs no template uses: {sorted(given - allowed)}"
        assert task.placeholders() <= given, (
            f"{name}: placeholders never filled: {sorted(task.placeholders() - given)}"
        )


def test_the_scripted_rules_answer_from_the_rendered_prompt_and_hint_alone(scripted_run):
    _, requests = scripted_run
    assert len(requests) > 50
    double = ScriptedBackend()
    for request in requests:
        scrambled = replace(request, vars={k: "something else entirely" for k in request.vars})
        assert double.answer(scrambled) == double.answer(request), request.task
        if request.hint is None:
            continue
        assert double.answer(replace(request, vars={})) == double.answer(request)


def test_no_rule_or_double_reads_the_inputs():
    rules = (
        (SRC / "testing" / "scripted_rules.py").read_text(encoding="utf-8").split('"""', 2)[2]
    )  # code only
    assert not re.search(r"\.vars\b", rules), "scripted rules must read the rendered prompt, not request.vars"
    scripted = (SRC / "testing" / "scripted.py").read_text(encoding="utf-8")
    assert "replace(request, vars={})" in scripted  # what a project rule is handed


def test_an_unused_input_is_refused_with_the_task_and_input_names():
    from aga.prompts.tasks import ACTION_EMOJI

    with pytest.raises(InputError, match=r"task 'action_emoji' .*: query"):
        ACTION_EMOJI.render({"activity": "reading", "query": "reading"})


def test_the_gateway_imports_nothing_from_the_test_doubles():
    for path in (SRC / "gateway").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) aga\.testing", text, re.MULTILINE), path


def test_tests_reach_only_loopback_endpoints(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key")
    with pytest.raises(InputError, match="not a loopback endpoint"):
        build_gateway("openai:gpt-4o-mini", embed="hash")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://192.168.1.5:8000/v1")  # a LAN server is not loopback
    with pytest.raises(InputError, match="AGA_LOCAL_BACKENDS_ONLY"):
        build_gateway("openai:m", embed="hash")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert build_gateway("openai:m", embed="hash").backend.name == "openai-local"
