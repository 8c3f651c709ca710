"""Perception: vision radius, attention bandwidth, retention, only the current arena."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aga.minds import MindConfig, Resident
from aga.minds.perceive import perceive
from aga.world import Event, TileEvents

from .driver import make_ctx

NOW = datetime(2023, 2, 13, 10, 0, 0)
CAFE = "the Ville:Hobbs Cafe:cafe"


def _setup(town, personas, **params):  # type: ignore[no-untyped-def]
    cafe = town.tiles(CAFE)
    here = min((t for t in cafe if town.is_walkable(t)), key=lambda t: abs(t[0] - 62) + abs(t[1] - 43))
    persona = personas["Klaus Mueller"].model_copy(update={"start_tile": here, **params})
    return Resident.from_persona(persona, town), here, cafe


def _event(name: str, what: str) -> Event:
    return Event(name, "is", what, what)


def _run(r, ctx):  # type: ignore[no-untyped-def]
    return asyncio.run(perceive(r, ctx))


def test_radius_bandwidth_and_same_arena(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    cafe = town.tiles(CAFE)

    def ring(t, d):  # type: ignore[no-untyped-def]
        return [c for c in sorted(cafe) if max(abs(c[0] - t[0]), abs(c[1] - t[1])) == d]

    here = next(
        t
        for t in sorted(cafe)
        if town.is_walkable(t)
        and all(ring(t, d) for d in (1, 2, 3, 5))
        and any(n not in cafe for n in town.nearby(t, 2))
    )
    persona = personas["Klaus Mueller"].model_copy(
        update={"start_tile": here, "vision_r": 3, "att_bandwidth": 2, "retention": 5}
    )
    r = Resident.from_persona(persona, town)
    x, y = here
    board = TileEvents()
    near1 = next(t for t in sorted(cafe) if max(abs(t[0] - x), abs(t[1] - y)) == 1)
    near2 = next(t for t in sorted(cafe) if max(abs(t[0] - x), abs(t[1] - y)) == 2)
    near3 = next(t for t in sorted(cafe) if max(abs(t[0] - x), abs(t[1] - y)) == 3)
    far = next(t for t in sorted(cafe) if max(abs(t[0] - x), abs(t[1] - y)) == 5)
    outside = next(t for t in town.nearby(here, 3) if t not in cafe)
    board.add(near1, _event("Isabella Rodriguez", "serving coffee"))
    board.add(near2, _event("Maria Lopez", "reading a book"))
    board.add(near3, _event("Ayesha Khan", "writing a poem"))
    board.add(far, _event("Sam Moore", "eating a muffin"))
    board.add(outside, _event("John Lin", "walking outside"))
    gw = scripted()
    nodes = _run(r, make_ctx(town, gw, [r], NOW, events=board))
    # the two closest events of the cafe, nothing beyond the radius or outside the cafe
    assert [n.subject for n in nodes] == ["Isabella Rodriguez", "Maria Lopez"]
    assert nodes[0].description == "Isabella Rodriguez is serving coffee"
    assert {n.subject for n in r.memory if n.kind == "event"} == {"Isabella Rodriguez", "Maria Lopez"}
    assert [row.task for row in gw.ledger.drain() if row.task == "event_importance"] == [
        "event_importance"
    ] * 2
    # the cafe's places joined the spatial memory
    assert r.spatial.knows("Hobbs Cafe", "cafe")


def test_retention_skips_what_was_just_stored(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, here, cafe = _setup(town, personas, vision_r=4, att_bandwidth=8, retention=2)
    spots = sorted(
        (t for t in cafe if t != here and max(abs(t[0] - here[0]), abs(t[1] - here[1])) <= 2),
        key=lambda t: (abs(t[0] - here[0]) + abs(t[1] - here[1]), t),
    )
    gw = scripted()
    first = TileEvents()
    first.add(spots[0], _event("Isabella Rodriguez", "serving coffee"))
    first.add(spots[1], _event("Maria Lopez", "reading a book"))
    assert len(_run(r, make_ctx(town, gw, [r], NOW, events=first))) == 2
    second = TileEvents()
    second.add(spots[0], _event("Isabella Rodriguez", "serving coffee"))
    second.add(spots[1], _event("Maria Lopez", "reading a book"))
    assert _run(r, make_ctx(town, gw, [r], NOW, events=second)) == []
    third = TileEvents()
    third.add(spots[0], _event("Isabella Rodriguez", "serving coffee"))
    third.add(spots[2], _event("Ayesha Khan", "writing a poem"))
    new = _run(r, make_ctx(town, gw, [r], NOW, events=third))
    assert [n.subject for n in new] == ["Ayesha Khan"]
    # Isabella has left the retention window of 2: seen again, she is stored again (with the
    # reuse_ratings saving no new rating is asked)
    gw.ledger.drain()
    fourth = TileEvents()
    fourth.add(spots[0], _event("Isabella Rodriguez", "serving coffee"))
    reuse = MindConfig(reuse_ratings=True)
    assert [n.subject for n in _run(r, make_ctx(town, gw, [r], NOW, events=fourth, config=reuse))] == [
        "Isabella Rodriguez"
    ]
    assert [row.task for row in gw.ledger.drain() if row.task == "event_importance"] == []


def test_idle_objects_cost_no_model_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, here, _cafe = _setup(town, personas)
    board = TileEvents()
    board.add(here, Event(f"{CAFE}:piano", None, None, None))
    gw = scripted()
    nodes = _run(r, make_ctx(town, gw, [r], NOW, events=board))
    assert [(n.description, n.importance) for n in nodes] == [("piano is idle", 1)]
    assert [row.task for row in gw.ledger.drain() if row.kind == "llm"] == []
    assert r.importance_trigger_curr == r.params.importance_trigger_max - 1


def test_nothing_new_in_view_means_no_work(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, here, _cafe = _setup(town, personas)
    board = TileEvents()
    board.add(here, _event("Isabella Rodriguez", "serving coffee"))
    gw = scripted()
    ctx = make_ctx(town, gw, [r], NOW, events=board)
    assert len(_run(r, ctx)) == 1
    gw.ledger.drain()
    for step in range(1, 20):
        assert _run(r, make_ctx(town, gw, [r], NOW, step=step, events=board)) == []
    assert gw.ledger.drain() == []
