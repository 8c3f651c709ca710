"""A small async driver for tests: residents through the four phases of a step, no store.

Mirrors the runner's step (snapshot, think concurrently, chats resolved in name order and held
concurrently, reflect, execute in name order, board updated) in a few lines, so tests of the
minds can run a handful of residents for a few hundred steps with the scripted test model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aga.gateway import Gateway
from aga.minds import AgentView, ChatIntent, MindConfig, Movement, Resident, StepContext
from aga.minds.converse import converse
from aga.world import Event, TileEvents, Town

Tile = tuple[int, int]


class Board:
    """Idle events on every object tile plus the residents' emitted events of the last step."""

    def __init__(self, town: Town) -> None:
        self.events = TileEvents()
        self._idle: dict[Tile, list[Event]] = {}
        for sector, arenas in town.tree().items():
            for arena, objects in arenas.items():
                for obj in objects:
                    address = f"{town.world}:{sector}:{arena}:{obj}"
                    for tile in town.tiles(address):
                        ev = Event(address, None, None, None)
                        self._idle.setdefault(tile, []).append(ev)
                        self.events.add(tile, ev)
        self._shown: set[tuple[Tile, Event]] = set()

    def apply(self, emitted: Sequence[tuple[Tile, Event]]) -> None:
        """Show ``emitted`` instead of last step's events (an object's event hides its idle one)."""
        new = set(emitted)
        for tile, ev in self._shown - new:
            self.events.remove(tile, ev)
            if not any(t == tile and e.subject == ev.subject for t, e in new):
                for idle in self._idle.get(tile, ()):
                    if idle.subject == ev.subject:
                        self.events.add(tile, idle)
        for tile, ev in new - self._shown:
            for idle in self._idle.get(tile, ()):
                if idle.subject == ev.subject:
                    self.events.remove(tile, idle)
            self.events.add(tile, ev)
        self._shown = new


@dataclass
class Driver:
    """Runs residents step by step (test helper)."""

    town: Town
    gateway: Gateway
    residents: dict[str, Resident]
    start: datetime
    step: int = 0
    sec_per_step: int = 10
    seed: int = 0
    config: MindConfig = field(default_factory=MindConfig)
    movements: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    chats: list[tuple[int, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.board = Board(self.town)
        self.board.apply([e for n in sorted(self.residents) for e in self.residents[n].emitted_events()])

    @property
    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.step * self.sec_per_step)

    def context(self) -> StepContext:
        names = sorted(self.residents)
        return StepContext(
            step=self.step,
            now=self.now,
            sec_per_step=self.sec_per_step,
            seed=self.seed,
            town=self.town,
            events=self.board.events,
            views={n: self.residents[n].view() for n in names},
            gateway=self.gateway,
            config=self.config,
        )

    async def step_once(self) -> dict[str, Movement]:
        ctx = self.context()
        names = sorted(self.residents)
        rs = self.residents
        intents = await asyncio.gather(*(rs[n].think(ctx) for n in names))
        pairs = resolve(names, intents, ctx.views)
        if pairs:
            await asyncio.gather(*(converse(rs[a], rs[b], ctx) for a, b in pairs))
            self.chats.extend((self.step, a, b) for a, b in pairs)
        await asyncio.gather(*(rs[n].reflect(ctx) for n in names))
        moves = {n: rs[n].execute(ctx) for n in names}
        for n in names:  # like the runner under AGA_CHECK_STATE: every change of state was marked
            rs[n].check_state()
        self.board.apply([e for n in names for e in rs[n].emitted_events()])
        self.movements.append({n: m.as_dict() for n, m in moves.items()})
        self.step += 1
        return moves

    async def run(self, steps: int) -> None:
        for _ in range(steps):
            await self.step_once()


def resolve(
    names: Sequence[str], intents: Sequence[object], views: dict[str, AgentView] | Any
) -> list[tuple[str, str]]:
    """Chat intents accepted in name order: both free, neither paired this step."""
    busy: set[str] = set()
    pairs = []
    for name, intent in zip(names, intents):
        if not isinstance(intent, ChatIntent):
            continue
        t = intent.target
        if name in busy or t in busy or t == name or t not in views or views[t].chatting_with is not None:
            continue
        busy.update((name, t))
        pairs.append((name, t))
    return pairs


def make_ctx(
    town: Town,
    gateway: Gateway,
    residents: Sequence[Resident],
    now: datetime,
    *,
    step: int = 0,
    events: TileEvents | None = None,
    config: MindConfig | None = None,
    seed: int = 0,
) -> StepContext:
    """A step context over ``residents`` (views taken now) for unit tests."""
    return StepContext(
        step=step,
        now=now,
        sec_per_step=10,
        seed=seed,
        town=town,
        events=events if events is not None else TileEvents(),
        views={r.name: r.view() for r in residents},
        gateway=gateway,
        config=config or MindConfig(),
    )


def with_rules(**overrides: Any) -> Any:
    """A scripted-model handler: the given rules (task name -> rule) over the standard ones.

    A rule returning None leaves the answer to the scripted model's generic behaviour.
    """
    from aga.testing.scripted_rules import RULES

    def handler(request: Any, rng: Any) -> Any:
        rule = overrides.get(request.task) or RULES.get(request.task)
        return rule(request, rng) if rule is not None else None

    return handler
