"""Importance savings: reuse of ratings, several events in one call, ratings deferred in batches.

Each saving is behind its MindConfig switch; with the switch off the original path runs (one
``event_importance`` call per event that is not idle, repeats included)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aga.minds import AgentView, MemoryStream, MindConfig, Resident
from aga.minds.perceive import DEFER_COUNT, DEFER_MINUTES, heal_memory, known_rating, perceive, settle_ratings
from aga.world import Event, TileEvents

from .driver import make_ctx, with_rules

NOW = datetime(2023, 2, 13, 10, 0, 0)
CAFE = "the Ville:Hobbs Cafe:cafe"
COUNTER = f"{CAFE}:behind the cafe counter"
REUSE = MindConfig(reuse_ratings=True)
BATCH = MindConfig(batch_ratings=True)
RATES = {"serving": 3, "brewing": 6, "piano": 5, "crying": 8, "reading": 2}


def _rating_of(text: str) -> int:
    return next((v for k, v in RATES.items() if k in text), 3)


class Rater:
    """Scripted-model rules for the rating tasks that record what they were asked (test double)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list[str]]] = []

    def single(self, request, rng):  # type: ignore[no-untyped-def]
        self.asked.append(("event_importance", [request.vars["event"]]))
        return {"rating": _rating_of(request.vars["event"])}

    def batch(self, request, rng):  # type: ignore[no-untyped-def]
        items = list(request.vars["items"])
        self.asked.append(("event_ratings", items))
        return {"ratings": [{"event": t, "rating": _rating_of(t)} for t in items]}

    def rules(self):  # type: ignore[no-untyped-def]
        return with_rules(event_importance=self.single, event_ratings=self.batch)


def _klaus(town, personas, **params):  # type: ignore[no-untyped-def]
    cafe = town.tiles(CAFE)
    here = min((t for t in cafe if town.is_walkable(t)), key=lambda t: abs(t[0] - 62) + abs(t[1] - 43))
    persona = personas["Klaus Mueller"].model_copy(update={"start_tile": here, **params})
    spots = sorted(
        (t for t in cafe if max(abs(t[0] - here[0]), abs(t[1] - here[1])) <= 2),
        key=lambda t: (abs(t[0] - here[0]) + abs(t[1] - here[1]), t),
    )
    return Resident.from_persona(persona, town), spots


def _view(name: str, address: str, description: str) -> AgentView:
    return AgentView(
        name, (0, 0), description, address, "☕", (name, "is", "x"), None, None, None, False, False
    )


def _ctx(town, gw, r, board, config, *, when=NOW, step=0, others=()):  # type: ignore[no-untyped-def]
    ctx = make_ctx(town, gw, [r], when, step=step, events=board, config=config)
    return replace(ctx, views={**ctx.views, **{v.name: v for v in others}})


def _llm_tasks(gw) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.task for row in gw.ledger.drain() if row.kind == "llm"]


@pytest.mark.parametrize("config", [MindConfig(), REUSE], ids=["off", "reuse_ratings"])
def test_an_object_in_use_takes_the_rating_of_the_activity_it_mirrors(
    town, personas, scripted, config
) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    r, spots = _klaus(town, personas)
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "brewing coffee"))
    board.add(spots[1], Event(COUNTER, "is", "used", "being used for brewing coffee"))
    isabella = _view("Isabella Rodriguez", COUNTER, "brewing coffee")
    nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, config, others=[isabella])))
    assert {n.description: n.importance for n in nodes} == {
        "Isabella Rodriguez is brewing coffee": 6,
        "behind the cafe counter is being used for brewing coffee": 6,
    }
    asked = [texts for _task, texts in rater.asked]
    if config.reuse_ratings:
        assert asked == [["Isabella Rodriguez is brewing coffee"]]  # one call for both
    else:
        assert sorted(t for texts in asked for t in texts) == [
            "Isabella Rodriguez is brewing coffee",
            "behind the cafe counter is being used for brewing coffee",
        ]


