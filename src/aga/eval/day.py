"""The day's realism, coordination around an event, text defects and cost, from the records.

Everything here reads the movements (one entry per resident and step: the activity shown, its
address, the tile, the chat), the plan items of the action log, the memories and the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any

from aga.eval import defects
from aga.eval.diffusion import carries, knowers
from aga.eval.records import Chat, Move, SimRecords, days_of

MEAL_RE = re.compile(r"\b(breakfast|brunch|lunch|dinner|supper|meal|eat|eats|eating|snack)\b")
WAKE_FROM = time(3, 0)
"""A resident who stops sleeping before this hour has not woken for the day."""
BED_FROM = time(18, 0)
"""Going to sleep from this hour on (until 04:00 next day) is going to bed."""


def top_activity(activity: str) -> str:
    """The plan item an activity belongs to: the text before a trailing ``" (subtask)"``."""
    text = activity.strip()
    if text.endswith(")") and " (" in text:
        return text[: text.index(" (")].strip()
    return text


def _runs(moves: Sequence[Move], key: Any) -> list[tuple[Any, Move, Move]]:
    """Consecutive runs of moves with the same ``key(move)``: (key, first, last)."""
    out: list[tuple[Any, Move, Move]] = []
    for mv in moves:
        k = key(mv)
        if out and out[-1][0] == k and mv.step == out[-1][2].step + 1:
            out[-1] = (k, out[-1][1], mv)
        else:
            out.append((k, mv, mv))
    return out


def _minutes(first: Move, last: Move, sec: int) -> float:
    return ((last.step - first.step + 1) * sec) / 60.0


def _clock(day: datetime, when: datetime | None) -> str | None:
    if when is None:
        return None
    extra = (when.date() - day.date()).days
    return when.strftime("%H:%M") + (f" +{extra}d" if extra else "")


def wake_time(moves: Sequence[Move], day: datetime) -> datetime | None:
    """First step of ``day`` (from 03:00) at which the resident is awake after sleeping."""
    prev: Move | None = None
    for mv in moves:
        if mv.time.date() != day.date():
            continue
        if prev is not None and prev.asleep and not mv.asleep and mv.time.time() >= WAKE_FROM:
            return mv.time
        prev = mv
    return None


_TO_BED = re.compile(r"\b(go(?:es|ing)? to bed|getting into bed)\b")


def _in_bed(mv: Move) -> bool:
    """Asleep, or going to bed at a bed."""
    if mv.asleep:
        return True
    return bool(_TO_BED.search(mv.activity.lower())) and mv.address.lower().rsplit(":", 1)[-1].endswith("bed")


def bed_time(moves: Sequence[Move], day: datetime, after: datetime | None) -> datetime | None:
    """First time from 18:00 of ``day`` to 04:00 the next day (and after waking) at which the
    resident falls asleep, or goes to bed at a bed ("going to bed" at the bed of their room: a
    run that stops at midnight never shows the sleep that follows)."""
    lo = day.replace(hour=BED_FROM.hour, minute=0)
    hi = day + timedelta(days=1, hours=4)
    if after is not None and after > lo:
        lo = after
    prev: Move | None = None
    for mv in moves:
        if mv.time < lo - timedelta(seconds=1) or mv.time >= hi:
            prev = mv if mv.time < lo else prev
            continue
        if _in_bed(mv) and (prev is None or not _in_bed(prev)) and mv.time >= lo:
            return mv.time
        prev = mv
    return None


def share_at(moves: Sequence[Move], place: str, day: datetime, hours: tuple[int, int]) -> float | None:
    """Share of the steps of ``day`` from ``hours[0]`` to ``hours[1]`` o'clock spent at ``place``."""
    lo, hi = day + timedelta(hours=hours[0]), day + timedelta(hours=hours[1])
    inside = [mv for mv in moves if lo <= mv.time < hi]
    if not inside:
        return None
    return sum(1 for mv in inside if mv.at(place)) / len(inside)


