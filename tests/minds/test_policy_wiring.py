"""The minds on the Lifestyle Policy: reuse of decompositions (rescaled) and groundings, short
activities mapped to stored texts, and the grounding savings (one-call details, plan rules).

Uses a real ``LifestylePolicy`` on a temporary public store and the scripted test model (a test
double); a "call" below is a ledger row of the scripted gateway.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aga.minds import MindConfig, Resident
from aga.minds.action import Action, Grounding
from aga.minds.grounding import ground_action, to_policy
from aga.minds.plan import canonical_text, decompose_activity, next_action, wake_up_hour
from aga.minds.schedule import Row, total
from aga.policy import LifestylePolicy, NullPolicy, PublicStore, normalise

from .driver import make_ctx, with_rules

DAY = datetime(2023, 2, 13, 9, 0, 0)
ALL_SAVINGS = MindConfig(action_details=True, plan_rules=True)


@pytest.fixture()
def policy(tmp_path):  # type: ignore[no-untyped-def]
    store = PublicStore(tmp_path / "public" / "policy.db")
    yield LifestylePolicy(store, sim="test", embed_model="hash-embedder-v1")
    store.close()


def _klaus(town, personas) -> Resident:  # type: ignore[no-untyped-def]
    return Resident.from_persona(personas["Klaus Mueller"], town)


def _ctx(town, gw, r, policy, step, config=None):  # type: ignore[no-untyped-def]
    ctx = make_ctx(
        town, gw, [r], DAY + timedelta(seconds=10 * step), step=step, config=config or MindConfig()
    )
    return replace(ctx, policy=policy)


def _tasks(gw) -> list[str]:  # type: ignore[no-untyped-def]
    return [row.task for row in gw.ledger.drain() if row.kind == "llm"]


class EmbedSpy:
    """Wraps a gateway's embed and records the texts asked for (a test spy)."""

    def __init__(self, gw) -> None:  # type: ignore[no-untyped-def]
        self.texts: list[str] = []
        self._embed = gw.embed
        gw.embed = self

    async def __call__(self, texts):  # type: ignore[no-untyped-def]
        self.texts.extend(texts)
        return await self._embed(texts)


# ---------------------------------------------------------------------- decompositions
def test_a_stored_decomposition_is_reused_rescaled_to_the_new_duration(
    town, personas, scripted, policy
) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    task = "working on his research paper at the library"
    first = asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 10), task, 180, 540))
    assert _tasks(gw) == ["task_decomp"] and len(first) > 1 and total(first) == 180
    shares = [row.minutes / 180 for row in first]

    again = asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 20), task, 60, 840))
    assert _tasks(gw) == []  # no call: the stored one is reused
    assert total(again) == 60 and all(row.minutes >= 1 for row in again)
    assert [row.description for row in again] == [row.description for row in first]
    assert all(row.parent == task for row in again)
    # the minutes follow the stored shares (rescaled, not copied: 180 minutes would overrun 60)
    assert all(abs(row.minutes / 60 - share) <= 5 / 60 + 1e-9 for row, share in zip(again, shares))


def test_reused_rows_are_named_after_the_stored_text_so_their_groundings_hit(
    town, personas, scripted, policy
) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    stored = "Having breakfast and checking his emails"
    asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 10), stored, 60, 480))
    asked = "having breakfast and checking emails"  # the same activity once articles/possessives go
    rows = asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 20), asked, 90, 480))
    assert _tasks(gw) == ["task_decomp"]  # only the first
    assert all(row.description.startswith(f"{stored} (") and row.parent == stored for row in rows)
    assert total(rows) == 90


def test_an_unusable_decomposition_is_not_stored(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted(with_rules(task_decomp=lambda req, rng: "no idea"))
    rows = asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 10), "painting the fence", 120, 600))
    assert rows == [Row("painting the fence", 120)]
    assert policy.store.stats()["plans"] == 0


