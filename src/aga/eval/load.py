"""Read a simulation folder into :class:`~aga.eval.records.SimRecords`.

Two kinds of folders: an aga simulation (``sim.db``) and an imported original run
(``replay/master_movement.json`` + ``meta.json``, written by ``aga replay import-ga``, or the
original's compressed folder itself, read in place), which holds
movements, actions and chats only. Facts and workplaces come from the base the simulation was
forked from (stored in its meta; a base stored before facts existed is read again by name), or,
for an imported run, from the bundled base whose residents it has.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aga.errors import InputError
from aga.eval.records import Memory, Move, PlanItem, SimRecords

_TIME = "%Y-%m-%d %H:%M:%S"
SEED_BEFORE = datetime(2000, 1, 2)
"""Seed memories are created at 2000-01-01 until their first step stamps them."""


def is_sim_folder(folder: Path) -> bool:
    """Whether ``folder`` holds something ``aga eval`` can read."""
    return (
        (folder / "sim.db").is_file()
        or (folder / "replay" / "master_movement.json").is_file()
        or (folder / "master_movement.json").is_file()
    )


def resolve(sim: str, storage: Path) -> Path:
    """A simulation name in ``storage`` or a folder path.

    Raises:
        InputError: neither names a simulation.
    """
    path = Path(sim)
    if path.is_dir() and is_sim_folder(path):
        return path
    candidate = storage / sim
    if is_sim_folder(candidate):
        return candidate
    raise InputError(
        f"{sim}: no simulation found (looked for {candidate}/sim.db, {candidate}/replay/ and the folder {sim})"
    )


def load(folder: Path, *, step: int | None = None, town: bool = True) -> SimRecords:
    """Read a simulation (up to ``step``, exclusive, when given).

    Args:
        folder: a simulation folder (``sim.db``) or an imported replay's folder.
        step: read what was there at the start of this step (None: everything).
        town: resolve each tile to its place with the simulation's town (aga runs only).

    Raises:
        InputError: the folder holds no simulation, or ``step`` is out of range.
        StoreError: the store cannot be read.
    """
    if (folder / "sim.db").is_file():
        return _load_store(folder, step, town)
    if (folder / "replay" / "master_movement.json").is_file():
        return _load_replay(folder / "replay", folder.name, step)
    if (folder / "master_movement.json").is_file():
        return _load_replay(folder, folder.name, step)
    raise InputError(f"{folder}: no simulation here (no sim.db, no replay/master_movement.json)")


def _check_step(step: int | None, total: int, where: Path) -> int:
    if step is None:
        return total
    if not 0 <= step <= total:
        raise InputError(f"{where}: --step {step} is out of range (the simulation has run {total} steps)")
    return step


def _base_parts(
    base: dict[str, Any] | None, names: list[str]
) -> tuple[list[Any], dict[str, str], dict[str, list[str]]]:
    """Facts and workplaces of a stored base; when it has none, those of the bundled base of
    the same name, or of a bundled base with exactly these residents."""
    from aga.bases import bundled_bases, load_base
    from aga.bases.model import BaseSim

    parsed: BaseSim | None = None
    if base:
        try:
            parsed = BaseSim.model_validate(base)
        except ValueError:
            parsed = None
    candidates: list[BaseSim] = [parsed] if parsed is not None else []
    bundled = bundled_bases()
    if parsed is not None and parsed.name in bundled:
        candidates.append(load_base(parsed.name))
    for name in bundled:
        other = load_base(name)
        if sorted(p.name for p in other.residents) == sorted(names):
            candidates.append(other)
    with_facts = next((c for c in candidates if c.facts), None)
    facts: list[Any] = list(with_facts.facts) if with_facts else []
    work: dict[str, str] = {}
    for cand in candidates:
        for p in cand.residents:
            if p.workplace and p.name in names:
                work.setdefault(p.name, p.workplace)
    seeded: dict[str, list[str]] = {}
    if with_facts is not None:
        from aga.eval.diffusion import carries

        for fact in facts:
            seeded[fact.name] = sorted(
                p.name for p in with_facts.residents if any(carries(t, fact.words) for t in p.seed_memories)
            )
    return facts, work, seeded


def _load_store(folder: Path, step: int | None, with_town: bool) -> SimRecords:
    try:
        from aga.store.read_only import open_read_only
    except ImportError:  # a tree without the read-only access
        from aga.store.sim_store import SimStore

        open_read_only = SimStore.open
    store = open_read_only(folder)  # never writes: a live run may be using the store
    try:
        meta = store.meta()
        total = int(meta.get("step", 0))
        stop = _check_step(step, total, folder)
        start = datetime.fromisoformat(str(meta["start"]))
        sec = int(meta["sec_per_step"])
        states = store.resident_states()
        names = sorted(states)
        rec = SimRecords(
            name=folder.name,
            kind="aga",
            start=start,
            sec_per_step=sec,
            steps=stop,
            residents=names,
            settings=dict(meta.get("settings") or {}),
        )
        limit = rec.time_of(stop)
        for name in names:
            mems = []
            for r in store.memory_records(name):
                created = datetime.strptime(r["created"], _TIME)
                seed = r.get("predicate") == "remembers" and (created < SEED_BEFORE or created <= start)
                if created >= limit and not seed:
                    continue
                lines = (
                    tuple((str(a), str(b)) for a, b in r.get("filling") or ()) if r["type"] == "chat" else ()
                )
                mems.append(
                    Memory(
                        name,
                        int(r["id"]),
                        str(r["type"]),
                        created,
                        str(r["subject"]),
                        str(r["predicate"]),
                        str(r["object"]),
                        str(r["description"]),
                        lines,
                        seed,
                    )
                )
            rec.memories[name] = mems
            rec.ties[name] = dict((states[name].get("ties") or {})) if stop == total else {}
        place = _placer(meta.get("town")) if with_town else None
        moves: dict[str, list[Move]] = {n: [] for n in names}
        for s, frame in store.movements(0, stop):
            when = rec.time_of(s)
            for agent, m in frame.items():
                tile = (int(m["movement"][0]), int(m["movement"][1]))
                chat = tuple((str(a), str(b)) for a, b in m["chat"]) if m.get("chat") else None
                moves.setdefault(agent, []).append(
                    Move(
                        s,
                        when,
                        agent,
                        tile,
                        str(m["pronunciatio"]),
                        str(m["description"]),
                        chat,
                        place(tile) if place else None,
                    )
                )
        rec.moves = moves
        for agent, logs in store.action_logs().items():
            items = []
            for r in logs:
                when = datetime.strptime(r["time"], _TIME)
                if when >= limit or r.get("task") in ("chat",):
                    continue
                items.append(
                    PlanItem(
                        agent, when, str(r.get("task") or ""), r.get("parent"), int(r.get("duration") or 0)
                    )
                )
            rec.plans[agent] = items
        rec.ledger = [r for r in store.ledger_rows() if _before(r.get("game_time"), limit)]
        rec.facts, rec.workplaces, rec.seeded = _base_parts(meta.get("base"), names)
        return rec
    finally:
        store.close()


def _before(game_time: Any, limit: datetime) -> bool:
    if not game_time:
        return True
    try:
        return datetime.fromisoformat(str(game_time)) < limit
    except ValueError:
        return True


def _placer(town_ref: Any) -> Any:
    """Tile -> 'sector:arena' ('' off any sector) with the simulation's town, or None."""
    if not town_ref:
        return None
    from aga.world import load_town

    town = load_town(str(town_ref))
    cache: dict[tuple[int, int], str] = {}

    def place(tile: tuple[int, int]) -> str:
        if tile not in cache:
            parts = town.address(tile, "arena").split(":")
            cache[tile] = ":".join(parts[1:]) if len(parts) > 1 else ""
        return cache[tile]

    return place


