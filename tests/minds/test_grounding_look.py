"""How an activity shows when it uses no object: one ``action_look`` call (the one-call saving),
given only the inputs its template declares (an unused input is an error of the strict renderer)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aga.minds import MindConfig, Resident
from aga.minds import grounding as grounding_mod

from .driver import make_ctx


def test_an_activity_without_an_object_gets_its_look_from_one_call(
    town, personas, scripted, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    r = Resident.from_persona(personas["Klaus Mueller"], town)
    arena = r.identity.living_area  # an arena address: no object is used

    async def no_object_place(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        return arena, True

    monkeypatch.setattr(grounding_mod, "pick_place", no_object_place)
    gw = scripted()
    ctx = make_ctx(town, gw, [r], datetime(2023, 2, 13, 9), config=MindConfig(action_details=True))
    g = asyncio.run(grounding_mod.ground_action(r, ctx, "stretching by the window"))
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks == ["action_look"]
    assert g.address == arena and g.event[0] and g.obj_event is None
