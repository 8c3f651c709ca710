"""What a resident knows of the town: sector -> arena -> objects, grown by looking around.

Residents choose places only among known ones; other people's homes and rooms are left out of
the choices (the original filtered houses and rooms by last name; we do the same for any
"<someone>'s house/apartment/room/bedroom" that is not the resident's own).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from aga.world import Town

Tile = tuple[int, int]
Place = tuple[str, str, str]
"""(sector, arena, object); arena and object may be "" when a tile has none."""

_PRIVATE = re.compile(r"'s\b.*\b(house|apartment|room|bedroom)\b", re.IGNORECASE)
_VISIBLE: dict[int, tuple[Any, dict[tuple[Tile, int], frozenset[Place]]]] = {}


def visible_places(town: Town, tile: Tile, radius: int) -> frozenset[Place]:
    """Places on the tiles within ``radius`` of ``tile`` (cached per town, tile and radius)."""
    entry = _VISIBLE.get(id(town))
    if entry is None or entry[0] is not town:
        entry = (town, {})
        _VISIBLE[id(town)] = entry
    cache = entry[1]
    key = (tile, radius)
    found = cache.get(key)
    if found is None:
        found = _places_in_square(town, tile, radius)
        cache[key] = found
    return found


def _places_in_square(town: Town, tile: Tile, radius: int) -> frozenset[Place]:
    """The distinct (sector, arena, object) of a square of tiles, read from the town's grids."""
    d = town.data
    x, y, r = int(tile[0]), int(tile[1]), max(0, int(radius))
    x0, x1 = max(0, x - r), min(town.width, x + r + 1)
    y0, y1 = max(0, y - r), min(town.height, y + r + 1)
    if x0 >= x1 or y0 >= y1:
        return frozenset()
    keys = (
        (d.sector_grid[y0:y1, x0:x1].astype(np.int64) << 40)
        | (d.arena_grid[y0:y1, x0:x1].astype(np.int64) << 20)
        | d.object_grid[y0:y1, x0:x1].astype(np.int64)
    )
    places: set[Place] = set()
    for key in np.unique(keys).tolist():
        s_id, a_id, o_id = key >> 40, (key >> 20) & 0xFFFFF, key & 0xFFFFF
        if not s_id:
            continue
        if a_id:
            a_sector, arena = d.arenas[a_id - 1]
            sector = d.sectors[a_sector - 1]
            places.add((sector, arena, d.objects[o_id - 1] if o_id else ""))
        else:
            places.add((d.sectors[s_id - 1], "", ""))
    return frozenset(places)


def is_others_private(place: str, name: str, last_name: str) -> bool:
    """Whether ``place`` is someone else's home or room (by its name)."""
    if not _PRIVATE.search(place):
        return False
    for who in (name, last_name):
        if who and re.search(rf"\b{re.escape(who)}\b", place, re.IGNORECASE):
            return False
    return True


class SpatialMemory:
    """The known places of one resident."""

    def __init__(self, tree: Mapping[str, Mapping[str, Iterable[str]]] | None = None) -> None:
        self._tree: dict[str, dict[str, set[str]]] = {}
        self._seen: set[Place] = set()
        self.version = 0
        for sector, arenas in (tree or {}).items():
            self.learn(sector)
            for arena, objects in arenas.items():
                self.learn(sector, arena)
                for obj in objects:
                    self.learn(sector, arena, obj)

    def learn(self, sector: str, arena: str = "", obj: str = "") -> None:
        """Remember a sector, and an arena in it, and an object in that."""
        if not sector:
            return
        arenas = self._tree.get(sector)
        if arenas is None:
            arenas = self._tree[sector] = {}
            self.version += 1
        if not arena:
            return
        objects = arenas.get(arena)
        if objects is None:
            objects = arenas[arena] = set()
            self.version += 1
        if obj and obj not in objects:
            objects.add(obj)
            self.version += 1

    def learn_all(self, places: frozenset[Place]) -> bool:
        """Remember every place of a :func:`visible_places` set; True if anything was new."""
        if places <= self._seen:
            return False
        before = self.version
        for sector, arena, obj in places - self._seen:
            self.learn(sector, arena, obj)
        self._seen |= places
        return self.version != before

    def knows(self, sector: str, arena: str = "", obj: str = "") -> bool:
        """Whether this place is known."""
        arenas = self._tree.get(sector)
        if arenas is None:
            return False
        if not arena:
            return True
        objects = arenas.get(arena)
        if objects is None:
            return False
        return not obj or obj in objects

    def sectors(self) -> list[str]:
        """Known sectors, sorted."""
        return sorted(self._tree)

    def arenas(self, sector: str) -> list[str]:
        """Known arenas of ``sector``, sorted."""
        return sorted(self._tree.get(sector, {}))

    def objects(self, sector: str, arena: str) -> list[str]:
        """Known objects of ``sector:arena``, sorted."""
        return sorted(self._tree.get(sector, {}).get(arena, ()))

    def to_state(self) -> dict[str, dict[str, list[str]]]:
        """JSON-able tree with sorted lists."""
        return {
            s: {a: sorted(o) for a, o in sorted(arenas.items())} for s, arenas in sorted(self._tree.items())
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Mapping[str, Iterable[str]]]) -> SpatialMemory:
        """Inverse of :meth:`to_state`."""
        return cls(state)
