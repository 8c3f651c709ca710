"""TileEvents and Event: bookkeeping, the arena-indexed `near` query, snapshots and state."""

from __future__ import annotations

import math
import random

import pytest

from aga.errors import StoreError
from aga.world import Event, TileEvents, load_town


def brute_near(town, events: TileEvents, tile, radius, same_arena=True):
    """Reference answer: scan every tile of the square (what the index must avoid doing)."""
    x0, y0 = tile
    here = town.place_key(tile)
    out = []
    for t in town.nearby(tile, radius):
        if same_arena and town.place_key(t) != here:
            continue
        for e in events.at(t):
            out.append((math.hypot(t[0] - x0, t[1] - y0), t, e.sort_key(), e))
    out.sort(key=lambda item: item[:3])
    return [(t, e) for _, t, _, e in out]


def test_add_remove_and_remove_subject():
    ev = TileEvents()
    a = Event("Isabella Rodriguez", "is", "brewing coffee", "brewing coffee")
    b = Event("the Ville:Hobbs Cafe:cafe:refrigerator", None, None, None)
    ev.add((3, 4), a)
    ev.add((3, 4), b)
    ev.add((3, 4), a)
    assert ev.at((3, 4)) == {a, b}
    ev.remove_subject((3, 4), "Isabella Rodriguez")
    assert ev.at((3, 4)) == {b}
    ev.remove((3, 4), b)
    ev.remove((3, 4), b)  # absent: no error
    assert ev.at((3, 4)) == frozenset()
    assert ev.tiles() == []


def test_events_with_none_fields_sort_without_error():
    idle = Event("x", None, None, None)
    busy = Event("x", "is", "busy", None)
    assert sorted([busy, idle]) == [idle, busy]


def test_near_matches_a_full_scan_and_follows_changes():
    town = load_town("the_ville")
    rng = random.Random(3)
    ev = TileEvents()
    walkable = [(x, y) for y in range(town.height) for x in range(town.width) if town.is_walkable((x, y))]
    placed = []
    for i in range(600):
        t = rng.choice(walkable)
        e = Event(f"agent {i % 40}", "is" if i % 3 else None, "here" if i % 5 else None, None)
        ev.add(t, e)
        placed.append((t, e))
    probes = rng.sample(walkable, 60)
    for p in probes:
        assert ev.near(town, p, 8) == brute_near(town, ev, p, 8)
        assert ev.near(town, p, 4, same_arena=False) == brute_near(town, ev, p, 4, same_arena=False)
    for t, e in placed[:300]:  # changes after the index was built must show up
        ev.remove(t, e)
    for p in probes:
        assert ev.near(town, p, 8) == brute_near(town, ev, p, 8)


def test_near_keeps_to_the_observers_arena():
    town = load_town("the_ville")
    bed = sorted(town.tiles("the Ville:Isabella Rodriguez's apartment:main room:bed"))[0]
    bath = sorted(town.tiles("the Ville:Isabella Rodriguez's apartment:bathroom"))[0]
    ev = TileEvents()
    e_bath = Event("someone", "is", "showering", None)
    ev.add(bath, e_bath)
    assert max(abs(bath[0] - bed[0]), abs(bath[1] - bed[1])) <= 8
    assert ev.near(town, bed, 8) == []
    assert ev.near(town, bed, 8, same_arena=False) == [(bath, e_bath)]


def test_copy_is_a_snapshot_and_state_round_trips():
    ev = TileEvents()
    e1 = Event("a", "is", "b", "c")
    ev.add((1, 1), e1)
    snap = ev.copy()
    ev.add((2, 2), Event("d", None, None, None))
    ev.remove((1, 1), e1)
    assert snap.at((1, 1)) == {e1} and snap.at((2, 2)) == frozenset()
    restored = TileEvents.from_state(ev.to_state())
    assert restored == ev and restored.to_state() == [[2, 2, "d", None, None, None]]


@pytest.mark.parametrize(
    "state", [[[1, 2, "a"]], [["1", 2, "a", None, None, None]], "x", [[1, 2, 3, None, None, None]]]
)
def test_from_state_rejects_malformed_rows(state):
    with pytest.raises(StoreError, match="tile events state"):
        TileEvents.from_state(state)


def test_stamp_moves_whenever_the_events_in_view_change():
    """Random changes all over the Ville: whenever near() of a probe changes, so does its stamp
    (the converse need not hold: a change elsewhere in a touched cell may move it too)."""
    town = load_town("the_ville")
    rng = random.Random(5)
    ev = TileEvents()
    walkable = [(x, y) for y in range(town.height) for x in range(town.width) if town.is_walkable((x, y))]
    probes = rng.sample(walkable, 40)
    placed: list = []
    before = {p: (ev.near(town, p, 8), ev.stamp(town, p, 8)) for p in probes}
    moved = kept = 0
    for i in range(400):
        if placed and rng.random() < 0.4:
            t, e = placed.pop(rng.randrange(len(placed)))
            ev.remove(t, e)
        elif placed and rng.random() < 0.1:
            t, e = rng.choice(placed)
            ev.remove_subject(t, e.subject)
            placed = [(pt, pe) for pt, pe in placed if not (pt == t and pe.subject == e.subject)]
        else:
            t = rng.choice(walkable)
            e = Event(f"agent {i % 30}", "is", f"doing {i % 7}", None)
            ev.add(t, e)
            placed.append((t, e))
        for p in probes:
            seen, stamp = ev.near(town, p, 8), ev.stamp(town, p, 8)
            if seen != before[p][0]:
                assert stamp != before[p][1], (i, p)
                moved += 1
            elif stamp == before[p][1]:
                kept += 1
            before[p] = (seen, stamp)
    assert moved > 50 and kept > 1000  # both cases were met often
