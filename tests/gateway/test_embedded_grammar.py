"""Grammars of the embedded backend: what they admit and what they refuse.

The grammars are checked with ``gbnf_matcher``, a test helper that turns the (non-recursive)
GBNF we generate into a Python regular expression. The real llama.cpp parser runs them in
``test_embedded_model.py``.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from aga.gateway.backends.embedded import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_ITEMS,
    grammar_for_choices,
    grammar_for_request,
    grammar_for_schema,
)
from aga.gateway.types import FatalBackendError, LLMRequest, choice_schema

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def gbnf_matcher(grammar: str) -> re.Pattern[str]:
    """Test helper: a regex equivalent to a non-recursive GBNF grammar (rule ``root``)."""
    rules = dict(line.split(" ::= ", 1) for line in grammar.strip().splitlines())

    def compile_rule(name: str, depth: int) -> str:
        assert depth < 30, f"rule {name} is recursive; the matcher only handles non-recursive grammars"
        body = rules[name]
        out, i = [], 0
        while i < len(body):
            c = body[i]
            if c.isspace():
                i += 1
            elif c == '"':
                j, text = i + 1, []
                while body[j] != '"':
                    if body[j] == "\\":
                        nxt = body[j + 1]
                        if nxt == "x":
                            text.append(chr(int(body[j + 2 : j + 4], 16)))
                            j += 4
                            continue
                        text.append(_ESCAPES[nxt])
                        j += 2
                    else:
                        text.append(body[j])
                        j += 1
                out.append(re.escape("".join(text)))
                i = j + 1
            elif c == "[":
                j = i + 1
                while body[j] != "]":
                    j += 2 if body[j] == "\\" else 1
                out.append(body[i : j + 1])
                i = j + 1
            elif c in "()":
                out.append("(?:" if c == "(" else ")")
                i += 1
            elif c in "|?*+":
                out.append(c)
                i += 1
            elif c == "{":
                j = body.index("}", i)
                out.append(body[i : j + 1])
                i = j + 1
            else:
                m = re.match(r"[a-zA-Z0-9-]+", body[i:])
                assert m, f"cannot read {body[i:]!r}"
                out.append(f"(?:{compile_rule(m.group(0), depth + 1)})")
                i += m.end()
        return "".join(out)

    return re.compile(compile_rule("root", 0), re.DOTALL)


def admits(grammar: str, text: str) -> bool:
    """True when the whole of ``text`` is in the grammar's language."""
    return gbnf_matcher(grammar).fullmatch(text) is not None


class Importance(BaseModel):
    rating: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


class WakeUp(BaseModel):
    hour: int = Field(ge=4, le=11)


class Minutes(BaseModel):
    minutes: int = Field(ge=0, le=1440)


class Subtasks(BaseModel):
    names: list[Annotated[str, Field(max_length=20)]] = Field(min_length=1, max_length=4)


class Loose(BaseModel):
    notes: list[str]
    text: str


class Item(BaseModel):
    what: str = Field(max_length=30)
    done: bool


class Outer(BaseModel):
    item: Item | None = None
    score: float
    kind: Literal["chat", "walk"]


def test_integer_enum_admits_only_its_values() -> None:
    g = grammar_for_schema(Importance.model_json_schema())
    assert admits(g, '{"rating": 7}') and admits(g, '{"rating":10}') and admits(g, '{"rating": 1}')
    for bad in (
        '{"rating": 11}',
        '{"rating": 0}',
        '{"rating": 1000000000}',
        '{"rating": "7"}',
        '{"rating": 7, "x": 1}',
        ' {"rating": 7}',
        '```json\n{"rating": 7}',
    ):
        assert not admits(g, bad), bad


def test_small_integer_range_becomes_an_enum() -> None:
    g = grammar_for_schema(WakeUp.model_json_schema())
    assert [h for h in range(0, 30) if admits(g, f'{{"hour": {h}}}')] == list(range(4, 12))


def test_wide_integer_range_bounds_the_digits() -> None:
    g = grammar_for_schema(Minutes.model_json_schema())
    assert admits(g, '{"minutes": 0}') and admits(g, '{"minutes": 1440}')
    for bad in ('{"minutes": -5}', '{"minutes": 12345}', '{"minutes": 007}', '{"minutes": 1.5}'):
        assert not admits(g, bad), bad


def test_list_bounds_and_item_length_are_enforced() -> None:
    g = grammar_for_schema(Subtasks.model_json_schema())
    assert admits(g, '{"names": ["make coffee"]}')
    assert admits(g, '{"names": ["a", "b","c", "d"]}')
    assert not admits(g, '{"names": []}')  # minItems 1
    assert not admits(g, '{"names": ["a", "b", "c", "d", "e"]}')  # maxItems 4
    assert not admits(g, '{"names": ["' + "x" * 21 + '"]}')  # maxLength 20


def test_unbounded_lists_and_strings_get_default_bounds() -> None:
    g = grammar_for_schema(Loose.model_json_schema())
    items = ", ".join('"n"' for _ in range(DEFAULT_MAX_ITEMS))
    assert admits(g, f'{{"notes": [{items}], "text": "{"y" * DEFAULT_MAX_CHARS}"}}')
    assert admits(g, '{"notes": [], "text": ""}')
    assert not admits(g, f'{{"notes": [{items}, "n"], "text": ""}}')
    assert not admits(g, f'{{"notes": [], "text": "{"y" * (DEFAULT_MAX_CHARS + 1)}"}}')


def test_strings_allow_json_escapes_but_no_raw_control_characters() -> None:
    g = grammar_for_schema(Loose.model_json_schema())
    assert admits(g, r'{"notes": ["say \"hi\""], "text": "a\\b\nc"}')
    assert not admits(g, '{"notes": [], "text": "line\nbreak"}')
    assert not admits(g, '{"notes": ["unterminated], "text": ""}')


