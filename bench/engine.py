"""Engine speed on the scripted test model: wall time, steps/s and agent-steps/s for 3, 25 and 100
residents over one game day (8,640 steps). Goal: 25 residents x 8,640 steps in at most 60 s.

    .venv/bin/python bench/engine.py [--steps 8640] [--sizes 3,25,100]

The scripted model is a test double: it answers instantly, so this measures the engine itself
(perception, memory, planning code, paths, storage), not a language model.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from aga.bases import BaseSim, load_base
from aga.runner.lifecycle import RunSettings, fork, open_simulation


def population(size: int) -> BaseSim:
    """The 3- or 25-resident base, or the 25 cloned into ``size`` residents."""
    if size == 3:
        return load_base("base_the_ville_isabella_maria_klaus")
    base = load_base("base_the_ville_n25")
    if size <= 25:
        return base.model_copy(update={"residents": base.residents[:size]})
    people = []
    for i in range(size):
        p = base.residents[i % 25]
        if i >= 25:
            suffix = f"{i // 25 + 1}"
            last = f"{p.last_name}{suffix}"
            p = p.model_copy(update={"name": f"{p.first_name} {last}", "last_name": last})
        people.append(p)
    return base.model_copy(update={"name": f"bench_{size}", "residents": people})


def measure(size: int, steps: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = fork(population(size), Path(tmp), f"bench{size}", settings=RunSettings(llm="scripted"))
        sim = open_simulation(folder)
        t0 = time.perf_counter()
        asyncio.run(sim.run(steps))
        wall = time.perf_counter() - t0
        calls = sum(1 for r in sim.store.ledger_rows() if r.get("kind", "llm") == "llm")
        sim.store.close()
    return {"wall": wall, "steps_s": steps / wall, "agent_steps_s": steps * size / wall, "calls": calls}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8640)
    ap.add_argument("--sizes", default="3,25,100")
    args = ap.parse_args()
    print(f"engine benchmark, scripted test model, {args.steps} steps ({args.steps * 10 / 3600:.1f} game hours)")
    print(f"{'residents':>9} {'wall s':>8} {'steps/s':>9} {'agent-steps/s':>14} {'model calls':>12}")
    for size in [int(s) for s in args.sizes.split(",")]:
        r = measure(size, args.steps)
        print(f"{size:>9} {r['wall']:>8.1f} {r['steps_s']:>9.0f} {r['agent_steps_s']:>14.0f} {r['calls']:>12}", flush=True)


if __name__ == "__main__":
    main()
