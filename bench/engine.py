"""Engine speed on the scripted test model, on generated towns of proportionate size.

Each row builds a town of ``ceil(N / 2) + 2`` houses (``aga town build --homes``) with its cafes,
shops, workplaces, parks and college, generates ``N`` residents for it (``aga base generate``), and
runs them in a fresh process (so the memory figure is that row's own peak). Two tables:

* one game day (8,640 steps from midnight) for the day sizes (default 25 and 100);
* one busy game hour (360 steps from 08:00, when everyone wakes, plans the day and walks to work)
  for the hour sizes (default 25, 100, 300 and 1,000).

Each row prints wall and CPU seconds, the cost per resident-step (wall microseconds) and its ratio
to the 25-resident row of the same table, model calls, and the row's peak memory (RSS). The machine
is shared: the load average (one minute) before and after each row is printed with it, and CPU
seconds are the fairer figure when the load is high. Goals: 100 residents over one day in at most 120 s; 1,000 over the
busy hour in at most 10 minutes; cost per resident-step at 1,000 at most 2x the 25 figure.

    .venv/bin/python bench/engine.py [--day-sizes 25,100] [--hour-sizes 25,100,300,1000]
        [--against OTHER_SRC]

``--against`` measures another version of the engine side by side: each row runs twice at the
same time, once on this tree and once with ``PYTHONPATH=OTHER_SRC`` (the ``src`` folder of an
older checkout, e.g. ``git worktree add /tmp/old <commit>`` -> ``/tmp/old/src``), so both see
the same load; each row of the other code is printed under this tree's with its CPU ratio, and
``same`` says whether the two runs ended with the same memories, states, model calls and movements
(every resident at every step, as ``SimStore.movements()`` reads them; the calls as a set per game
time, since the order in which one step's calls finish is the scheduler's); the stored movement
rows of both are printed too.

The scripted model is a test double: it answers at once, so this measures the engine itself
(perception, memory, planning code, paths, storage, prompt rendering and token counting).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

DAY_STEPS = 8640
HOUR_STEPS = 360


def homes_for(residents: int) -> int:
    """Houses of the generated town for ``residents`` (households average about 2.2 people)."""
    return math.ceil(residents / 2) + 2


def one_row(size: int, steps: int, hour: int, seed: int) -> dict[str, Any]:
    """Build, fork and run one row in this process; the figures as a dict."""
    from aga.bases.generate import generate_base
    from aga.runner.lifecycle import RunSettings, fork, open_simulation
    from aga.world import load_town
    from aga.world.generator import generate_plan
    from aga.world.layout import town_plan
    from aga.world.townfile import write_town_file

    with tempfile.TemporaryDirectory(prefix="aga-bench-") as tmp:
        town_file = Path(tmp) / "town.yaml"
        write_town_file(
            generate_plan(town_plan(homes_for(size), name=f"bench_{size}")),
            town_file,
            header="bench/engine.py",
            force=True,
        )
        town = load_town(town_file)
        base = generate_base(size, town, town_ref=str(town_file), seed=seed)
        base = base.model_copy(update={"start": datetime(2023, 2, 13, hour), "name": f"bench_{size}"})
        folder = fork(base, Path(tmp) / "storage", f"bench{size}", settings=RunSettings(llm="scripted"))
        sim = open_simulation(folder)
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        asyncio.run(sim.run(steps))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        load_end = os.getloadavg()[0]
        rows = [r for r in sim.store.ledger_rows() if r.get("kind", "llm") == "llm"]
        calls = len(rows)
        outcome = hashlib.sha256()
        for name in sorted(sim.residents):
            outcome.update(sim.residents[name].to_state_json().encode())
            for node in sim.residents[name].memory:
                outcome.update(json.dumps(node.to_record(), sort_keys=True).encode())
        # the calls and their answers, not their timings, nor the order in which the calls of one
        # game time finished (the scheduler's, not the town's: each row carries its game time)
        for text in sorted(json.dumps([r.get(k) for k in _CALL_KEYS], default=str) for r in rows):
            outcome.update(text.encode())
        for step, frame in sim.store.movements():  # every resident's entry at every step
            outcome.update(json.dumps([step, frame], sort_keys=True).encode())
        movement_rows = sim.store.count("movements")
        sim.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {
        "size": size,
        "steps": steps,
        "wall": wall,
        "cpu": cpu,
        "calls": calls,
        "rss_mb": rss,
        "load": load,
        "load_end": load_end,
        "houses": homes_for(size),
        "tiles": town.width * town.height,
        "outcome": outcome.hexdigest()[:16],
        "movement_rows": movement_rows,
    }


_CALL_KEYS = ("task", "agent", "game_time", "prompt", "answer", "prompt_tokens", "completion_tokens", "ok")


def _start(size: int, steps: int, hour: int, seed: int, src: str | None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen(
        [sys.executable, __file__, "--one", f"{size},{steps},{hour},{seed}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, Any] | str:
    out, err = proc.communicate()
    if proc.returncode != 0:
        return err.strip().splitlines()[-1] if err.strip() else str(proc.returncode)
    return json.loads(out.strip().splitlines()[-1])


def table(title: str, sizes: list[int], steps: int, hour: int, seed: int, against: str | None = None) -> None:
    print(f"\n{title}: {steps} steps ({steps * 10 / 3600:g} game hours) from {hour:02d}:00")
    print(
        f"{'residents':>9} {'houses':>6} {'tiles':>7} {'wall s':>8} {'cpu s':>8} {'us/res-step':>11} "
        f"{'ratio':>6} {'cpu ratio':>9} {'calls':>7} {'calls/res':>9} {'peak MB':>8} {'load':>9}"
    )
    refs: list[dict[str, float] | None] = [None, None]  # this tree's 25 row, the other's
    for size in sizes:
        procs = [_start(size, steps, hour, seed, None)]
        if against:
            procs.append(_start(size, steps, hour, seed, against))
        results = [_result(p) for p in procs]
        for k, r in enumerate(results):
            label = f"{size:>9}" if k == 0 else f"{'(other)':>9}"
            if isinstance(r, str):
                print(f"{label} failed: {r}")
                continue
            per = r["wall"] / (r["steps"] * size) * 1e6
            per_cpu = r["cpu"] / (r["steps"] * size) * 1e6
            if refs[k] is None and size == 25:
                refs[k] = {"per": per, "cpu": per_cpu}
            ref = refs[k]
            ratio = f"{per / ref['per']:.2f}" if ref else "-"
            cpu_ratio = f"{per_cpu / ref['cpu']:.2f}" if ref else "-"
            extra = ""
            if k == 1 and not isinstance(results[0], str):
                mine = results[0]
                same = "same" if mine["outcome"] == r["outcome"] else "DIFFERENT"
                extra = f"  this tree's cpu / other's: {mine['cpu'] / r['cpu']:.2f}, outcome {same}"
                extra += f", movement rows {mine['movement_rows']:,} / {r['movement_rows']:,}"
            print(
                f"{label} {r['houses']:>6} {r['tiles']:>7} {r['wall']:>8.1f} {r['cpu']:>8.1f} {per:>11.0f} "
                f"{ratio:>6} {cpu_ratio:>9} {r['calls']:>7} {r['calls'] / size:>9.1f} {r['rss_mb']:>8.0f} "
                f"{r['load']:>4.1f}-{r['load_end']:<4.1f}{extra}",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--day-sizes", default="25,100", help="residents per row of the one-day table ('' for none)"
    )
    ap.add_argument(
        "--hour-sizes", default="25,100,300,1000", help="residents per row of the busy-hour table"
    )
    ap.add_argument("--day-steps", type=int, default=DAY_STEPS)
    ap.add_argument("--hour-steps", type=int, default=HOUR_STEPS)
    ap.add_argument("--hour-start", type=int, default=8, help="game hour the busy-hour rows start at")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--against", help="the src folder of another version to run side by side (PYTHONPATH)", default=None
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        size, steps, hour, seed = (int(v) for v in args.one.split(","))
        print(json.dumps(one_row(size, steps, hour, seed)))
        return
    print(
        f"engine benchmark, scripted test model, generated towns; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    if args.day_sizes:
        table(
            "one game day",
            [int(s) for s in args.day_sizes.split(",")],
            args.day_steps,
            0,
            args.seed,
            args.against,
        )
    if args.hour_sizes:
        table(
            "busy game hour",
            [int(s) for s in args.hour_sizes.split(",")],
            args.hour_steps,
            args.hour_start,
            args.seed,
            args.against,
        )


if __name__ == "__main__":
    main()
