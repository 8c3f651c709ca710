"""Believability benchmark: short scenarios, everything on against everything off, measured by aga eval.

    .venv/bin/python bench/believability.py --quick          # about ten minutes on the embedded model
    .venv/bin/python bench/believability.py                  # about an hour (2 cores)
    .venv/bin/python bench/believability.py --llm scripted   # the test double (seconds; plumbing only)

Scenarios (each run twice, in a fresh storage folder: "all on" = the defaults; "all off" =
--disable_policy --disable_relationship and every --disable_saving):
  (a) party  the 3-resident base from 07:00 on February 13 with Isabella at Hobbs Cafe, for a few
             game hours: does the party reach Maria and Klaus, how many chats, are the days sane;
  (b) whisper the three placed together at Hobbs Cafe at 13:00; Klaus is told (``aga whisper``)
             that the college library closes early on Friday: does it spread;
  (c) day    one full game day of the 3-resident base from midnight: the realism measures.
--quick runs (a) for 30 game minutes, (b) for 15 and (c) from 05:30 to 07:30 (the wake-ups): on
the embedded model most of a short run is the first step's day planning.

Prints one table: each measure with both columns, and each run's calls, tokens and wall time.
``--columns on,no:plan_rules`` runs everything on beside everything on but one saving (the
saving-by-saving ablation; ``--collect`` reads such columns back too).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aga.bases import load_base
from aga.bases.model import BaseSim, SeededFact
from aga.eval import load_sim
from aga.eval.report import build
from aga.minds.context import SAVINGS
from aga.runner.lifecycle import RunSettings, fork, open_simulation
from aga.world import load_town

BASE3 = "base_the_ville_isabella_maria_klaus"
ISA, MARIA, KLAUS = "Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"
CAFE = "the Ville:Hobbs Cafe:cafe"
WHISPER_TEXT = "The Oak Hill College library will close early this Friday for repairs."
WHISPER_FACT = SeededFact(
    name="library",
    about=WHISPER_TEXT,
    words=["library", "close|closes|closing|closed|closure|early|repairs"],
    question="Have you heard any news about the college library?",
)
ALL_OFF: dict[str, Any] = {"policy": False, "relationship": False, "disabled_savings": list(SAVINGS)}
CONFIGS: dict[str, dict[str, Any]] = {"all on": {}, "all off": ALL_OFF}
SPREAD = "all off, seed 1"
"""--spread: a second all-off run whose base has seed 1 instead of 0. The embedded model samples
with a seed taken from the prompt, so an identical second run would repeat the first word for
word; another seed changes the world's draws (which tile of a room, whom one notices first, the
mind-wandering pick), the prompts diverge from there, and the two all-off columns show the
run-to-run spread of the same set-up."""
BUT = "all on but "
"""--columns no:<saving>: everything on except one saving (``policy``, ``relationship`` or a
``--disable_saving`` name), the saving-by-saving ablation."""


def config_of(label: str) -> dict[str, Any]:
    """The run settings of a column label."""
    if label == SPREAD:
        return ALL_OFF
    if label.startswith(BUT):
        name = label[len(BUT) :]
        return {name: False} if name in ("policy", "relationship") else {"disabled_savings": [name]}
    return CONFIGS[label]


@dataclass
class Scenario:
    """One scenario: a base set-up, its length, and what to do after forking."""

    key: str
    title: str
    start: datetime
    steps: int
    placed: dict[str, str] = field(default_factory=dict)
    """resident -> arena address to start in."""
    whisper: tuple[str, str] | None = None


def scenarios(quick: bool) -> list[Scenario]:
    """The three scenarios, shorter with ``quick``."""
    return [
        Scenario(
            "party", "(a) party morning", datetime(2023, 2, 13, 7, 0), 180 if quick else 1800, {ISA: CAFE}
        ),
        Scenario(
            "whisper",
            "(b) whisper in a group",
            datetime(2023, 2, 13, 13, 0),
            90 if quick else 720,
            {ISA: CAFE, MARIA: CAFE, KLAUS: CAFE},
            (KLAUS, WHISPER_TEXT),
        ),
        Scenario(
            "day",
            "(c) game day" + (" 05:30-07:30" if quick else ""),
            datetime(2023, 2, 13, 5, 30) if quick else datetime(2023, 2, 13),
            720 if quick else 8640,
        ),
    ]


def make_base(sc: Scenario, seed: int = 0) -> BaseSim:
    """The 3-resident base starting at the scenario's time, residents placed, whisper fact declared."""
    base = load_base(BASE3)
    town = load_town(base.town)
    residents = []
    used: set[tuple[int, int]] = set()
    for p in base.residents:
        arena = sc.placed.get(p.name)
        if arena:
            tiles = [*town.spawn_tiles(arena), *sorted(t for t in town.tiles(arena) if town.is_walkable(t))]
            tile = next(t for t in tiles if t not in used)
            used.add(tile)
            p = p.model_copy(update={"start_tile": tile})
        residents.append(p)
    facts = [*base.facts, WHISPER_FACT] if sc.whisper else list(base.facts)
    return base.model_copy(
        update={
            "start": sc.start,
            "residents": residents,
            "facts": facts,
            "name": f"{base.name}_{sc.key}",
            "seed": seed,
        }
    )


