"""A resident as a whole: state round trip mid-action, no model calls while asleep, its view."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from aga.errors import StoreError
from aga.minds import MemoryStream, Resident

from .driver import Driver, make_ctx

MORNING = datetime(2023, 2, 13, 7, 50, 0)


def _driver(town, personas, gw, start=MORNING) -> Driver:  # type: ignore[no-untyped-def]
    residents = {n: Resident.from_persona(p, town) for n, p in personas.items()}
    return Driver(town, gw, residents, start)


def _resume(r: Resident, gw) -> Resident:  # type: ignore[no-untyped-def]
    state = json.loads(json.dumps(r.to_state()))
    records = json.loads(json.dumps([n.to_record() for n in r.memory]))
    vectors = dict(
        zip([n.embedding_key for n in r.memory], asyncio.run(gw.embed([n.embedding_key for n in r.memory])))
    )
    return Resident.from_state(state, MemoryStream.from_records(records, vectors))


def test_state_round_trips_mid_action_and_the_resumed_resident_acts_the_same(
    town, personas, scripted
) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    d = _driver(town, personas, gw)
    while not any(len(r.planned_path) > 5 for r in d.residents.values()) and d.step < 2000:
        asyncio.run(d.run(1))
    assert any(len(r.planned_path) > 5 for r in d.residents.values()), "someone should be walking"
    cut = d.step
    gw2 = scripted()
    resumed = {n: _resume(r, gw2) for n, r in d.residents.items()}
    for n, r in resumed.items():
        assert r.to_state() == json.loads(json.dumps(d.residents[n].to_state()))
        assert [x.to_record() for x in r.memory] == [x.to_record() for x in d.residents[n].memory]
    d2 = Driver(town, gw2, resumed, MORNING, step=d.step)
    asyncio.run(d.run(200))
    asyncio.run(d2.run(200))
    assert d2.movements == d.movements[cut:]
    for n, r in resumed.items():
        assert r.to_state() == d.residents[n].to_state()


def test_a_sleeping_resident_makes_no_model_calls(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    d = _driver(town, personas, gw, start=datetime(2023, 2, 13, 0, 0, 0))
    asyncio.run(d.run(3))  # plans the day and starts sleeping
    assert all(r.sleeping and r.view().sleeping for r in d.residents.values())
    gw.ledger.drain()
    asyncio.run(d.run(600))  # 00:00:30 to 01:40:30
    assert gw.ledger.drain() == []
    assert all(r.sleeping for r in d.residents.values())


def test_a_busy_resident_with_nothing_new_around_costs_nothing(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    d = Driver(town, gw, {r.name: r}, datetime(2023, 2, 13, 9, 0, 0))
    asyncio.run(d.run(120))
    assert r.action is not None and not r.sleeping
    while r.planned_path or r.action.end <= d.now + timedelta(minutes=5):
        asyncio.run(d.run(10))
    gw.ledger.drain()
    asyncio.run(d.run(10))
    assert gw.ledger.drain() == []


def test_the_view_shows_the_current_action(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    d = _driver(town, personas, gw)
    asyncio.run(d.run(30))
    r = d.residents["Isabella Rodriguez"]
    v = r.view()
    assert v.name == r.name and v.tile == r.tile
    assert v.description == r.action.description and v.address == r.action.address  # type: ignore[union-attr]
    assert v.event == (r.name, *r.action.grounding.event)  # type: ignore[union-attr]
    assert v.act_end == r.action.end and v.chatting_with is None  # type: ignore[union-attr]
    moves = d.movements[-1][r.name]
    assert moves["description"] == f"{v.description} @ {v.address}" and moves["movement"] == list(r.tile)
    own = [ev for tile, ev in r.emitted_events() if ev.subject == r.name]
    assert own and own[0].description == r.action.description  # type: ignore[union-attr]


def test_a_broken_state_names_the_resident_and_field(town, personas) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Maria Lopez"], town)
    state = json.loads(json.dumps(r.to_state()))
    state["schedule"] = [["sleeping", "many"]]
    with pytest.raises(StoreError, match=r"Maria Lopez.*'schedule'"):
        Resident.from_state(state, MemoryStream())
    with pytest.raises(StoreError, match="version"):
        Resident.from_state({**state, "version": 99}, MemoryStream())


def test_the_first_step_rates_and_embeds_seed_memories(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    seeds = personas["Klaus Mueller"].seed_memories
    assert len(seeds) >= 2 and [n.importance for n in r.memory] == [None] * len(seeds)
    asyncio.run(r.think(make_ctx(town, gw, [r], MORNING)))
    assert all(n.importance is not None for n in r.memory) and r.memory.pending() == []
    assert all(n.created == MORNING == n.last_accessed for n in r.memory if n.predicate == "remembers")
