"""A resident: identity, memory, plans and current action, and the four phases of a step.

Per step the runner calls ``think`` (phase 1), maybe ``converse`` (phase 2, in
:mod:`aga.minds.converse`), ``reflect`` (phase 3) and ``execute`` (phase 4), then reads
``emitted_events``, ``to_state`` and ``drain_action_log``. A step where nothing calls for the
model is a handful of comparisons: sleeping residents neither perceive nor react, and cached
views, states and events are rebuilt only when something they show changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from aga.errors import BaseSimError
from aga.minds import execute, perceive, plan, react, reflect
from aga.minds.action import DEFAULT_EMOJI, Action, is_object_address
from aga.minds.context import AgentView, Intent, Movement, StepContext, Tile
from aga.minds.memory import MemoryStream
from aga.minds.schedule import Row
from aga.minds.social import Tie
from aga.minds.spatial import SpatialMemory
from aga.minds.state import (
    JSON_PARTS,
    STATE_VERSION,
    ActionLogEntry,
    Params,
    PathText,
    ResidentState,
    StateError,
    check_marked,
    state_dumps,
)
from aga.minds.text import Identity, proper_nouns

if TYPE_CHECKING:
    from aga.bases.model import Persona
    from aga.world import Event, Town

T = TypeVar("T")

__all__ = ["STATE_VERSION", "Params", "Resident", "ResidentState"]


class _Field(Generic[T]):
    """A field of the resident's :class:`ResidentState`: read as an attribute; assigning it
    marks the field changed (so it is saved). In-place changes of containers are not seen:
    use the ``Resident`` methods, which mark what they change."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Field[T]: ...
    @overload
    def __get__(self, obj: Resident, owner: type) -> T: ...
    def __get__(self, obj: Resident | None, owner: type) -> T | _Field[T]:
        if obj is None:
            return self
        return obj.state.__dict__[self.name]  # type: ignore[no-any-return]

    def __set__(self, obj: Resident, value: T) -> None:
        setattr(obj.state, self.name, value)
        obj.mark(self.name)


