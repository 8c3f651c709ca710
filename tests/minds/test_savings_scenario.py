"""Residents with Social Memory and every saving on, over many steps: answers arriving in any
order, a resume mid-way, and a model that never answers properly change nothing they should."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from aga.bases import load_base
from aga.gateway import Gateway
from aga.minds import MemoryStream, MindConfig, Resident
from aga.minds.context import SAVINGS
from aga.minds.schedule import total
from aga.testing import HashEmbedder, ScriptedBackend

from .driver import Driver
from .test_scenario import ShuffledScripted

START = datetime(2023, 2, 13, 11, 50, 0)  # lunch: residents meet at the cafe
ALL_ON = MindConfig(relationship=True, **{name: True for name in SAVINGS})


def _driver(town, backend, count=6, residents=None, step=0) -> Driver:  # type: ignore[no-untyped-def]
    gw = Gateway(backend, HashEmbedder(), max_in_flight=8)
    if residents is None:
        people = load_base("base_the_ville_n25").residents[:count]
        residents = {p.name: Resident.from_persona(p, town) for p in people}
    return Driver(town, gw, residents, START, step=step, config=ALL_ON)


def _llm_tasks(d: Driver) -> set[str]:
    return {row.task for row in d.gateway.ledger.drain() if row.kind == "llm"}


def test_with_everything_on_the_order_of_answers_does_not_matter(town) -> None:  # type: ignore[no-untyped-def]
    plain, shuffled = _driver(town, ScriptedBackend()), _driver(town, ShuffledScripted())
    asyncio.run(plain.run(900))
    asyncio.run(shuffled.run(900))
    assert shuffled.gateway.backend.most_waiting > 1  # type: ignore[attr-defined]
    assert plain.chats, "nobody talked: the scenario does not exercise Social Memory"
    tasks = _llm_tasks(plain)
    assert {"social_summary", "relationship_update", "event_ratings"} <= tasks
    assert not {"relationship_summary", "chat_importance", "insights"} & tasks
    assert plain.movements == shuffled.movements
    for name, r in plain.residents.items():
        assert r.to_state() == shuffled.residents[name].to_state()
        other = shuffled.residents[name]
        assert [n.to_record() for n in r.memory] == [n.to_record() for n in other.memory]
    assert any(r.ties for r in plain.residents.values())


def test_a_resumed_town_goes_on_exactly_as_the_uninterrupted_one(town) -> None:  # type: ignore[no-untyped-def]
    whole = _driver(town, ScriptedBackend(), count=5)
    asyncio.run(whole.run(450))
    # resume from what the store would hold: states as JSON, memory records, vectors by text
    residents = {}
    for name, r in whole.residents.items():
        keys = sorted({n.embedding_key for n in r.memory})
        vectors = dict(zip(keys, asyncio.run(whole.gateway.embed(keys))))
        memory = MemoryStream.from_records(json.loads(json.dumps([n.to_record() for n in r.memory])), vectors)
        residents[name] = Resident.from_state(json.loads(json.dumps(r.to_state())), memory)
    resumed = _driver(town, ScriptedBackend(), residents=residents, step=whole.step)
    assert any(r.deferred or r.rated or r.ties for r in resumed.residents.values())
    asyncio.run(whole.run(450))
    asyncio.run(resumed.run(450))
    assert whole.movements[450:] == resumed.movements
    assert [c for c in whole.chats if c[0] >= 450] == resumed.chats
    for name, r in whole.residents.items():
        again = resumed.residents[name]
        assert json.dumps(r.to_state(), sort_keys=True) == json.dumps(again.to_state(), sort_keys=True)
        assert [n.to_record() for n in r.memory] == [n.to_record() for n in again.memory]


def test_with_everything_on_a_model_that_never_answers_properly_crashes_nothing(town) -> None:  # type: ignore[no-untyped-def]
    garbage = ScriptedBackend(handler=lambda request, rng: "Sure! Here is my answer: ???")
    d = _driver(town, garbage, count=4)
    asyncio.run(d.run(400))
    rows = d.gateway.ledger.drain()
    assert rows and all(not r.ok for r in rows if r.kind == "llm")
    for r in d.residents.values():
        assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
        assert r.action is not None
        assert not [n for n in r.memory if n.kind in ("thought", "chat") and n.predicate != "remembers"]
        assert all(t.relationship == "unknown" for t in r.ties.values())
        assert r.rated == {}  # nothing kept ahead of time from unusable answers
