"""What the inspector and the timeline show: a resident at one step, one model call, the events.

Everything is read from a simulation's store through :mod:`aga.store.reader` (read only, one
connection per call; the SQL stays in ``store/``):

- the *movement rows* give, for every step, the tile, emoji, description and chat;
- the *memories* carry their ``created`` game time, so "the memories at step N" are the ones
  created by then;
- the *action log* (the metrics' ``<Full Name>.json``) has every action start with its plan
  item (``parent``), so the plan item at step N is the last one started by then;
- the *ledger* has every model call with its step, agent, tokens and seconds (and, since the
  viewer's issue, the prompt and the answer);
- the *resident state* is the latest committed one only: the day's schedule is taken from it
  when step N is on the same day, else rebuilt from the action log; the ties are "as of the
  latest step" and said so.

The resident state's keys are read in :func:`state_view` only, so a key rename is one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aga.store.reader import StoreReader, open_reader
from aga.viewer.sources import NotFound, UnknownStep

TIME = "%Y-%m-%d %H:%M:%S"
NEWEST_MEMORIES = 15
NEWEST_REFLECTIONS = 10
CALLS_AROUND = 20  # calls shown in the inspector: the nearest ones to the step
TARGET_LOOKAHEAD = 720  # steps scanned ahead for where the current walk ends
MAX_FAILURES = 300  # failure events listed on the timeline


class UnknownResident(NotFound):
    """The simulation has no resident of that name."""


class UnknownCall(NotFound):
    """The ledger has no call with that number."""


def connect(folder: Path) -> Any:
    """A read-only :class:`~aga.store.reader.StoreReader` of ``folder``'s store (a context manager)."""
    return open_reader(folder)


def meta(conn: StoreReader) -> dict[str, Any]:
    """The store's meta keys, decoded."""
    return conn.meta()


def step_time(m: Mapping[str, Any], step: int) -> datetime:
    """Game time of ``step``."""
    return datetime.fromisoformat(str(m["start"])) + timedelta(seconds=step * int(m["sec_per_step"]))