def resident_day(rec: SimRecords, agent: str, day: datetime, chats: Sequence[Chat]) -> dict[str, Any]:
    """The realism measures of one resident on one game day."""
    moves_all = rec.moves.get(agent, [])
    moves = [mv for mv in moves_all if mv.time.date() == day.date()]
    sec = rec.sec_per_step
    wake = wake_time(moves_all, day)
    bed = bed_time(moves_all, day, wake)
    awake = [mv for mv in moves if not mv.asleep]
    longest: tuple[str, float] = ("", 0.0)
    for k, a, b in _runs(awake, lambda mv: top_activity(mv.activity) if not mv.chat else "\x00chat"):
        minutes = _minutes(a, b, sec)
        if k != "\x00chat" and minutes > longest[1]:
            longest = (k, minutes)
    meals = [
        k
        for k, _, _ in _runs(moves, lambda mv: top_activity(mv.activity) if not mv.chat else "")
        if k and MEAL_RE.search(k.lower())
    ]
    not_in_bed = [mv for mv in moves if mv.asleep and "bed" not in mv.description.partition(" @ ")[2].lower()]
    mine = [c for c in chats if agent in c.partners and c.start.date() == day.date()]
    work = rec.workplaces.get(agent)
    out: dict[str, Any] = {
        "steps": len(moves),
        "wake": _clock(day, wake),
        "bed": _clock(day, bed),
        "meals": len(meals),
        "longest_activity": longest[0],
        "longest_minutes": round(longest[1], 1),
        "workplace": work,
        "work_share_9_12": None if not work else _round(share_at(moves, work, day, (9, 12))),
        "work_share_9_17": None if not work else _round(share_at(moves, work, day, (9, 17))),
        "work_share_awake": None
        if not work or not awake
        else _round(sum(1 for mv in awake if mv.at(work)) / len(awake)),
        "asleep_not_in_bed_minutes": round(len(not_in_bed) * sec / 60.0, 1),
        "activities": len({mv.activity for mv in moves}),
        "chats": len(mine),
        "partners": len({p for c in mine for p in c.partners} - {agent}),
        "mean_turns": _round(sum(len(c.lines) for c in mine) / len(mine)) if mine else None,
    }
    return out