@pytest.mark.parametrize("config", [MindConfig(), REUSE], ids=["off", "reuse_ratings"])
def test_a_text_seen_again_and_sleep_cost_no_call_when_reused(town, personas, scripted, config) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    r, spots = _klaus(town, personas, retention=0)  # every look stores the events again
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    board.add(spots[1], Event("Maria Lopez", "is", "asleep", "sleeping"))
    for step in range(2):
        nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, config, step=step)))
        assert {n.description: n.importance for n in nodes}["Isabella Rodriguez is serving coffee"] == 3
    texts = [t for _task, ts in rater.asked for t in ts]
    if config.reuse_ratings:
        assert texts == ["Isabella Rodriguez is serving coffee"]
        assert all(n.importance == 1 for n in r.memory if n.description == "Maria Lopez is sleeping")
    else:
        assert sorted(texts) == sorted(
            ["Isabella Rodriguez is serving coffee", "Maria Lopez is sleeping"] * 2
        )


def test_the_events_of_a_step_are_rated_in_one_call_in_their_order(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    r, spots = _klaus(town, personas)
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    board.add(spots[1], Event("Maria Lopez", "is", "crying", "crying alone"))
    board.add(spots[2], Event("Ayesha Khan", "is", "reading", "reading a poem"))
    nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, BATCH)))
    assert _llm_tasks(gw) == ["event_ratings"]
    assert [task for task, _ in rater.asked] == ["event_ratings"] and len(rater.asked[0][1]) == 3
    assert {n.description: n.importance for n in nodes} == {
        "Isabella Rodriguez is serving coffee": 3,
        "Maria Lopez is crying alone": 8,
        "Ayesha Khan is reading a poem": 2,
    }
    assert r.importance_trigger_curr == r.params.importance_trigger_max - 13


def test_a_wrong_count_is_repaired_and_nothing_is_misaligned(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    answers = iter([{"ratings": [{"event": "x", "rating": 9}, {"event": "y", "rating": 9}]}, None])

    def short_first(request, rng):  # type: ignore[no-untyped-def]
        first = next(answers, None)
        if first is not None:
            return first
        return {"ratings": [{"event": t, "rating": _rating_of(t)} for t in request.vars["items"]]}

    gw = scripted(with_rules(event_ratings=short_first))
    r, spots = _klaus(town, personas)
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    board.add(spots[1], Event("Maria Lopez", "is", "crying", "crying alone"))
    board.add(spots[2], Event("Ayesha Khan", "is", "reading", "reading a poem"))
    nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, BATCH)))
    rows = [row for row in gw.ledger.drain() if row.task == "event_ratings"]
    assert len(rows) == 2 and not rows[0].ok and rows[1].ok
    assert sorted(n.importance for n in nodes) == [2, 3, 8]


def test_an_unusable_batch_gives_the_default_and_stores_nothing_ahead(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(event_ratings=lambda req, rng: "no idea"))
    r, spots = _klaus(town, personas)
    asyncio.run(r.think(make_ctx(town, gw, [r], NOW, config=BATCH)))  # plans the day
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    board.add(spots[1], Event("Maria Lopez", "is", "crying", "crying alone"))
    nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, BATCH, step=1)))
    assert [n.importance for n in nodes] == [4, 4]
    assert r.rated == {}


