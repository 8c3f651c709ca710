"""Export a simulation in the original Generative Agents folder layout.

    <dir>/reverie/meta.json
    <dir>/environment/<step>.json          positions at the start of each step
    <dir>/movement/<step>.json             what each resident did in each step
    <dir>/personas/<Full Name>/bootstrap_memory/scratch.json, spatial_memory.json,
        associative_memory/{nodes.json, embeddings.json, kw_strength.json}

The shapes follow the original's files (GA_NOTES section 5) so tools written for them, such as
its replay page, read our runs. Writing goes to a temporary folder renamed into place at the end,
and an existing folder is never overwritten unless ``force``.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aga.errors import InputError
from aga.minds.action import is_object_address
from aga.minds.state import ResidentState
from aga.store.sim_store import SimStore

GA_TIME = "%B %d, %Y, %H:%M:%S"
GA_NODE_TIME = "%Y-%m-%d %H:%M:%S"


def _write(path: Path, value: Any, *, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=indent, ensure_ascii=True), encoding="utf-8")


def export_ga(
    store: SimStore, out: Path, *, force: bool = False, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Write the simulation in ``store`` to ``out`` in the original layout; returns ``out``.

    ``scratch.json`` and ``spatial_memory.json`` are built from each resident's typed
    ``ResidentState`` (never from key names of the stored JSON), so they cannot drift from it.
    """
    if out.exists() and not force:
        raise InputError(f"{out} already exists; choose another folder or pass --force to replace it")
    meta = store.meta()
    town_name = Path(str(meta["town"])).stem if "/" in str(meta["town"]) else str(meta["town"])
    start = datetime.fromisoformat(meta["start"])
    sec = int(meta["sec_per_step"])
    names = list(meta["persona_names"])
    tmp = out.parent / f".{out.name}.export-{uuid.uuid4().hex[:8]}"
    try:
        _write(
            tmp / "reverie" / "meta.json",
            {
                "fork_sim_code": meta.get("fork_sim_code"),
                "start_date": start.strftime("%B %d, %Y"),
                "curr_time": meta["curr_time"],
                "sec_per_step": sec,
                "maze_name": town_name,
                "persona_names": names,
                "step": meta["step"],
            },
        )
        states = store.resident_states()
        personas = {p["name"]: p for p in meta["base"]["residents"]}
        starts = meta.get("start_tiles") or {}  # where the fork placed them (older stores: the base's tiles)
        positions = {n: starts.get(n) or personas[n].get("start_tile") for n in names}
        _write(tmp / "environment" / "0.json", _environment(positions, town_name))
        total = int(meta["step"])
        for step, moves in store.movements():
            now = start + timedelta(seconds=(step + 1) * sec)
            _write(
                tmp / "movement" / f"{step}.json",
                {"persona": moves, "meta": {"curr_time": now.strftime(GA_TIME)}},
            )
            positions.update({n: m["movement"] for n, m in moves.items()})
            _write(tmp / "environment" / f"{step + 1}.json", _environment(positions, town_name))
            if progress is not None:
                progress(step + 1, total)
        for name in names:
            state = ResidentState.from_json(states[name])
            root = tmp / "personas" / name / "bootstrap_memory"
            _write(root / "scratch.json", default_scratch(state, meta["curr_time"], total))
            _write(root / "spatial_memory.json", spatial_memory(state))
            records = store.memory_records(name)
            _write(root / "associative_memory" / "nodes.json", _nodes(records))
            vectors = store.embeddings(
                _embed_model(store, meta), [r.get("embedding_key", "") for r in records]
            )
            _write(
                root / "associative_memory" / "embeddings.json",
                {k: [round(float(x), 6) for x in v] for k, v in vectors.items()},
                indent=None,
            )
            _write(root / "associative_memory" / "kw_strength.json", _kw_strength(records))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _embed_model(store: SimStore, meta: dict[str, Any]) -> str:
    models = store.embedding_models()
    preferred = meta.get("embed_model")
    return preferred if preferred in models else (models[0] if models else "")


def _environment(positions: dict[str, Any], town_name: str) -> dict[str, Any]:
    return {
        n: {"maze": town_name, "x": int(t[0]), "y": int(t[1])} for n, t in positions.items() if t is not None
    }


def _node_time(value: Any) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).strftime(GA_NODE_TIME)
    except ValueError:
        return str(value)


