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
from aga.store.sim_store import SimStore

GA_TIME = "%B %d, %Y, %H:%M:%S"
GA_NODE_TIME = "%Y-%m-%d %H:%M:%S"


def _write(path: Path, value: Any, *, indent: int | None = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=indent, ensure_ascii=True), encoding="utf-8")


def export_ga(store: SimStore, out: Path, *, force: bool = False,
              scratch: Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]] | None = None,
              progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the simulation in ``store`` to ``out`` in the original layout; returns ``out``."""
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
        positions = {n: personas[n].get("start_tile") for n in names}
        _write(tmp / "environment" / "0.json", _environment(positions, town_name))
        total = int(meta["step"])
        for step, moves in store.movements():
            now = start + timedelta(seconds=(step + 1) * sec)
            _write(tmp / "movement" / f"{step}.json", {"persona": moves, "meta": {"curr_time": now.strftime(GA_TIME)}})
            positions.update({n: m["movement"] for n, m in moves.items()})
            _write(tmp / "environment" / f"{step + 1}.json", _environment(positions, town_name))
            if progress is not None:
                progress(step + 1, total)
        world = meta.get("world", "")
        for name in names:
            state = states.get(name, {})
            root = tmp / "personas" / name / "bootstrap_memory"
            make = scratch or default_scratch
            _write(root / "scratch.json", make(state, personas[name], meta["curr_time"]))
            known = state.get("known_places") or state.get("spatial_memory") or personas[name].get("known_places", {})
            _write(root / "spatial_memory.json", {world: known} if world and world not in known else known)
            records = store.memory_records(name)
            _write(root / "associative_memory" / "nodes.json", _nodes(records))
            vectors = store.embeddings(_embed_model(store, meta), [r.get("embedding_key", "") for r in records])
            _write(root / "associative_memory" / "embeddings.json",
                   {k: [round(float(x), 6) for x in v] for k, v in vectors.items()}, indent=None)
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


def default_scratch(state: dict[str, Any], persona: dict[str, Any], curr_time: str) -> dict[str, Any]:
    """The original's scratch.json fields from a resident's stored state and its persona."""
    g = state.get
    return {
        "vision_r": persona.get("vision_r", 8),
        "att_bandwidth": persona.get("att_bandwidth", 8),
        "retention": persona.get("retention", 8),
        "curr_time": curr_time,
        "curr_tile": g("tile"),
        "daily_plan_req": persona.get("daily_plan_req", ""),
        "name": persona["name"],
        "first_name": persona["first_name"],
        "last_name": persona["last_name"],
        "age": persona["age"],
        "innate": persona["innate"],
        "learned": persona["learned"],
        "currently": g("currently", persona["currently"]),
        "lifestyle": persona["lifestyle"],
        "living_area": persona["living_area"],
        "recency_w": persona.get("recency_w", 1),
        "relevance_w": persona.get("relevance_w", 1),
        "importance_w": persona.get("importance_w", 1),
        "recency_decay": persona.get("recency_decay", 0.995),
        "importance_trigger_max": persona.get("importance_trigger_max", 150),
        "importance_trigger_curr": g("importance_trigger_curr", persona.get("importance_trigger_max", 150)),
        "importance_ele_n": g("importance_ele_n", 0),
        "daily_req": g("daily_req", []),
        "f_daily_schedule": g("f_daily_schedule", []),
        "f_daily_schedule_hourly_org": g("f_daily_schedule_hourly_org", []),
        "act_address": g("act_address"),
        "act_start_time": g("act_start_time"),
        "act_duration": g("act_duration"),
        "act_description": g("act_description"),
        "act_pronunciatio": g("act_pronunciatio"),
        "act_event": g("act_event", [persona["name"], None, None]),
        "act_obj_description": g("act_obj_description"),
        "act_obj_pronunciatio": g("act_obj_pronunciatio"),
        "act_obj_event": g("act_obj_event", [None, None, None]),
        "chatting_with": g("chatting_with"),
        "chat": g("chat"),
        "chatting_with_buffer": g("chatting_with_buffer", {}),
        "chatting_end_time": g("chatting_end_time"),
        "act_path_set": bool(g("planned_path")),
        "planned_path": g("planned_path", []),
    }
