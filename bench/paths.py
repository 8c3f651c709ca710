"""Path lookups per second on the bundled town (run: .venv/bin/python bench/paths.py).

Prints, side by side:
  * load_town("the_ville"): first load and cached load;
  * random walkable (start, goal) pairs: cold (every goal new: one BFS tree per lookup) and warm
    (goals drawn from a pool whose trees are cached, starts random);
  * 1,000 residents each heading to a random game object (path_to_any over the object's tiles),
    first step (cold) and later steps (warm), as lookups per second and milliseconds per step.
"""

from __future__ import annotations

import argparse
import random
import time

from aga.world import load_town
from aga.world.loading import _cache


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} /s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--pool", type=int, default=1_000, help="distinct goals in the warm test")
    parser.add_argument("--agents", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    _cache.clear()
    t0 = time.perf_counter()
    town = load_town("the_ville")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_town("the_ville")
    t_cached = time.perf_counter() - t0
    print(f"load_town('the_ville'): first {t_load * 1000:.0f} ms, cached {t_cached * 1e6:.0f} us")

    walkable = [(x, y) for y in range(town.height) for x in range(town.width) if town.is_walkable((x, y))]
    town.path(walkable[0], walkable[1])  # import scipy, build the graph

    n_cold = min(2_000, args.pairs)
    goals = rng.sample(walkable, n_cold)
    starts = [rng.choice(walkable) for _ in goals]
    t0 = time.perf_counter()
    steps = sum(len(town.path(s, g)) for s, g in zip(starts, goals, strict=True))
    t_cold = time.perf_counter() - t0

    pool = rng.sample(walkable, args.pool)
    pairs = [(rng.choice(walkable), rng.choice(pool)) for _ in range(args.pairs)]
    for g in pool:  # warm-up: one tree per pooled goal
        town.path(walkable[0], g)
    t0 = time.perf_counter()
    warm_steps = sum(len(town.path(s, g)) for s, g in pairs)
    t_warm = time.perf_counter() - t0

    print(
        f"random pairs, cold (new goal each):   {_rate(n_cold, t_cold)}   ({steps / n_cold:.0f} tiles/path)"
    )
    print(
        f"random pairs, warm ({args.pool} goals cached): {_rate(len(pairs), t_warm)}   "
        f"({warm_steps / len(pairs):.0f} tiles/path)   speed-up x{(len(pairs) / t_warm) / (n_cold / t_cold):.0f}"
    )

    objects = [sorted(town.tiles(addr)) for addr in town.object_instances()]
    agents = [rng.choice(walkable) for _ in range(args.agents)]
    targets = [rng.choice(objects) for _ in agents]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for s, goal_tiles in zip(agents, targets, strict=True):
            town.path_to_any(s, goal_tiles)
        times.append(time.perf_counter() - t0)
        agents = [rng.choice(walkable) for _ in agents]
    print(
        f"{args.agents} agents -> random objects ({len(objects)} object places): step 1 (cold) "
        f"{times[0] * 1000:.0f} ms = {_rate(args.agents, times[0])};  steps 2-3 (warm) "
        f"{min(times[1:]) * 1000:.0f} ms = {_rate(args.agents, min(times[1:]))}"
    )
    print(f"cache: {town.pathfinder.cache_info()}")


if __name__ == "__main__":
    main()
