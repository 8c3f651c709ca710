"""Movement and waiting: one tile per step along the planned path, the wait reaction, and
perception giving the same memories with and without its shortcut."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from aga.minds import Resident, perceive
from aga.minds.action import WAIT_EMOJI, WAITING_PREFIX
from aga.minds.plan import next_action
from aga.minds.react import maybe_wait
from aga.minds.schedule import REACT, index_at, total
from aga.minds.text import minute_of_day

from .driver import Driver, make_ctx, with_rules

MORNING = datetime(2023, 2, 13, 7, 50, 0)
AT = datetime(2023, 2, 13, 10, 0, 0)


def _residents(town, personas) -> dict[str, Resident]:  # type: ignore[no-untyped-def]
    return {n: Resident.from_persona(p, town) for n, p in personas.items()}


def test_residents_walk_one_tile_per_step_along_the_planned_path(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    d = Driver(town, scripted(), _residents(town, personas), MORNING)
    previous = {n: r.tile for n, r in d.residents.items()}
    walked = {n: 0 for n in d.residents}
    for _ in range(900):
        ahead = {n: list(r.planned_path) for n, r in d.residents.items()}
        path_set = {n: r.path_set for n, r in d.residents.items()}
        moves = asyncio.run(d.step_once())
        for name, m in moves.items():
            r = d.residents[name]
            step = abs(m.tile[0] - previous[name][0]) + abs(m.tile[1] - previous[name][1])
            assert step <= 1, f"{name} jumped from {previous[name]} to {m.tile}"
            assert town.is_walkable(m.tile) and m.tile == r.tile
            if step and path_set[name] and r.path_set and ahead[name]:
                assert m.tile == ahead[name][0], f"{name} left its planned path"
            walked[name] += step
            previous[name] = m.tile
    assert all(n > 20 for n in walked.values()), walked  # everyone walked somewhere


def _pair(town, personas, gw):  # type: ignore[no-untyped-def]
    a = Resident.from_persona(personas["Klaus Mueller"], town)
    b = Resident.from_persona(personas["Maria Lopez"], town)
    b.tile = next(t for t in town.nearby(a.tile, 2) if town.is_walkable(t) and t != a.tile)
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], AT)))
    piano = "the Ville:Hobbs Cafe:cafe:piano"
    a.set_action(
        replace(a.action, grounding=replace(a.action.grounding, address=piano), end=AT + timedelta(hours=1))
    )  # type: ignore[arg-type]
    b.set_action(
        replace(b.action, grounding=replace(b.action.grounding, address=piano), end=AT + timedelta(minutes=6))
    )  # type: ignore[arg-type]
    gw.ledger.drain()
    a.drain_action_log()
    return a, b


def test_the_wait_reaction_waits_in_place_until_the_other_is_done(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(decide_to_react=lambda req, rng: {"answer": "wait"}))
    a, b = _pair(town, personas, gw)
    planned = a.action.description  # type: ignore[union-attr]
    ctx = make_ctx(town, gw, [a, b], AT)
    asyncio.run(maybe_wait(a, ctx, ctx.views[b.name], []))
    w = a.action
    assert w is not None and w.kind == "wait"
    assert w.address == f"{WAITING_PREFIX}{a.tile[0]} {a.tile[1]}" and w.grounding.emoji == WAIT_EMOJI
    assert w.start == AT and w.end == b.action.end - timedelta(minutes=1)  # type: ignore[union-attr]
    row = a.schedule[index_at(a.schedule, minute_of_day(AT))]
    assert row.parent == REACT and row.description == w.description and "waiting" in w.description
    assert total(a.schedule) == 1440
    (entry,) = a.drain_action_log()
    assert entry["task"] == "react" and entry["duration"] == w.minutes
    # while waiting: no step away; once the wait is over, the plan goes on
    here = a.tile
    t = AT
    while t < w.end:
        moved = a.execute(make_ctx(town, gw, [a, b], t))
        assert moved.tile == here and moved.emoji == WAIT_EMOJI
        t += timedelta(seconds=10)
    asyncio.run(a.think(make_ctx(town, gw, [a, b], t)))
    assert a.action is not None and a.action.kind == "plan" and a.action.start == t
    assert a.action.description != w.description and planned


def test_a_no_to_waiting_leaves_the_action_alone(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(decide_to_react=lambda req, rng: {"answer": "continue"}))
    a, b = _pair(town, personas, gw)
    before = a.action
    ctx = make_ctx(town, gw, [a, b], AT)
    asyncio.run(maybe_wait(a, ctx, ctx.views[b.name], []))
    assert a.action is before and a.drain_action_log() == []


def test_perception_gives_the_same_memories_with_and_without_its_shortcut(
    town, personas, scripted, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The shortcut (a scene that brought nothing new is not looked at again) changes nothing."""
    real_scene = perceive.scene
    hits = {"n": 0}

    def counted(r, ctx):  # type: ignore[no-untyped-def]
        look = real_scene(r, ctx)
        hits["n"] += look == r._quiet_scene
        return look

    monkeypatch.setattr(perceive, "scene", counted)
    fast = Driver(town, scripted(), _residents(town, personas), MORNING)
    asyncio.run(fast.run(700))
    assert hits["n"] > 100  # the shortcut was taken (often)

    looks = {"n": 0}

    def never_the_same(r, ctx):  # type: ignore[no-untyped-def]
        real_scene(r, ctx)
        looks["n"] += 1
        return ("no shortcut", looks["n"])  # never equal to the last quiet scene: always look

    monkeypatch.setattr(perceive, "scene", never_the_same)
    slow_gw = scripted()
    slow = Driver(town, slow_gw, _residents(town, personas), MORNING)
    asyncio.run(slow.run(700))
    assert looks["n"] > 0
    assert slow.movements == fast.movements
    for name, r in fast.residents.items():
        other = slow.residents[name]
        assert [n.to_record() for n in other.memory] == [n.to_record() for n in r.memory], name
        assert other.to_state() == r.to_state()