def tell(folder: Path, who: str, text: str, llm: str) -> str:
    """Whisper through ``aga whisper``'s module; without it, store the thought through the store API."""
    try:
        from aga.interview.whisper import Whisper, whisper_sync
    except ImportError:
        whisper_sync = None
    if whisper_sync is not None:
        whisper_sync(folder, [Whisper(who, text)])
        return "aga whisper"
    from aga.store.sim_store import SimStore

    store = SimStore.open(folder)
    try:
        mems = store.memory_records(who)
        rec = dict(mems[-1])
        rec.update(
            {
                "id": max(m["id"] for m in mems) + 1,
                "type": "thought",
                "predicate": "was told",
                "object": text[:60],
                "description": text,
                "embedding_key": text,
                "poignancy": 6,
                "keywords": [who, "whisper"],
                "filling": [],
                "created": store.meta()["start"].replace("T", " "),
            }
        )
        store.write_initial({}, {who: [rec]})
    finally:
        store.close()
    return "store API (aga.interview missing)"


def run_job(
    key: str, quick: bool, label: str, llm: str, root: Path
) -> tuple[list[tuple[str, str]], float, str]:
    """One run in a worker process: its measure rows, wall seconds and how it whispered."""
    sc = next(s for s in scenarios(quick) if s.key == key)
    rep, wall, how = run(sc, label, llm, root)
    return measures(sc, rep), wall, how


def run(sc: Scenario, label: str, llm: str, root: Path) -> tuple[dict[str, Any], float, str]:
    """Fork, (whisper), run, evaluate; returns the report, the wall seconds and how it whispered."""
    storage = root / f"{sc.key}-{label.replace(' ', '_')}"
    settings = RunSettings(llm=llm, **config_of(label))
    folder = fork(make_base(sc, seed=1 if label == SPREAD else 0), storage, sc.key, settings=settings)
    (storage / "started").write_text(f"{time.time():.0f}\n", encoding="utf-8")
    how = tell(folder, *sc.whisper, llm) if sc.whisper else ""
    sim = open_simulation(folder)
    t0 = time.perf_counter()
    try:
        asyncio.run(sim.run(sc.steps))
    finally:
        sim.close()
    wall = time.perf_counter() - t0
    return build(load_sim(folder)), wall, how


