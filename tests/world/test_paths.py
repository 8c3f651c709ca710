"""Shortest paths: valid, shortest, deterministic, uncapped; multi-goal; odd inputs."""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path

from aga.world import Town, load_town
from aga.world.townfile import read_town_file


def bfs_length(town, start, goal):
    """Reference: plain BFS distance (None if unreachable)."""
    if not town.is_walkable(goal):
        return None
    seen = {start: 0}
    queue = deque([start])
    while queue:
        t = queue.popleft()
        if t == goal:
            return seen[t]
        for n in ((t[0] + 1, t[1]), (t[0] - 1, t[1]), (t[0], t[1] + 1), (t[0], t[1] - 1)):
            if n not in seen and town.is_walkable(n):
                seen[n] = seen[t] + 1
                queue.append(n)
    return None


def assert_valid(town, path, start, goal):
    assert path[0] == start and path[-1] == goal
    for a, b in zip(path, path[1:], strict=False):
        assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
        assert town.is_walkable(b)


def test_paths_are_valid_and_shortest():
    town = load_town("the_ville")
    rng = random.Random(11)
    walkable = [(x, y) for y in range(town.height) for x in range(town.width) if town.is_walkable((x, y))]
    for _ in range(25):
        s, g = rng.choice(walkable), rng.choice(walkable)
        path = town.path(s, g)
        assert_valid(town, path, s, g)
        assert len(path) - 1 == bfs_length(town, s, g)


def test_long_paths_have_no_cap_and_are_deterministic():
    town = load_town("the_ville")
    start = sorted(town.spawn_tiles("the Ville:Adam Smith's house:main room"))[0]
    goal = sorted(town.spawn_tiles("the Ville:Oak Hill College:library"))[0]
    path = town.path(start, goal)
    assert len(path) > 150  # the original gave up after 150 BFS rounds
    fresh = Town(read_town_file(Path(town.source)))
    assert fresh.path(start, goal) == path
    path.pop()  # callers may mutate what they get
    assert town.path(start, goal)[-1] == goal


def test_trivial_blocked_and_off_map_cases(small_town_file):
    town = load_town(small_town_file)
    assert town.path((2, 2), (2, 2)) == [(2, 2)]
    assert town.path((2, 2), (0, 0)) == []  # goal is a wall
    assert town.path((2, 2), (50, 50)) == []
    assert town.path((-1, 0), (2, 2)) == []
    path = town.path((2, 2), (10, 6))  # out through both doors
    assert_valid(town, path, (2, 2), (10, 6))
    assert (4, 2) in path and (7, 3) in path


def test_start_on_a_blocked_tile_steps_off_it(small_town_file):
    town = load_town(small_town_file)
    path = town.path((0, 2), (2, 2))
    assert path[0] == (0, 2) and path[-1] == (2, 2) and len(path) == 3


def test_path_to_any_goes_to_the_nearest_goal():
    town = load_town("the_ville")
    start = sorted(town.spawn_tiles("the Ville:Hobbs Cafe:cafe"))[0]
    seats = sorted(town.tiles("the Ville:Hobbs Cafe:cafe:cafe customer seating"))
    far = sorted(town.tiles("the Ville:Johnson Park:park"))[:3]
    path = town.path_to_any(start, [*far, *seats])
    best = min(len(town.path(start, g)) for g in [*far, *seats])
    assert len(path) == best and path[-1] in seats
    assert town.path_to_any(start, []) == []
    assert town.path_to_any(start, [start, seats[0]]) == [start]
    assert town.path_to_any(start, [(0, 0)]) == []  # a border tree: not walkable


def test_unreachable_goal_gives_empty_path(tmp_path):
    text = """\
format: aga-town/1
world: W
size: [5, 3]
ground: |
  ..#..
  ..#..
  ..#..
"""
    path = tmp_path / "split.yaml"
    path.write_text(text)
    town = load_town(path)
    assert town.path((0, 0), (4, 0)) == []
    assert town.path_to_any((0, 0), [(4, 0), (4, 2)]) == []


def test_several_goals_search_the_same_graph_as_one_built_afresh() -> None:
    """The graph with the goals' hub reuses the cached walking graph; it is the very matrix that
    sorting all edges again would give, so trees (and tie-breaks) are unchanged."""
    from aga.world.generator import generate_plan
    from aga.world.layout import town_plan
    from aga.world.loading import build_town

    pf = build_town(generate_plan(town_plan(6, name="paths_6"))).pathfinder
    walkable = [i for i, w in enumerate(pf._walk_list) if w]
    rng = random.Random(4)
    for _ in range(10):
        roots = tuple(sorted(rng.sample(walkable, rng.randint(2, 9))))
        fresh, reused = pf._csr(roots), pf._with_hub(roots)
        assert fresh.shape == reused.shape
        assert (fresh.indptr == reused.indptr).all() and (fresh.indices == reused.indices).all()
        start = rng.choice(walkable)
        path = pf.path_to_any(pf._tile(start), [pf._tile(r) for r in roots])
        assert path and pf._index(path[-1]) in roots and path[0] == pf._tile(start)