def test_own_upcoming_activities_are_rated_with_the_current_one(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    r, _spots = _klaus(town, personas)
    ctx = make_ctx(town, gw, [r], NOW, config=BATCH)
    asyncio.run(r.think(ctx))  # plans the day and starts the current activity
    gw.ledger.drain()
    rater.asked.clear()
    own = Event(r.name, "is", "x", r.action.description)  # type: ignore[union-attr]
    board = TileEvents()
    board.add(r.tile, own)
    asyncio.run(perceive(r, _ctx(town, gw, r, board, BATCH, step=1)))
    assert [task for task, _ in rater.asked] == ["event_ratings"]
    items = rater.asked[0][1]
    assert items[0].startswith(f"{r.name} is ") and len(items) > 1
    ahead = items[1:]
    assert set(ahead) == set(r.rated)  # kept for later, in the state
    assert json.loads(json.dumps(r.to_state()))["rated"] == r.rated
    later = make_ctx(town, gw, [r], NOW, step=2, config=BATCH)
    assert all(known_rating(r, later, text) == _rating_of(text) for text in ahead)


def test_deferred_ratings_wait_then_come_in_one_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    config = MindConfig(batch_ratings=True, defer_ratings=True)
    r, spots = _klaus(town, personas)
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    board.add(spots[1], Event("Maria Lopez", "is", "crying", "crying alone"))
    trigger = r.importance_trigger_curr
    nodes = asyncio.run(perceive(r, _ctx(town, gw, r, board, config)))
    assert [n.importance for n in nodes] == [None, None] and rater.asked == []
    assert sorted(r.deferred) == sorted(n.id for n in nodes)
    assert r.importance_trigger_curr == trigger and r.importance_ele_n == 2

    # a resumed resident keeps waiting: healing does not rate deferred events
    vectors = {
        n.embedding_key: v
        for n, v in zip(r.memory, asyncio.run(gw.embed([n.embedding_key for n in r.memory])))
    }
    memory = MemoryStream.from_records([n.to_record() for n in r.memory], vectors)
    resumed = Resident.from_state(json.loads(json.dumps(r.to_state())), memory)
    assert resumed.deferred == r.deferred
    asyncio.run(heal_memory(resumed, _ctx(town, gw, resumed, board, config)))
    assert rater.asked == [] and all(resumed.memory.node(i).importance is None for i in resumed.deferred)

    for who in (r, resumed):
        asyncio.run(
            settle_ratings(
                who, _ctx(town, gw, who, board, config, when=NOW + timedelta(minutes=DEFER_MINUTES - 1))
            )
        )
        assert rater.asked == [] and who.deferred
        asyncio.run(
            settle_ratings(
                who, _ctx(town, gw, who, board, config, when=NOW + timedelta(minutes=DEFER_MINUTES))
            )
        )
        assert [task for task, _ in rater.asked] == ["event_ratings"]
        assert who.deferred == {} and who.importance_trigger_curr == trigger - 3 - 8
        assert sorted(who.memory.node(n.id).importance for n in nodes) == [3, 8]  # type: ignore[type-var]
        rater.asked.clear()
    assert r.to_state() == resumed.to_state()


def test_enough_waiting_texts_or_a_forced_settle_rate_at_once(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    rater = Rater()
    gw = scripted(rater.rules())
    config = MindConfig(batch_ratings=True, defer_ratings=True)
    r, spots = _klaus(town, personas, att_bandwidth=DEFER_COUNT + 1)
    board = TileEvents()
    board.add(spots[0], Event("Isabella Rodriguez", "is", "coffee", "serving coffee"))
    asyncio.run(perceive(r, _ctx(town, gw, r, board, config)))
    asyncio.run(settle_ratings(r, _ctx(town, gw, r, board, config), force=True))
    assert len(rater.asked) == 1 and r.deferred == {}
    board = TileEvents()
    names = [
        "Maria Lopez",
        "Ayesha Khan",
        "Sam Moore",
        "Tom Moreno",
        "Jane Moreno",
        "Eddy Lin",
        "Carmen Ortiz",
        "Adam Smith",
    ][:DEFER_COUNT]
    for name, spot in zip(names, spots[1:]):
        board.add(spot, Event(name, "is", "x", "playing the piano"))
    asyncio.run(perceive(r, _ctx(town, gw, r, board, config, step=1)))
    assert len(r.deferred) == DEFER_COUNT
    asyncio.run(settle_ratings(r, _ctx(town, gw, r, board, config, step=1)))
    assert len(rater.asked) == 2 and rater.asked[1][0] == "event_ratings" and r.deferred == {}