def time_step(m: Mapping[str, Any], when: datetime) -> int:
    """The step during which game time ``when`` falls (may be negative: before the run)."""
    start = datetime.fromisoformat(str(m["start"]))
    return int((when - start).total_seconds() // int(m["sec_per_step"]))


# ---------------------------------------------------------------------------------------- state
def state_view(state: Mapping[str, Any]) -> dict[str, Any]:
    """The pieces of a stored resident state the viewer shows, under the viewer's own names.

    The only place that knows the state's keys (``Resident.to_state()``; H12's ``ResidentState``
    keeps them): a rename there is one edit here.
    """
    ident = state.get("identity") or {}
    return {
        "persona": {
            k: ident.get(k)
            for k in (
                "name",
                "age",
                "innate",
                "learned",
                "currently",
                "lifestyle",
                "daily_plan_req",
                "living_area",
            )
        },
        "day": state.get("day"),
        "wake_hour": state.get("wake_hour"),
        "daily_req": list(state.get("daily_req") or []),
        "hourly": [list(r) for r in state.get("hourly") or []],
        "schedule": [list(r) for r in state.get("schedule") or []],
        "action": state.get("action"),
        "planned_path": [list(t) for t in state.get("planned_path") or []],
        "chatting_with": state.get("chatting_with"),
        "ties": dict(state.get("ties") or {}),
    }


def _latest_state(conn: StoreReader, name: str) -> tuple[dict[str, Any], int] | None:
    return conn.latest_state(name)


def _timed_rows(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Schedule rows ``[description, minutes, parent]`` with their start and end minute of the day."""
    out, acc = [], 0
    for r in rows:
        minutes = int(r[1])
        out.append(
            {
                "description": str(r[0]),
                "start": acc,
                "end": acc + minutes,
                "parent": r[2] if len(r) > 2 else None,
            }
        )
        acc += minutes
    return out


def _clock(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


# ---------------------------------------------------------------------------------------- inspector
def check_resident_step(folder: Path, sim: str, name: str, step: int) -> dict[str, Any]:
    """The store's meta, once ``name`` and ``step`` are known to exist.

    Raises:
        UnknownResident: no such resident (the message lists them).
        UnknownStep: the step is not committed (yet).
    """
    with connect(folder) as conn:
        m = meta(conn)
    _check(m, sim, name, step)
    return m


def _check(m: Mapping[str, Any], sim: str, name: str, step: int) -> None:
    names = list(m.get("persona_names") or [])
    if name not in names:
        raise UnknownResident(f"simulation {sim!r} has no resident {name!r}; it has: {', '.join(names)}")
    total = int(m.get("step", 0))
    if not 0 <= step < total:
        have = f"steps 0..{total - 1}" if total else "no steps yet"
        raise UnknownStep(f"simulation {sim!r} has no step {step} ({have})")


def inspect_resident(folder: Path, sim: str, name: str, step: int) -> dict[str, Any]:
    """Everything the inspector shows about ``name`` at ``step``.

    Raises:
        UnknownResident: no such resident (the message lists them).
        UnknownStep: the step is not committed (yet).
    """
    with connect(folder) as conn:
        m = meta(conn)
        _check(m, sim, name, step)
        total = int(m.get("step", 0))
        now = step_time(m, step)
        latest = _latest_state(conn, name)
        view = state_view(latest[0]) if latest else state_view({})
        state_step = latest[1] if latest else -1
        move = _movement_at(conn, name, step)
        actions = _actions(conn, name)
        return {
            "name": name,
            "step": step,
            "time": now.strftime(TIME),
            "persona": view["persona"],
            "now": _now(conn, name, step, move, view, state_step, total),
            "plan": _plan(conn, name, now, view, actions),
            "memories": _memories(conn, name, now),
            "reflections": _reflections(conn, name, now),
            "ties": {"as_of_step": max(state_step, 0), "ties": view["ties"]},
            "calls": _calls_around(conn, name, step),
            "interview": interview_available(),
        }


def interview_available() -> bool:
    """Whether the interview issue's answering path (``aga.interview.answer_questions``) is here."""
    try:
        from aga.interview import answer_questions  # noqa: F401
    except Exception:  # noqa: BLE001 - absent or broken: the button is left out
        return False
    return True


def _movement_at(conn: StoreReader, name: str, step: int) -> dict[str, Any] | None:
    return conn.movement_at(name, step)


def _now(
    conn: StoreReader,
    name: str,
    step: int,
    move: dict[str, Any] | None,
    view: dict[str, Any],
    state_step: int,
    total: int,
) -> dict[str, Any]:
    if move is None:
        return {
            "action": None,
            "place": None,
            "tile": None,
            "emoji": "",
            "target": None,
            "chat_with": None,
            "chat": None,
        }
    desc = move["description"]
    action, _, place = desc.partition(" @ ")
    chat_with = None
    if place.startswith("<persona>"):
        chat_with = place.removeprefix("<persona>").strip()
    elif move["chat"]:
        others = [s for s, _ in move["chat"] if s != name]
        chat_with = others[0] if others else None
    if step >= total - 1 and state_step >= step and view["planned_path"]:
        target = view["planned_path"][-1]
    else:  # where this action's walk ends: the last tile before the description changes
        target = move["tile"]
        for x, y, d in conn.movements_between(name, step, step + TARGET_LOOKAHEAD):
            if d != desc:
                break
            target = [x, y]
    return {
        "action": action.strip(),
        "place": place.strip(),
        "tile": move["tile"],
        "emoji": move["emoji"],
        "target": target,
        "chat_with": chat_with,
        "chat": move["chat"],
    }


def _actions(conn: StoreReader, name: str) -> list[dict[str, Any]]:
    return [record for _, record in conn.actions(name)]


def _plan(
    conn: StoreReader, name: str, now: datetime, view: dict[str, Any], actions: list[dict[str, Any]]
) -> dict[str, Any]:
    stamp = now.strftime(TIME)
    started = [a for a in actions if str(a.get("time", "")) <= stamp]
    current = started[-1] if started else None
    plan_row = conn.latest_plan(name, stamp)
    daily = plan_row["description"] if plan_row else None
    minute = now.hour * 60 + now.minute
    day = now.strftime("%Y-%m-%d")
    source = "state"
    if view["day"] and str(view["day"])[:10] == day and view["hourly"]:
        rows = _timed_rows(view["hourly"])
    else:  # another day than the latest state's: the plan items that were started that day
        source = "action log"
        rows = []
        today = [a for a in actions if str(a.get("time", "")).startswith(day)]
        for a in today:
            item = a.get("parent") or a.get("task")
            if item in (None, "", "react", "chat") or (rows and rows[-1]["description"] == item):
                continue
            t = datetime.strptime(str(a["time"]), TIME)
            rows.append(
                {"description": str(item), "start": t.hour * 60 + t.minute, "end": None, "parent": None}
            )
        for a, b in zip(rows, rows[1:]):
            a["end"] = b["start"]
        if rows:
            rows[-1]["end"] = 24 * 60
    current_index = None
    for i, r in enumerate(rows):
        if r["start"] <= minute < (r["end"] if r["end"] is not None else 24 * 60):
            current_index = i
    for r in rows:
        r["from"], r["to"] = _clock(r["start"]), _clock(r["end"] or 0)
    item = None
    if current is not None:
        task = current.get("task")
        chat = current.get("chat") or {}
        label = {
            "chat": f"talking with {chat.get('person', 'someone')}",
            "react": "reacting to what they saw",
        }.get(str(task), task)
        item = {
            "task": task,
            "label": label,
            "parent": current.get("parent"),
            "since": current.get("time"),
            "minutes": current.get("duration"),
            "reused": not current.get("is_new", True),
        }
    return {
        "daily_plan": daily,
        "schedule": rows,
        "current_index": current_index,
        "schedule_from": source,
        "current_item": item,
    }


def _memories(conn: StoreReader, name: str, now: datetime) -> list[dict[str, Any]]:
    rows = conn.newest_memories(name, now.strftime(TIME), NEWEST_MEMORIES)
    return [
        {
            "id": r["id"],
            "type": r["type"],
            "created": r["created"],
            "importance": r.get("poignancy"),
            "description": r["description"],
        }
        for r in rows
    ]


def _reflections(conn: StoreReader, name: str, now: datetime) -> list[dict[str, Any]]:
    rows = conn.newest_memories(name, now.strftime(TIME), NEWEST_REFLECTIONS, reflections=True)
    out = []
    for r in rows:
        ids = [int(i) for i in r.get("filling") or [] if isinstance(i, int)]
        evidence = [
            {"id": e["id"], "type": e["type"], "created": e["created"], "description": e["description"]}
            for e in conn.memories_by_id(name, ids)
        ]
        out.append(
            {
                "id": r["id"],
                "created": r["created"],
                "importance": r.get("poignancy"),
                "description": r["description"],
                "evidence": evidence,
            }
        )
    return out


def _call_summary(seq: int, step: int, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "step": step,
        "task": row.get("task"),
        "agent": row.get("agent"),
        "game_time": row.get("game_time"),
        "model": row.get("model"),
        "backend": row.get("backend"),
        "prompt_tokens": row.get("prompt_tokens", 0),
        "completion_tokens": row.get("completion_tokens", 0),
        "seconds": row.get("seconds", 0.0),
        "ok": row.get("ok", True),
        "cached": row.get("cached", False),
        "defaulted": row.get("defaulted", False),
        "error": row.get("error"),
        "has_text": bool(row.get("prompt") or row.get("answer")),
    }


def _calls_around(conn: StoreReader, name: str, step: int) -> list[dict[str, Any]]:
    rows = conn.ledger_near(name, step, CALLS_AROUND)
    return sorted((_call_summary(seq, s, r) for seq, s, r in rows), key=lambda c: c["seq"])


def ledger_call(folder: Path, sim: str, seq: int) -> dict[str, Any]:
    """One ledger row with its prompt and answer (``null`` for rows stored before they were kept).

    Raises:
        UnknownCall: no call with that number.
    """
    with connect(folder) as conn:
        row = conn.ledger_row(seq)
    if row is None:
        raise UnknownCall(f"simulation {sim!r} has no model call number {seq}")
    data = row[2]
    return {**_call_summary(row[0], row[1], data), "prompt": data.get("prompt"), "answer": data.get("answer")}


# ---------------------------------------------------------------------------------------- timeline
def timeline(folder: Path) -> dict[str, Any]:
    """The run's events in step order: chats (with their lines), reflections, daily plans, plan
    changes (reactions), whispers and failed or defaulted model calls."""
    with connect(folder) as conn:
        m = meta(conn)
        total = int(m.get("step", 0))
        events: list[dict[str, Any]] = []
        seen_chats: set[tuple[str, str, str]] = set()
        for agent, r in conn.memories():
            created = datetime.strptime(r["created"], TIME)
            step = time_step(m, created)
            if step < 0 or step >= total:
                continue  # seed memories from before the run
            kind, pred = r.get("type"), r.get("predicate")
            base = {"step": step, "time": r["created"], "who": [agent], "text": r["description"]}
            keywords = [str(k).lower() for k in r.get("keywords") or []]
            if kind == "chat":
                pair = tuple(sorted((agent, str(r.get("object")))))
                key = (r["created"][:15], *pair)  # both sides store the chat, within minutes of each other
                if key in seen_chats:
                    continue
                seen_chats.add(key)
                events.append({**base, "kind": "chat", "who": list(pair), "lines": r.get("filling") or []})
            elif kind == "thought" and ("whisper" in keywords or pred == "whisper"):
                events.append({**base, "kind": "whisper"})
            elif kind == "thought" and pred == "plan":
                events.append({**base, "kind": "plan"})
            elif kind == "thought" and r.get("filling"):
                events.append({**base, "kind": "reflection", "evidence": len(r["filling"])})
        for agent, a in conn.actions():
            if a.get("task") != "react":
                continue
            when = datetime.strptime(str(a["time"]), TIME)
            step = time_step(m, when)
            move = conn.movement_at(agent, step + 1)
            text = move["description"].partition(" @ ")[0] if move else "changed plans"
            events.append(
                {
                    "step": step,
                    "time": a["time"],
                    "who": [agent],
                    "kind": "plan change",
                    "text": f"changed plans: {text}",
                }
            )
        failures = 0
        for seq, step, r in conn.ledger():
            if r.get("cached") or (r.get("ok", True) and not r.get("defaulted")):
                continue
            failures += 1
            if failures > MAX_FAILURES:
                continue
            what = "used the fallback" if r.get("defaulted") else f"failed: {r.get('error') or 'unknown'}"
            events.append(
                {
                    "step": step,
                    "time": r.get("game_time"),
                    "who": [r["agent"]] if r.get("agent") else [],
                    "kind": "failure",
                    "text": f"{r.get('task')} {what}",
                    "seq": seq,
                }
            )
    events.sort(key=lambda e: (e["step"], e["kind"]))
    return {"total": total, "events": events, "failures": failures}