def _load_replay(folder: Path, name: str, step: int | None) -> SimRecords:
    meta = _replay_meta(folder)
    master = _read_json(folder / "master_movement.json")
    if not isinstance(master, dict):
        raise InputError(f"{folder / 'master_movement.json'}: expected an object of steps")
    total = 1 + max((int(k) for k in master), default=-1)
    stop = _check_step(step, total, folder.parent)
    names = sorted(meta["persona_names"])
    start = meta["start"]
    rec = SimRecords(
        name=name,
        kind="replay",
        start=start,
        sec_per_step=int(meta["sec_per_step"]),
        steps=stop,
        residents=names,
    )
    state: dict[str, dict[str, Any]] = {}
    moves: dict[str, list[Move]] = {n: [] for n in names}
    where: dict[str, str | None] = {}
    """the last real address of each resident: a chat's address names the partner instead."""
    for s in range(stop):
        for agent, entry in (master.get(str(s)) or {}).items():
            state[agent] = entry
        when = rec.time_of(s)
        for agent, e in state.items():
            try:
                chat = tuple((str(a), str(b)) for a, b in e["chat"]) if e.get("chat") else None
                mv = Move(
                    s,
                    when,
                    agent,
                    (int(e["movement"][0]), int(e["movement"][1])),
                    str(e["pronunciatio"]),
                    str(e["description"]),
                    chat,
                    None,
                )
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
                raise InputError(
                    f"{folder / 'master_movement.json'}: step {s}, {agent}: not a movement entry ({err!r})"
                ) from None
            if mv.address.startswith("<"):
                mv = replace(mv, place=where.get(agent) or "")
            else:
                where[agent] = mv.address
            moves.setdefault(agent, []).append(mv)
    rec.moves = moves
    rec.facts, rec.workplaces, rec.seeded = _base_parts(None, names)
    return rec


GA_TIME = "%B %d, %Y, %H:%M:%S"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: cannot read it as JSON: {err}") from None


def _replay_meta(folder: Path) -> dict[str, Any]:
    """persona_names, sec_per_step and the start time of a replay's meta.json (the original's
    keys, or aga's ``start``)."""
    path = folder / "meta.json"
    raw = _read_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("persona_names"), list):
        raise InputError(f"{path}: expected an object with 'persona_names'")
    sec = raw.get("sec_per_step")
    if not isinstance(sec, int) or sec <= 0:
        raise InputError(f"{path}: field 'sec_per_step' must be a positive integer, got {sec!r}")
    try:
        if isinstance(raw.get("start"), str):
            start = datetime.fromisoformat(raw["start"])
        elif isinstance(raw.get("curr_time"), str) and isinstance(raw.get("step"), int):
            start = datetime.strptime(raw["curr_time"], GA_TIME) - timedelta(seconds=raw["step"] * sec)
        else:
            raise InputError(f"{path}: needs 'start', or 'curr_time' and 'step', to know the game time")
    except ValueError as err:
        raise InputError(f"{path}: unreadable game time: {err}") from None
    return {"persona_names": [str(n) for n in raw["persona_names"]], "sec_per_step": sec, "start": start}
