"""A resident's state as one typed, versioned record, and the protocol the step modules use.

``ResidentState`` holds everything a resident carries from one step to the next (identity, plan,
schedule, action, path, chat, counters, Social Memory ties and the savings' memos); its JSON form
(``to_json`` / ``from_json``) is what the store keeps, so a resumed resident is the one that
stopped. The step modules (perceive, plan, react, converse, reflect, execute, social, grounding)
see a resident only through :class:`Mind`: read-only views of the state and the methods that
change it. Each of those methods marks the state changed, so the runner saves exactly what
changed; :func:`check_marked` (the debug switch ``AGA_CHECK_STATE``) compares a fresh
serialisation with the saved one after every step and fails loudly on a change nobody marked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aga.errors import StoreError
from aga.minds.action import Action
from aga.minds.retrieve import RetrievalWeights
from aga.minds.schedule import Row
from aga.minds.social import Tie
from aga.minds.spatial import SpatialMemory
from aga.minds.text import Identity

if TYPE_CHECKING:
    from aga.minds.memory import MemoryStream

Tile = tuple[int, int]

STATE_VERSION = 1
"""Version of the JSON form of :class:`ResidentState` (the ``version`` key)."""
_DATE = "%Y-%m-%d"
_TIME = "%Y-%m-%d %H:%M:%S"


class StateError(AssertionError):
    """A resident's state changed without being marked (found by the ``AGA_CHECK_STATE`` check).

    A programming error, not a user error: the change would silently not be saved.
    """


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


@dataclass
class ResidentState:
    """Everything a resident carries between steps, except its memory nodes.

    Attributes:
        identity: the persona's text fields (``currently`` and ``daily_plan_req`` change daily).
        params: perception and memory parameters.
        world: the world-level name of the town.
        tile: where the resident stands.
        spatial: the places it knows.
        day: the day its plan is for (None before the first plan).
        wake_hour: the hour it woke up that day.
        daily_req: the day's plan items, ``"<activity> at <h>:00"``.
        plan_note: the planning note of the morning review.
        schedule: the day's rows as decomposed so far.
        hourly: the day's rows as first planned (the original's hourly schedule).
        action: the current action.
        path_set: whether the path to the action's place is planned.
        planned_path: the tiles still to walk.
        object_tiles: tiles of the used object, found when the path is planned.
        chatting_with: the other side of the current conversation.
        chat: its lines ``(speaker, utterance)``.
        chat_end: when it ends.
        chat_thoughts_due: whether thoughts after the chat are still to be had.
        cooldown: other resident -> first step at which a new chat with them may start.
        importance_trigger_curr: importance still to gather before the next reflection.
        importance_ele_n: events gathered since the last reflection.
        ties: other resident -> relationship, feeling and running summary (Social Memory).
        rated: text -> importance given ahead of time or mirrored (never a failed answer's default).
        talk_memo: other resident -> (my status, their status) when I last decided not to talk.
        deferred: event memory id -> the text whose rating it waits for (``defer_ratings``).
    """

    identity: Identity
    params: Params
    world: str
    tile: Tile
    spatial: SpatialMemory
    day: date | None = None
    wake_hour: int | None = None
    daily_req: list[str] = field(default_factory=list)
    plan_note: str = ""
    schedule: list[Row] = field(default_factory=list)
    hourly: list[Row] = field(default_factory=list)
    action: Action | None = None
    path_set: bool = False
    planned_path: list[Tile] = field(default_factory=list)
    object_tiles: list[Tile] = field(default_factory=list)
    chatting_with: str | None = None
    chat: list[tuple[str, str]] = field(default_factory=list)
    chat_end: datetime | None = None
    chat_thoughts_due: bool = False
    cooldown: dict[str, int] = field(default_factory=dict)
    importance_trigger_curr: int = -1
    importance_ele_n: int = 0
    ties: dict[str, Tie] = field(default_factory=dict)
    rated: dict[str, int] = field(default_factory=dict)
    talk_memo: dict[str, tuple[str, str]] = field(default_factory=dict)
    deferred: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tile = (int(self.tile[0]), int(self.tile[1]))
        if self.importance_trigger_curr < 0:
            self.importance_trigger_curr = self.params.importance_trigger_max

    # ------------------------------------------------------------------ JSON form
    def to_json(self) -> dict[str, Any]:
        """The JSON form (``version`` :data:`STATE_VERSION`), built afresh."""
        return {
            "version": STATE_VERSION,
            "identity": plain(self.identity),
            "params": plain(self.params),
            "world": self.world,
            "tile": [self.tile[0], self.tile[1]],
            "spatial": self.spatial.to_state(),
            "day": self.day.strftime(_DATE) if self.day else None,
            "wake_hour": self.wake_hour,
            "daily_req": list(self.daily_req),
            "plan_note": self.plan_note,
            "schedule": [r.to_state() for r in self.schedule],
            "hourly": [r.to_state() for r in self.hourly],
            "action": self.action.to_state() if self.action else None,
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
            "ties": self.ties_json(),
            "rated": dict(sorted(self.rated.items())),
            "talk_memo": self.talk_memo_json(),
            "deferred": self.deferred_json(),
        }

    def ties_json(self) -> dict[str, Any]:
        """The ``ties`` part of the JSON form."""
        return {k: t.to_state() for k, t in sorted(self.ties.items())}

    def talk_memo_json(self) -> dict[str, list[str]]:
        """The ``talk_memo`` part of the JSON form."""
        return {k: list(v) for k, v in sorted(self.talk_memo.items())}

    def deferred_json(self) -> dict[str, str]:
        """The ``deferred`` part of the JSON form (ids as strings)."""
        return {str(k): v for k, v in sorted(self.deferred.items())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResidentState:
        """Read the JSON form written by :meth:`to_json` (this version or an older one).

        Raises:
            StoreError: the state is not one this version can read (names the resident and field).
        """
        who = data.get("identity", {}).get("name", "?") if isinstance(data, Mapping) else "?"
        field_name = "version"
        try:
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported state version {data.get('version')!r}")
            field_name = "identity"
            identity = Identity(**data["identity"])
            field_name = "params"
            params = Params(**data["params"])
            field_name = "tile"
            tile = (int(data["tile"][0]), int(data["tile"][1]))
            field_name = "spatial"
            s = cls(
                identity=identity,
                params=params,
                world=str(data["world"]),
                tile=tile,
                spatial=SpatialMemory.from_state(data["spatial"]),
            )
            field_name = "day"
            s.day = datetime.strptime(data["day"], _DATE).date() if data["day"] else None
            s.wake_hour = data["wake_hour"]
            s.daily_req = [str(x) for x in data["daily_req"]]
            s.plan_note = str(data["plan_note"])
            field_name = "schedule"
            s.schedule = [Row.from_state(x) for x in data["schedule"]]
            s.hourly = [Row.from_state(x) for x in data["hourly"]]
            field_name = "action"
            s.action = Action.from_state(data["action"]) if data["action"] else None
            field_name = "planned_path"
            s.path_set = bool(data["path_set"])
            s.planned_path = [(int(t[0]), int(t[1])) for t in data["planned_path"]]
            s.object_tiles = [(int(t[0]), int(t[1])) for t in data["object_tiles"]]
            field_name = "chat"
            s.chatting_with = data["chatting_with"]
            s.chat = [(str(sp), str(u)) for sp, u in data["chat"]]
            s.chat_end = datetime.strptime(data["chat_end"], _TIME) if data["chat_end"] else None
            s.chat_thoughts_due = bool(data["chat_thoughts_due"])
            field_name = "cooldown"
            s.cooldown = {str(k): int(v) for k, v in data["cooldown"].items()}
            field_name = "importance_trigger_curr"
            s.importance_trigger_curr = int(data["importance_trigger_curr"])
            s.importance_ele_n = int(data["importance_ele_n"])
            field_name = "ties"
            s.ties = {str(k): Tie.from_state(v) for k, v in data.get("ties", {}).items()}
            field_name = "rated"
            s.rated = {str(k): int(v) for k, v in data.get("rated", {}).items()}
            field_name = "talk_memo"
            s.talk_memo = {str(k): (str(v[0]), str(v[1])) for k, v in data.get("talk_memo", {}).items()}
            field_name = "deferred"
            s.deferred = {int(k): str(v) for k, v in data.get("deferred", {}).items()}
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            raise StoreError(
                f"stored state of resident {who!r} is unreadable at field {field_name!r}: {err}"
            ) from None
        return s


def state_dumps(value: Any) -> str:
    """JSON text of a state (or a part of one) as the store writes it: compact, keys sorted."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


JSON_PARTS: dict[str, Callable[[ResidentState], Any]] = {
    "identity": lambda s: plain(s.identity),
    "params": lambda s: plain(s.params),
    "world": lambda s: s.world,
    "tile": lambda s: [s.tile[0], s.tile[1]],
    "spatial": lambda s: s.spatial.to_state(),
    "day": lambda s: s.day.strftime(_DATE) if s.day else None,
    "wake_hour": lambda s: s.wake_hour,
    "daily_req": lambda s: list(s.daily_req),
    "plan_note": lambda s: s.plan_note,
    "schedule": lambda s: [r.to_state() for r in s.schedule],
    "hourly": lambda s: [r.to_state() for r in s.hourly],
    "action": lambda s: s.action.to_state() if s.action else None,
    "path_set": lambda s: s.path_set,
    "planned_path": lambda s: [[t[0], t[1]] for t in s.planned_path],
    "object_tiles": lambda s: [[t[0], t[1]] for t in s.object_tiles],
    "chatting_with": lambda s: s.chatting_with,
    "chat": lambda s: [[a, u] for a, u in s.chat],
    "chat_end": lambda s: s.chat_end.strftime(_TIME) if s.chat_end else None,
    "chat_thoughts_due": lambda s: s.chat_thoughts_due,
    "cooldown": lambda s: dict(sorted(s.cooldown.items())),
    "importance_trigger_curr": lambda s: s.importance_trigger_curr,
    "importance_ele_n": lambda s: s.importance_ele_n,
    "ties": lambda s: s.ties_json(),
    "rated": lambda s: dict(sorted(s.rated.items())),
    "talk_memo": lambda s: s.talk_memo_json(),
    "deferred": lambda s: s.deferred_json(),
}
"""Builders of each field's part of the JSON form (the ``version`` key aside), for rebuilding
only the parts of a field that was marked changed (``Resident.to_state``, ``to_state_json``)."""


class PathText:
    """The JSON text of a planned path that is walked from its front, without work per tile walked.

    The text of the whole path is made once (when a new path list is seen); after ``k`` tiles were
    popped from the front of that same list, the text of what is left is a slice of it.
    """

    def __init__(self) -> None:
        self._path: list[Tile] | None = None
        self._tiles: tuple[Tile, ...] = ()
        self._text = "[]"
        self._starts: list[int] = []

    def text(self, path: list[Tile]) -> str:
        """The JSON text of ``path`` (equal to ``state_dumps`` of its list-of-pairs form)."""
        if not path:
            return "[]"
        walked = len(self._tiles) - len(path)
        if path is not self._path or walked < 0 or self._tiles[walked] != path[0]:
            pieces = [f"[{int(x)},{int(y)}]" for x, y in path]
            starts, pos = [], 1
            for piece in pieces:
                starts.append(pos)
                pos += len(piece) + 1
            self._path, self._tiles, self._starts = path, tuple(path), starts
            self._text = "[" + ",".join(pieces) + "]"
            walked = 0
        return "[" + self._text[self._starts[walked] :] if walked else self._text


def plain(obj: Any) -> dict[str, Any]:
    """Fields of a flat dataclass as a dict (no deep copy: the fields are plain values)."""
    return {f: getattr(obj, f) for f in obj.__dataclass_fields__}


def check_marked(name: str, saved: Mapping[str, Any], state: ResidentState) -> None:
    """Fail when ``state`` no longer serialises to ``saved`` (the form the runner will store).

    Args:
        name: the resident (for the message).
        saved: what ``Resident.to_state()`` returns now (cached while nothing was marked).
        state: the live record.

    Raises:
        StateError: naming the fields that changed without being marked.
    """
    fresh = state.to_json()
    if fresh == saved:
        return
    changed = sorted(k for k in fresh.keys() | saved.keys() if fresh.get(k) != saved.get(k))
    raise StateError(
        f"resident {name!r}: state field(s) {', '.join(changed)} changed without being marked; "
        "change the state only through Resident methods"
    )


class Mind(Protocol):
    """What the step modules see of a resident: read-only state and the methods that change it.

    ``aga.minds.resident.Resident`` is the one implementation; the step modules import this
    protocol, never the class, so there is no import cycle between them.
    """

    name: str
    memory: MemoryStream
    _seen_tile: Tile | None
    """Perception bookkeeping (not state): the tile whose view was last learnt."""
    _quiet_scene: tuple[Any, ...] | None
    """Perception bookkeeping (not state): a scene that brought nothing new."""
    _heal_due: bool
    """Bookkeeping (not state): memories may lack an importance or a vector; heal them next think."""

    # read-only state
    @property
    def identity(self) -> Identity: ...
    @property
    def params(self) -> Params: ...
    @property
    def world(self) -> str: ...
    @property
    def tile(self) -> Tile: ...
    @property
    def spatial(self) -> SpatialMemory: ...
    @property
    def day(self) -> date | None: ...
    @property
    def wake_hour(self) -> int | None: ...
    @property
    def daily_req(self) -> Sequence[str]: ...
    @property
    def plan_note(self) -> str: ...
    @property
    def schedule(self) -> list[Row]: ...
    @property
    def hourly(self) -> Sequence[Row]: ...
    @property
    def action(self) -> Action | None: ...
    @property
    def path_set(self) -> bool: ...
    @property
    def planned_path(self) -> Sequence[Tile]: ...
    @property
    def object_tiles(self) -> Sequence[Tile]: ...
    @property
    def chatting_with(self) -> str | None: ...
    @property
    def chat(self) -> Sequence[tuple[str, str]]: ...
    @property
    def chat_end(self) -> datetime | None: ...
    @property
    def chat_thoughts_due(self) -> bool: ...
    @property
    def cooldown(self) -> Mapping[str, int]: ...
    @property
    def importance_trigger_curr(self) -> int: ...
    @property
    def importance_ele_n(self) -> int: ...
    @property
    def ties(self) -> Mapping[str, Tie]: ...
    @property
    def rated(self) -> Mapping[str, int]: ...
    @property
    def talk_memo(self) -> Mapping[str, tuple[str, str]]: ...
    @property
    def deferred(self) -> Mapping[int, str]: ...

    # derived facts
    @property
    def home_sector(self) -> str: ...
    @property
    def home_arena(self) -> str: ...
    @property
    def sleeping(self) -> bool: ...
    def arrived(self) -> bool: ...

    # changes (each marks the state)
    def plan_day(self, day: date, wake_hour: int, daily_req: list[str], rows: list[Row]) -> None: ...
    def set_identity(self, identity: Identity) -> None: ...
    def set_plan_note(self, note: str) -> None: ...
    def set_schedule(self, rows: list[Row]) -> None: ...
    def set_action(self, action: Action) -> None: ...
    def extend_action(self, end: datetime) -> None: ...
    def set_path(self, path: list[Tile], object_tiles: list[Tile]) -> None: ...
    def step_along(self) -> None: ...
    def start_chat(
        self, other: str, lines: list[tuple[str, str]], end: datetime, cooldown_end: int
    ) -> None: ...
    def set_cooldown(self, other: str, step: int) -> None: ...
    def end_chat(self) -> None: ...
    def chat_thoughts_done(self) -> None: ...
    def count_event(self, importance: int | None) -> None: ...
    def spend_importance(self, importance: int) -> None: ...
    def restart_reflection(self) -> int: ...
    def set_tie(self, other: str, tie: Tie) -> None: ...
    def remember_ratings(self, ratings: Mapping[str, int], cap: int | None = None) -> None: ...
    def defer_rating(self, node_id: int, text: str) -> None: ...
    def clear_deferred(self) -> None: ...
    def set_talk_memo(self, key: str, situation: tuple[str, str] | None) -> None: ...
    def log_action(self, entry: ActionLogEntry) -> None: ...


@dataclass(frozen=True)
class ActionLogEntry:
    """One action start, for the metrics' ``<Full Name>.json`` file (the AGA action log).

    Attributes:
        task: the schedule row's text, or ``"react"`` / ``"chat"``.
        parent: the row's parent activity (None for reactions and chats).
        is_new: False when the action came from the Lifestyle Policy's store.
        duration: minutes.
        time: game time of the start, ``YYYY-mm-dd HH:MM:SS``.
        chat: ``{"person", "message"}`` for a chat, else empty.
    """

    task: str
    parent: str | None
    is_new: bool
    duration: int
    time: str
    chat: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """The field ``key``, as in the stored record (``entry["task"]``)."""
        return self.to_dict()[key]

    def to_dict(self) -> dict[str, Any]:
        """The stored record."""
        return {
            "task": self.task,
            "parent": self.parent,
            "is_new": self.is_new,
            "duration": self.duration,
            "time": self.time,
            "chat": dict(self.chat),
        }
