"""Cost benchmark: tokens and calls of the cost layer against everything switched off.

    .venv/bin/python bench/cost.py                 # scripted test model, about 6-8 minutes
    .venv/bin/python bench/cost.py --quick         # 3 residents only, no ablation (about 1 minute)
    .venv/bin/python bench/cost.py --quick --seeds 3  # and the goals' ratios over 3 seeds
    .venv/bin/python bench/cost.py --llm embedded  # a real backend (hours: every call is real)

Runs, each in a fresh storage folder unless "warm":
  * the 3-resident base for two game days (17,280 steps) under {all on, no policy, no
    relationship, all off} x {cold store, warm store after one earlier run of the same set-up};
  * an ablation: all on with one saving switched off at a time (cold and warm);
  * the 25-resident base for one game day (8,640 steps): all off, all on cold, all on warm.
"All off" = --disable_policy --disable_relationship and every saving off; "--profile original" =
all off and the original's planning pipeline call for call (the day's schedule asked hour by hour,
whole activities decomposed into 5-10 minute steps): the original Generative Agents' calls. A
warm store is the public policy store left by the earlier run. With ``--seeds N`` the headline
set-ups (all on cold and warm, all off, --profile original) also run with the base's seed 1 .. N-1
(the world's draws and the model's: the scripted model's answers are drawn with a seed taken from
the prompt and the run's seed, so a change of prompt wording alone moves a ratio by about a
point), and the goals' ratios are printed for each seed, with their mean and range.

Prints tokens in and out, calls, tokens per agent per game day and ratios to "all off". Tokens
come from the backend; with the scripted test model (whose prompts are the real ones) they are
counted by the embedded model's real tokenizer when its file is assembled (named in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aga.bases import BaseSim, load_base
from aga.minds.context import SAVINGS
from aga.runner.lifecycle import RunSettings, fork, open_simulation, policy_store_path

BASE3 = "base_the_ville_isabella_maria_klaus"
BASE25 = "base_the_ville_n25"
DAY = 8640

CONFIGS: dict[str, dict[str, Any]] = {
    "all on": {},
    "no policy": {"policy": False},
    "no relationship": {"relationship": False},
    "all off": {"policy": False, "relationship": False, "disabled_savings": list(SAVINGS)},
    "--profile original": {"profile": "original", "policy": False},  # no store: cold only
}


@dataclass
class Result:
    """The figures of one run."""

    label: str
    store: str
    residents: int
    steps: int
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    wall: float = 0.0
    by_task: Counter[str] = field(default_factory=Counter)
    policy: dict[str, int] = field(default_factory=dict)
    counter: str = ""

    @property
    def tokens(self) -> int:
        """Tokens in and out."""
        return self.tokens_in + self.tokens_out

    @property
    def per_agent_day(self) -> float:
        """Tokens per resident per game day."""
        return self.tokens / self.residents / (self.steps / DAY)


def run_once(
    base: str | BaseSim,
    storage: Path,
    sim: str,
    steps: int,
    llm: str,
    overrides: dict[str, Any],
    label: str,
    store: str,
) -> Result:
    """Fork ``base`` into ``storage/sim`` with the settings and run ``steps`` steps."""
    settings = RunSettings(llm=llm, **overrides)
    folder = fork(base, storage, sim, settings=settings)
    simulation = open_simulation(folder)
    t0 = time.perf_counter()
    try:
        asyncio.run(simulation.run(steps))
        wall = time.perf_counter() - t0
        rows = [r for r in simulation.store.ledger_rows() if r.get("kind", "llm") == "llm"]
        backend = simulation.gateway.backend
        counter = getattr(getattr(backend, "counter", None), "name", "") or f"reported by {backend.name}"
        counts = dict(getattr(simulation.policy, "counts", {}))
        residents = len(simulation.residents)
    finally:
        simulation.close()
    result = Result(label, store, residents, steps, wall=wall, policy=counts, counter=counter)
    for r in rows:
        if r.get("cached"):
            continue
        result.calls += 1
        result.tokens_in += int(r.get("prompt_tokens") or 0)
        result.tokens_out += int(r.get("completion_tokens") or 0)
        result.by_task[r["task"]] += int(r.get("prompt_tokens") or 0) + int(r.get("completion_tokens") or 0)
    return result


def cold_and_warm(
    base: str | BaseSim,
    root: Path,
    name: str,
    steps: int,
    llm: str,
    overrides: dict[str, Any],
    label: str,
    warm: bool = True,
) -> list[Result]:
    """A cold run in a fresh storage folder, then (if the policy is on) a second, warm run there."""
    storage = root / name
    out = [run_once(base, storage, "cold", steps, llm, overrides, label, "cold")]
    if warm and overrides.get("policy", True):
        out.append(run_once(base, storage, "warm", steps, llm, overrides, label, "warm"))
    return out


def warm_from(
    base: str,
    root: Path,
    source: Path,
    name: str,
    steps: int,
    llm: str,
    overrides: dict[str, Any],
    label: str,
) -> Result:
    """A run on a copy of another run's public store (the warm store of 'all on')."""
    storage = root / name
    target = policy_store_path(storage, llm)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return run_once(base, storage, "warm", steps, llm, overrides, label, "warm")


