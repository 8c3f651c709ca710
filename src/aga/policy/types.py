"""Plain data handed across the policy's API: a reused plan and a reusable grounding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Grounding", "PlanHit", "Triple"]

Triple = tuple[str, str | None, str | None]
"""An event triple (subject, predicate, object)."""


@dataclass(frozen=True)
class PlanHit:
    """A stored decomposition found for an activity, fitted to the requested duration.

    Attributes:
        key: the stored activity text that matched. Wrap the subtask names with this text
            (``"<key> (<subtask>)"``) so the grounding store hits on the same action texts.
        exact: True when the texts are equal ignoring case, punctuation, articles and possessive
            determiners (:func:`aga.policy.normalise`); False for a similarity match.
        similarity: cosine similarity of the two key embeddings (1.0 for an exact match).
        subtasks: (subtask name, minutes) in order; minutes sum exactly to the requested duration.
        stored_duration: the duration the decomposition was made for.
        source_sim: provenance: the simulation that registered it.
        source_agent: provenance: the resident it was registered for.
    """

    key: str
    exact: bool
    similarity: float
    subtasks: tuple[tuple[str, int], ...]
    stored_duration: int
    source_sim: str
    source_agent: str


def _triple(value: Any, field: str) -> Triple:
    if not isinstance(value, (list, tuple)) or len(value) != 3 or not isinstance(value[0], str):
        raise ValueError(
            f"grounding field '{field}' must be a (subject, predicate, object) triple, got {value!r}"
        )
    s, p, o = value
    return (s, None if p is None else str(p), None if o is None else str(o))


@dataclass(frozen=True)
class Grounding:
    """Where an action happens and how it shows: what one grounding chain of model calls produced.

    The place is stored as its parts, without the world name, so a grounding made in one town is
    checked (by the caller's ``accept``) against the town of the simulation reusing it.

    Attributes:
        sector: sector name ("Hobbs Cafe").
        arena: arena name ("cafe").
        object: game-object name ("refrigerator"), or "" for an arena-level place.
        emoji: the action's emoji.
        event: the resident's event (subject, predicate, object); the subject is the resident.
        object_state: what the used object is doing ("being used to brew coffee"), or None.
        object_emoji: the object's emoji, or None.
        object_event: the object's event (subject, predicate, object), or None.
    """

    sector: str
    arena: str
    object: str
    emoji: str
    event: Triple
    object_state: str | None = None
    object_emoji: str | None = None
    object_event: Triple | None = None

    def __post_init__(self) -> None:
        if not self.sector.strip() or not self.arena.strip():
            raise ValueError(f"a grounding needs a sector and an arena, got {self.sector!r}, {self.arena!r}")
        if ":" in self.sector + self.arena + self.object:
            raise ValueError(
                f"grounding place parts may not contain ':': {self.sector!r}, {self.arena!r}, {self.object!r}"
            )

    def address(self, world: str) -> str:
        """The full address in ``world``: "world:sector:arena:object" (or ":arena" level without object)."""
        parts = [world, self.sector, self.arena] + ([self.object] if self.object else [])
        return ":".join(parts)

    def for_agent(self, owner: str, agent: str) -> Grounding:
        """This grounding as seen by ``agent`` when it was made for ``owner`` (event subject swapped)."""
        if owner == agent or self.event[0] != owner:
            return self
        _owner, p, o = self.event
        return Grounding(
            self.sector,
            self.arena,
            self.object,
            self.emoji,
            (agent, p, o),
            self.object_state,
            self.object_emoji,
            self.object_event,
        )

    def to_state(self) -> dict[str, Any]:
        """JSON-able form (the store's column)."""
        return {
            "sector": self.sector,
            "arena": self.arena,
            "object": self.object,
            "emoji": self.emoji,
            "event": list(self.event),
            "object_state": self.object_state,
            "object_emoji": self.object_emoji,
            "object_event": list(self.object_event) if self.object_event is not None else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Grounding:
        """Inverse of :meth:`to_state`.

        Raises:
            ValueError: a field is missing or has the wrong shape (the message names it).
        """
        try:
            obj_event = state.get("object_event")
            return cls(
                sector=str(state["sector"]),
                arena=str(state["arena"]),
                object=str(state.get("object") or ""),
                emoji=str(state["emoji"]),
                event=_triple(state["event"], "event"),
                object_state=None if state.get("object_state") is None else str(state["object_state"]),
                object_emoji=None if state.get("object_emoji") is None else str(state["object_emoji"]),
                object_event=None if obj_event is None else _triple(obj_event, "object_event"),
            )
        except KeyError as err:
            raise ValueError(f"grounding record lacks the field {err.args[0]!r}") from err
