"""Information diffusion: who knows each seeded fact, since when, and from whom.

A resident knows a fact from the first memory that carries it (its words, see
:func:`carries`): a seed memory (known at the start), a chat in which the other speaker said it
(source: that speaker), an event seen (source: the event's subject) or a thought (source: the
resident; for a thought ``aga whisper`` stored: 'aga whisper'). An imported original run has no
memories: there a resident knows a fact from the first chat line carrying it that someone else
said to them (chats are all the replay holds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from aga.eval.records import Chat, Memory, SimRecords

_KIND_ORDER = {"seed": 0, "whisper": 1, "chat": 2, "event": 3, "thought": 4}
WHISPERED = "was told"
"""The predicate of a memory stored by ``aga whisper``."""


@lru_cache(maxsize=256)
def _pattern(item: str) -> re.Pattern[str]:
    alts = [re.escape(a.strip().lower()) for a in item.split("|") if a.strip()]
    return re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])")


def carries(text: str, words: Sequence[str]) -> bool:
    """Whether ``text`` holds every item of ``words`` (whole words, case-insensitive; an item
    ``"a|b"`` is satisfied by either)."""
    low = text.lower()
    return bool(words) and all(_pattern(w).search(low) for w in words)


@dataclass(frozen=True)
class Knowing:
    """How one resident first came to know a fact."""

    agent: str
    since: datetime
    via: str
    """'seed', 'whisper' (told with ``aga whisper``), 'chat', 'event' or 'thought'."""
    source: str
    """whom they have it from (themself for seeds and thoughts)."""
    memory_id: int | None = None


def _memory_knowing(m: Memory, words: Sequence[str], start: datetime) -> Knowing | None:
    if m.seed:
        return Knowing(m.agent, start, "seed", m.agent, m.id) if carries(m.description, words) else None
    if m.kind == "chat":
        for speaker, line in m.lines:
            if speaker != m.agent and carries(line, words):
                return Knowing(m.agent, m.created, "chat", speaker, m.id)
        return None
    if m.kind == "event":
        if carries(m.description, words):
            source = m.subject if m.subject and m.subject != m.agent else m.agent
            return Knowing(m.agent, m.created, "event", source, m.id)
        return None
    if carries(m.description, words):
        if m.predicate == WHISPERED:
            return Knowing(m.agent, m.created, "whisper", "aga whisper", m.id)
        return Knowing(m.agent, m.created, "thought", m.agent, m.id)
    return None


def knowers_from_memories(rec: SimRecords, words: Sequence[str]) -> dict[str, Knowing]:
    """Each resident's first memory carrying the fact (ties: seed, chat, event, thought)."""
    out: dict[str, Knowing] = {}
    for agent in rec.residents:
        found = [k for m in rec.memories.get(agent, []) if (k := _memory_knowing(m, words, rec.start))]
        if found:
            out[agent] = min(found, key=lambda k: (k.since, _KIND_ORDER[k.via], k.memory_id or 0))
    return out


def knowers_from_chats(
    chats: Iterable[Chat], words: Sequence[str], start: datetime, seeded: Iterable[str] = ()
) -> dict[str, Knowing]:
    """First time each resident heard a line carrying the fact (from the other speaker).

    A replay shows a conversation whole from its first step, so the time is the chat's start.
    ``seeded`` residents know it from the start."""
    out = {a: Knowing(a, start, "seed", a) for a in seeded}
    for chat in sorted(chats, key=lambda c: c.start):
        for speaker, line in chat.lines:
            if not carries(line, words):
                continue
            for listener in chat.partners - {speaker}:
                if listener not in out:
                    out[listener] = Knowing(listener, chat.start, "chat", speaker)
    return out


def knowers(rec: SimRecords, fact: Any) -> dict[str, Knowing]:
    """Knowers of a fact: from memories for an aga run; for an imported replay, from chats, the
    residents whose seed memories in the base carry it knowing it from the start."""
    if rec.kind == "replay":
        return knowers_from_chats(rec.chats(), fact.words, rec.start, rec.seeded.get(fact.name, ()))
    return knowers_from_memories(rec, fact.words)


def curve(found: dict[str, Knowing], start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """Number of knowers at each whole game hour from ``start`` to ``end`` (both included)."""
    t = start.replace(minute=0, second=0, microsecond=0)
    if t < start:
        t += timedelta(hours=1)
    points = [(start, sum(1 for k in found.values() if k.since <= start))]
    while t <= end:
        if t != start:
            points.append((t, sum(1 for k in found.values() if k.since <= t)))
        t += timedelta(hours=1)
    return points


def diffusion_report(rec: SimRecords) -> list[dict[str, Any]]:
    """For each fact of the base: knowers with since/via/source, and the hourly curve."""
    out = []
    for fact in rec.facts:
        found = knowers(rec, fact)
        out.append(
            {
                "fact": fact.name,
                "about": fact.about,
                "basis": "chats" if rec.kind == "replay" else "memories",
                "knowers": {
                    a: {
                        "since": k.since.isoformat(sep=" "),
                        "via": k.via,
                        "source": k.source,
                        "memory": k.memory_id,
                    }
                    for a, k in sorted(found.items())
                },
                "known_by": len(found),
                "residents": len(rec.residents),
                "curve": [[t.isoformat(sep=" "), n] for t, n in curve(found, rec.start, rec.end)],
            }
        )
    return out
