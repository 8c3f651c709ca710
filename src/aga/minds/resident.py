"""A resident: identity, memory, plans and current action, and the four phases of a step.

Per step the runner calls ``think`` (phase 1), maybe ``converse`` (phase 2, in
:mod:`aga.minds.converse`), ``reflect`` (phase 3) and ``execute`` (phase 4), then reads
``emitted_events``, ``to_state`` and ``drain_action_log``. A step where nothing calls for the
model is a handful of comparisons: sleeping residents neither perceive nor react, and cached
views, states and events are rebuilt only when something they show changed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aga.errors import BaseSimError, StoreError
from aga.minds import execute, perceive, plan, react, reflect
from aga.minds.action import (
    DEFAULT_EMOJI,
    Action,
    is_object_address,
)
from aga.minds.context import AgentView, Intent, Movement, StepContext, Tile
from aga.minds.memory import MemoryStream
from aga.minds.retrieve import RetrievalWeights
from aga.minds.schedule import Row
from aga.minds.social import Tie
from aga.minds.spatial import SpatialMemory
from aga.minds.text import Identity, proper_nouns

if TYPE_CHECKING:
    from aga.bases.model import Persona
    from aga.world import Event, Town

STATE_VERSION = 1
_DATE = "%Y-%m-%d"
_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Params:
    """Perception and memory parameters of a resident (from its persona)."""

    vision_r: int = 8
    att_bandwidth: int = 8
    retention: int = 8
    recency_decay: float = 0.995
    importance_trigger_max: int = 150
    recency_w: float = 1.0
    relevance_w: float = 1.0
    importance_w: float = 1.0

    @property
    def weights(self) -> RetrievalWeights:
        """Retrieval weights of this resident."""
        return RetrievalWeights(self.recency_w, self.relevance_w, self.importance_w, self.recency_decay)


class Resident:
    """One generative agent of the town."""

    def __init__(
        self,
        *,
        identity: Identity,
        params: Params,
        world: str,
        tile: Tile,
        memory: MemoryStream,
        spatial: SpatialMemory,
    ) -> None:
        self.identity = identity
        self.name = identity.name
        self.params = params
        self.world = world
        self.tile: Tile = (int(tile[0]), int(tile[1]))
        self.memory = memory
        self.spatial = spatial
        # the day's plan
        self.day: date | None = None
        self.wake_hour: int | None = None
        self.daily_req: list[str] = []
        self.plan_note = ""
        self.schedule: list[Row] = []
        self.hourly: list[Row] = []
        # what it is doing
        self.action: Action | None = None
        self.path_set = False
        self.planned_path: list[Tile] = []
        self.object_tiles: list[Tile] = []
        """tiles of the used object, found when the path is planned."""
        # conversation
        self.chatting_with: str | None = None
        self.chat: list[tuple[str, str]] = []
        self.chat_end: datetime | None = None
        self.chat_thoughts_due = False
        self.cooldown: dict[str, int] = {}
        """other resident -> first step at which a new chat with them may start."""
        # reflection counters
        self.importance_trigger_curr = params.importance_trigger_max
        self.importance_ele_n = 0
        # Social Memory and savings (persisted)
        self.ties: dict[str, Tie] = {}
        """other resident -> relationship, feeling and running summary (Social Memory)."""
        self.rated: dict[str, int] = {}
        """text -> importance given ahead of time (own next activities, ``batch_ratings``) or
        mirrored from an activity (``reuse_ratings``); never a default from a failed answer."""
        self.talk_memo: dict[str, tuple[str, str]] = {}
        """other resident -> (my status, their status) when I last decided not to talk."""
        self.deferred: dict[int, str] = {}
        """event memory id -> the text whose rating it waits for (saving ``defer_ratings``)."""
        self._memo_version = 0
        # bookkeeping (not state)
        self._action_log: list[dict[str, Any]] = []
        self._heal_due = True
        self._rev = 0
        self._state_key: tuple[Any, ...] | None = None
        self._state: dict[str, Any] | None = None
        self._parts: dict[str, tuple[Any, Any]] = {}
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

    def bump(self) -> None:
        """Note that something shown by the state/view/events changed."""
        self._rev += 1

    def set_action(self, action: Action) -> None:
        """Start ``action``: a new path will be planned at the next execute."""
        self.action = action
        self.path_set = False
        self.planned_path = []
        self.object_tiles = []
        self.bump()

    def set_tie(self, other: str, tie: Tie) -> None:
        """Store this resident's tie to ``other`` (Social Memory)."""
        self.ties[other] = tie
        self.memo_changed()

    def memo_changed(self) -> None:
        """Note that ``ties``, ``rated``, ``talk_memo`` or ``deferred`` changed (part of the state)."""
        self._memo_version += 1
        self.bump()

    def log_action(self, entry: dict[str, Any]) -> None:
        """Append an action-log record (drained by the runner)."""
        self._action_log.append(entry)

    def drain_action_log(self) -> list[dict[str, Any]]:
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

    async def reflect(self, ctx: StepContext) -> None:
        """Phase 3: thoughts after a chat, and reflection when enough has happened."""
        if not self.chat_thoughts_due and self.importance_trigger_curr > 0:
            return
        await reflect.reflect(self, ctx)

    def execute(self, ctx: StepContext) -> Movement:
        """Phase 4: move one tile along the planned path (no model calls)."""
        return execute.execute(self, ctx)

    def end_chat(self) -> None:
        """Clear the conversation state once a chat is over."""
        self.chatting_with = None
        self.chat = []
        self.chat_end = None
        self.bump()

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
        """Everything needed to resume, except memory nodes (JSON-able).

        Returns the same dict object as the previous call when nothing in it changed.
        """
        key = (self._rev, self.tile, self.path_set, len(self.planned_path), self.spatial.version)
        if self._state is not None and self._state_key == key:
            return self._state
        a = self.action
        part = self._part
        state = {
            "version": STATE_VERSION,
            "identity": part("identity", self.identity, lambda: _plain(self.identity)),
            "params": part("params", self.params, lambda: _plain(self.params)),
            "world": self.world,
            "tile": [self.tile[0], self.tile[1]],
            "spatial": part("spatial", self.spatial.version, self.spatial.to_state),
            "day": self.day.strftime(_DATE) if self.day else None,
            "wake_hour": self.wake_hour,
            "daily_req": list(self.daily_req),
            "plan_note": self.plan_note,
            "schedule": part("schedule", self.schedule, lambda: [r.to_state() for r in self.schedule]),
            "hourly": part("hourly", self.hourly, lambda: [r.to_state() for r in self.hourly]),
            "action": part("action", (a, a.end if a else None), lambda: a.to_state() if a else None),
            "path_set": self.path_set,
            "planned_path": [[t[0], t[1]] for t in self.planned_path],
            "object_tiles": [[t[0], t[1]] for t in self.object_tiles],
            "chatting_with": self.chatting_with,
            "chat": [[s, u] for s, u in self.chat],
            "chat_end": self.chat_end.strftime(_TIME) if self.chat_end else None,
            "chat_thoughts_due": self.chat_thoughts_due,
            "cooldown": dict(sorted(self.cooldown.items())),
            "importance_trigger_curr": self.importance_trigger_curr,
            "importance_ele_n": self.importance_ele_n,
            "ties": part("ties", self._memo_version, self._ties_state),
            "rated": part("rated", self._memo_version, lambda: dict(sorted(self.rated.items()))),
            "talk_memo": part("talk_memo", self._memo_version, self._talk_memo_state),
            "deferred": part(
                "deferred", self._memo_version, lambda: {str(k): v for k, v in sorted(self.deferred.items())}
            ),
        }
        self._state, self._state_key = state, key
        return state

    def _ties_state(self) -> dict[str, Any]:
        return {k: t.to_state() for k, t in sorted(self.ties.items())}

    def _talk_memo_state(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in sorted(self.talk_memo.items())}

    def _part(self, name: str, key: Any, build: Any) -> Any:
        """A piece of the state, rebuilt only when ``key`` changed (lists: when replaced)."""
        cached = self._parts.get(name)
        if cached is not None and (cached[0] is key or (not isinstance(key, list) and cached[0] == key)):
            return cached[1]
        value = build()
        self._parts[name] = (key, value)
        return value

    @classmethod
    def from_state(cls, state: dict[str, Any], memory: MemoryStream) -> Resident:
        """Resume a resident from :meth:`to_state` output and its memory stream.

        Raises:
            StoreError: the state is not one this version wrote (names the resident and field).
        """
        who = state.get("identity", {}).get("name", "?") if isinstance(state, dict) else "?"
        field = "version"
        try:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {state.get('version')!r}")
            field = "identity"
            identity = Identity(**state["identity"])
            field = "params"
            params = Params(**state["params"])
            field = "tile"
            tile = (int(state["tile"][0]), int(state["tile"][1]))
            field = "spatial"
            r = cls(
                identity=identity,
                params=params,
                world=str(state["world"]),
                tile=tile,
                memory=memory,
                spatial=SpatialMemory.from_state(state["spatial"]),
            )
            field = "day"
            r.day = datetime.strptime(state["day"], _DATE).date() if state["day"] else None
            r.wake_hour = state["wake_hour"]
            r.daily_req = [str(x) for x in state["daily_req"]]
            r.plan_note = str(state["plan_note"])
            field = "schedule"
            r.schedule = [Row.from_state(x) for x in state["schedule"]]
            r.hourly = [Row.from_state(x) for x in state["hourly"]]
            field = "action"
            r.action = Action.from_state(state["action"]) if state["action"] else None
            field = "planned_path"
            r.path_set = bool(state["path_set"])
            r.planned_path = [(int(t[0]), int(t[1])) for t in state["planned_path"]]
            r.object_tiles = [(int(t[0]), int(t[1])) for t in state["object_tiles"]]
            field = "chat"
            r.chatting_with = state["chatting_with"]
            r.chat = [(str(s), str(u)) for s, u in state["chat"]]
            r.chat_end = datetime.strptime(state["chat_end"], _TIME) if state["chat_end"] else None
            r.chat_thoughts_due = bool(state["chat_thoughts_due"])
            field = "cooldown"
            r.cooldown = {str(k): int(v) for k, v in state["cooldown"].items()}
            field = "importance_trigger_curr"
            r.importance_trigger_curr = int(state["importance_trigger_curr"])
            r.importance_ele_n = int(state["importance_ele_n"])
            field = "ties"
            r.ties = {str(k): Tie.from_state(v) for k, v in state.get("ties", {}).items()}
            field = "rated"
            r.rated = {str(k): int(v) for k, v in state.get("rated", {}).items()}
            field = "talk_memo"
            r.talk_memo = {str(k): (str(v[0]), str(v[1])) for k, v in state.get("talk_memo", {}).items()}
            field = "deferred"
            r.deferred = {int(k): str(v) for k, v in state.get("deferred", {}).items()}
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            raise StoreError(
                f"stored state of resident {who!r} is unreadable at field {field!r}: {err}"
            ) from None
        return r


def _plain(obj: Any) -> dict[str, Any]:
    """Fields of a flat dataclass as a dict (no deep copy: the fields are plain values)."""
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}


def _fields_of(cls: type, persona: Persona) -> dict[str, Any]:
    """The persona's values for the fields of dataclass ``cls`` (its field names match the persona's)."""
    return {f.name: getattr(persona, f.name) for f in fields(cls)}
