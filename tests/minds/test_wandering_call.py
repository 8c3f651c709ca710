"""Mind Wandering in the minds: on a new day, 3 memories drawn with inverse-cluster-size weights go
into one 'something new to do today' call, whose answer reaches the day's plan.

The scripted test model (a test double) answers; a recording rule keeps what it was asked.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime, timedelta

import numpy as np

from aga.minds import MindConfig, Resident
from aga.minds.plan import start_day, wander

from .driver import make_ctx, with_rules

DAY = datetime(2023, 2, 13, 0, 0, 0)
WANDER = MindConfig(mind_wandering=True)


def _klaus(town, personas) -> Resident:  # type: ignore[no-untyped-def]
    return Resident.from_persona(personas["Klaus Mueller"], town)


def _remember(r: Resident, texts: list[str], vectors: np.ndarray) -> None:
    for text, vec in zip(texts, vectors):
        r.memory.add(
            "event",
            created=DAY,
            subject=r.name,
            predicate="is",
            obj="x",
            description=text,
            embedding_key=text,
            importance=3,
            vector=vec,
        )


def _planted(r: Resident, party: int = 20, lone: int = 4, dim: int = 256) -> tuple[list[str], list[str]]:
    """``party`` near-identical memories about one party and ``lone`` memories on other topics."""
    gen = np.random.default_rng(5)
    centre = gen.normal(size=dim)
    party_vecs = centre + gen.normal(scale=0.01, size=(party, dim))
    lone_vecs = gen.normal(size=(lone, dim))
    party_texts = [f"heard about the Valentine's party, #{i}" for i in range(party)]
    lone_texts = [f"lone memory {i}" for i in range(lone)]
    _remember(r, party_texts, party_vecs / np.linalg.norm(party_vecs, axis=1, keepdims=True))
    _remember(r, lone_texts, lone_vecs / np.linalg.norm(lone_vecs, axis=1, keepdims=True))
    return party_texts, lone_texts


class Recorder:
    """A scripted-model rule for ``mind_wandering`` that keeps the memories it was shown."""

    def __init__(self) -> None:
        self.shown: list[list[str]] = []

    def __call__(self, request, rng):  # type: ignore[no-untyped-def]
        self.shown.append([line[2:] for line in request.vars["memories"].splitlines()])
        return {"idea": "visiting the pharmacy to ask about volunteering"}


def test_the_draw_follows_inverse_cluster_size_weights(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    party, lone = _planted(r)
    rec = Recorder()
    gw = scripted(with_rules(mind_wandering=rec))
    n = 400
    for step in range(n):  # each step draws with its own generator
        asyncio.run(
            wander(r, make_ctx(town, gw, [r], DAY + timedelta(seconds=10 * step), step=step, config=WANDER))
        )
    assert len(rec.shown) == n and all(len(set(m)) == 3 for m in rec.shown)
    # 5 clusters (the party and 4 lone memories) weigh the same: the first draw is the party with
    # probability 1/5, where a plain draw over memories would give 20/24
    first_party = sum(m[0] in party for m in rec.shown) / n
    assert abs(first_party - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n), first_party
    # so each lone memory comes up far more often than any one party memory
    counts = {t: sum(t in m for m in rec.shown) for t in party + lone}
    assert min(counts[t] for t in lone) > 5 * max(counts[t] for t in party)


def test_the_same_step_draws_the_same_memories(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    _planted(r)
    rec = Recorder()
    gw = scripted(with_rules(mind_wandering=rec))
    for _ in range(2):
        asyncio.run(wander(r, make_ctx(town, gw, [r], DAY, step=7, config=WANDER)))
    assert rec.shown[0] == rec.shown[1]


def test_a_new_day_asks_once_and_the_idea_reaches_the_plan(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    _planted(r)
    rec = Recorder()
    asked: list[str] = []

    def plan_rule(request, rng):  # type: ignore[no-untyped-def]
        asked.append(request.user)
        from aga.testing.scripted_rules import RULES

        return RULES["daily_plan"](request, rng)

    gw = scripted(with_rules(mind_wandering=rec, daily_plan=plan_rule))
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY, config=WANDER)))
    tasks = [row.task for row in gw.ledger.drain() if row.kind == "llm"]
    assert tasks.count("mind_wandering") == 1 and tasks.index("mind_wandering") < tasks.index("daily_plan")
    assert "visiting the pharmacy to ask about volunteering" in asked[0]
    assert any("visiting the pharmacy" in item for item in r.daily_req)


def test_off_by_default_no_wandering_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    _planted(r)
    gw = scripted()
    asyncio.run(start_day(r, make_ctx(town, gw, [r], DAY)))
    assert "mind_wandering" not in [row.task for row in gw.ledger.drain()]


def test_no_memories_no_call(town, personas, scripted) -> None:  # type: ignore[no-untyped-def]
    r = _klaus(town, personas)
    gw = scripted()
    assert asyncio.run(wander(r, make_ctx(town, gw, [r], DAY, config=WANDER))) is None
    assert not gw.ledger.drain()
