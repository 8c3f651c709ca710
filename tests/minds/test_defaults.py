"""A failed answer is never stored as if the model gave it: stand-ins are marked, kept out of the
reflection trigger and what others see, and rated again at the next chance."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aga.minds import MindConfig, Resident
from aga.minds.grounding import ground_action
from aga.minds.memory import MemoryNode
from aga.minds.perceive import heal_memory, perceive
from aga.world import Event, TileEvents

from .driver import make_ctx, with_rules

NOW = datetime(2023, 2, 13, 10, 0, 0)
CAFE = "the Ville:Hobbs Cafe:cafe"


def _klaus_in_cafe(town, personas):  # type: ignore[no-untyped-def]
    cafe = town.tiles(CAFE)
    here = min((t for t in cafe if town.is_walkable(t)), key=lambda t: abs(t[0] - 62) + abs(t[1] - 43))
    persona = personas["Klaus Mueller"].model_copy(update={"start_tile": here})
    r = Resident.from_persona(persona, town)
    for node in list(r.memory):  # seed memories rated: only this test's events are unrated
        r.memory.set_importance(node.id, 3)
    board = TileEvents()
    near = next(t for t in sorted(cafe) if t != here and max(abs(t[0] - here[0]), abs(t[1] - here[1])) == 1)
    board.add(near, Event("Isabella Rodriguez", "is", "crying", "crying alone at the counter"))
    return r, board


def test_a_failed_rating_is_marked_kept_out_of_the_trigger_and_rated_again(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    answers = {"fail": True}

    def rating(request, rng):  # type: ignore[no-untyped-def]
        return "no idea" if answers["fail"] else {"rating": 8}

    gw = scripted(with_rules(event_importance=rating))
    r, board = _klaus_in_cafe(town, personas)
    before = r.importance_trigger_curr
    nodes = asyncio.run(perceive(r, make_ctx(town, gw, [r], NOW, events=board, config=MindConfig())))
    crying = next(n for n in nodes if "crying" in n.description)
    assert crying.defaulted and crying.to_record()["defaulted"] is True
    assert MemoryNode.from_record(crying.to_record()).defaulted  # the mark survives the store
    assert r.importance_trigger_curr == before  # a stand-in does not count towards reflection
    assert r.memory.known_rating("event", crying.description) is None  # and is never reused
    answers["fail"] = False
    asyncio.run(heal_memory(r, make_ctx(town, gw, [r], NOW + timedelta(seconds=10), config=MindConfig())))
    assert not crying.defaulted and crying.importance == 8 and "defaulted" not in crying.to_record()
    assert r.importance_trigger_curr == before - 8  # the real rating counts once it is known


def test_a_failed_object_state_leaves_the_object_idle_to_others(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(
        with_rules(action_details=lambda request, rng: "sorry", object_state=lambda request, rng: "?")
    )
    r = Resident.from_persona(personas["Isabella Rodriguez"], town)
    for config in (MindConfig(action_details=True), MindConfig()):
        g = asyncio.run(
            ground_action(
                r, make_ctx(town, gw, [r], NOW, config=config), "brewing coffee behind the cafe counter"
            )
        )
        assert g.obj_description is None and g.obj_event is None  # no made-up "being used"
