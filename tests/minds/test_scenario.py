"""A few residents through the four phases of many steps, with the scripted test model."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime

from aga.bases import load_base
from aga.gateway import Gateway
from aga.gateway.types import LLMRequest, LLMResponse
from aga.minds import Resident
from aga.minds.schedule import total
from aga.testing import HashEmbedder, ScriptedBackend

from .driver import Driver

START = datetime(2023, 2, 13, 6, 58, 0)


class ShuffledScripted(ScriptedBackend):
    """Test double: the scripted model, but each answer yields to the event loop a number of
    times derived from its prompt, so concurrent answers arrive in a scrambled order."""

    waiting = 0
    most_waiting = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        hops = hashlib.sha256(request.user.encode()).digest()[0] % 7
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            for _ in range(hops):
                await asyncio.sleep(0)
        finally:
            self.waiting -= 1
        return await super().complete(request)


def _residents(town, count: int) -> dict[str, Resident]:  # type: ignore[no-untyped-def]
    people = load_base("base_the_ville_n25").residents[:count]
    return {p.name: Resident.from_persona(p, town) for p in people}


def _run(town, backend, steps: int, count: int = 6) -> Driver:  # type: ignore[no-untyped-def]
    gw = Gateway(backend, HashEmbedder(), max_in_flight=8)
    d = Driver(town, gw, _residents(town, count), START)
    asyncio.run(d.run(steps))
    return d


def test_residents_leave_home_and_visit_several_places(town) -> None:  # type: ignore[no-untyped-def]
    d = _run(town, ScriptedBackend(), 3300, count=4)  # 06:58 to 16:08
    for name, r in d.residents.items():
        home = r.home_sector
        sectors = {town.address(tuple(m[name]["movement"]), "sector").split(":")[-1] for m in d.movements}
        sectors.discard("")
        assert home in sectors and len(sectors - {home}) >= 1, (name, sectors)
        assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
        kinds = {n.kind for n in r.memory}
        assert {"event", "thought"} <= kinds
    descriptions = {m[n]["description"].split(" @ ")[0] for m in d.movements for n in m}
    assert any("lunch" in x for x in descriptions) and any("(" in x for x in descriptions)


def test_results_do_not_depend_on_the_order_answers_arrive_in(town) -> None:  # type: ignore[no-untyped-def]
    plain = _run(town, ScriptedBackend(), 500)
    shuffled = _run(town, ShuffledScripted(), 500)
    assert shuffled.gateway.backend.most_waiting > 1  # type: ignore[attr-defined]
    assert plain.movements == shuffled.movements
    for name, r in plain.residents.items():
        other = shuffled.residents[name]
        assert r.to_state() == other.to_state()
        assert [n.to_record() for n in r.memory] == [n.to_record() for n in other.memory]


def test_a_model_that_never_answers_properly_crashes_nothing(town) -> None:  # type: ignore[no-untyped-def]
    garbage = ScriptedBackend(handler=lambda request, rng: "Sure! Here is my answer: ???")
    d = _run(town, garbage, 400, count=3)
    rows = d.gateway.ledger.drain()
    assert rows and all(not r.ok for r in rows if r.kind == "llm")
    assert any(r.defaulted for r in rows)
    for r in d.residents.values():
        assert total(r.schedule) == 1440 and all(row.minutes > 0 for row in r.schedule)
        assert r.action is not None
        assert r.action.address.startswith("<") or town.has_address(r.action.address)
        # defaults never become memories: no plan, no insight, no chat
        assert not [n for n in r.memory if n.kind in ("thought", "chat") and n.predicate != "remembers"]
