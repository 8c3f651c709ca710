"""Task templates: the --- split, placeholders, the fixed answer format, clear errors."""

from __future__ import annotations

import pytest

from aga.errors import InputError
from aga.gateway import Task

from .conftest import PICK, PLAN, PROMPTS, RATE


def test_instructions_come_first_and_end_with_the_fixed_answer_format():
    system, user = RATE.render({"name": "Maria", "event": "a quiz"})
    assert system.startswith("You score how much an event matters")
    assert system.endswith('{"rating": 1|2|3|4|5, "reason": "<text>"}')
    assert user == "Person: Maria\nEvent: a quiz"
    other, _ = RATE.render({"name": "Klaus", "event": "lunch"})
    assert other == system  # static: the prefix cache of a local model keeps working


def test_choice_tasks_describe_the_choice_object():
    system, user = PICK.render({"name": "A", "query": "read"})
    assert '{"choice":' in system and user == "A wants to: read"


def test_nested_schema_shape_and_dollar_escape():
    system, user = PLAN.render({"name": "Klaus"})
    assert '"steps": [{"what": "<text>", "minutes": <integer>}, ...]' in system
    assert user.endswith("Costs $5 a day.")


def test_template_without_separator_is_all_input(tmp_path):
    task = Task("no_split", None, max_tokens=5, template_dir=PROMPTS)
    system, user = task.render({"name": "Ayesha"})
    assert user == "Say hello to Ayesha." and system.startswith("Answer with one JSON object")


def test_list_values_are_rendered_one_per_line(tmp_path):
    _system, user = RATE.render({"name": "A", "event": ["one", "two"]})
    assert user.endswith("Event: one\ntwo")


def test_missing_placeholder_names_file_line_and_name():
    with pytest.raises(InputError) as info:
        RATE.render({"name": "A"})
    assert f"{PROMPTS / 'rate_event.txt'}:4: placeholder $event has no value" in str(info.value)


def test_missing_template_names_the_path(tmp_path):
    task = Task("nowhere", None, max_tokens=5, template_dir=tmp_path)
    with pytest.raises(InputError, match=f"prompt template {tmp_path / 'nowhere.txt'} not found"):
        task.render({})


def test_bad_placeholder_syntax_is_reported(tmp_path):
    (tmp_path / "bad.txt").write_text("Costs $5\n---\nhi\n")
    with pytest.raises(InputError, match=r"bad\.txt: bad placeholder.*\$\$"):
        Task("bad", None, max_tokens=5, template_dir=tmp_path).render({})


def test_task_is_frozen_and_keyword_only():
    with pytest.raises(TypeError):
        Task("x", None, 10)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        RATE.max_tokens = 5  # type: ignore[misc]
    assert Task("x", None, max_tokens=10, template_dir=str(PROMPTS)).template_path == PROMPTS / "x.txt"
