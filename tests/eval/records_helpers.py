"""Build :class:`aga.eval.SimRecords` by hand: known memories, movements and chats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from aga.bases.model import SeededFact
from aga.eval.records import Memory, Move, PlanItem, SimRecords

START = datetime(2023, 2, 13, 0, 0, 0)
ISA, MARIA, KLAUS = "Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"
PARTY = SeededFact(
    name="party",
    words=["party|valentine"],
    place="Hobbs Cafe",
    starts=datetime(2023, 2, 14, 17, 0),
    ends=datetime(2023, 2, 14, 19, 0),
    question="Did you know there is a Valentine's Day party?",
)


def at(hhmm: str, day: int = 13) -> datetime:
    """Game time on February ``day``."""
    h, m = hhmm.split(":")
    return datetime(2023, 2, day, int(h), int(m))


def mem(
    agent: str,
    mid: int,
    kind: str,
    when: datetime,
    description: str,
    *,
    subject: str | None = None,
    obj: str = "",
    lines: Sequence[tuple[str, str]] = (),
    seed: bool = False,
) -> Memory:
    """One memory record."""
    return Memory(agent, mid, kind, when, subject or agent, "is", obj, description, tuple(lines), seed)


def timeline(
    agent: str,
    spans: Sequence[tuple[str, str, str]],
    *,
    sec: int = 60,
    start: datetime = START,
    chats: dict[str, Sequence[tuple[str, str]]] | None = None,
    places: dict[str, str] | None = None,
) -> list[Move]:
    """Moves of one resident, one per ``sec`` seconds: ``(from HH:MM, activity, address)`` spans,
    each lasting until the next one starts (the last until midnight of the first day + 1)."""
    out: list[Move] = []
    bounds = [at(s[0]) for s in spans] + [start + timedelta(days=1)]
    step = int((bounds[0] - start).total_seconds() // sec)
    for (hhmm, activity, address), lo, hi in zip(spans, bounds, bounds[1:]):
        t = lo
        while t < hi:
            chat = (chats or {}).get(hhmm)
            out.append(
                Move(
                    step,
                    t,
                    agent,
                    (0, 0),
                    "",
                    f"{activity} @ the Ville:{address}",
                    tuple(chat) if chat else None,
                    (places or {}).get(hhmm),
                )
            )
            t += timedelta(seconds=sec)
            step += 1
    return out


def records(
    *,
    residents: Sequence[str] = (ISA, MARIA, KLAUS),
    memories=None,
    moves=None,
    plans=None,
    ties=None,
    ledger=None,
    facts=(PARTY,),
    workplaces=None,
    steps: int = 1440,
    sec: int = 60,
    kind: str = "aga",
) -> SimRecords:
    """A SimRecords of February 13 (one step a minute by default)."""
    return SimRecords(
        name="hand",
        kind=kind,
        start=START,
        sec_per_step=sec,
        steps=steps,
        residents=list(residents),
        memories=memories or {},
        moves=moves or {},
        plans=plans or {},
        ties=ties or {},
        ledger=ledger or [],
        facts=list(facts),
        workplaces=workplaces or {},
    )


__all__ = ["ISA", "KLAUS", "MARIA", "PARTY", "PlanItem", "START", "at", "mem", "records", "timeline"]