def _round(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def realism_report(rec: SimRecords) -> dict[str, Any]:
    """Per resident and game day (``YYYY-MM-DD``) the realism measures, plus the day's chats."""
    chats = rec.chats()
    days = {}
    for day in days_of(rec):
        per = {a: resident_day(rec, a, day, chats) for a in rec.residents}
        todays = [c for c in chats if c.start.date() == day.date()]
        days[day.strftime("%Y-%m-%d")] = {
            "residents": per,
            "conversations": len(todays),
            "conversation_lines": [len(c.lines) for c in todays],
        }
    return days


# ------------------------------------------------------------------ text defects
def defects_report(rec: SimRecords, examples: int = 3) -> dict[str, Any]:
    """Counts (and a few examples) of each text defect over chats, thoughts and descriptions."""
    names = rec.residents
    chat_hits: list[str] = []
    desk_hits: list[str] = []
    repeats = 0
    lines_seen = 0
    chats = rec.chats()
    for c in chats:
        repeats += defects.repeated_lines(c.lines)
        for speaker, line in c.lines:
            lines_seen += 1
            listener = next(iter(c.partners - {speaker}), "")
            if listener and defects.chat_third_person(speaker, listener, line):
                chat_hits.append(f"{speaker} to {listener}: {line}")
            if defects.help_desk(line):
                desk_hits.append(f"{speaker}: {line}")
    thoughts = [m for a in names for m in rec.memories.get(a, []) if m.kind == "thought" and not m.seed]
    thought_hits = [
        f"{m.agent}: {m.description}"
        for m in thoughts
        if defects.thought_third_person(m.agent, m.description)
    ]
    events = {
        m.description
        for a in names
        for m in rec.memories.get(a, [])
        if m.kind == "event" and m.subject in names
    }
    desc_hits = sorted(d for d in events if defects.not_a_sentence(d, names))
    copied: list[str] = []
    for agent, moves in rec.moves.items():
        by_day: dict[Any, list[str]] = {}
        for mv in moves:
            if not mv.chat:
                by_day.setdefault(mv.time.date(), []).append(mv.activity)
        for acts in by_day.values():
            copied += [f"{agent}: {a}" for a in defects.copied_subtasks(acts)]
    return {
        "copied_subtasks": len(copied),
        "copied_subtasks_examples": copied[:examples],
        "chat_lines": lines_seen,
        "chat_third_person": len(chat_hits),
        "chat_third_person_examples": chat_hits[:examples],
        "repeated_lines": repeats,
        "chat_help_desk": len(desk_hits),
        "chat_help_desk_examples": desk_hits[:examples],
        "thoughts": len(thoughts),
        "thought_third_person": len(thought_hits),
        "thought_third_person_examples": thought_hits[:examples],
        "descriptions": len(events),
        "not_a_sentence": len(desc_hits),
        "not_a_sentence_examples": desc_hits[:examples],
    }


# ------------------------------------------------------------------ coordination
def coordination_report(rec: SimRecords) -> list[dict[str, Any]]:
    """For each fact announcing an event (place and time window): who was invited (knew it
    before it started), who planned to come (a plan item naming it on that day), who was there."""
    out = []
    for fact in rec.facts:
        if not fact.place or fact.starts is None or fact.ends is None:
            continue
        found = knowers(rec, fact)
        invited = sorted(a for a, k in found.items() if k.since < fact.starts and k.via != "seed")
        day = fact.starts.date()
        planned: set[str] = set()
        for agent, items in rec.plans.items():
            if any(
                it.time.date() == day
                and it.time < fact.ends
                and (carries(it.text, fact.words) or carries(it.parent or "", fact.words))
                for it in items
            ):
                planned.add(agent)
        if rec.kind == "replay":
            for agent, moves in rec.moves.items():
                if any(
                    mv.time.date() == day
                    and mv.time < fact.ends
                    and not mv.chat
                    and carries(mv.activity, fact.words)
                    for mv in moves
                ):
                    planned.add(agent)
        reached = rec.end > fact.starts
        came = sorted(
            a
            for a, moves in rec.moves.items()
            if any(fact.starts <= mv.time < fact.ends and mv.at(fact.place) for mv in moves)
        )
        out.append(
            {
                "fact": fact.name,
                "place": fact.place,
                "window": [fact.starts.isoformat(sep=" "), fact.ends.isoformat(sep=" ")],
                "invited": invited,
                "planned": sorted(planned),
                "came": came if reached else None,
                "window_reached": reached,
            }
        )
    return out


# ------------------------------------------------------------------ cost
def cost_report(rec: SimRecords) -> dict[str, Any]:
    """Calls and tokens from the ledger, in total and per agent-day (game time simulated)."""
    llm = [r for r in rec.ledger if r.get("kind", "llm") == "llm"]
    paid = [r for r in llm if not r.get("cached")]
    tokens_in = sum(int(r.get("prompt_tokens") or 0) for r in paid)
    tokens_out = sum(int(r.get("completion_tokens") or 0) for r in paid)
    days = rec.steps * rec.sec_per_step / 86400.0
    agent_days = days * len(rec.residents)
    per = (lambda x: round(x / agent_days, 1)) if agent_days > 0 else (lambda x: None)
    return {
        "basis": "ledger" if rec.kind == "aga" else "none (a replay holds no ledger)",
        "calls": len(paid),
        "cached": len(llm) - len(paid),
        "failed": sum(1 for r in llm if not r.get("ok", True)),
        "defaulted": sum(1 for r in llm if r.get("defaulted")),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "game_days": round(days, 4),
        "agent_days": round(agent_days, 4),
        "calls_per_agent_day": per(len(paid)),
        "tokens_per_agent_day": per(tokens_in + tokens_out),
        "model_seconds": round(sum(float(r.get("seconds") or 0) for r in rec.ledger), 1),
    }
