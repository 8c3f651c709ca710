"""Typed records the measures read: what a simulation's store (or an imported replay) holds.

The loader (:mod:`aga.eval.load`) builds a :class:`SimRecords` from ``sim.db`` or from a replay
folder; tests build one by hand. Every measure is a pure function of these records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SLEEP_RE = re.compile(r"\b(sleep|sleeping|asleep|nap|napping)\b")
"""An activity text meaning the resident is asleep (the original writes 'sleeping')."""


@dataclass(frozen=True)
class Memory:
    """One memory node of one resident (``kind`` is event, chat or thought)."""

    agent: str
    id: int
    kind: str
    created: datetime
    subject: str
    predicate: str
    object: str
    description: str
    lines: tuple[tuple[str, str], ...] = ()
    """chat nodes: the conversation ``(speaker, line)``; empty otherwise."""
    seed: bool = False
    """a seed memory of the base (known at the start)."""


@dataclass(frozen=True)
class Move:
    """What one resident showed in one step (the original movement entry)."""

    step: int
    time: datetime
    agent: str
    tile: tuple[int, int]
    emoji: str
    description: str
    chat: tuple[tuple[str, str], ...] | None = None
    place: str | None = None
    """'sector:arena' of the tile when the town is known (None: use the description's address)."""

    @property
    def activity(self) -> str:
        """The action text (before ``' @ '``)."""
        return self.description.partition(" @ ")[0].strip()

    @property
    def address(self) -> str:
        """The address the description names (after ``' @ '``), without the world."""
        addr = self.description.partition(" @ ")[2].strip()
        parts = addr.split(":")
        return ":".join(parts[1:]) if len(parts) > 1 else addr

    @property
    def asleep(self) -> bool:
        """Whether the activity is sleep."""
        return bool(SLEEP_RE.search(self.activity.lower()))

    def at(self, place: str) -> bool:
        """Whether the resident is at ``place`` ('sector' or 'sector:arena', no world).

        Uses the tile's place when known, else the address of the description (the original's
        recorded runs are drawn on a map whose layout differs from ours)."""
        where = self.place if self.place is not None else self.address
        return where == place or where.startswith(place + ":")


@dataclass(frozen=True)
class Chat:
    """One conversation between two residents."""

    start: datetime
    end: datetime
    speakers: tuple[str, str]
    """(initiator, partner)."""
    lines: tuple[tuple[str, str], ...]

    @property
    def partners(self) -> frozenset[str]:
        """Both residents."""
        return frozenset(self.speakers)


@dataclass(frozen=True)
class PlanItem:
    """One item of a resident's plan: an action-log record (an action started)."""

    agent: str
    time: datetime
    text: str
    parent: str | None = None
    minutes: int = 0


@dataclass
class SimRecords:
    """Everything the measures read about one simulation."""

    name: str
    kind: str
    """'aga' (a store) or 'replay' (an imported original run: movements only)."""
    start: datetime
    sec_per_step: int
    steps: int
    residents: list[str]
    memories: dict[str, list[Memory]] = field(default_factory=dict)
    moves: dict[str, list[Move]] = field(default_factory=dict)
    """per resident, in step order (one per step when the store has them)."""
    plans: dict[str, list[PlanItem]] = field(default_factory=dict)
    ties: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    facts: list[Any] = field(default_factory=list)
    """the base's :class:`aga.bases.model.SeededFact` list."""
    workplaces: dict[str, str] = field(default_factory=dict)
    seeded: dict[str, list[str]] = field(default_factory=dict)
    """fact name -> residents whose seed memories in the base carry it (used for replays)."""
    settings: dict[str, Any] = field(default_factory=dict)
    chats_override: list[Chat] | None = None

    def time_of(self, step: int) -> datetime:
        """Game time at the start of ``step``."""
        return self.start + timedelta(seconds=step * self.sec_per_step)

    @property
    def end(self) -> datetime:
        """Game time after the last step."""
        return self.time_of(self.steps)

    def chats(self) -> list[Chat]:
        """The conversations, from the movements (each once), in start order."""
        if self.chats_override is not None:
            return list(self.chats_override)
        return chats_from_moves(self.moves, self.sec_per_step)


def chats_from_moves(moves: Mapping[str, Sequence[Move]], sec_per_step: int) -> list[Chat]:
    """Conversations from the movement entries: a run of consecutive steps in which a resident
    shows a chat with the same first line is one conversation; its lines are the longest seen.

    The pair is the speakers of the lines (a one-sided chat names the other from the other
    resident showing the same first line at the same step)."""
    runs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for agent, seq in moves.items():
        last: dict[str, Any] | None = None
        for mv in seq:
            if not mv.chat:
                last = None
                continue
            first = mv.chat[0]
            if last is not None and last["first"] == first and mv.step - last["last_step"] <= 1:
                last["last_step"] = mv.step
                last["end"] = mv.time
                if len(mv.chat) >= len(last["lines"]):
                    last["lines"] = mv.chat
                continue
            last = {
                "first": first,
                "start": mv.time,
                "end": mv.time,
                "last_step": mv.step,
                "lines": mv.chat,
                "agent": agent,
                "start_step": mv.step,
            }
            runs[(agent, first[0] + "\x00" + first[1], mv.step)] = last
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for run in runs.values():
        speakers = sorted({s for s, _ in run["lines"]} | {run["agent"]})
        key = (tuple(run["first"]), run["start_step"])
        have = merged.get(key)
        if have is None:
            merged[key] = {**run, "who": set(speakers)}
        else:
            have["who"].update(speakers)
            if len(run["lines"]) > len(have["lines"]):
                have["lines"] = run["lines"]
            have["end"] = max(have["end"], run["end"])
    out: list[Chat] = []
    for run in merged.values():
        initiator = run["first"][0]
        others = sorted(run["who"] - {initiator})
        partner = others[0] if others else initiator
        end = run["end"] + timedelta(seconds=sec_per_step)
        out.append(Chat(run["start"], end, (initiator, partner), tuple(tuple(x) for x in run["lines"])))
    out.sort(key=lambda c: (c.start, c.speakers))
    return out


def days_of(rec: SimRecords) -> list[datetime]:
    """Midnight of every game day the simulation covers (at least partly)."""
    if rec.steps <= 0:
        return []
    first = rec.start.replace(hour=0, minute=0, second=0, microsecond=0)
    last = rec.time_of(rec.steps - 1)
    out = []
    day = first
    while day <= last:
        out.append(day)
        day += timedelta(days=1)
    return out