class Resident:
    """One generative agent of the town: its :class:`ResidentState`, its memory, and the phases.

    The state is changed only through the methods below (or by assigning a state field), each
    of which marks what it changed; ``to_state()`` rebuilds only marked parts and returns the very
    same dict while nothing was marked.
    """

    identity: _Field[Identity] = _Field()
    params: _Field[Params] = _Field()
    world: _Field[str] = _Field()
    tile: _Field[Tile] = _Field()
    spatial: _Field[SpatialMemory] = _Field()
    day: _Field[date | None] = _Field()
    wake_hour: _Field[int | None] = _Field()
    daily_req: _Field[list[str]] = _Field()
    plan_note: _Field[str] = _Field()
    schedule: _Field[list[Row]] = _Field()
    hourly: _Field[list[Row]] = _Field()
    action: _Field[Action | None] = _Field()
    path_set: _Field[bool] = _Field()
    planned_path: _Field[list[Tile]] = _Field()
    object_tiles: _Field[list[Tile]] = _Field()
    chatting_with: _Field[str | None] = _Field()
    chat: _Field[list[tuple[str, str]]] = _Field()
    chat_end: _Field[datetime | None] = _Field()
    chat_thoughts_due: _Field[bool] = _Field()
    cooldown: _Field[dict[str, int]] = _Field()
    importance_trigger_curr: _Field[int] = _Field()
    importance_ele_n: _Field[int] = _Field()
    ties: _Field[dict[str, Tie]] = _Field()
    rated: _Field[dict[str, int]] = _Field()
    talk_memo: _Field[dict[str, tuple[str, str]]] = _Field()
    deferred: _Field[dict[int, str]] = _Field()

    def __init__(
        self,
        *,
        identity: Identity,
        params: Params,
        world: str,
        tile: Tile,
        memory: MemoryStream,
        spatial: SpatialMemory,
        state: ResidentState | None = None,
    ) -> None:
        self.state = state or ResidentState(
            identity=identity, params=params, world=world, tile=tile, spatial=spatial
        )
        """The typed record of everything this resident carries between steps (but memory)."""
        self.name = self.state.identity.name
        self.memory = memory
        # bookkeeping (not state)
        self._action_log: list[ActionLogEntry] = []
        self._heal_due = True
        self._rev = 0
        self._versions: dict[str, int] = {}
        self._state_key: tuple[Any, ...] | None = None
        self._state: dict[str, Any] | None = None
        self._parts: dict[str, tuple[Any, Any]] = {}
        self._json_key: tuple[str, ...] | None = None
        self._json: str | None = None
        self._texts: list[str] = []
        self._texts_key: tuple[Any, ...] | None = None
        self._texts_out: tuple[str, ...] = ()
        self._dirty: set[str] = set()
        self._path_text = PathText()
        self._view_key: tuple[Any, ...] | None = None
        self._view: AgentView | None = None
        self._events_key: tuple[Any, ...] | None = None
        self._events: list[tuple[Tile, Event]] = []
        self._seen_tile: Tile | None = None
        self._quiet_scene: tuple[Any, ...] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_persona(cls, persona: Persona, town: Town) -> Resident:
        """A resident at the start of a simulation (seed memories are rated on the first step)."""
        parts = persona.living_area.split(":")
        identity = Identity(**_fields_of(Identity, persona))
        params = Params(**_fields_of(Params, persona))
        spatial = SpatialMemory(persona.known_places)
        tree = town.tree()
        if len(parts) >= 2:
            home_sector = parts[1]
            for arena, objects in tree.get(home_sector, {}).items():
                for obj in objects or [""]:
                    spatial.learn(home_sector, arena, obj)
        tile = persona.start_tile
        if tile is None:
            spawns = town.spawn_tiles(persona.living_area) or sorted(
                t for t in town.tiles(persona.living_area) if town.is_walkable(t)
            )
            if not spawns:
                raise BaseSimError(
                    f"resident {persona.name!r}: living area {persona.living_area!r} has no tile in town "
                    f"{town.name!r} to start on"
                )
            tile = spawns[0]
        memory = MemoryStream()
        for text in persona.seed_memories:
            text = " ".join(text.split())
            if not text:
                continue
            memory.add(
                "thought",
                created=perceive.SEED_TIME,
                subject=persona.name,
                predicate="remembers",
                obj=text[:60],
                description=text,
                embedding_key=text,
                importance=None,
                keywords=[persona.name, *proper_nouns(text)],
            )
        return cls(
            identity=identity, params=params, world=town.world, tile=tile, memory=memory, spatial=spatial
        )

    # ------------------------------------------------------------------ derived facts
    @property
    def home_sector(self) -> str:
        """Sector of the living area."""
        parts = self.identity.living_area.split(":")
        return parts[1] if len(parts) > 1 else ""

    @property
    def home_arena(self) -> str:
        """Arena of the living area."""
        parts = self.identity.living_area.split(":")
        return parts[2] if len(parts) > 2 else ""

    @property
    def sleeping(self) -> bool:
        """Whether the current action is sleep."""
        return self.action is not None and self.action.asleep

    def action_finished(self, now: datetime) -> bool:
        """No action, or the current one has run its time."""
        return self.action is None or now >= self.action.end

    # ------------------------------------------------------------------ marking
    def mark(self, *fields: str) -> None:
        """Note that the named state fields changed (all of them when none is named)."""
        self._rev += 1
        self._dirty.update(fields or _ALL_FIELDS)
        for f in fields or _ALL_FIELDS:
            self._versions[f] = self._versions.get(f, 0) + 1

    def bump(self) -> None:
        """Mark every state field changed (a fallback: prefer the methods that name the change)."""
        self.mark()

    memo_changed = bump

    # ------------------------------------------------------------------ changes of state
    def plan_day(self, day: date, wake_hour: int, daily_req: list[str], rows: list[Row]) -> None:
        """Start a new day's plan: its items and schedule (the hourly plan is a copy of it)."""
        s = self.state
        s.day, s.wake_hour, s.daily_req, s.schedule, s.hourly = day, wake_hour, daily_req, rows, list(rows)
        self.mark("day", "wake_hour", "daily_req", "schedule", "hourly")

    def set_identity(self, identity: Identity) -> None:
        """Replace the persona's text fields (the daily revision of status and requirements)."""
        self.state.identity = identity
        self.mark("identity")

    def set_plan_note(self, note: str) -> None:
        """Keep the morning review's planning note."""
        self.state.plan_note = note
        self.mark("plan_note")

    def set_schedule(self, rows: list[Row]) -> None:
        """Replace the day's schedule (after a decomposition or a re-plan around a reaction)."""
        self.state.schedule = rows
        self.mark("schedule")

    def set_action(self, action: Action) -> None:
        """Start ``action``: a new path will be planned at the next execute."""
        s = self.state
        s.action, s.path_set, s.planned_path, s.object_tiles = action, False, [], []
        self.mark("action", "path_set", "planned_path", "object_tiles")

    def extend_action(self, end: datetime) -> None:
        """Let the current action go on until ``end`` (the same activity continues)."""
        assert self.state.action is not None
        self.state.action.end = end
        self.mark("action")

    def set_path(self, path: list[Tile], object_tiles: list[Tile]) -> None:
        """The path to the current action's place, and the tiles of the object it uses."""
        s = self.state
        s.planned_path, s.object_tiles, s.path_set = path, object_tiles, True
        self.mark("planned_path", "object_tiles", "path_set")

    def step_along(self) -> None:
        """Move to the next tile of the planned path (nothing when it is empty)."""
        s = self.state
        if s.planned_path:
            s.tile = s.planned_path.pop(0)
            self.mark("planned_path", "tile")

    def start_chat(self, other: str, lines: list[tuple[str, str]], end: datetime, cooldown_end: int) -> None:
        """Be in a conversation with ``other`` until ``end``; no new one with them before ``cooldown_end``."""
        s = self.state
        s.chatting_with, s.chat, s.chat_end, s.chat_thoughts_due = other, list(lines), end, True
        s.cooldown[other] = cooldown_end
        self.mark("chatting_with", "chat", "chat_end", "chat_thoughts_due", "cooldown")

    def set_cooldown(self, other: str, step: int) -> None:
        """No new chat with ``other`` before ``step``."""
        self.state.cooldown[other] = step
        self.mark("cooldown")

    def end_chat(self) -> None:
        """Clear the conversation state once a chat is over."""
        s = self.state
        s.chatting_with, s.chat, s.chat_end = None, [], None
        self.mark("chatting_with", "chat", "chat_end")

    def chat_thoughts_done(self) -> None:
        """The thoughts after the last chat are had (or no longer due)."""
        self.state.chat_thoughts_due = False
        self.mark("chat_thoughts_due")

    def count_event(self, importance: int | None) -> None:
        """Count a new event memory towards reflection (its importance, once known, too)."""
        s = self.state
        if importance is not None:
            s.importance_trigger_curr -= importance
        s.importance_ele_n += 1
        self.mark("importance_trigger_curr", "importance_ele_n")

    def spend_importance(self, importance: int) -> None:
        """Count an importance that became known later (a deferred rating) towards reflection."""
        self.state.importance_trigger_curr -= importance
        self.mark("importance_trigger_curr")

    def restart_reflection(self) -> int:
        """Reset the reflection counters; returns the number of events gathered since the last one."""
        s = self.state
        count = s.importance_ele_n
        s.importance_trigger_curr, s.importance_ele_n = s.params.importance_trigger_max, 0
        self.mark("importance_trigger_curr", "importance_ele_n")
        return count

    def set_tie(self, other: str, tie: Tie) -> None:
        """Store this resident's tie to ``other`` (Social Memory)."""
        self.state.ties[other] = tie
        self.mark("ties")

    def remember_ratings(self, ratings: Mapping[str, int], cap: int | None = None) -> None:
        """Keep importances given ahead of time or mirrored; with ``cap``, only the newest ``cap``."""
        rated = self.state.rated
        rated.update(ratings)
        if cap is not None:
            for old in list(rated)[: max(0, len(rated) - cap)]:
                del rated[old]
        self.mark("rated")

    def defer_rating(self, node_id: int, text: str) -> None:
        """Memory ``node_id`` waits for the rating of ``text`` (saving ``defer_ratings``)."""
        self.state.deferred[node_id] = text
        self.mark("deferred")

    def clear_deferred(self) -> None:
        """No memory waits for a rating any more."""
        self.state.deferred = {}
        self.mark("deferred")

    def set_talk_memo(self, key: str, situation: tuple[str, str] | None) -> None:
        """Remember a 'no' to ``key`` in ``situation``; None forgets it."""
        memo = self.state.talk_memo
        if situation is None:
            memo.pop(key, None)
        else:
            memo[key] = situation
        self.mark("talk_memo")

    def log_action(self, entry: ActionLogEntry | Mapping[str, Any]) -> None:
        """Append an action-log record (drained by the runner)."""
        if not isinstance(entry, ActionLogEntry):
            entry = ActionLogEntry(**entry)
        self._action_log.append(entry)

    def drain_action_log(self) -> list[ActionLogEntry]:
        """Action starts since the last call, for the metrics ``<Full Name>.json`` file."""
        out, self._action_log = self._action_log, []
        return out

    # ------------------------------------------------------------------ phases
    async def think(self, ctx: StepContext) -> Intent | None:
        """Phase 1: plan a new day, pick the next action, perceive and decide on reactions."""
        if self._heal_due:
            await perceive.heal_memory(self, ctx)
            self._heal_due = False
        today = ctx.now.date()
        if self.deferred:
            await perceive.settle_ratings(self, ctx, force=self.day != today)
        if self.day != today:
            await plan.start_day(self, ctx)
        if self.chatting_with is not None and self.chat_end is not None and ctx.now >= self.chat_end:
            self.end_chat()
        if self.action_finished(ctx.now):
            await plan.next_action(self, ctx)
        if self.sleeping:
            return None
        perceived = await perceive.perceive(self, ctx)
        if not perceived:
            return None
        return await react.decide(self, ctx, perceived)

    def quiet(self, now: datetime) -> bool:
        """Whether :meth:`think` would do nothing at ``now``: asleep in the action of today's
        plan, nothing to heal, rate or end. The runner skips quiet residents' think."""
        s = self.state
        a = s.action
        return (
            a is not None
            and a.asleep
            and now < a.end
            and not self._heal_due
            and not s.deferred
            and s.day == now.date()
            and s.chatting_with is None
        )

    def reflection_due(self) -> bool:
        """Whether :meth:`reflect` has anything to do (thoughts after a chat, or enough gathered)."""
        return self.state.chat_thoughts_due or self.state.importance_trigger_curr <= 0

    async def reflect(self, ctx: StepContext) -> None:
        """Phase 3: thoughts after a chat, and reflection when enough has happened."""
        if not self.reflection_due():
            return
        await reflect.reflect(self, ctx)

    def execute(self, ctx: StepContext) -> Movement:
        """Phase 4: move one tile along the planned path (no model calls)."""
        return execute.execute(self, ctx)

    # ------------------------------------------------------------------ what others see
    def view(self) -> AgentView:
        """The snapshot others see of this resident."""
        key = (self._rev, self.tile, bool(self.planned_path))
        if self._view is not None and self._view_key == key:
            return self._view
        a = self.action
        if a is None:
            view = AgentView(
                self.name,
                self.tile,
                "",
                "",
                DEFAULT_EMOJI,
                (self.name, None, None),
                self.chatting_with,
                self.chat_end,
                None,
                bool(self.planned_path),
                False,
            )
        else:
            g = a.grounding
            view = AgentView(
                name=self.name,
                tile=self.tile,
                description=a.description,
                address=a.address,
                emoji=g.emoji,
                event=(self.name, g.event[0], g.event[1]),
                chatting_with=self.chatting_with,
                chat_end=self.chat_end,
                act_end=a.end,
                planned_path_nonempty=bool(self.planned_path),
                sleeping=self.sleeping,
            )
        self._view, self._view_key = view, key
        return view

    def arrived(self) -> bool:
        """Whether the resident has reached the place of its current action."""
        return self.action is not None and self.path_set and not self.planned_path

    def emitted_events(self) -> list[tuple[Tile, Event]]:
        """Its own event on its tile and, once arrived, the used object's state on its tiles."""
        from aga.world import Event

        arrived = self.arrived()
        key = (self._rev, self.tile, arrived)
        if self._events_key == key:
            return self._events
        a = self.action
        if a is None:
            out: list[tuple[Tile, Event]] = [(self.tile, Event(self.name, None, None, None))]
        else:
            g = a.grounding
            out = [(self.tile, Event(self.name, g.event[0], g.event[1], a.description))]
            if arrived and is_object_address(a.address) and g.obj_event is not None:
                ev = Event(a.address, g.obj_event[0], g.obj_event[1], g.obj_description)
                out.extend((t, ev) for t in self.object_tiles)
        self._events, self._events_key = out, key
        return out

    # ------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        """Everything needed to resume, except memory nodes: the JSON form of :attr:`state`.

        Returns the same dict object as the previous call when nothing in it was marked, and
        rebuilds only the parts of the fields marked since otherwise.
        """
        key = (self._rev, self.state.spatial.version)
        if self._state is not None and self._state_key == key:
            return self._state
        s, parts, versions = self.state, self._parts, self._versions
        state: dict[str, Any] = {"version": STATE_VERSION}
        for name, build in JSON_PARTS.items():
            version = s.spatial.version if name == "spatial" else versions.get(name, 0)
            cached = parts.get(name)
            if cached is None or cached[0] != version:
                cached = parts[name] = (version, build(s))
            state[name] = cached[1]
        self._state, self._state_key = state, key
        return state

    def state_texts(self) -> tuple[str, ...]:
        """The ``"key":value`` JSON texts of the state's top-level keys in :data:`STATE_KEYS`
        order, kept from call to call: only the fields marked since the last call are encoded
        again, and the planned path's text is a slice of the whole path's (walking costs no
        encoding). An unchanged key keeps the very same string object, and the tuple is the same
        object as the previous call's when nothing was marked."""
        s = self.state
        key = (self._rev, s.spatial.version)
        if self._texts_key == key:
            return self._texts_out
        texts = self._texts
        if not texts:
            texts.extend(_VERSION_TEXT if n == "version" else "" for n in STATE_KEYS)
            dirty: Iterable[str] = JSON_PARTS
        else:
            dirty = self._dirty
            if s.spatial.version != self._texts_key[1]:  # type: ignore[index]
                dirty.add("spatial")
        for name in dirty:
            if name == "planned_path":
                texts[_JSON_INDEX[name]] = '"planned_path":' + self._path_text.text(s.planned_path)
            else:
                texts[_JSON_INDEX[name]] = f'"{name}":' + state_dumps(JSON_PARTS[name](s))
        self._dirty = set()
        self._texts_out, self._texts_key = tuple(texts), key
        return self._texts_out

    def to_state_json(self) -> str:
        """The JSON text of :meth:`to_state` as the store writes it (``state_dumps``), joined
        from :meth:`state_texts`; the same string object as the previous call when nothing was
        marked."""
        texts = self.state_texts()
        if self._json is None or self._json_key is not texts:
            self._json, self._json_key = "{" + ",".join(texts) + "}", texts
        return self._json

    def check_state(self) -> None:
        """Fail loudly when the state changed without being marked (the ``AGA_CHECK_STATE`` check).

        Raises:
            StateError: names the fields whose change would not have been saved.
        """
        check_marked(self.name, self.to_state(), self.state)
        text = self.to_state_json()
        if text != state_dumps(self.state.to_json()):
            check_marked(self.name, json.loads(text), self.state)
            raise StateError(f"resident {self.name!r}: the state's JSON text is not the JSON of its state")

    @classmethod
    def from_state(cls, state: dict[str, Any], memory: MemoryStream) -> Resident:
        """Resume a resident from :meth:`to_state` output and its memory stream.

        Raises:
            StoreError: the state is not one this version wrote (names the resident and field).
        """
        s = ResidentState.from_json(state)
        return cls(
            identity=s.identity,
            params=s.params,
            world=s.world,
            tile=s.tile,
            memory=memory,
            spatial=s.spatial,
            state=s,
        )


_ALL_FIELDS = tuple(f.name for f in fields(ResidentState))
STATE_KEYS: tuple[str, ...] = tuple(sorted(["version", *JSON_PARTS]))
"""The top-level keys of a stored state, in the order its JSON text lists them."""
_JSON_INDEX = {name: i for i, name in enumerate(STATE_KEYS)}
_VERSION_TEXT = f'"version":{STATE_VERSION}'


def _fields_of(cls: type, persona: Persona) -> dict[str, Any]:
    """The persona's values for the fields of dataclass ``cls`` (its field names match the persona's)."""
    return {f.name: getattr(persona, f.name) for f in fields(cls)}
