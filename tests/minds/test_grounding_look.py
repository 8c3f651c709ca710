"""How an activity shows when it uses no object: one ``action_look`` call (the one-call saving),
given only the inputs its template declares (an unused input is an error of the strict renderer)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aga.minds import MindConfig, Resident
from aga.minds import grounding as grounding_mod
from aga.minds.text import state_word

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


def test_an_used_objects_triple_is_its_short_state_as_the_original_calls_give_it(
    town, personas, scripted, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """One ``action_details`` call: the object's triple is (object, "is", the state's head), so
    two subtasks at the same counter are one event to onlookers while it is among their newest
    (perception skips a triple already there), as with the original's short triples."""
    r = Resident.from_persona(personas["Isabella Rodriguez"], town)
    counter = next(
        f"{town.world}:{sector}:{arena}:{obj}"
        for sector, arenas in town.tree().items()
        for arena, objects in arenas.items()
        for obj in objects
        if obj == "behind the cafe counter"
    )

    async def at_counter(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        return counter, True

    monkeypatch.setattr(grounding_mod, "pick_place", at_counter)
    gw = scripted()
    ctx = make_ctx(town, gw, [r], datetime(2023, 2, 13, 9), config=MindConfig(action_details=True))
    looks = [
        asyncio.run(grounding_mod.ground_action(r, ctx, f"working at the cafe ({what})"))
        for what in ("serving customers", "cleaning the tables")
    ]
    assert [row.task for row in gw.ledger.drain() if row.kind == "llm"] == ["action_details"] * 2
    states = [g.obj_description for g in looks]
    assert states[0] != states[1] and all("being used" in (s or "") for s in states)  # the full states
    assert [g.obj_event for g in looks] == [("is", "used"), ("is", "used")]


def test_state_word_keeps_the_head_of_an_objects_state() -> None:
    cases = {
        "being used to brew coffee": "used",
        "Occupied by Klaus Mueller.": "occupied",
        "The bed is occupied": "occupied",
        "turned on and heating": "turned on",
        "in use": "in use",
        "": "used",
    }
    assert {text: state_word(text) for text in cases} == cases
