"""Reflection savings: thoughts rated and tripled in one call (``batch_thoughts``), one insights
call for all focal questions that rates its own insights, and one call for the notes after a chat
(``merged_reflection``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aga.minds import MindConfig, Resident
from aga.minds.converse import converse
from aga.minds.plan import next_action

from .driver import make_ctx, with_rules

AT = datetime(2023, 2, 13, 15, 0, 0)
FACTS = [
    "Maria Lopez is streaming a game",
    "Isabella Rodriguez is planning a party",
    "Klaus Mueller is writing his paper",
    "Isabella Rodriguez is planning a party",  # the same text twice
    "Maria Lopez is studying physics",
    "Klaus Mueller is reading about gentrification",
]
BOTH = MindConfig(batch_thoughts=True, merged_reflection=True)


def _resident(town, personas, gw):  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    vectors = asyncio.run(gw.embed(FACTS))
    for i, (text, vec) in enumerate(zip(FACTS, vectors)):
        r.memory.add(
            "event", created=AT - timedelta(hours=6 - i), subject=text.split(" is ")[0], predicate="is",
            obj=text.split()[-1], description=text, embedding_key=text, importance=3 + i, vector=vec,
        )  # fmt: skip
    asyncio.run(r.think(make_ctx(town, gw, [r], AT)))  # rates the seed memories, plans the day
    gw.ledger.drain()
    r.importance_trigger_curr = 0
    r.importance_ele_n = len(FACTS)
    return r


def _notes(request, rng):  # type: ignore[no-untyped-def]
    """Scripted rule (test double): importance 1, 2, ..., 10, 1, ... and a predicate naming the position."""
    return {
        "notes": [
            {"importance": k % 10 + 1, "predicate": f"thinks #{k + 1}", "object": text[:20]}
            for k, text in enumerate(request.vars["items"])
        ]
    }


def _tasks(gw) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.task for row in gw.ledger.drain() if row.kind == "llm"]


def test_all_questions_in_one_call_and_all_thoughts_rated_in_one(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    asked: list[dict] = []

    def insights_all(request, rng):  # type: ignore[no-untyped-def]
        asked.append(dict(request.vars))
        return {
            "insights": [
                {
                    "insight": f"Klaus sees pattern {k}",
                    "evidence": [1, k + 2, 999],
                    "predicate": f"thinks #{k + 1}",
                    "object": f"pattern {k}",
                    "importance": k % 10 + 1,
                }
                for k in range(int(request.vars["count"]))
            ]
        }

    gw = scripted(with_rules(insights_all=insights_all, thought_notes=_notes))
    r = _resident(town, personas, gw)
    before = {n.id for n in r.memory}
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT, config=BOTH)))
    tasks = _tasks(gw)
    assert tasks.count("focal_points") == 1 and tasks.count("insights_all") == 1
    # the merged call rates its own insights: no thought_notes, no per-thought calls
    assert not {"insights", "thought_importance", "event_triple", "thought_notes"} & set(tasks)

    vars = asked[0]
    questions = vars["questions"].splitlines()
    assert len(questions) == 3 and vars["count"] == 6  # at most 6 insights in all (MERGED_INSIGHTS)
    statements = [line.split(". ", 1)[1] for line in vars["statements"].splitlines()]
    assert len(statements) == len(set(statements))  # the repeated memory is listed once
    assert len(statements) <= 30  # at most MERGED_STATEMENTS, the best of each question in turn
    thoughts = sorted((n for n in r.memory if n.id not in before), key=lambda n: n.id)
    assert [n.description for n in thoughts] == [f"Klaus sees pattern {k}" for k in range(6)]
    assert [(n.importance, n.predicate) for n in thoughts] == [
        (k % 10 + 1, f"thinks #{k + 1}") for k in range(6)
    ]
    assert all(n.filling and set(n.filling) <= before for n in thoughts)  # 999 dropped, numbers mapped


def test_the_notes_after_a_chat_come_from_one_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    def both(request, rng):  # type: ignore[no-untyped-def]
        return {"planning_note": "I should meet Maria on Friday.", "planning_importance": 6,
                "memo": "I liked hearing about her studies.", "memo_importance": 3}  # fmt: skip

    gw = scripted(with_rules(thought_notes=_notes, chat_thoughts=both))
    a = _resident(town, personas, gw)
    a.importance_trigger_curr = 100
    b = Resident.from_persona(personas["Maria Lopez"], town)
    asyncio.run(next_action(b, make_ctx(town, gw, [a, b], AT)))
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=5400, config=BOTH)))
    chat = a.memory.last_chat_with("Maria Lopez")
    gw.ledger.drain()
    last_step = a.chat_end - timedelta(seconds=10)  # type: ignore[operator]
    asyncio.run(a.reflect(make_ctx(town, gw, [a, b], last_step, step=5460, config=BOTH)))
    assert _tasks(gw) == ["chat_thoughts"]  # rated by the call itself
    notes = [n for n in a.memory if n.kind == "thought" and n.filling == [chat.id]]  # type: ignore[union-attr]
    assert len(notes) == 2 and not any("Klaus" in n.description for n in notes)
    assert [(n.description, n.importance) for n in notes] == [
        ("I should meet Maria on Friday.", 6),
        ("I liked hearing about her studies.", 3),
    ]
    assert {(n.predicate, n.object) for n in notes} == {("thought after talking with", "Maria Lopez")}


def test_thoughts_one_by_one_without_the_batch(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    r = _resident(town, personas, gw)
    before = len(r.memory)
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT, config=MindConfig())))
    made = len(r.memory) - before
    tasks = _tasks(gw)
    assert made >= 1 and tasks.count("insights") >= 1 and "thought_notes" not in tasks
    assert tasks.count("thought_importance") == made and tasks.count("event_triple") == made


def test_unusable_notes_fall_back_to_plain_values(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(thought_notes=lambda req, rng: "nothing"))
    r = _resident(town, personas, gw)
    before = {n.id for n in r.memory}
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT, config=MindConfig(batch_thoughts=True))))
    thoughts = [n for n in r.memory if n.id not in before]
    assert thoughts and all(n.importance == 4 and n.predicate == "thinks" for n in thoughts)
    assert all(n.object == " ".join(n.description[:60].split()) for n in thoughts)


def test_a_wrong_count_of_notes_is_repaired(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    calls = []

    def short_first(request, rng):  # type: ignore[no-untyped-def]
        calls.append(1)
        answer = _notes(request, rng)
        return {"notes": answer["notes"][:1]} if len(calls) == 1 else answer

    gw = scripted(with_rules(thought_notes=short_first))
    r = _resident(town, personas, gw)
    before = {n.id for n in r.memory}
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT, config=MindConfig(batch_thoughts=True))))
    thoughts = sorted((n for n in r.memory if n.id not in before), key=lambda n: n.id)
    batches = _tasks(gw).count("insights")  # one thought_notes call per batch of insights, + 1 repair
    assert len(calls) == batches + 1 and len(thoughts) > 1
    first = [n for n in thoughts if n.filling and n.id < thoughts[0].id + len(thoughts) // batches]
    assert [n.importance for n in first] == [k % 10 + 1 for k in range(len(first))]
    assert not any(n.defaulted for n in thoughts)


def test_focal_questions_see_the_newest_distinct_statements_at_most(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    from aga.minds.reflect import FOCAL_STATEMENTS

    seen: list[str] = []

    def focal(request, rng):  # type: ignore[no-untyped-def]
        seen.append(str(request.vars["statements"]))
        return {"questions": ["What is Klaus busy with?"]}

    gw = scripted(with_rules(focal_points=focal))
    r = _resident(town, personas, gw)
    texts = [f"Klaus Mueller read chapter {i} of the gentrification book" for i in range(60)]
    vectors = asyncio.run(gw.embed(texts))
    for i, (text, vec) in enumerate(zip(texts, vectors)):
        r.memory.add(
            "event", created=AT - timedelta(minutes=60 - i), subject="Klaus Mueller", predicate="read",
            obj="book", description=text, embedding_key=text, importance=2, vector=vec,
        )  # fmt: skip
    r.importance_ele_n = 200
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT, config=BOTH)))
    listed = seen[0].splitlines()
    assert len(listed) == FOCAL_STATEMENTS and len(set(listed)) == len(listed)
    assert texts[-1] in listed and texts[0] not in listed  # the newest (by last access) are kept