# ---------------------------------------------------------------------- printing
def table(results: list[Result], reference: Result, title: str, original: Result | None = None) -> None:
    """One line per run, with its ratios to ``reference`` (all off) and to ``original``."""
    print(f"\n{title}")
    head = (
        f"{'set-up':<30} {'store':<5} {'calls':>7} {'tokens in':>10} {'tokens out':>10} {'total':>10} "
        f"{'per agent-day':>13} {'tokens/off':>10} {'calls/off':>9} {'tokens/orig':>11} {'wall s':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.label:<30} {r.store:<5} {r.calls:>7,} {r.tokens_in:>10,} {r.tokens_out:>10,} {r.tokens:>10,} "
            f"{r.per_agent_day:>13,.0f} {r.tokens / reference.tokens:>10.1%} {r.calls / reference.calls:>9.1%} "
            f"{(f'{r.tokens / original.tokens:.1%}' if original else '-'):>11} {r.wall:>7.1f}"
        )


def top_tasks(result: Result, n: int = 8) -> str:
    """The tasks that cost the most tokens in a run, with their share."""
    parts = [f"{task} {tokens / result.tokens:.0%}" for task, tokens in result.by_task.most_common(n)]
    return ", ".join(parts)


def policy_line(result: Result) -> str:
    """Lookups of the Lifestyle Policy in a run."""
    c = result.policy
    if not c:
        return "policy off"
    return (
        f"plans reused {c['plan_exact'] + c['plan_similar']} / asked {c['plan_miss']}; "
        f"groundings reused {c['grounding_hit']} / made {c['grounding_miss'] + c['grounding_rejected']}; "
        f"short activities mapped {c['canonical_exact'] + c['canonical_similar']} / new {c['canonical_miss']}; "
        f"ratings reused {c.get('rating_hit', 0)} / stored {c.get('rating_added', 0)}"
    )


HEADLINE = ("all on", "all off", "--profile original")


