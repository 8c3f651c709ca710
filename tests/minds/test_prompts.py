"""Prompt templates and schemas of the minds' tasks, and the scripted model's rule for each."""

from __future__ import annotations

import json
import random
import re
import string

import pytest
from pydantic import ValidationError

from aga.gateway.task import SEPARATOR
from aga.gateway.types import LLMRequest
from aga.prompts.tasks import ALL_TASKS, EVENT_IMPORTANCE, WAKE_UP_HOUR, DailyPlan, Importance
from aga.testing.scripted_rules import RULES


@pytest.mark.parametrize("task", ALL_TASKS, ids=lambda t: t.name)
def test_each_template_has_short_static_instructions_first(task) -> None:  # type: ignore[no-untyped-def]
    text = task.template_path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert SEPARATOR in [ln.strip() for ln in lines], f"{task.template_path} has no '---' line"
    cut = [ln.strip() for ln in lines].index(SEPARATOR)
    instructions, body = "\n".join(lines[:cut]), "\n".join(lines[cut + 1 :])
    assert instructions.strip() and len(instructions) < 700
    assert not re.search(r"\$\w", instructions), "instructions must not change from call to call"
    names = {m.group("named") or m.group("braced") for m in string.Template.pattern.finditer(body)} - {None}
    assert names, "the input part takes the changing values"
    if "persona" in names:
        assert body.lstrip().startswith("$persona"), "the persona block comes right after the instructions"


def test_ratings_and_hours_are_enumerations() -> None:
    rating = EVENT_IMPORTANCE.json_schema()["properties"]["rating"]  # type: ignore[index]
    assert rating["enum"] == list(range(1, 11))
    assert WAKE_UP_HOUR.json_schema()["properties"]["hour"]["enum"] == list(range(24))  # type: ignore[index]
    with pytest.raises(ValidationError):
        Importance.model_validate({"rating": 11})
    with pytest.raises(ValidationError):
        DailyPlan.model_validate({"items": []})


def test_every_task_has_a_scripted_rule() -> None:
    assert {t.name for t in ALL_TASKS} == set(RULES)


@pytest.mark.parametrize("task", [t for t in ALL_TASKS if t.schema is not None], ids=lambda t: t.name)
@pytest.mark.parametrize(
    "vars",
    [
        {},
        {
            "name": "Ann Lee",
            "turn": 3,
            "statements": "1. a\n2. b",
            "size": 2,
            "lifestyle": "wakes up around 6 am, goes to bed at 10 pm",
            "sectors": ["Hobbs Cafe", "Johnson Park"],
            "home": "Lee house",
            "after": [["work", 50]],
            "minutes": 90,
            "task": "working at the cafe",
        },
    ],
)
def test_scripted_rules_answer_valid_objects_even_without_inputs(task, vars) -> None:  # type: ignore[no-untyped-def]
    request = LLMRequest(task.name, "", "", task.json_schema(), None, task.max_tokens, 0.0, vars)
    for seed in range(5):
        answer = RULES[task.name](request, random.Random(seed))
        task.schema.model_validate_json(json.dumps(answer))


def _rendered_choice(name: str, options: tuple[str, ...], activity: str) -> LLMRequest:
    """The request the gateway sends for a place choice: the rendered prompt and the options."""
    task = next(t for t in ALL_TASKS if t.name == name)
    vars = {k: "none" for k in task.placeholders()}
    vars.update(activity=activity, home=options[2], name="Ann Lee")
    system, user = task.render({k: v for k, v in vars.items() if k in task.placeholders()})
    user += "\n\nOptions:\n" + "\n".join(f"- {o}" for o in options)
    return LLMRequest(name, system, user, None, options, 20, 0.0)


@pytest.mark.parametrize("name", ["action_sector", "action_arena", "action_object"])
def test_scripted_choices_are_among_the_options(name: str) -> None:
    options = ("Hobbs Cafe", "Oak Hill College", "Dorm for Oak Hill College")
    for query in ("studying at Oak Hill College", "sleeping", "", "having lunch at Hobbs Cafe"):
        request = _rendered_choice(name, options, query)
        assert RULES[name](request, random.Random(1)) in options
    request = _rendered_choice(name, options, "studying at Oak Hill College")
    if name == "action_sector":
        assert RULES[name](request, random.Random(1)) == "Oak Hill College"
