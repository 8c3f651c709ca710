"""The day's realism, coordination, defects over records and cost, on timelines built by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from aga.eval.day import (
    coordination_report,
    cost_report,
    defects_report,
    realism_report,
    resident_day,
    top_activity,
)
from aga.eval.records import Move

from .records_helpers import ISA, KLAUS, MARIA, START, PlanItem, at, mem, records, timeline

CAFE = "Hobbs Cafe:cafe:behind the cafe counter"
HOME = "Isabella Rodriguez's apartment:main room:bed"
CHAT = [(ISA, "Hi Klaus, come to my party!"), (KLAUS, "Sure!"), (ISA, "Great, see you"), (KLAUS, "Bye")]


def _isabella() -> list[Move]:
    return timeline(
        ISA,
        [
            ("00:00", "sleeping", HOME),
            (
                "06:00",
                "waking up and getting ready (brushing teeth)",
                "Isabella Rodriguez's apartment:bathroom:sink",
            ),
            ("06:30", "eating breakfast", "Isabella Rodriguez's apartment:main room:refrigerator"),
            ("07:00", "opening Hobbs Cafe (unlocking the door)", CAFE),
            ("08:00", "opening Hobbs Cafe (making coffee)", CAFE),
            ("10:00", "conversing about the party", "<persona> Klaus Mueller"),
            ("10:04", "serving customers", CAFE),
            ("12:00", "taking a lunch break", "The Rose and Crown Pub:pub:bar customer seating"),
            ("13:00", "serving customers", CAFE),
            ("20:00", "napping on the sofa", "Isabella Rodriguez's apartment:main room:sofa"),
            ("20:30", "reading a book", "Isabella Rodriguez's apartment:main room:desk"),
            ("22:50", "sleeping", HOME),
        ],
        chats={"10:00": CHAT},
        places={"10:00": "Hobbs Cafe:cafe"},
    )


def _klaus() -> list[Move]:
    # never goes to bed: awake from 07:00 to midnight
    return timeline(
        KLAUS,
        [
            ("00:00", "sleeping", "Dorm for Oak Hill College:Klaus Mueller's room:bed"),
            ("07:00", "going to work (reading)", "Dorm for Oak Hill College:Klaus Mueller's room:desk"),
            ("10:00", "conversing about the party", "<persona> Isabella Rodriguez"),
            ("10:04", "going to work (reading)", "Dorm for Oak Hill College:Klaus Mueller's room:desk"),
        ],
        chats={"10:00": CHAT},
    )


def _rec(**kw):
    return records(
        residents=[ISA, KLAUS],
        moves={ISA: _isabella(), KLAUS: _klaus()},
        workplaces={ISA: "Hobbs Cafe", KLAUS: "Oak Hill College:library"},
        **kw,
    )


def test_top_activity() -> None:
    assert top_activity("opening Hobbs Cafe (unlocking the door)") == "opening Hobbs Cafe"
    assert top_activity("sleeping") == "sleeping"


def test_isabella_day_exactly() -> None:
    rec = _rec()
    day = resident_day(rec, ISA, START, rec.chats())
    assert day["wake"] == "06:00"
    assert day["bed"] == "20:00"  # the nap at 20:00 is the first sleep after 18:00
    assert day["meals"] == 2  # breakfast, lunch
    assert day["longest_activity"] == "serving customers"
    assert day["longest_minutes"] == 420.0  # 13:00-20:00
    # 09:00-12:00: 60 min opening + 4 min chat in the cafe + 116 min serving, all at the cafe
    assert day["work_share_9_12"] == 1.0
    # 09:00-17:00 = 480 min; 60 at the pub
    assert day["work_share_9_17"] == round(420 / 480, 3)
    assert day["work_share_awake"] == round(720 / 980, 3)  # 980 awake minutes, 720 of them at the cafe
    assert day["asleep_not_in_bed_minutes"] == 30.0  # the nap on the sofa
    assert day["activities"] == 10  # distinct texts: sleeping and serving come back
    assert (day["chats"], day["partners"], day["mean_turns"]) == (1, 1, 4.0)


def test_klaus_never_goes_to_bed_and_works_at_home() -> None:
    rec = _rec()
    day = resident_day(rec, KLAUS, START, rec.chats())
    assert day["wake"] == "07:00"
    assert day["bed"] is None
    assert day["meals"] == 0
    assert day["longest_activity"] == "going to work"
    assert day["longest_minutes"] == 836.0  # 10:04 to midnight, after the chat
    assert day["work_share_9_17"] == 0.0


def test_realism_report_counts_conversations_once() -> None:
    rep = realism_report(_rec())
    assert rep["2023-02-13"]["conversations"] == 1
    assert rep["2023-02-13"]["conversation_lines"] == [4]


def test_coordination_invited_planned_came() -> None:
    start = datetime(2023, 2, 14, 16, 0)
    moves = {
        ISA: [
            Move(
                i,
                start + timedelta(minutes=i),
                ISA,
                (0, 0),
                "",
                "hosting the party @ the Ville:Hobbs Cafe:cafe:piano",
            )
            for i in range(180)
        ],
        KLAUS: [
            Move(
                i,
                start + timedelta(minutes=i),
                KLAUS,
                (0, 0),
                "",
                "reading @ the Ville:Oak Hill College:library:table",
                None,
                "Hobbs Cafe:cafe" if 70 <= i < 80 else "Oak Hill College:library",
            )
            for i in range(180)
        ],
        MARIA: [
            Move(
                i, start + timedelta(minutes=i), MARIA, (0, 0), "", "streaming @ the Ville:Dorm:room:computer"
            )
            for i in range(180)
        ],
    }
    memories = {
        ISA: [
            mem(ISA, 1, "thought", START, "Isabella Rodriguez is hosting a Valentine's Day party", seed=True)
        ],
        KLAUS: [mem(KLAUS, 1, "chat", at("11:00"), "chat", obj=ISA, lines=[(ISA, "Come to the party")])],
        MARIA: [
            mem(
                MARIA,
                1,
                "chat",
                datetime(2023, 2, 14, 18, 0),
                "chat",
                obj=ISA,
                lines=[(ISA, "The party is on!")],
            )
        ],
    }
    plans = {
        KLAUS: [
            PlanItem(KLAUS, datetime(2023, 2, 14, 8, 0), "go to Isabella's Valentine's Day party", None, 120)
        ],
        MARIA: [PlanItem(MARIA, datetime(2023, 2, 13, 8, 0), "think about the party", None, 60)],  # wrong day
    }
    rec = records(moves=moves, memories=memories, plans=plans, steps=180)
    rec.start = start
    (c,) = coordination_report(rec)
    assert c["invited"] == [KLAUS]  # Maria heard it only during the party; Isabella is the host
    assert c["planned"] == [KLAUS]
    assert c["came"] == [ISA, KLAUS]  # Klaus's tile was in the cafe 17:10-17:20
    assert c["window_reached"]


def test_coordination_window_not_reached() -> None:
    (c,) = coordination_report(_rec())
    assert c["came"] is None and not c["window_reached"]


def test_defects_over_records() -> None:
    memories = {
        KLAUS: [
            mem(KLAUS, 1, "thought", at("10:10"), "I'm looking forward to meeting Klaus Mueller"),
            mem(KLAUS, 2, "thought", at("10:20"), "Klaus Mueller enjoyed the chat"),
            mem(KLAUS, 3, "event", at("07:00"), "Klaus Mueller is Read and take notes in the library"),
            mem(KLAUS, 4, "event", at("07:10"), "Klaus Mueller is reading"),
            mem(KLAUS, 5, "event", at("07:20"), "the Ville:Hobbs Cafe:cafe:piano is Idle", subject="piano"),
        ],
    }
    rec = _rec(memories=memories)
    rec.moves[ISA] = rec.moves[ISA][:600] + [
        Move(
            600,
            at("10:00"),
            ISA,
            (0, 0),
            "",
            "chatting @ <persona> Klaus Mueller",
            (
                (ISA, "I can't wait to see Klaus Mueller at the party"),
                (KLAUS, "Hi"),
                (ISA, "Hi"),
                (KLAUS, "I apologize, could you please clarify?"),
            ),  # fmt: skip
        ),
    ]
    rec.moves[KLAUS] = []
    got = defects_report(rec)
    assert got["chat_lines"] == 4  # the only chat left (Klaus shows none)
    assert got["chat_third_person"] == 1
    assert got["chat_help_desk"] == 1 and got["chat_help_desk_examples"][0].startswith(KLAUS)
    assert got["repeated_lines"] == 1
    assert (got["thoughts"], got["thought_third_person"]) == (2, 1)
    assert (got["descriptions"], got["not_a_sentence"]) == (2, 1)
    assert got["not_a_sentence_examples"] == ["Klaus Mueller is Read and take notes in the library"]


def test_cost_per_agent_day() -> None:
    ledger = [
        {"task": "daily_plan", "prompt_tokens": 100, "completion_tokens": 20, "kind": "llm", "ok": True},
        {"task": "daily_plan", "prompt_tokens": 0, "completion_tokens": 0, "kind": "llm", "cached": True},
        {
            "task": "event_importance",
            "prompt_tokens": 50,
            "completion_tokens": 2,
            "kind": "llm",
            "defaulted": True,
        },
        {"task": "embed", "prompt_tokens": 10, "kind": "embed"},
    ]
    got = cost_report(_rec(ledger=ledger))  # 1440 one-minute steps = 1 day, 2 residents
    assert (got["calls"], got["cached"], got["defaulted"]) == (2, 1, 1)
    assert (got["tokens_in"], got["tokens_out"]) == (150, 22)
    assert got["agent_days"] == 2.0
    assert got["calls_per_agent_day"] == 1.0
    assert got["tokens_per_agent_day"] == 86.0


def test_going_to_bed_at_a_bed_is_bedtime_even_when_the_run_stops_before_the_sleep() -> None:
    # an embedded-model day: "going to bed" at 22:00 in one's bed, the run stopped at midnight
    bed = "Dorm for Oak Hill College:Klaus Mueller's room:bed"
    desk = "Dorm for Oak Hill College:Klaus Mueller's room:desk"
    klaus = [("00:00", "sleeping", bed), ("07:00", "reading", desk), ("21:00", "going to bed soon", desk),
             ("22:00", "going to bed", bed)]  # fmt: skip
    rec = records(residents=[KLAUS], moves={KLAUS: timeline(KLAUS, klaus)}, workplaces={})
    day = resident_day(rec, KLAUS, START, rec.chats())
    assert day["bed"] == "22:00"  # 21:00 at the desk is not bed
    assert day["asleep_not_in_bed_minutes"] == 0.0
