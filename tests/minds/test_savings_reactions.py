"""Reaction savings (``react_rules``): a 'no' stands while nothing changed, waiting is ruled out
where it cannot make sense, and a short interruption keeps the plan without a rewrite call."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aga.minds import MindConfig, Resident
from aga.minds.converse import converse
from aga.minds.plan import next_action
from aga.minds.react import decide, fit_reaction, maybe_wait, pause_plan
from aga.minds.schedule import index_at, span, total
from aga.minds.text import minute_of_day

from .driver import make_ctx, with_rules

AT = datetime(2023, 2, 13, 10, 0, 0)
RULES = MindConfig(react_rules=True)


def _pair(town, personas, gw):  # type: ignore[no-untyped-def]
    a = Resident.from_persona(personas["Klaus Mueller"], town)
    b = Resident.from_persona(personas["Maria Lopez"], town)
    b.tile = next(t for t in town.nearby(a.tile, 2) if town.is_walkable(t) and t != a.tile)
    for r in (a, b):
        asyncio.run(next_action(r, make_ctx(town, gw, [a, b], AT)))
    gw.ledger.drain()
    return a, b


def _seen(a, b, when):  # type: ignore[no-untyped-def]
    return a.memory.add(
        "event", created=when, subject=b.name, predicate="is", obj="x", description=f"{b.name} is here",
        embedding_key=f"{b.name} is here", importance=2, keywords=[b.name],
    )  # fmt: skip


def _asked(gw, task: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for row in gw.ledger.drain() if row.task == task)


@pytest.mark.parametrize("config", [MindConfig(), RULES], ids=["off", "react_rules"])
def test_a_no_to_talking_stands_while_both_activities_are_the_same(town, personas, scripted, config) -> None:  # type: ignore[no-untyped-def]
    gw = scripted(with_rules(decide_to_talk=lambda req, rng: {"answer": "no"}))
    a, b = _pair(town, personas, gw)
    for minute in range(3):
        when = AT + timedelta(minutes=minute)
        ctx = make_ctx(town, gw, [a, b], when, step=minute * 6, config=config)
        assert asyncio.run(decide(a, ctx, [_seen(a, b, when)])) is None
    assert _asked(gw, "decide_to_talk") == (1 if config.react_rules else 3)
    # Maria starts something else: the question is asked again
    b.set_action(replace(b.action, description="playing the guitar"))  # type: ignore[arg-type]
    when = AT + timedelta(minutes=5)
    asyncio.run(decide(a, make_ctx(town, gw, [a, b], when, step=30, config=config), [_seen(a, b, when)]))
    assert _asked(gw, "decide_to_talk") == 1
    if config.react_rules:
        assert a.talk_memo[b.name] == (a.action.description, "playing the guitar")  # type: ignore[union-attr]


def test_a_yes_forgets_the_earlier_no(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    answers = iter(["no", "yes"])
    gw = scripted(with_rules(decide_to_talk=lambda req, rng: {"answer": next(answers)}))
    a, b = _pair(town, personas, gw)
    asyncio.run(decide(a, make_ctx(town, gw, [a, b], AT, config=RULES), [_seen(a, b, AT)]))
    assert b.name in a.talk_memo
    b.set_action(replace(b.action, description="playing the guitar"))  # type: ignore[arg-type]
    intent = asyncio.run(decide(a, make_ctx(town, gw, [a, b], AT, step=6, config=RULES), [_seen(a, b, AT)]))
    assert intent is not None and intent.target == b.name and b.name not in a.talk_memo


def _wait_setup(town, personas, gw, address: str, their_end: datetime):  # type: ignore[no-untyped-def]
    a, b = _pair(town, personas, gw)
    mine = replace(
        a.action, grounding=replace(a.action.grounding, address=address), end=AT + timedelta(hours=1)
    )
    a.set_action(mine)  # type: ignore[arg-type]
    a.planned_path = [a.tile]
    b.set_action(
        replace(b.action, grounding=replace(b.action.grounding, address=address), end=their_end)  # type: ignore[arg-type]
    )
    return a, b


@pytest.mark.parametrize(
    ("address", "their_minutes", "asked_with_rules"),
    [
        ("the Ville:Hobbs Cafe:cafe", 5, 0),  # a whole room: nobody needs to wait
        ("the Ville:Hobbs Cafe:cafe:piano", 90, 0),  # they finish after me: waiting is pointless
        ("the Ville:Hobbs Cafe:cafe:piano", 5, 1),  # an object in use for a few minutes: ask
    ],
)
def test_waiting_is_asked_only_where_it_can_make_sense(  # type: ignore[no-untyped-def]
    town, personas, scripted, address, their_minutes, asked_with_rules
) -> None:
    for config, expected in ((MindConfig(), 1), (RULES, asked_with_rules)):
        gw = scripted(with_rules(decide_to_react=lambda req, rng: {"answer": "continue"}))
        a, b = _wait_setup(town, personas, gw, address, AT + timedelta(minutes=their_minutes))
        ctx = make_ctx(town, gw, [a, b], AT, config=config)
        asyncio.run(maybe_wait(a, ctx, ctx.views[b.name], []))
        assert _asked(gw, "decide_to_react") == expected, config


def test_a_short_interruption_only_pauses_the_current_activity(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    a, _b = _pair(town, personas, gw)
    now = minute_of_day(AT)
    i = index_at(a.schedule, now)
    row_end = span(a.schedule, i)[1]
    after = [(r.description, r.minutes) for r in a.schedule[i + 1 :]]
    current = a.schedule[i].description
    minutes = min(5, row_end - now)
    ctx = make_ctx(town, gw, [a], AT, config=RULES)
    asyncio.run(fit_reaction(a, ctx, "chatting with Maria", minutes))
    assert _asked(gw, "schedule_rewrite") == 0
    assert total(a.schedule) == 1440
    j = index_at(a.schedule, now)
    assert (a.schedule[j].description, a.schedule[j].minutes, a.schedule[j].parent) == (
        "chatting with Maria",
        minutes,
        "react",
    )
    if now + minutes < row_end:
        assert a.schedule[j + 1].description == current
    assert after and [(r.description, r.minutes) for r in a.schedule[-len(after) :]] == after


def test_a_long_interruption_is_replanned_by_the_model(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    gw = scripted()
    a, _b = _pair(town, personas, gw)
    now = minute_of_day(AT)
    row_end = span(a.schedule, index_at(a.schedule, now))[1]
    before = list(a.schedule)
    ctx = make_ctx(town, gw, [a], AT, config=RULES)
    assert pause_plan(a, ctx, "a long talk", row_end - now + 30) is False and a.schedule == before
    asyncio.run(fit_reaction(a, ctx, "a long talk", row_end - now + 30))
    assert _asked(gw, "schedule_rewrite") == 1 and total(a.schedule) == 1440


def test_without_the_rules_every_chat_rewrites_the_schedule(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    turn = {"utterance": "hello", "end": True}
    for config, expected in ((MindConfig(), 2), (RULES, 0)):
        gw = scripted(with_rules(conversation_turn=lambda req, rng: turn))
        a, b = _pair(town, personas, gw)
        asyncio.run(converse(a, b, make_ctx(town, gw, [a, b], AT, step=3600, config=config)))
        assert _asked(gw, "schedule_rewrite") == expected
        assert a.chatting_with == b.name and total(a.schedule) == 1440
