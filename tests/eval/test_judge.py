"""--judge: the scripted judge (a test double reading only the rendered prompt) scores interview
answers and a sample of chat lines; the sample is even and stable."""

from __future__ import annotations

from aga.eval.judge import judge_report, sample_chat_lines
from aga.eval.records import Chat

from .records_helpers import ISA, KLAUS, at, records


def _rec(n_chats: int = 1):
    chats = [
        Chat(
            at("10:00"),
            at("10:05"),
            (ISA, KLAUS),
            (
                (ISA, "Hi"),
                (KLAUS, "I'm looking forward to meeting Klaus Mueller"),
                (ISA, "The party starts at five tomorrow evening and everyone from the Ville is welcome"),
            ),
        )
    ] * n_chats
    rec = records(residents=[ISA, KLAUS])
    rec.chats_override = chats
    return rec


def test_sample_is_even_and_stable() -> None:
    rec = _rec(10)  # 30 lines
    first = sample_chat_lines(rec, 6)
    assert [x["text"] for x in first] == [x["text"] for x in sample_chat_lines(rec, 6)]
    assert len(first) == 6
    assert first[1]["name"] == ISA  # the 6th of 30 lines: Isabella's third line of the 2nd chat
    assert (
        first[1]["context"]
        == f"talking with {KLAUS}; they just said: I'm looking forward to meeting Klaus Mueller"
    )
    assert len(sample_chat_lines(_rec(1), 12)) == 3


def test_scripted_judge_scores_lines_and_answers() -> None:
    interviews = {
        "answers": [
            {
                "resident": KLAUS,
                "question": "Do you know Isabella?",
                "answer": "Yes, she runs Hobbs Cafe and I often have lunch there on weekdays.",
            },
            {"resident": ISA, "question": "Q", "answer": ""},
        ]
    }
    got = judge_report(_rec(), interviews, "scripted")
    scores = [(i["name"], i["score"]) for i in got["items"]]
    assert scores == [(KLAUS, 4), (ISA, 2), (KLAUS, 1), (ISA, 4)]
    assert got["scored"] == 4 and got["mean"] == 2.75
