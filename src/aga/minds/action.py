"""What a resident is doing now (``Action``) and where/how an activity happens (``Grounding``).

Special addresses (as in the original):
    ``"<persona> Name"``   walking to and talking with someone
    ``"<waiting> x y"``    standing still at tile (x, y) until someone is done
Otherwise the address is ``"world:sector:arena:object"`` or, when no object of the arena is
known, ``"world:sector:arena"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
PERSONA_PREFIX = "<persona> "
WAITING_PREFIX = "<waiting> "
CHAT_EMOJI = "💬"
WAIT_EMOJI = "⌛"
DEFAULT_EMOJI = "🙂"


@dataclass(frozen=True)
class Grounding:
    """Where an activity happens and how it shows: the result of grounding one activity text.

    Attributes:
        address: the place (object level when an object was chosen).
        emoji: the activity's emoji.
        event: (predicate, object) of the resident's event; the subject is the resident.
        obj_description: state of the used object ("being used to brew coffee"), or None.
        obj_emoji: the object's emoji, or None.
        obj_event: (predicate, object) of the object's event, or None.
        reused: True when it came from the Lifestyle Policy's store instead of model calls.
    """

    address: str
    emoji: str
    event: tuple[str, str]
    obj_description: str | None = None
    obj_emoji: str | None = None
    obj_event: tuple[str, str] | None = None
    reused: bool = False

    def to_state(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "address": self.address,
            "emoji": self.emoji,
            "event": list(self.event),
            "obj_description": self.obj_description,
            "obj_emoji": self.obj_emoji,
            "obj_event": list(self.obj_event) if self.obj_event else None,
            "reused": self.reused,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Grounding:
        """Inverse of :meth:`to_state`."""
        obj_event = state.get("obj_event")
        ev = state["event"]
        return cls(
            address=str(state["address"]),
            emoji=str(state["emoji"]),
            event=(str(ev[0]), str(ev[1])),
            obj_description=state.get("obj_description"),
            obj_emoji=state.get("obj_emoji"),
            obj_event=(str(obj_event[0]), str(obj_event[1])) if obj_event else None,
            reused=bool(state.get("reused", False)),
        )


@dataclass(slots=True)
class Action:
    """The current action of a resident.

    ``kind`` is "plan" (from the schedule), "chat" or "wait". ``parent`` is the schedule row's
    parent ("root", the decomposed activity, "react") for the action log.
    """

    kind: str
    description: str
    start: datetime
    end: datetime
    grounding: Grounding
    parent: str | None = "root"
    asleep: bool = field(init=False, default=False)
    """Whether this is a planned sleep (computed once; checked every step)."""

    def __post_init__(self) -> None:
        from aga.minds.schedule import is_sleep_text

        self.asleep = self.kind == "plan" and is_sleep_text(self.description)

    @property
    def address(self) -> str:
        """Where the action happens."""
        return self.grounding.address

    @property
    def minutes(self) -> int:
        """Length of the action in whole minutes (at least 1)."""
        return max(1, round((self.end - self.start).total_seconds() / 60))

    def to_state(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "kind": self.kind,
            "description": self.description,
            "start": self.start.strftime(TIME_FORMAT),
            "end": self.end.strftime(TIME_FORMAT),
            "grounding": self.grounding.to_state(),
            "parent": self.parent,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Action:
        """Inverse of :meth:`to_state`."""
        return cls(
            kind=str(state["kind"]),
            description=str(state["description"]),
            start=datetime.strptime(state["start"], TIME_FORMAT),
            end=datetime.strptime(state["end"], TIME_FORMAT),
            grounding=Grounding.from_state(state["grounding"]),
            parent=state.get("parent"),
        )


def is_object_address(address: str) -> bool:
    """True for a 'world:sector:arena:object' address."""
    return not address.startswith("<") and address.count(":") == 3