def test_nested_refs_optional_fields_floats_and_literals() -> None:
    g = grammar_for_schema(Outer.model_json_schema())
    assert admits(g, '{"item": null, "score": 0.5, "kind": "chat"}')
    assert admits(g, '{"item": {"what": "read", "done": true}, "score": -3, "kind": "walk"}')
    assert not admits(g, '{"item": {"what": "read", "done": "yes"}, "score": 1, "kind": "walk"}')
    assert not admits(g, '{"item": null, "score": 1, "kind": "run"}')
    assert not admits(g, '{"score": 1, "kind": "chat"}')  # every declared property, in order


@pytest.mark.parametrize(
    "answer",
    [
        Importance(rating=3),
        WakeUp(hour=6),
        Minutes(minutes=90),
        Subtasks(names=["brew", "serve"]),
        Outer(item=Item(what="tidy up", done=False), score=2.25, kind="walk"),
    ],
)
def test_pydantic_dumps_of_valid_answers_are_admitted(answer: BaseModel) -> None:
    g = grammar_for_schema(type(answer).model_json_schema())
    assert admits(g, answer.model_dump_json())
    assert admits(g, json.dumps(answer.model_dump()))  # with spaces after ':' and ','


def test_choice_grammar_admits_exactly_the_options_even_with_quotes() -> None:
    options = ["Hobbs Cafe", 'the "Rose" pub', "back\\slash", "Café Ünïcode"]
    g = grammar_for_choices(options)
    for option in options:
        assert admits(g, json.dumps({"choice": option}, ensure_ascii=False))
        assert admits(g, json.dumps({"choice": option}, ensure_ascii=False, separators=(",", ":")))
    assert not admits(g, '{"choice": "Hobbs"}')
    assert not admits(g, '{"choice": "Hobbs Cafe!"}')
    assert not admits(g, '{"option": "Hobbs Cafe"}')


def test_request_prefers_choices_then_schema_then_free_text() -> None:
    base = dict(task="t", system="s", user="u", max_tokens=10, temperature=0.0)
    choice = LLMRequest(json_schema=choice_schema(["a", "b"]), choices=("a", "b"), **base)
    assert grammar_for_request(choice) == grammar_for_choices(["a", "b"])
    schema = LLMRequest(json_schema=Importance.model_json_schema(), choices=None, **base)
    assert grammar_for_request(schema) == grammar_for_schema(Importance.model_json_schema())
    assert grammar_for_request(LLMRequest(json_schema=None, choices=None, **base)) is None


def test_impossible_requests_fail_with_a_clear_error() -> None:
    with pytest.raises(FatalBackendError, match="at least one option"):
        grammar_for_choices([])
    with pytest.raises(FatalBackendError, match="empty"):
        grammar_for_schema({"type": "object", "properties": {"x": {"enum": []}}})
    with pytest.raises(FatalBackendError, match="maxItems 1 < minItems 2"):
        grammar_for_schema({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 1})
    with pytest.raises(FatalBackendError, match="points nowhere"):
        grammar_for_schema({"$ref": "#/$defs/Missing"})


def test_best_admitted_token_from_the_top_candidates_equals_the_whole_vocabulary_pass() -> None:
    """The greedy shortcut (best few candidates first) picks what a pass over every token picks,
    ties and cut-offs included; a stand-in for llama.cpp's grammar refuses tokens by a rule."""
    import ctypes
    import random
    import types

    import llama_cpp as lc
    import numpy as np

    from aga.gateway.backends import embedded

    def make_lc(admit, calls):
        def apply(_sampler, ref):
            arr = ref._obj
            data = np.ctypeslib.as_array(
                ctypes.cast(arr.data, ctypes.POINTER(ctypes.c_byte)),
                shape=(arr.size * embedded._TOKEN_DATA.itemsize,),
            )
            view = data.view(embedded._TOKEN_DATA)
            calls.append(arr.size)
            for row in view:
                if not admit(int(row["id"])):
                    row["logit"] = -np.inf

        return types.SimpleNamespace(
            llama_token_data=lc.llama_token_data,
            llama_token_data_array=lc.llama_token_data_array,
            llama_sampler_apply=apply,
        )

    rng = random.Random(3)
    for case in range(60):
        n_vocab = 5000
        logits = np.round(
            np.asarray([rng.gauss(0, 3) for _ in range(n_vocab)], dtype=np.float32), 0 if case % 2 else 3
        )
        allowed = set(rng.sample(range(n_vocab), rng.choice((1, 3, 40, 2500))))
        calls: list[int] = []
        fake = make_lc(lambda t, a=allowed: t in a, calls)
        got = embedded._best_admitted(fake, None, logits, 0.0, None)
        best = max(allowed, key=lambda t: (logits[t], -t))
        assert got == best, case
    # a popular admitted token is found without a pass over the whole vocabulary
    calls = []
    logits = np.arange(5000, dtype=np.float32)
    assert embedded._best_admitted(make_lc(lambda t: t % 7 == 0, calls), None, logits, 0.0, None) == 4998
    assert max(calls) < 5000


def test_a_schedule_rewrite_is_closed_after_eight_activities() -> None:
    # the embedded model repeated one activity until its 400 tokens ran out, three times over
    from aga.prompts.tasks import ScheduleRewrite

    g = grammar_for_schema(ScheduleRewrite.model_json_schema())
    item = '{"activity": "studying at Hobbs Cafe", "minutes": 20}'
    assert admits(g, '{"activities": [' + ", ".join([item] * 8) + "]}")
    assert not admits(g, '{"activities": [' + ", ".join([item] * 9) + "]}")