def seed_spread(root: Path, steps: int, llm: str, seeds: int, seed0: tuple[Result, Result, Result]) -> None:
    """The goals' ratios (all on warm against all off and against --profile original) for base
    seeds 0 .. ``seeds - 1``, seed 0 being the runs above."""
    ratios = [
        (0, seed0[0].tokens / seed0[1].tokens, seed0[0].tokens / seed0[2].tokens, seed0[0].per_agent_day)
    ]
    for seed in range(1, seeds):
        base = load_base(BASE3).model_copy(update={"seed": seed})
        runs: dict[str, Result] = {}
        for label in HEADLINE:
            got = cold_and_warm(base, root, f"s{seed}-{label.strip('-')}", steps, llm, CONFIGS[label], label)
            runs[label] = got[-1]  # all on: the warm run
        on, off, orig = (runs[label] for label in HEADLINE)
        ratios.append((seed, on.tokens / off.tokens, on.tokens / orig.tokens, on.per_agent_day))
    print(f"\ngoals by seed (3 residents, all on warm; {seeds} seeds of the base):")
    for seed, to_off, to_orig, per in ratios:
        print(
            f"  seed {seed}: {to_off:.1%} of all off, {to_orig:.1%} of --profile original, {per:,.0f} per agent-day"
        )
    for k, name in ((1, "all off"), (2, "--profile original")):
        vals = [r[k] for r in ratios]
        print(f"  of {name}: mean {sum(vals) / len(vals):.1%}, range {min(vals):.1%}-{max(vals):.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm", default="scripted", help="model spec (default: the scripted test model)")
    ap.add_argument(
        "--steps", type=int, default=2 * DAY, help="steps of the 3-resident runs (default 17,280)"
    )
    ap.add_argument("--steps25", type=int, default=DAY, help="steps of the 25-resident runs (default 8,640)")
    ap.add_argument("--quick", action="store_true", help="3 residents only, no ablation")
    ap.add_argument("--no-ablation", action="store_true", help="skip the one-saving-off runs")
    ap.add_argument("--no-25", action="store_true", help="skip the 25-resident runs")
    ap.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="run the headline set-ups with this many base seeds (0 .. N-1) and print the goals' spread",
    )
    args = ap.parse_args()
    if args.seeds < 1:
        ap.error(f"--seeds {args.seeds}: give at least 1")
    llm = args.llm
    with tempfile.TemporaryDirectory(prefix="aga-cost-") as tmp:
        root = Path(tmp)
        results: list[Result] = []
        for i, (label, overrides) in enumerate(CONFIGS.items()):
            results += cold_and_warm(BASE3, root, f"c{i}", args.steps, llm, overrides, label)
        off = next(r for r in results if r.label == "all off")
        orig = next(r for r in results if r.label == "--profile original")
        days = args.steps / DAY
        print(
            f"cost benchmark: {BASE3}, 3 residents, {args.steps:,} steps ({days:g} game days); model: {llm}"
            + (" (test double; its prompts are the real ones)" if llm == "scripted" else "")
        )
        print(f"tokens counted by: {off.counter}")
        table(
            results,
            off,
            "3 residents: set-ups x public store (cold = empty; warm = after one earlier run; "
            "without the policy there is no store, so only cold)",
            orig,
        )
        on_warm = next(r for r in results if r.label == "all on" and r.store == "warm")
        print(
            f"\ngoals, 3 residents, warm store: all on = {on_warm.tokens / off.tokens:.1%} of all off "
            f"(goal <= 20 %; AGA 31.1 %), {on_warm.tokens / orig.tokens:.1%} of --profile original "
            f"(goal <= 10 %), {on_warm.per_agent_day:,.0f} tokens per agent per game day "
            f"(goal <= 40,000; original about 760,000, AGA about 240,000)"
        )
        for r in results:
            print(f"  {r.label} / {r.store}: {policy_line(r)}")
            print(f"      top tasks: {top_tasks(r)}")
        if args.seeds > 1:
            seed_spread(root, args.steps, llm, args.seeds, (on_warm, off, orig))

        if not (args.quick or args.no_ablation):
            source = policy_store_path(root / "c0", llm)
            ablation: list[Result] = []
            for name in SAVINGS:
                overrides = {"disabled_savings": [name]}
                ablation.append(
                    run_once(
                        BASE3,
                        root / f"a-{name}",
                        "cold",
                        args.steps,
                        llm,
                        overrides,
                        f"all on, no {name}",
                        "cold",
                    )
                )
                ablation.append(
                    warm_from(
                        BASE3, root, source, f"w-{name}", args.steps, llm, overrides, f"all on, no {name}"
                    )
                )
            base_rows = [r for r in results if r.label == "all on"]
            table(
                base_rows + ablation,
                off,
                "ablation, 3 residents: all on with one saving switched off "
                "(warm = on a copy of the store 'all on' left after its two runs)",
            )

        if not (args.quick or args.no_25):
            r25 = cold_and_warm(
                BASE25, root, "n25-off", args.steps25, llm, CONFIGS["all off"], "all off", warm=False
            )
            r25 += cold_and_warm(BASE25, root, "n25-on", args.steps25, llm, CONFIGS["all on"], "all on")
            table(
                r25,
                r25[0],
                f"25 residents ({BASE25}), {args.steps25:,} steps ({args.steps25 / DAY:g} game day)",
            )
            for r in r25:
                print(f"  {r.label} / {r.store}: {policy_line(r)}")
                print(f"      top tasks: {top_tasks(r)}")


if __name__ == "__main__":
    main()
