"""Every task's longest admitted answer fits its token budget.

The embedded backend constrains an answer with a grammar built from the task's schema
(string lengths, list lengths, number ranges). When the longest answer that grammar admits
needs more tokens than the task's ``max_tokens``, a model that rambles is cut off mid-JSON and
the call is wasted (a 600-character chat line once ran past its 120 tokens three times and ended
a chat); within the budget, the grammar closes the answer first and it is whole.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
from reference_data import needs

from aga.gateway import Task
from aga.gateway.backends.grammar import DEFAULT_MAX_CHARS, DEFAULT_MAX_ITEMS
from aga.gateway.backends.model_files import assembled_path, spec_for
from aga.gateway.tokens import GGUFTokenizer
from aga.minds.converse import whole_sentences
from aga.minds.perceive import BATCH_MAX
from aga.minds.plan import step_count
from aga.prompts import tasks as T

GGUF = assembled_path(spec_for("default"))
needs_gguf = needs(GGUF, "the embedded model file (make setup assembles it)")  # a failure under CI

PROSE = (
    "I was thinking we could meet at Hobbs Cafe after work on Friday and talk about the party, "
    "because Isabella Rodriguez asked me to help with the decorations and the music. "
) * 30


def longest(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The longest value the grammar of ``schema`` admits, its strings in ordinary English."""
    if "$ref" in schema:
        return longest(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return max((longest(s, defs) for s in schema[key]), key=lambda v: len(json.dumps(v)))
    if "enum" in schema:
        return max(schema["enum"], key=lambda v: len(json.dumps(v)))
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {k: longest(v, defs) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [longest(schema["items"], defs) for _ in range(int(schema.get("maxItems", DEFAULT_MAX_ITEMS)))]
    if kind == "string":
        text = PROSE[: int(schema.get("maxLength", DEFAULT_MAX_CHARS))]
        return text[:-1] + "x" if text.endswith(" ") else text  # no trailing space to squash away
    if kind == "integer":
        return int(schema.get("maximum", 999_999_999))
    if kind == "boolean":
        return False
    raise AssertionError(f"no longest value for {schema}")


@cache
def _tokenizer() -> GGUFTokenizer:
    return GGUFTokenizer(GGUF)


def _tasks() -> list[Task[Any]]:
    found = [t for t in vars(T).values() if isinstance(t, Task) and t.schema is not None]
    decomps = {step_count(m, original) for m in (5, 60, 240, 600) for original in (False, True)}
    found += [T.decomposition(n) for n in sorted(decomps)]
    found.append(replace(T.EVENT_RATINGS, schema=T.exactly(T.Ratings, "ratings", BATCH_MAX)))
    return found


@needs_gguf
@pytest.mark.parametrize("task", _tasks(), ids=lambda t: f"{t.name}-{t.schema.__name__}")
def test_the_longest_admitted_answer_fits_the_budget(task: Task[Any]) -> None:
    schema = task.schema.model_json_schema()
    answer = longest(schema, schema.get("$defs", {}))
    task.schema.model_validate(answer)  # the filler is an answer the schema takes
    tokens = _tokenizer().completion_tokens(json.dumps(answer, separators=(",", ":")))
    assert tokens <= task.max_tokens, f"{task.name}: {tokens} tokens admitted, budget {task.max_tokens}"


def test_a_decomposition_admits_two_steps_more_than_it_asks_for() -> None:
    task = T.decomposition(10)
    schema = task.schema.model_json_schema()
    assert schema["properties"]["subtasks"]["maxItems"] == 12
    assert T.decomposition(3).schema.model_json_schema()["properties"]["subtasks"]["maxItems"] == 5
    assert T.decomposition(3).max_tokens < task.max_tokens < T.decomposition(24).max_tokens


def test_a_chat_line_cut_at_its_cap_keeps_its_whole_sentences() -> None:
    assert whole_sentences("Hi Maria! I'm having a party on Friday. Would you like to co") == (
        "Hi Maria! I'm having a party on Friday."
    )
    assert whole_sentences("Hi Maria, I was wondering whether you and your friends from colle") == (
        "Hi Maria, I was wondering whether you and your friends from..."
    )
    assert whole_sentences('She said "come along." And') == 'She said "come along."'
    assert whole_sentences("All done!") == "All done!"
