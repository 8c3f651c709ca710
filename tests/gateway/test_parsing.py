"""Reading answers: the first balanced JSON object, schema problems, loose choice matching."""

from __future__ import annotations

import pytest

from aga.gateway.parsing import AnswerProblem, extract_object, match_choice, parse_answer

from .conftest import Rating


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Here: {"a": "x}y"} and {"b": 2}', {"a": "x}y"}),
        ('```json\n{"a": {"b": [1, 2]}}\n```', {"a": {"b": [1, 2]}}),
        ('{not json} then {"a": "\\"q\\""}', {"a": '"q"'}),
        ('prefix {"a": 1', None),
    ],
)
def test_extract_object(text, expected):
    if expected is None:
        with pytest.raises(AnswerProblem, match="not closed"):
            extract_object(text)
    else:
        assert extract_object(text) == expected


def test_no_object_at_all():
    with pytest.raises(AnswerProblem, match="holds no JSON object"):
        extract_object("just words")


def test_schema_problems_name_the_fields():
    with pytest.raises(AnswerProblem) as info:
        parse_answer('{"rating": 11}', Rating)
    message = str(info.value)
    assert (
        message.startswith("rating: Input should be 1, 2, 3, 4 or 5") and "reason: Field required" in message
    )


@pytest.mark.parametrize(
    ("text", "pick"),
    [
        ('{"choice": "Hobbs Cafe"}', "Hobbs Cafe"),
        ('{"choice": "  hobbs   CAFE. "}', "Hobbs Cafe"),
        ('{"place": "the park"}', "the park"),
        ("Hobbs Cafe", "Hobbs Cafe"),
        ('"the park"', "the park"),
    ],
)
def test_match_choice_accepts_exact_and_loose_forms(text, pick):
    assert match_choice(text, ["Hobbs Cafe", "the park"]) == pick


def test_match_choice_rejects_other_words():
    with pytest.raises(AnswerProblem, match="'the moon' is not one of the options"):
        match_choice('{"choice": "the moon"}', ["Hobbs Cafe", "the park"])
    with pytest.raises(AnswerProblem, match='no "choice" field'):
        match_choice('{"choice": ["a"], "x": 1}', ["a"])