# ---------------------------------------------------------------------- groundings
def test_a_stored_grounding_is_reused_without_calls_and_marked(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    text = "working on his research paper at the library (reading at the library table)"
    made = asyncio.run(ground_action(r, _ctx(town, gw, r, policy, 10), text))
    assert _tasks(gw) and not made.reused
    reused = asyncio.run(ground_action(r, _ctx(town, gw, r, policy, 20), text))
    assert _tasks(gw) == []
    assert reused.reused and reused.address == made.address and reused.emoji == made.emoji
    assert reused.event == made.event and reused.obj_event == made.obj_event
    assert reused.obj_description == made.obj_description


def test_the_same_step_does_not_see_its_own_new_grounding(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    text = "having lunch at Hobbs Cafe"
    asyncio.run(ground_action(r, _ctx(town, gw, r, policy, 10), text))
    _tasks(gw)
    again = asyncio.run(ground_action(r, _ctx(town, gw, r, policy, 10), text))  # a re-run of step 10
    assert not again.reused and _tasks(gw)


def test_a_grounding_at_a_place_the_resident_does_not_know_is_not_reused(
    town, personas, scripted, policy
) -> None:  # type: ignore[no-untyped-def]
    klaus, gw = _klaus(town, personas), scripted()
    text = "having a drink at The Rose and Crown Pub"
    made = asyncio.run(ground_action(klaus, _ctx(town, gw, klaus, policy, 10), text))
    assert "The Rose and Crown Pub" in made.address
    _tasks(gw)
    newcomer = _klaus(town, personas)
    newcomer.spatial = type(newcomer.spatial)(
        {"Dorm for Oak Hill College": town.tree()["Dorm for Oak Hill College"]}
    )
    again = asyncio.run(ground_action(newcomer, _ctx(town, gw, newcomer, policy, 20), text))
    assert not again.reused and _tasks(gw)
    assert "Rose and Crown" not in again.address  # it could not go to a pub it does not know


def test_groundings_are_per_resident_unless_shared(town, personas, scripted, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = PublicStore(tmp_path / "shared.db")
    try:
        own = LifestylePolicy(store, sim="own", embed_model="hash-embedder-v1")
        shared = LifestylePolicy(
            store, sim="shared", embed_model="hash-embedder-v1", share_across_agents=True
        )
        klaus, maria = _klaus(town, personas), Resident.from_persona(personas["Maria Lopez"], town)
        for obj in town.tree()["Hobbs Cafe"]["cafe"]:
            maria.spatial.learn("Hobbs Cafe", "cafe", obj)  # she knows the place
        gw = scripted()
        text = "having lunch at Hobbs Cafe"
        made = asyncio.run(ground_action(klaus, _ctx(town, gw, klaus, own, 10), text))
        assert not asyncio.run(ground_action(maria, _ctx(town, gw, maria, own, 20), text)).reused
        got = asyncio.run(ground_action(maria, _ctx(town, gw, maria, shared, 20), text))
        assert got.reused and got.address == made.address and got.event == made.event
    finally:
        store.close()


def test_a_fallback_place_is_never_stored(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted(
        with_rules(action_sector=lambda req, rng: "the moon", action_arena=lambda req, rng: "the moon")
    )
    asyncio.run(ground_action(r, _ctx(town, gw, r, policy, 10), "buying paint"))
    assert policy.store.stats()["groundings"] == 0


def test_chat_and_wait_places_are_never_stored(town, personas) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    for address in ("<persona> Maria Lopez", "<waiting> 10 20"):
        assert to_policy(r, Grounding(address, "💬", ("chat with", "Maria Lopez"))) is None


def test_short_activities_map_to_the_stored_text(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    assert (
        asyncio.run(canonical_text(r, _ctx(town, gw, r, policy, 10), "Taking a short walk"))
        == "Taking a short walk"
    )
    assert (
        asyncio.run(canonical_text(r, _ctx(town, gw, r, policy, 20), "taking a short walk."))
        == "Taking a short walk"
    )


def test_next_action_logs_a_reused_grounding_as_not_new(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    r.day = DAY.date()
    r.schedule = r.hourly = [Row("sleeping", 540), Row("reading a novel", 30), Row("sleeping", 870)]
    asyncio.run(next_action(r, _ctx(town, gw, r, policy, 0)))  # 09:00
    r.action = Action("plan", "sleeping", DAY, DAY, Grounding("x:y:z", "😴", ("is", "sleeping")))
    asyncio.run(next_action(r, _ctx(town, gw, r, policy, 1)))  # starts again, from the store
    first, second = r.drain_action_log()
    assert first["is_new"] is True and second["is_new"] is False
    assert first["task"] == second["task"] == "reading a novel"


# ---------------------------------------------------------------------- switched off
def test_without_the_policy_no_key_is_embedded_and_nothing_is_reused(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    spy = EmbedSpy(gw)
    off = NullPolicy()
    task = "working on his research paper at the library"
    asyncio.run(decompose_activity(r, _ctx(town, gw, r, off, 10), task, 120, 540))
    asyncio.run(decompose_activity(r, _ctx(town, gw, r, off, 20), task, 120, 540))
    asyncio.run(ground_action(r, _ctx(town, gw, r, off, 30), task))
    assert spy.texts == []
    assert _tasks(gw).count("task_decomp") == 2


def test_with_the_policy_keys_are_embedded(town, personas, scripted, policy) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    spy = EmbedSpy(gw)
    asyncio.run(decompose_activity(r, _ctx(town, gw, r, policy, 10), "painting the fence", 120, 540))
    assert spy.texts == ["painting the fence"]


# ---------------------------------------------------------------------- the grounding savings
def test_one_call_gives_all_five_details(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    text = "having breakfast (making coffee)"
    g = asyncio.run(
        ground_action(r, _ctx(town, gw, r, NullPolicy(), 10, MindConfig(action_details=True)), text)
    )
    tasks = _tasks(gw)
    assert "action_details" in tasks
    assert not {"action_emoji", "event_triple", "object_state", "object_emoji", "object_event_triple"} & set(
        tasks
    )
    assert g.address.count(":") == 3 and g.obj_description and g.obj_emoji and g.obj_event and g.emoji
    five = asyncio.run(ground_action(r, _ctx(town, gw, r, NullPolicy(), 11), text))
    tasks = _tasks(gw)
    assert {"action_emoji", "event_triple", "object_state", "object_emoji", "object_event_triple"} <= set(
        tasks
    )
    assert "action_details" not in tasks
    assert five.address == g.address and five.obj_description == g.obj_description


def test_plan_rules_take_a_named_sector_and_the_previous_subtask_sector(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    ctx = _ctx(town, gw, r, NullPolicy(), 10, ALL_SAVINGS)
    g = asyncio.run(ground_action(r, ctx, "having lunch at Hobbs Cafe"))
    assert ":Hobbs Cafe:" in g.address and "action_sector" not in _tasks(gw)
    parent = "working on his research paper"
    r.action = Action(
        "plan",
        f"{parent} (reading)",
        DAY,
        DAY,
        Grounding(f"{r.world}:Oak Hill College:library", "📚", ("read", "books")),
        parent,
    )
    g = asyncio.run(ground_action(r, ctx, f"{parent} (taking notes)", parent=parent))
    assert ":Oak Hill College:" in g.address and "action_sector" not in _tasks(gw)
    # without the rules the model is asked
    asyncio.run(ground_action(r, _ctx(town, gw, r, NullPolicy(), 11), "having lunch at Hobbs Cafe"))
    assert "action_sector" in _tasks(gw)


def test_plan_rules_put_sleep_in_the_own_room_without_asking(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r, gw = _klaus(town, personas), scripted()
    g = asyncio.run(ground_action(r, _ctx(town, gw, r, NullPolicy(), 10, ALL_SAVINGS), "sleeping"))
    assert g.address.startswith(r.identity.living_area + ":")
    tasks = _tasks(gw)
    assert "action_sector" not in tasks and "action_arena" not in tasks


def test_plan_rules_put_a_nap_in_the_bed_not_at_the_desk(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    # Maria's "relaxing at home (taking a nap)" was put at her desk in an embedded whole-day run
    r = _klaus(town, personas)
    gw = scripted(with_rules(action_object=lambda req, rng: {"choice": "desk"}))
    nap = "relaxing at home (taking a nap)"
    g = asyncio.run(
        ground_action(r, _ctx(town, gw, r, NullPolicy(), 10, ALL_SAVINGS), nap, parent="relaxing at home")
    )
    assert g.address == r.identity.living_area + ":bed"
    assert "action_object" not in _tasks(gw)
    # without the rules the model's object stands
    g = asyncio.run(ground_action(r, _ctx(town, gw, r, NullPolicy(), 20), nap, parent="relaxing at home"))
    assert g.address.endswith(":desk") and "action_object" in _tasks(gw)


def test_plan_rules_read_the_wake_up_hour_the_lifestyle_states(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted(with_rules(wake_up_hour=lambda req, rng: {"hour": 9}))
    assert (
        asyncio.run(wake_up_hour(r, _ctx(town, gw, r, NullPolicy(), 0, ALL_SAVINGS))) == 7
    )  # "wakes up around 7 am"
    assert _tasks(gw) == []
    assert asyncio.run(wake_up_hour(r, _ctx(town, gw, r, NullPolicy(), 0))) == 9
    assert _tasks(gw) == ["wake_up_hour"]


def test_normalised_keys_are_what_the_store_compares() -> None:
    assert normalise("Cooking dinner in her kitchen.") == normalise("cooking dinner in kitchen")
