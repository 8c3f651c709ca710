"""Question sets: the built-in ones and question files."""

from __future__ import annotations

from collections import Counter

import pytest

from aga.errors import InputError
from aga.interview import BATTERY, DIFFUSION, load_question_set
from aga.interview.questions import fill


def test_battery_has_five_questions_in_each_of_five_categories() -> None:
    assert Counter(q.category for q in BATTERY.questions) == {
        "self-knowledge": 5,
        "memory": 5,
        "plans": 5,
        "reactions": 5,
        "reflection": 5,
    }
    assert len(set(BATTERY.texts)) == 25


def test_diffusion_asks_about_the_party_the_mayor_and_going() -> None:
    party, mayor, went = DIFFUSION.texts
    assert "Valentine" in party and "where" in party and "when" in party
    assert "mayor" in mayor
    assert "go to" in went and "why" in went


def test_other_takes_the_other_residents_in_turn() -> None:
    asked = fill(["Who is {other}?", "Hi {name}", "And {other}?", "Again {other}?"], "Ann", ["Bo", "Cy"])
    assert asked == ["Who is Bo?", "Hi Ann", "And Cy?", "Again Bo?"]
    assert fill(["Who is {other}?"], "Ann", []) == ["Who is someone in town?"]


def test_question_file(tmp_path) -> None:
    path = tmp_path / "friends.yaml"
    path.write_text(
        "questions:\n  - What do you think of {other}?\n  - text: Who are you?\n    category: self\n"
    )
    qs = load_question_set(str(path))
    assert qs.name == "friends" and qs.texts == ["What do you think of {other}?", "Who are you?"]
    assert qs.questions[1].category == "self"


@pytest.mark.parametrize(
    "content, message",
    [
        ("questions: []\n", "at least one question"),
        ("questions:\n  - Who is {someone}?\n", "question 1 has placeholder {someone}"),
        ("questions:\n  - 3\n", "question 1 must be a text"),
        ("questions: [\n", "not valid YAML"),
    ],
)
def test_bad_question_files_name_the_file_and_question(tmp_path, content, message) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        load_question_set(str(path))
    assert str(path) in str(info.value)


def test_unknown_set_lists_the_built_in_ones() -> None:
    with pytest.raises(InputError, match="built-in sets are diffusion, battery"):
        load_question_set("gossip")
