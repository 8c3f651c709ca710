"""Each text-defect detector on examples that must and must not fire."""

from __future__ import annotations

import pytest

from aga.eval.defects import (
    chat_third_person,
    copied_subtasks,
    help_desk,
    not_a_sentence,
    repeated_lines,
    thought_third_person,
)

MARIA, KLAUS = "Maria Lopez", "Klaus Mueller"


@pytest.mark.parametrize(
    "speaker,listener,line",
    [
        (MARIA, KLAUS, "I can't wait to meet Klaus Mueller"),
        (MARIA, KLAUS, "Have you seen Klaus today?"),
        (MARIA, KLAUS, "Maria Lopez is happy to see you."),
        (MARIA, KLAUS, "I think Maria should study more."),
        ("Isabella Rodriguez", MARIA, "Isabella's party is tomorrow, you should come!"),
    ],
)
def test_chat_third_person_fires(speaker: str, listener: str, line: str) -> None:
    assert chat_third_person(speaker, listener, line)


@pytest.mark.parametrize(
    "speaker,listener,line",
    [
        (MARIA, KLAUS, "Hey Klaus! How is your paper going?"),
        (MARIA, KLAUS, "Thanks, Klaus. See you at the library."),
        (MARIA, KLAUS, "Klaus, are you coming to the party?"),
        (MARIA, KLAUS, "Hi, I'm Maria, nice to meet you."),
        (MARIA, KLAUS, "I'll send it to klaus.mueller@oakhill.edu tonight."),
        (MARIA, KLAUS, "Isabella told me about the party."),
        (MARIA, KLAUS, "Good morning, Klaus Mueller!"),
    ],
)
def test_chat_third_person_does_not_fire(speaker: str, listener: str, line: str) -> None:
    assert not chat_third_person(speaker, listener, line)


@pytest.mark.parametrize(
    "agent,thought",
    [
        (KLAUS, "I'm looking forward to meeting Klaus Mueller"),
        (KLAUS, "Klaus Mueller wants to talk to Klaus Mueller about the paper"),
        (MARIA, "I should tell Maria about the exam"),
    ],
)
def test_thought_third_person_fires(agent: str, thought: str) -> None:
    assert thought_third_person(agent, thought)


@pytest.mark.parametrize(
    "agent,thought",
    [
        (KLAUS, "Klaus Mueller is looking forward to the party at Hobbs Cafe"),
        (KLAUS, "I should ask Maria Lopez about her physics exam"),
        (KLAUS, "Maria Lopez has a crush on someone"),
        (MARIA, "Maria Lopez enjoyed talking with Klaus Mueller about his research"),
    ],
)
def test_thought_third_person_does_not_fire(agent: str, thought: str) -> None:
    assert not thought_third_person(agent, thought)


NAMES = ("Klaus Mueller", "Maria Lopez", "Isabella Rodriguez")


@pytest.mark.parametrize(
    "text",
    [
        "Klaus Mueller is Read and take notes in the library",
        "Maria Lopez is Getting up",
        "Klaus Mueller is go to the library",
        "Isabella Rodriguez is prepare the cafe for opening",
    ],
)
def test_not_a_sentence_fires(text: str) -> None:
    assert not_a_sentence(text, NAMES)


@pytest.mark.parametrize(
    "text",
    [
        "Klaus Mueller is reading and taking notes in the library",
        "Maria Lopez is idle",
        "the Ville:Hobbs Cafe:cafe:piano is open",
        "Isabella Rodriguez is at Hobbs Cafe",
        "Klaus Mueller is talking with Maria Lopez about the party",
        "Maria Lopez is Maria's friend",
    ],
)
def test_not_a_sentence_does_not_fire(text: str) -> None:
    assert not not_a_sentence(text, NAMES)


def test_repeated_lines_counts_each_repeat_once_per_extra_copy() -> None:
    lines = [
        (MARIA, "Is there anything else I can do to help?"),
        (KLAUS, "Not really, thanks!"),
        (MARIA, "Is there anything else I can do to help?"),
        (KLAUS, "not really,   thanks"),
        (MARIA, "is there anything else i can do to help"),
    ]
    assert repeated_lines(lines) == 3


def test_repeated_lines_zero_when_all_differ() -> None:
    assert repeated_lines([(MARIA, "Hi Klaus!"), (KLAUS, "Hi Maria!"), (MARIA, "How are you?")]) == 0


def test_copied_subtasks_fire_only_on_steps_that_are_other_items() -> None:
    day = [
        "sleeping",
        "Getting up (Read and take notes in the library)",  # fires: another item of the day
        "Read and take notes in the library (finding a seat)",  # a real step
        "Read and take notes in the library",
        "having lunch (having lunch)",  # the item itself: not a copy
        "working on his paper (writing the introduction)",
    ]
    assert copied_subtasks(day) == ["Getting up (Read and take notes in the library)"]
    assert copied_subtasks(["eating breakfast (making toast)", "walking (to the cafe)"]) == []


@pytest.mark.parametrize(
    "line",
    [
        "I'm sorry, but I'm not sure how to help with the decorations. Can you please provide me with more information?",
        "I apologize, but I can't find that.",
        "Could you please specify what you want the decorations to look like?",
        "As an AI, I don't drink coffee.",
        "How can I help you today?",
    ],
)
def test_help_desk_fires(line: str) -> None:
    assert help_desk(line)


@pytest.mark.parametrize(
    "line",
    [
        "Sorry, I can't make it tonight, I have a paper due.",
        "Can you help me with the decorations tomorrow?",
        "I'm not sure yet, maybe I'll come after my exam.",
        "What can I get you? A latte?",
    ],
)
def test_help_desk_does_not_fire(line: str) -> None:
    assert not help_desk(line)