def _nodes(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Memory records as the original's nodes.json (newest first, node ids 'node_<n>')."""
    out: dict[str, Any] = {}
    type_counts: Counter[str] = Counter()
    ordered = sorted(records, key=lambda r: int(r["id"]))
    numbered = []
    for i, r in enumerate(ordered, start=1):
        kind = r.get("type", "event")
        type_counts[kind] += 1
        numbered.append((i, type_counts[kind], r))
    id_map = {int(r["id"]): f"node_{i}" for i, _, r in numbered}
    for i, type_count, r in reversed(numbered):
        kind = r.get("type", "event")
        if kind == "chat":
            filling = r.get("filling") or []
        else:
            filling = [id_map.get(int(e), f"node_{e}") for e in (r.get("filling") or [])]
        out[f"node_{i}"] = {
            "node_count": i,
            "type_count": type_count,
            "type": kind,
            "depth": int(r.get("depth", 0)),
            "created": _node_time(r.get("created")),
            "expiration": _node_time(r.get("expiration")),
            "subject": r.get("subject"),
            "predicate": r.get("predicate"),
            "object": r.get("object"),
            "description": r.get("description"),
            "embedding_key": r.get("embedding_key"),
            "poignancy": int(r.get("poignancy") or 1),
            "keywords": sorted(r.get("keywords") or []),
            "filling": filling,
        }
    return out


def _kw_strength(records: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    strength: dict[str, Counter[str]] = {"kw_strength_event": Counter(), "kw_strength_thought": Counter()}
    for r in records:
        kind = r.get("type", "event")
        if kind not in ("event", "thought") or "is idle" in str(r.get("description", "")):
            continue
        for kw in r.get("keywords") or []:
            strength[f"kw_strength_{kind}"][str(kw).lower()] += 1
    return {k: dict(v) for k, v in strength.items()}


LEGACY_SCRATCH = {
    "concept_forget": 100,
    "daily_reflection_time": 180,
    "daily_reflection_size": 5,
    "overlap_reflect_th": 4,
    "kw_strg_event_reflect_th": 10,
    "kw_strg_thought_reflect_th": 9,
    "thought_count": 5,
}
"""Fields of the original's scratch.json that it never used; written with its base values."""


def default_scratch(state: ResidentState, curr_time: str, step: int) -> dict[str, Any]:
    """The original's ``scratch.json`` (GA_NOTES 2.1, 5.4) from a resident's typed state.

    Args:
        state: the resident's state at the last committed step.
        curr_time: game time after that step (the original's ``curr_time`` text).
        step: the next step to run (``chatting_with_buffer`` counts the steps left until a
            pair may talk again, negative once that is past, as the original's counter does).

    The AGA relationship of each tie is under ``relationship`` (AGA's key).
    """
    who, p, a = state.identity, state.params, state.action
    g = a.grounding if a is not None else None
    obj = a.address.split(":")[-1] if a is not None and is_object_address(a.address) else None
    return {
        "vision_r": p.vision_r,
        "att_bandwidth": p.att_bandwidth,
        "retention": p.retention,
        "curr_time": curr_time,
        "curr_tile": [state.tile[0], state.tile[1]],
        "daily_plan_req": who.daily_plan_req,
        "name": who.name,
        "first_name": who.first_name,
        "last_name": who.last_name,
        "age": who.age,
        "innate": who.innate,
        "learned": who.learned,
        "currently": who.currently,
        "lifestyle": who.lifestyle,
        "living_area": who.living_area,
        **LEGACY_SCRATCH,
        "recency_w": p.recency_w,
        "relevance_w": p.relevance_w,
        "importance_w": p.importance_w,
        "recency_decay": p.recency_decay,
        "importance_trigger_max": p.importance_trigger_max,
        "importance_trigger_curr": state.importance_trigger_curr,
        "importance_ele_n": state.importance_ele_n,
        "daily_req": list(state.daily_req),
        "f_daily_schedule": [[r.description, r.minutes] for r in state.schedule],
        "f_daily_schedule_hourly_org": [[r.description, r.minutes] for r in state.hourly],
        "act_address": a.address if a else None,
        "act_start_time": a.start.strftime(GA_TIME) if a else None,
        "act_duration": a.minutes if a else None,
        "act_description": a.description if a else None,
        "act_pronunciatio": g.emoji if g else None,
        "act_event": [who.name, g.event[0], g.event[1]] if g else [who.name, None, None],
        "act_obj_description": g.obj_description if g else None,
        "act_obj_pronunciatio": g.obj_emoji if g else None,
        "act_obj_event": [obj, g.obj_event[0], g.obj_event[1]] if g and g.obj_event else [None, None, None],
        "chatting_with": state.chatting_with,
        "chat": [[sp, u] for sp, u in state.chat] if state.chat else None,
        "chatting_with_buffer": {k: v - step for k, v in sorted(state.cooldown.items())},
        "chatting_end_time": state.chat_end.strftime(GA_TIME) if state.chat_end else None,
        "act_path_set": state.path_set,
        "planned_path": [[t[0], t[1]] for t in state.planned_path],
        "relationship": {
            k: {"relationship": t.relationship, "feeling": t.feeling} for k, t in sorted(state.ties.items())
        },
    }


def spatial_memory(state: ResidentState) -> dict[str, Any]:
    """The original's ``spatial_memory.json``: ``{world: {sector: {arena: [objects]}}}`` of the places known."""
    return {state.world: state.spatial.to_state()}
