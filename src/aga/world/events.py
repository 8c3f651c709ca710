"""What is happening where: events attached to tiles, with a fast "what is near me" query.

An :class:`Event` is a plain, hashable fact ("Isabella Rodriguez is making coffee", or an idle
refrigerator). :class:`TileEvents` holds the events of one simulation, tile by tile. Its
:meth:`TileEvents.near` answers the perception query of every resident at every step; instead of
scanning the (2r+1)^2 tiles around the resident it looks only at the events filed under the
resident's own place (arena) and coarse map cell, so its cost follows the number of events nearby,
not the vision radius.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from aga.errors import StoreError

if TYPE_CHECKING:
    from aga.world.town import Town

Tile = tuple[int, int]

_CELL_SHIFT = 4  # events are also filed under 16x16-tile cells


def _none_first(value: str | None) -> tuple[int, str]:
    return (0, "") if value is None else (1, value)


@dataclass(frozen=True)
class Event:
    """Something happening at a tile: ``subject predicate object`` plus a free description.

    ``predicate``, ``object`` and ``description`` may be ``None`` (an idle game object). Events
    are ordered by their four fields, ``None`` before any text, so sorting never fails.

    Attributes:
        subject: who or what acts: a resident's name or a game object's full address.
        predicate: the verb ("is"), or ``None`` when idle.
        object: what the subject acts on, or ``None``.
        description: human-readable description, or ``None``.
    """

    subject: str
    predicate: str | None
    object: str | None
    description: str | None

    def sort_key(self) -> tuple[tuple[int, str], ...]:
        """A total-order key in which ``None`` sorts before any text."""
        return (
            (1, self.subject),
            _none_first(self.predicate),
            _none_first(self.object),
            _none_first(self.description),
        )

    def __lt__(self, other: Event) -> bool:
        return self.sort_key() < other.sort_key()

    def __le__(self, other: Event) -> bool:
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: Event) -> bool:
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: Event) -> bool:
        return self.sort_key() >= other.sort_key()


_by_distance_and_tile = itemgetter(0, 1)
"""Sort key of a found ``(distance, tile, event)``: distance, then tile."""


class TileEvents:
    """The events of one simulation, tile by tile. Mutable; plain-data state.

    Besides the tile -> events map, the events are filed under (place, cell) buckets where the
    place is the tile's arena (or its sector / the open street when it has no arena) in the town
    last given to :meth:`near`, and the cell is a 16x16-tile square. The buckets are built the
    first time a town is seen and kept up to date by :meth:`add` and :meth:`remove`.
    """

    def __init__(self) -> None:
        self._by_tile: dict[Tile, set[Event]] = {}
        self._town: Town | None = None
        self._by_place: dict[tuple[int, int, int], dict[Tile, set[Event]]] = {}
        self._by_cell: dict[tuple[int, int], dict[Tile, set[Event]]] = {}
        self._ordered: dict[Tile, tuple[Event, ...]] = {}
        """A tile's events in order, for tiles holding more than one (dropped when it changes)."""
        self._key_of: dict[Tile, tuple[int, int, int]] = {}
        self._stamps: dict[tuple[int, int, int], int] = {}
        """(place, cell) bucket -> the clock at its last change (see :meth:`stamp`)."""
        self._clock = 0
        self._epoch = 0

    # -- mutation -------------------------------------------------------------------------------
    def add(self, tile: Tile, event: Event) -> None:
        """Attach ``event`` to ``tile`` (no effect if it is already there)."""
        tile = (int(tile[0]), int(tile[1]))
        events = self._by_tile.get(tile)
        if events is None:
            events = self._by_tile[tile] = set()
            if self._town is not None:
                self._file(tile, events)
        elif event in events:
            return
        events.add(event)
        self._touch(tile)

    def remove(self, tile: Tile, event: Event) -> None:
        """Detach ``event`` from ``tile`` (no effect if it is not there)."""
        tile = (int(tile[0]), int(tile[1]))
        events = self._by_tile.get(tile)
        if events is None or event not in events:
            return
        events.discard(event)
        self._touch(tile)
        if not events:
            self._drop(tile)

    def remove_subject(self, tile: Tile, subject: str) -> None:
        """Detach every event of ``subject`` from ``tile``."""
        tile = (int(tile[0]), int(tile[1]))
        events = self._by_tile.get(tile)
        if events is None:
            return
        for event in [e for e in events if e.subject == subject]:
            events.discard(event)
        self._touch(tile)
        if not events:
            self._drop(tile)

    # -- queries --------------------------------------------------------------------------------
    def at(self, tile: Tile) -> frozenset[Event]:
        """The events at ``tile`` (empty if none)."""
        events = self._by_tile.get((int(tile[0]), int(tile[1])))
        return frozenset(events) if events else frozenset()

    def tiles(self) -> list[Tile]:
        """Every tile that has at least one event, sorted."""
        return sorted(self._by_tile)

    def __len__(self) -> int:
        return sum(len(events) for events in self._by_tile.values())

    def __iter__(self) -> Iterator[tuple[Tile, Event]]:
        for tile in sorted(self._by_tile):
            for event in sorted(self._by_tile[tile]):
                yield tile, event

    def stamp(self, town: Town, tile: Tile, radius: int) -> tuple[int, ...]:
        """A value that changes whenever the answer of ``near(town, tile, radius)`` (same arena)
        may have: the clock of the last change of each (place, cell) bucket the square touches.
        Equal stamps for the same ``tile`` and ``radius`` mean the same events in view."""
        if self._town is not town:
            self._bind(town)
        x0, y0 = int(tile[0]), int(tile[1])
        r = max(0, int(radius))
        place = town.place_key((x0, y0))
        stamps = self._stamps
        return (
            self._epoch,
            *(
                stamps.get((place, cx, cy), 0)
                for cy in range((y0 - r) >> _CELL_SHIFT, ((y0 + r) >> _CELL_SHIFT) + 1)
                for cx in range((x0 - r) >> _CELL_SHIFT, ((x0 + r) >> _CELL_SHIFT) + 1)
            ),
        )

    def near(
        self, town: Town, tile: Tile, radius: int, *, same_arena: bool = True
    ) -> list[tuple[Tile, Event]]:
        """Events on tiles within the square of ``radius`` around ``tile``.

        Args:
            town: the town the tiles belong to (defines the arenas).
            tile: the observer's tile.
            radius: half the side of the square (8 gives 17x17 tiles); clipped to the map.
            same_arena: keep only tiles in the same arena as ``tile`` (for tiles outside any
                arena: the same sector, or the open street).

        Returns:
            ``(tile, event)`` pairs sorted by (euclidean distance, tile, event).
        """
        if self._town is not town:
            self._bind(town)
        x0, y0 = int(tile[0]), int(tile[1])
        r = max(0, int(radius))
        cx0, cx1 = (x0 - r) >> _CELL_SHIFT, (x0 + r) >> _CELL_SHIFT
        cy0, cy1 = (y0 - r) >> _CELL_SHIFT, (y0 + r) >> _CELL_SHIFT
        place = town.place_key((x0, y0))
        found: list[tuple[float, Tile, Event]] = []
        ordered = self._ordered
        for cy in range(cy0, cy1 + 1):
            for cx in range(cx0, cx1 + 1):
                bucket = self._by_place.get((place, cx, cy)) if same_arena else self._by_cell.get((cx, cy))
                if not bucket:
                    continue
                for t, events in bucket.items():
                    tx, ty = t
                    if abs(tx - x0) <= r and abs(ty - y0) <= r:
                        dist = math.hypot(tx - x0, ty - y0)
                        if len(events) > 1:
                            evs = ordered.get(t)
                            if evs is None:
                                evs = ordered[t] = tuple(sorted(events, key=Event.sort_key))
                            for event in evs:
                                found.append((dist, t, event))
                        else:
                            for event in events:
                                found.append((dist, t, event))
        found.sort(key=_by_distance_and_tile)  # stable: a tile's events stay in event order
        return [(t, e) for _, t, e in found]

    # -- state ----------------------------------------------------------------------------------
    def copy(self) -> TileEvents:
        """An independent snapshot (later changes to either side do not show in the other)."""
        clone = TileEvents()
        clone._by_tile = {tile: set(events) for tile, events in self._by_tile.items()}
        if self._town is not None:
            clone._bind(self._town)
        return clone

    def to_state(self) -> list[list[Any]]:
        """Plain data: ``[[x, y, subject, predicate, object, description], ...]``, sorted."""
        return [[t[0], t[1], e.subject, e.predicate, e.object, e.description] for t, e in self]

    @classmethod
    def from_state(cls, state: list[Any]) -> TileEvents:
        """Rebuild from :meth:`to_state` output.

        Raises:
            StoreError: a row is not ``[x, y, subject, predicate, object, description]``.
        """
        events = cls()
        if not isinstance(state, list):
            raise StoreError(f"tile events state must be a list, got {type(state).__name__}")
        for i, row in enumerate(state):
            ok = (
                isinstance(row, (list, tuple))
                and len(row) == 6
                and all(isinstance(v, int) and not isinstance(v, bool) for v in row[:2])
                and isinstance(row[2], str)
                and all(v is None or isinstance(v, str) for v in row[3:])
            )
            if not ok:
                raise StoreError(
                    f"tile events state row {i}: expected [x, y, subject, predicate, object, "
                    f"description], got {row!r:.200}"
                )
            events.add((row[0], row[1]), Event(row[2], row[3], row[4], row[5]))
        return events

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TileEvents):
            return NotImplemented
        return self._by_tile == other._by_tile

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TileEvents({len(self._by_tile)} tiles, {len(self)} events)"

    # -- index ----------------------------------------------------------------------------------
    def _bind(self, town: Town) -> None:
        self._town = town
        self._by_place = {}
        self._by_cell = {}
        self._key_of = {}
        self._stamps = {}
        self._epoch += 1
        for tile, events in self._by_tile.items():
            self._file(tile, events)

    def _file(self, tile: Tile, events: set[Event]) -> None:
        assert self._town is not None
        cell = (tile[0] >> _CELL_SHIFT, tile[1] >> _CELL_SHIFT)
        place = self._town.place_key(tile)
        key = (place, cell[0], cell[1])
        self._by_place.setdefault(key, {})[tile] = events
        self._by_cell.setdefault(cell, {})[tile] = events
        self._key_of[tile] = key
        self._clock += 1
        self._stamps[key] = self._clock

    def _touch(self, tile: Tile) -> None:
        """A tile's events changed: forget their order, advance its bucket's stamp."""
        self._ordered.pop(tile, None)
        key = self._key_of.get(tile)
        if key is not None:
            self._clock += 1
            self._stamps[key] = self._clock

    def _drop(self, tile: Tile) -> None:
        del self._by_tile[tile]
        if self._town is None:
            return
        self._touch(tile)
        self._key_of.pop(tile, None)
        cell = (tile[0] >> _CELL_SHIFT, tile[1] >> _CELL_SHIFT)
        key = (self._town.place_key(tile), cell[0], cell[1])
        bucket = self._by_place.get(key)
        if bucket is not None:
            bucket.pop(tile, None)
            if not bucket:
                del self._by_place[key]
        cbucket = self._by_cell.get(cell)
        if cbucket is not None:
            cbucket.pop(tile, None)
            if not cbucket:
                del self._by_cell[cell]