def measures(sc: Scenario, rep: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows a scenario reports."""
    rows: list[tuple[str, str]] = []
    for d in rep["diffusion"]:
        told = ", ".join(
            f"{a.split()[0]} {k['since'][11:16]}" for a, k in d["knowers"].items() if k["via"] != "seed"
        )
        rows.append(
            (
                f"{d['fact']}: knowers at end",
                f"{d['known_by']}/{d['residents']}" + (f" ({told})" if told else ""),
            )
        )
    days = rep["realism"]
    chats = sum(dd["conversations"] for dd in days.values())
    lines = [n for dd in days.values() for n in dd["conversation_lines"]]
    rows.append(("conversations (mean lines)", f"{chats} ({sum(lines) / len(lines):.1f})" if lines else "0"))
    for day, dd in days.items():
        for who, v in dd["residents"].items():
            if v["steps"] == 0:
                continue
            p = f"{day[8:]} {who.split()[0]}"
            if sc.key == "day":
                rows.append(
                    (f"{p} wake / bed / meals", f"{v['wake'] or '-'} / {v['bed'] or '-'} / {v['meals']}")
                )
                rows.append(
                    (
                        f"{p} longest activity (min)",
                        f"{v['longest_minutes']:.0f} {v['longest_activity'][:24]!r}",
                    )
                )
                rows.append((f"{p} activities", str(v["activities"])))
            if v.get("workplace") and sc.key != "whisper" and v.get("work_share_awake") is not None:
                rows.append((f"{p} awake at workplace", f"{v['work_share_awake']:.0%}"))
    df = rep["defects"]
    rows.append(
        (
            "defects: chat 3rd person / repeated / assistant",
            f"{df['chat_third_person']}/{df['chat_lines']} / {df['repeated_lines']} / {df.get('chat_help_desk', '-')}",
        )
    )
    rows.append(
        (
            "defects: thought 3rd p. / not sentence",
            f"{df['thought_third_person']}/{df['thoughts']} / {df['not_a_sentence']}/{df['descriptions']}",
        )
    )
    c = rep["cost"]
    rows.append(("calls / tokens in / out", f"{c['calls']} / {c['tokens_in']:,} / {c['tokens_out']:,}"))
    long_enough = rep["steps"] * 10 >= 3 * 3600  # shorter runs are mostly the first step's planning
    per = c["tokens_per_agent_day"]
    rows.append(("tokens per agent-day", f"{per:,.0f}" if per and long_enough else "- (run under 3 game h)"))
    return rows


def print_table(table: list[tuple[str, ...]], title: str, labels: list[str] | None = None) -> None:
    """The one table: a measure per row, the set-ups (all on, all off, ...) side by side."""
    labels = labels or list(CONFIGS)
    w = max(len(r[0]) for r in table) + 2
    widths = [max(12, len(lab), *(len(r[i + 1]) for r in table)) + 2 for i, lab in enumerate(labels)]
    print(f"\n{title}\n")
    print(
        f"{'measure':<{w}}" + "".join(f"{lab:<{c}}" for lab, c in zip(labels, widths, strict=True)).rstrip()
    )
    for name, *cells in table:
        print(f"{name:<{w}}" + "".join(f"{v:<{c}}" for v, c in zip(cells, widths, strict=True)).rstrip())


def collect(root: Path, quick: bool, llm: str) -> None:
    """The table of the runs kept in ``root``, finished or not: steps reached of those planned,
    and wall time from the files (fork folder created -> store last written)."""
    table: list[tuple[str, ...]] = []
    labels = list(CONFIGS) + ([SPREAD] if any(root.glob(f"*-{SPREAD.replace(' ', '_')}")) else [])
    buts = {p.name.split("-", 1)[1].replace("_", " ", 3) for p in root.glob(f"*-{BUT.replace(' ', '_')}*")}
    labels += sorted(buts)
    for sc in scenarios(quick):
        cols: dict[str, tuple[dict[str, str], str, str]] = {}
        for label in labels:
            folder = root / f"{sc.key}-{label.replace(' ', '_')}" / sc.key
            if not (folder / "sim.db").is_file():
                continue
            rec = load_sim(folder)
            started = folder.parent / "started"
            last = max(f.stat().st_mtime for f in folder.iterdir() if f.name.startswith("sim.db"))
            wall = f"{last - float(started.read_text()):.0f}" if started.is_file() else "-"
            cols[label] = (dict(measures(sc, build(rec))), f"{rec.steps}/{sc.steps}", wall)
        if not cols:
            continue
        title_row = f"{sc.title}  ({sc.start:%H:%M} + {sc.steps * 10 / 3600:.1f} game h planned)"
        table.append((title_row, *([""] * len(labels))))
        got = [cols.get(label, ({}, "not run", "-")) for label in labels]
        table.append(("  steps run / planned", *(g[1] for g in got)))
        for k in dict.fromkeys(k for g in got for k in g[0]):
            table.append((f"  {k}", *(g[0].get(k, "-") for g in got)))
        table.append(("  wall time (s, from the files)", *(g[2] for g in got)))
    print_table(table, f"believability bench, model {llm}, runs kept in {root}", labels)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter scenarios (about ten minutes)")
    ap.add_argument("--llm", default="embedded", help="model spec (default: the embedded default model)")
    ap.add_argument("--only", default="", help="comma-separated scenario keys (party,whisper,day)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the runs in this folder")
    ap.add_argument("--jobs", type=int, default=1, help="runs at once, each in its own process (and model)")
    ap.add_argument(
        "--collect",
        type=Path,
        default=None,
        help="only print the table of runs kept in this folder (--keep), finished or not",
    )
    ap.add_argument(
        "--spread",
        action="store_true",
        help="also run all off a second time: the two all-off columns are the run-to-run spread",
    )
    ap.add_argument(
        "--columns",
        default="",
        help="run only these set-ups, comma-separated: on (all on), off (all off), spread (all off, "
        "seed 1), no:<saving> (all on but one saving: policy, relationship or a --disable_saving "
        "name); the others can be run into the same --keep folder later and read with --collect",
    )
    args = ap.parse_args()
    if args.collect is not None:
        collect(args.collect, args.quick, args.llm)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="aga-believability-"))
    chosen = [s for s in scenarios(args.quick) if not args.only or s.key in args.only.split(",")]
    table: list[tuple[str, ...]] = []
    t_all = time.perf_counter()
    notes = []
    labels = list(CONFIGS) + ([SPREAD] if args.spread else [])
    if args.columns:
        short = {"on": "all on", "off": "all off", "spread": SPREAD}
        wanted = [c.strip() for c in args.columns.split(",") if c.strip()]
        savings = ("policy", "relationship", *SAVINGS)
        for c in wanted:
            if c.startswith("no:") and c[3:] in savings:
                short[c] = BUT + c[3:]
        unknown = [c for c in wanted if c not in short]
        if unknown:
            ap.error(
                f"--columns: unknown set-up {unknown[0]!r}; choose from on, off, spread, "
                f"no:<saving> with a saving among {', '.join(savings)}"
            )
        labels = [short[c] for c in wanted]
    jobs = [(sc.key, label) for sc in chosen for label in labels]
    done: dict[tuple[str, str], tuple[list[tuple[str, str]], float, str]] = {}
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            pool.submit(run_job, key, args.quick, label, args.llm, root): (key, label) for key, label in jobs
        }
        for fut in as_completed(futures):
            key, label = futures[fut]
            done[(key, label)] = fut.result()
            print(f"  {key} / {label}: done in {done[(key, label)][1]:.0f} s", flush=True)
    for sc in chosen:
        got = [done[(sc.key, label)] for label in labels]
        if got[0][2]:
            notes.append(f"{sc.title}: whisper via {got[0][2]}")
        rows = [dict(g[0]) for g in got]
        table.append(
            (f"{sc.title}  ({sc.start:%H:%M} + {sc.steps * 10 / 3600:.1f} game h)", *([""] * len(labels)))
        )
        for k in dict.fromkeys(k for r in rows for k in r):
            table.append((f"  {k}", *(r.get(k, "-") for r in rows)))
        table.append(("  wall time (s)", *(f"{g[1]:.0f}" for g in got)))
    print_table(table, f"believability bench, model {args.llm}{' (--quick)' if args.quick else ''}", labels)
    for n in notes:
        print(f"note: {n}")
    print(f"\ntotal wall time {time.perf_counter() - t_all:.0f} s; runs in {root}")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
