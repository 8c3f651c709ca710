"""One game day of the 3-resident base on the scripted test model: the town comes alive."""

from __future__ import annotations

from aga.store.sim_store import SimStore
from aga.world import load_town

from .conftest import fork_and_run

DAY = 8640


def test_one_day_residents_wake_leave_meet_talk_and_reflect(storage):
    folder = fork_and_run(storage, "day", DAY)
    store = SimStore.open(folder)
    town = load_town(store.meta()["town"])
    states = store.resident_states()
    assert store.meta()["step"] == DAY
    assert len(states) == 3

    sectors: dict[str, set[str]] = {n: set() for n in states}
    awake: dict[str, bool] = {n: False for n in states}
    left_home: dict[str, bool] = {n: False for n in states}
    chats = 0
    homes = {n: s for n, s in _homes(store).items()}
    for _step, moves in store.movements():
        for name, m in moves.items():
            tile = tuple(m["movement"])
            sector = town.address(tile, "sector")
            if sector:
                sectors[name].add(sector)
                if sector != homes[name]:
                    left_home[name] = True
            if "sleep" not in m["description"].lower():
                awake[name] = True
            if m["chat"]:
                chats += 1
    assert all(awake.values()), awake
    assert all(left_home.values()), left_home
    assert all(len(s) >= 3 for s in sectors.values()), sectors
    assert chats > 0

    reflections = [
        r
        for n in states
        for r in store.memory_records(n)
        if r["type"] == "thought" and r["filling"] and r["depth"] >= 1
    ]
    assert reflections, "no thought with evidence (reflection or post-chat thought) was stored"


def _homes(store: SimStore) -> dict[str, str]:
    base = store.meta()["base"]
    return {p["name"]: ":".join(p["living_area"].split(":")[:2]) for p in base["residents"]}
