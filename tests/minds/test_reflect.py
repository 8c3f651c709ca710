"""Reflection: triggered by the importance sum; insights stored as thoughts citing evidence."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aga.minds import Resident
from aga.minds.converse import converse
from aga.minds.perceive import perceive
from aga.minds.plan import next_action
from aga.world import Event, TileEvents

from .driver import make_ctx, with_rules

AT = datetime(2023, 2, 13, 15, 0, 0)
FACTS = [
    "Maria Lopez is streaming a game",
    "Isabella Rodriguez is planning a party",
    "Klaus Mueller is writing his paper",
    "Maria Lopez is studying physics",
    "Isabella Rodriguez is serving coffee",
    "Klaus Mueller is reading about gentrification",
]


def _resident(town, personas, gw, **params):  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"].model_copy(update=params), town)
    vectors = asyncio.run(gw.embed(FACTS))
    for i, (text, vec) in enumerate(zip(FACTS, vectors)):
        r.memory.add(
            "event",
            created=AT - timedelta(hours=6 - i),
            subject=text.split(" is ")[0],
            predicate="is",
            obj=text.split()[-1],
            description=text,
            embedding_key=text,
            importance=3 + i,
            vector=vec,
        )
    asyncio.run(r.think(make_ctx(town, gw, [r], AT)))  # rates the seed memories, plans the day
    gw.ledger.drain()
    return r


def test_nothing_happens_below_the_threshold(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    r = _resident(town, personas, gw)
    before = len(r.memory)
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT)))
    assert len(r.memory) == before and gw.ledger.drain() == []


def test_the_importance_sum_triggers_a_reflection_with_evidence(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(event_importance=lambda req, rng: {"rating": 6}))
    r = _resident(town, personas, gw, importance_trigger_max=10)
    board = TileEvents()
    spots = [t for t in town.nearby(r.tile, 1) if town.address(t, "arena") == town.address(r.tile, "arena")]
    board.add(spots[0], Event("Maria Lopez", "is", "party", "talking about the party"))
    board.add(spots[1], Event("Isabella Rodriguez", "is", "cake", "baking a cake"))
    ctx = make_ctx(town, gw, [r], AT, events=board)
    assert len(asyncio.run(perceive(r, ctx))) == 2
    assert r.importance_trigger_curr == 10 - 12 and r.importance_ele_n == 2
    before = {n.id for n in r.memory}
    asyncio.run(r.reflect(ctx))
    thoughts = [n for n in r.memory if n.id not in before and n.kind == "thought"]
    assert 1 <= len(thoughts) <= 3 * 5
    assert all(n.filling and set(n.filling) <= before for n in thoughts)
    assert all(n.depth == 1 + max(r.memory.node(i).depth for i in n.filling) for n in thoughts)
    assert all(n.expiration == AT + timedelta(days=30) for n in thoughts)
    assert r.importance_trigger_curr == 10 and r.importance_ele_n == 0
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks.count("focal_points") == 1 and tasks.count("insights") == 3


def test_evidence_numbers_that_do_not_exist_are_dropped(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    odd = {"insights": [{"insight": "Klaus cares about fairness", "evidence": [0, 1, 99, 1, -4]}]}
    gw = scripted(with_rules(insights=lambda req, rng: odd))
    r = _resident(town, personas, gw)
    r.importance_trigger_curr = 0
    r.importance_ele_n = 4
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT)))
    made = [n for n in r.memory if n.description == "Klaus cares about fairness"]
    assert made and all(len(n.filling) == 1 and r.memory.has(n.filling[0]) for n in made)


def test_unusable_focal_points_store_nothing(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(focal_points=lambda req, rng: "no idea"))
    r = _resident(town, personas, gw)
    r.importance_trigger_curr = -5
    before = len(r.memory)
    asyncio.run(r.reflect(make_ctx(town, gw, [r], AT)))
    assert len(r.memory) == before
    assert r.importance_trigger_curr == r.params.importance_trigger_max


def test_thoughts_after_a_chat_cite_the_chat(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    a = _resident(town, personas, gw)
    b = Resident.from_persona(personas["Maria Lopez"], town)
    asyncio.run(next_action(b, make_ctx(town, gw, [a, b], AT)))
    asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=5400)))
    chat = a.memory.last_chat_with("Maria Lopez")
    assert chat is not None and a.chat_thoughts_due
    asyncio.run(a.reflect(make_ctx(town, gw, [a, b], AT + timedelta(seconds=10), step=5401)))
    assert a.chat_thoughts_due  # not yet: the chat is still going on
    last_step = a.chat_end - timedelta(seconds=10)  # type: ignore[operator]
    asyncio.run(a.reflect(make_ctx(town, gw, [a, b], last_step, step=5460)))
    notes = [n for n in a.memory if n.kind == "thought" and n.filling == [chat.id]]
    assert [n.description for n in notes] == [
        "Nothing in the conversation changes my plans.",
        "I enjoyed catching up with Maria Lopez.",
    ]  # the resident's own first-person words, without a frame naming the thinker
    assert len(notes) == 2 and not a.chat_thoughts_due
