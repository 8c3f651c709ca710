"""The step loop: every resident perceives the same snapshot, thinks concurrently, and the step's
decisions are committed in name order and persisted in one transaction.

One step (``Simulation.step_once``):
    1. snapshot   the views of every resident and the tile-event board, as they were at step start
    2. think      all residents concurrently (perceive, retrieve, plan, decide to react)
    3. converse   chat intents resolved in name order; accepted pairs talk concurrently
    4. reflect    all residents concurrently
    5. execute    every resident's next tile (no model calls), in name order
    6. commit     board updated; states, memories, embeddings, movements, ledger in one transaction
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from aga import aio, settings
from aga.aio import gather_or_cancel
from aga.errors import StoreError
from aga.gateway import Gateway
from aga.minds import AgentView, ChatIntent, Intent, MindConfig, Movement, Resident, StepContext
from aga.minds.context import TalkOffers
from aga.minds.converse import converse
from aga.minds.resident import STATE_KEYS
from aga.minds.retrieve import one_blas_thread
from aga.policy import NullPolicy, Policy
from aga.store.sim_store import SimStore, StepRecord
from aga.world import Event, TileEvents, Town

TIME_FORMAT = "%B %d, %Y, %H:%M:%S"

T = TypeVar("T")

Tile = tuple[int, int]


@dataclass
class StepReport:
    """What one committed step did (for progress display and subscribers)."""

    step: int
    time: datetime
    calls: int
    prompt_tokens: int
    completion_tokens: int
    chats: list[tuple[str, str]] = field(default_factory=list)
    defaulted: int = 0
    """Model answers that never came right this step (the caller's stand-in was used)."""


def resolve_chats(
    names: Sequence[str], intents: Sequence[object], views: Mapping[str, AgentView]
) -> list[tuple[str, str]]:
    """Accept chat intents in name order: both sides free and neither already paired this step."""
    busy: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for name, intent in zip(names, intents):
        if not isinstance(intent, ChatIntent):
            continue
        target = intent.target
        if name in busy or target in busy or target == name or target not in views:
            continue
        if views[target].chatting_with is not None or views[name].chatting_with is not None:
            continue
        busy.update((name, target))
        pairs.append((name, target))
    return pairs


class Board:
    """The tile-event board: idle events on every object tile plus what residents emit each step."""

    def __init__(self, town: Town) -> None:
        self.town = town
        self.events = TileEvents()
        self._base: dict[Tile, list[Event]] = {}
        for sector, arenas in town.tree().items():
            for arena, objects in arenas.items():
                for obj in objects:
                    address = f"{town.world}:{sector}:{arena}:{obj}"
                    idle = Event(address, None, None, None)
                    for tile in town.tiles(address):
                        self._base.setdefault(tile, []).append(idle)
                        self.events.add(tile, idle)
        self._current: dict[Tile, tuple[Event, ...]] = {}

    def apply(self, emitted: Sequence[tuple[Tile, Event]]) -> None:
        """Make the residents' events on the board equal to ``emitted`` (an object event hides
        that object's idle event). Only tiles whose events changed are touched."""
        new: dict[Tile, list[Event]] = {}
        for tile, ev in emitted:
            new.setdefault(tile, []).append(ev)
        now = {tile: tuple(evs) for tile, evs in new.items()}
        if now == self._current:
            return
        for tile in self._current.keys() | now.keys():
            old, cur = self._current.get(tile, ()), now.get(tile, ())
            if old == cur:
                continue
            for ev in old:
                self.events.remove(tile, ev)
            hidden = {ev.subject for ev in cur}
            for base_ev in self._base.get(tile, ()):
                if base_ev.subject in hidden:
                    self.events.remove(tile, base_ev)
                else:
                    self.events.add(tile, base_ev)
            for ev in cur:
                self.events.add(tile, ev)
        self._current = now


class Simulation:
    """A loaded simulation: town, residents, gateway and store, ready to run steps."""

    def __init__(
        self,
        *,
        store: SimStore,
        town: Town,
        residents: dict[str, Resident],
        gateway: Gateway,
        config: MindConfig,
        step: int,
        start: datetime,
        sec_per_step: int,
        seed: int,
        policy: Policy | None = None,
        check_state: bool | None = None,
    ) -> None:
        self.store = store
        one_blas_thread()  # retrieval's small products: threads only spin (see its docstring)
        self.check_state = settings.check_state_enabled() if check_state is None else check_state
        """Debug: after every step, fail when a resident's state changed without being marked
        (``AGA_CHECK_STATE=1``; the tests run with it)."""
        self.policy: Policy = policy if policy is not None else NullPolicy()
        """The Lifestyle Policy handed to the minds every step (``NullPolicy`` when off)."""
        self.town = town
        self.residents = residents
        self.names = sorted(residents)
        self.gateway = gateway
        self.config = config
        self.step = step
        self.start = start
        self.sec_per_step = sec_per_step
        self.seed = seed
        self.board = Board(town)
        self._last_states: dict[str, tuple[str, ...]] = {}
        self.failed_step: int | None = None  # set while a step runs; stays set if it fails
        self.board.apply([e for n in self.names for e in residents[n].emitted_events()])

    @property
    def now(self) -> datetime:
        """Game time at the start of the current step."""
        return self.start + timedelta(seconds=self.step * self.sec_per_step)

    def context(self) -> StepContext:
        """The snapshot every resident sees this step."""
        return StepContext(
            step=self.step,
            now=self.now,
            sec_per_step=self.sec_per_step,
            seed=self.seed,
            town=self.town,
            events=self.board.events,
            views={n: self.residents[n].view() for n in self.names},
            gateway=self.gateway,
            config=self.config,
            policy=self.policy,
        )

    async def step_once(self) -> StepReport:
        """Run and commit one step.

        If the step fails (a dead model endpoint, an unusable answer), nothing of it is committed
        and this object must not run again: its residents hold half a step. Reopen the simulation
        from its store (``open_simulation``) to continue from the last committed step.

        Raises:
            StoreError: an earlier step of this object failed.
        """
        if self.failed_step is not None:
            raise StoreError(
                f"step {self.failed_step} of {self.store.folder.name} failed and was not saved; "
                "reopen the simulation to continue from its last committed step"
            )
        self.failed_step = self.step
        eager = aio.EAGER.set(self.gateway.in_process)
        try:
            return await self._step(self.context())
        finally:
            aio.EAGER.reset(eager)

    async def _step(self, ctx: StepContext) -> StepReport:
        names, residents = self.names, self.residents
        # residents whose phase has nothing to do (asleep, no reflection due) get no task at all
        now = ctx.now
        awake = [n for n in names if not residents[n].quiet(now)]
        ctx = replace(ctx, offers=TalkOffers(awake))

        async def think(name: str) -> Intent | None:
            target = None
            try:
                intent = await residents[name].think(ctx)
                target = intent.target if isinstance(intent, ChatIntent) else None
                return intent
            finally:
                ctx.offers.close(name, target)

        intents = await gather_or_cancel(think(n) for n in awake)
        pairs = resolve_chats(awake, intents, ctx.views)
        if pairs:
            await gather_or_cancel(converse(residents[a], residents[b], ctx) for a, b in pairs)
        await gather_or_cancel(residents[n].reflect(ctx) for n in names if residents[n].reflection_due())
        movements = {n: residents[n].execute(ctx) for n in names}
        self.board.apply([e for n in names for e in residents[n].emitted_events()])
        if self.check_state:
            for n in names:
                residents[n].check_state()
        report = self._commit(movements, pairs)
        self.step += 1
        self.failed_step = None
        return report

    def _changed_parts(self) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, ...]]]:
        """Resident -> {state key -> its value's JSON text} for the keys whose text is not the
        very object committed last time (``Resident.state_texts`` keeps an unchanged key's text,
        and re-encodes only the changed fields), so a walking resident writes its tile and path,
        not its whole state, and an unchanged one writes nothing. Also the texts compared, to be
        remembered once the step is committed."""
        changed: dict[str, dict[str, str]] = {}
        now: dict[str, tuple[str, ...]] = {}
        for n in self.names:
            texts = self.residents[n].state_texts()
            last = self._last_states.get(n)
            if texts is last:
                continue
            now[n] = texts
            changed[n] = {
                key: text[len(key) + 3 :]
                for key, text, before in zip(STATE_KEYS, texts, last or [None] * len(texts))
                if text is not before
            }
        return changed, now

    def _commit(self, movements: Mapping[str, Movement], pairs: list[tuple[str, str]]) -> StepReport:
        ledger = self.gateway.ledger.drain()
        rows = [r.to_dict() for r in ledger]
        parts, texts = self._changed_parts()
        rec = StepRecord(
            step=self.step,
            next_time=(self.now + timedelta(seconds=self.sec_per_step)).strftime(TIME_FORMAT),
            state_parts=parts,
            memory_texts={n: ch for n in self.names if (ch := self.residents[n].memory.drain_change_texts())},
            embeddings=[(m, t, v) for m, t, v in self.gateway.drain_new_embeddings()],
            movements=movements,
            ledger=rows,
            actions={n: log for n in self.names if (log := self.residents[n].drain_action_log())},
        )
        self.store.commit_step(rec)
        self._last_states.update(texts)
        return StepReport(
            step=self.step,
            time=self.now,
            calls=sum(1 for r in rows if r.get("kind", "llm") == "llm" and not r.get("cached")),
            prompt_tokens=sum(int(r.get("prompt_tokens") or 0) for r in rows),
            completion_tokens=sum(int(r.get("completion_tokens") or 0) for r in rows),
            chats=pairs,
            defaulted=sum(1 for r in rows if r.get("defaulted")),
        )

    def close(self) -> None:
        """Close the store and the public policy store (if one was opened)."""
        self.store.close()
        public = getattr(self.policy, "store", None)
        if public is not None:
            public.close()

    async def run(
        self,
        steps: int,
        on_step: Callable[[StepReport], None] | None = None,
        *,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """Run ``steps`` steps, committing each; ``on_step`` is called after every commit.

        ``stop`` is asked before each step; when it says True the run ends there (after the
        last committed step).
        """
        for _ in range(steps):
            # one turn of the event loop per step, even when no resident awaited anything (a
            # sleeping town): signal handlers (Ctrl-C) and servers sharing the loop get to run
            await asyncio.sleep(0)
            if stop is not None and stop():
                return
            report = await self.step_once()
            if on_step is not None:
                on_step(report)


def sim_folder(storage: Path, sim: str) -> Path:
    """``<storage>/<sim>``."""
    return storage / sim
