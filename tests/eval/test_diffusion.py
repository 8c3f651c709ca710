"""Knowers of a seeded fact and their sources, from memories built by hand; the hourly curve."""

from __future__ import annotations

from aga.eval.diffusion import carries, curve, diffusion_report, knowers, knowers_from_chats
from aga.eval.records import Chat

from .records_helpers import ISA, KLAUS, MARIA, PARTY, START, at, mem, records


def test_carries_needs_every_item_as_whole_words() -> None:
    words = ["sam|moore", "mayor|election"]
    assert carries("Sam Moore is running for mayor", words)
    assert carries("I heard MOORE talk about the election", words)
    assert not carries("Sam is the same as always", words)
    assert not carries("the mayoral race", ["mayor"])
    assert carries("Isabella's Valentine's Day party", ["party|valentine"])
    assert not carries("a partygoer", ["party"])


def _store_like():
    return records(
        memories={
            ISA: [
                mem(
                    ISA,
                    1,
                    "thought",
                    START,
                    "Isabella Rodriguez is hosting a Valentine's Day party",
                    seed=True,
                )
            ],
            KLAUS: [
                mem(KLAUS, 1, "event", at("09:00"), "Klaus Mueller is reading in the library"),
                # the line carrying it is Isabella's; Klaus's own reply does not count as a source
                mem(
                    KLAUS,
                    2,
                    "chat",
                    at("11:30"),
                    "conversation about lunch",
                    subject=KLAUS,
                    obj=ISA,
                    lines=[
                        (KLAUS, "Hi Isabella"),
                        (ISA, "Come to my party tomorrow at 5!"),
                        (KLAUS, "I'd love to"),
                    ],
                ),
                mem(KLAUS, 3, "thought", at("11:40"), "Klaus Mueller wants to go to the party"),
            ],
            MARIA: [
                mem(
                    MARIA,
                    1,
                    "chat",
                    at("12:00"),
                    "chat with Klaus about exams",
                    subject=MARIA,
                    obj=KLAUS,
                    lines=[(MARIA, "Are you going to the party?"), (KLAUS, "Which one?")],
                ),
                mem(
                    MARIA,
                    2,
                    "event",
                    at("15:00"),
                    "Isabella Rodriguez is decorating for the party",
                    subject=ISA,
                ),
            ],
        }
    )


def test_knowers_and_sources_from_memories() -> None:
    found = knowers(_store_like(), PARTY)
    assert {a: (k.since, k.via, k.source, k.memory_id) for a, k in found.items()} == {
        ISA: (START, "seed", ISA, 1),
        KLAUS: (at("11:30"), "chat", ISA, 2),
        # Maria's own question in the 12:00 chat is not hearing it: she learns it from an event
        MARIA: (at("15:00"), "event", ISA, 2),
    }


def test_memories_after_the_step_are_not_read() -> None:
    rec = _store_like()
    rec.memories[MARIA] = [m for m in rec.memories[MARIA] if m.created < at("14:00")]
    assert sorted(knowers(rec, PARTY)) == [ISA, KLAUS]


def test_curve_counts_knowers_each_hour() -> None:
    found = knowers(_store_like(), PARTY)
    pts = dict(curve(found, START, at("16:00")))
    assert pts[START] == 1
    assert pts[at("11:00")] == 1
    assert pts[at("12:00")] == 2
    assert pts[at("15:00")] == 3
    assert len(pts) == 17


def test_replay_knowers_from_chat_lines_heard() -> None:
    chats = [
        Chat(at("09:55"), at("09:58"), (KLAUS, MARIA), ((KLAUS, "Morning!"), (MARIA, "Hi Klaus"))),
        Chat(
            at("11:22"),
            at("11:25"),
            (ISA, KLAUS),
            ((ISA, "I'm throwing a Valentine's Day party"), (KLAUS, "Fun!")),
        ),
        Chat(at("15:19"), at("15:30"), (ISA, MARIA), ((ISA, "Remember the party?"), (MARIA, "Of course"))),
    ]
    found = knowers_from_chats(chats, PARTY.words, START, seeded=[ISA])
    assert {a: (k.since, k.source) for a, k in found.items()} == {
        ISA: (START, ISA),
        KLAUS: (at("11:22"), ISA),
        MARIA: (at("15:19"), ISA),
    }


def test_report_shape() -> None:
    rep = diffusion_report(_store_like())
    assert rep[0]["known_by"] == 3 and rep[0]["basis"] == "memories"
    assert rep[0]["knowers"][KLAUS] == {
        "since": "2023-02-13 11:30:00",
        "via": "chat",
        "source": ISA,
        "memory": 2,
    }
