"""Relationships: who knows whom (from memories and ties), network density, unsupported claims.

A knows B when any memory of A names B (full name in its subject, object or description, or B
speaks in a chat A remembers), or, with Social Memory on, when A keeps a tie to B. Density is the
share of ordered pairs (A, B), A != B, in which A knows B: the original paper's measure (0.167 at
the start of its 25-resident run, 0.74 two days later).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aga.eval.records import Memory, SimRecords


def _names(text: str, name: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(name.lower()) + r"(?![\w])", text.lower()) is not None


def memory_names(m: Memory, other: str) -> bool:
    """Whether memory ``m`` is about (or with) ``other``."""
    if m.kind == "chat" and any(speaker == other for speaker, _ in m.lines):
        return True
    return m.object == other or m.subject == other or _names(m.description, other)


def knows(
    memories: Iterable[Memory], other: str, *, until: datetime | None = None, seeds_only: bool = False
) -> bool:
    """Whether one of ``memories`` (created before ``until``; only seeds if asked) names ``other``."""
    for m in memories:
        if seeds_only and not m.seed:
            continue
        if until is not None and not m.seed and m.created >= until:
            continue
        if memory_names(m, other):
            return True
    return False


def known_pairs(rec: SimRecords, *, start: bool = False, use_ties: bool = True) -> set[tuple[str, str]]:
    """Ordered pairs (A, B) in which A knows B: at the start (seed memories only) or at the end
    of the records (every memory, and ties when Social Memory kept some)."""
    out = set()
    for a in rec.residents:
        mems = rec.memories.get(a, [])
        ties = rec.ties.get(a, {}) if use_ties and not start else {}
        for b in rec.residents:
            if a == b:
                continue
            if b in ties or knows(mems, b, seeds_only=start):
                out.add((a, b))
    return out


def density(pairs: set[tuple[str, str]], residents: Sequence[str]) -> float | None:
    """Share of ordered pairs that know each other (None with fewer than two residents)."""
    n = len(residents)
    if n < 2:
        return None
    return len(pairs) / (n * (n - 1))


NEGATIVE = re.compile(
    r"^\s*(no\b|nope\b|not really\b|i (do not|don't|have not|haven't|never)\b|i'm not (sure|aware|familiar)|"
    r"i am not (sure|aware|familiar)|never heard|sorry, i (do not|don't))",
    re.IGNORECASE,
)


def claims_knowledge(answer: str) -> bool:
    """Whether an interview answer claims to know (a person, a fact): anything but a no."""
    text = answer.strip()
    return bool(text) and not NEGATIVE.search(text)


def unsupported_share(claims: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Share of claims about others that no memory supports.

    Args:
        claims: one mapping per answer: ``claims`` (bool, the answer claims to know) and
            ``supported`` (bool, a memory or tie backs it).
    """
    made = [c for c in claims if c["claims"]]
    bad = [c for c in made if not c["supported"]]
    return {"claims": len(made), "unsupported": len(bad), "share": (len(bad) / len(made)) if made else None}


def relationships_report(rec: SimRecords) -> dict[str, Any]:
    """Pairs known at the start and at the end, density of both, ties kept."""
    if rec.kind == "replay":
        return {"basis": "none (a replay holds no memories)", "density_start": None, "density_end": None}
    first = known_pairs(rec, start=True)
    last = known_pairs(rec)
    ties = sorted((a, b) for a in rec.residents for b in rec.ties.get(a, {}) if b != a)
    return {
        "basis": "memories and ties",
        "density_start": density(first, rec.residents),
        "density_end": density(last, rec.residents),
        "pairs_start": sorted(map(list, first)),
        "pairs_end": sorted(map(list, last)),
        "ties": [list(t) for t in ties],
    }
