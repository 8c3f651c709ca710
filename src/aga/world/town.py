"""The town: a tile grid with walls, named places, game objects, spawn points and paths.

Addresses name places at four levels: ``world``, ``world:sector``, ``world:sector:arena`` and
``world:sector:arena:object``. A tile that has nothing at a level has the address ``""`` there
(a street tile has no arena). Every query is total: a tile off the map is "nothing, not walkable".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from aga.world.model import GROUND_WALKABLE, LEVELS, Tile, TownData
from aga.world.paths import PathFinder

_LEVEL_DEPTH = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Reachability:
    """What cannot be walked to from the town's main walkable area.

    Attributes:
        arenas: arena addresses with no walkable tile in the main area.
        objects: ``(object address, tile)`` of object instances none of whose tiles is reachable.
        spawns: ``(spawn name, tile)`` of spawn points outside the main area.
        stray_tiles: walkable tiles outside the main area.
    """

    arenas: tuple[str, ...]
    objects: tuple[tuple[str, Tile], ...]
    spawns: tuple[tuple[str, Tile], ...]
    stray_tiles: int


class Town:
    """An immutable tile world built from :class:`TownData` (see :func:`aga.world.load_town`).

    Attributes:
        name: short name ("the_ville").
        world: world-level name ("the Ville").
        width: number of columns. height: number of rows.
        source: the file it was loaded from (or a description).
    """

    def __init__(self, data: TownData) -> None:
        self.name = data.name
        self.world = data.world
        self.width = data.width
        self.height = data.height
        self.source = data.source
        self._data = data
        self._walk_grid = data.walkable()
        self._walk: list[bool] = self._walk_grid.reshape(-1).tolist()
        self._sec: list[int] = data.sector_grid.reshape(-1).tolist()
        self._are: list[int] = data.arena_grid.reshape(-1).tolist()
        self._obj: list[int] = data.object_grid.reshape(-1).tolist()
        w = data.world
        self._sector_addr = [""] + [f"{w}:{s}" for s in data.sectors]
        self._arena_addr = [""] + [f"{w}:{data.sectors[s - 1]}:{a}" for s, a in data.arenas]
        self._object_names = [""] + list(data.objects)
        n_arenas = len(data.arenas)
        self._place: list[int] = [
            a if a else (n_arenas + s if s else 0) for s, a in zip(self._sec, self._are, strict=True)
        ]
        self._index: dict[str, frozenset[Tile]] | None = None
        self._spawn_index: dict[str, list[Tile]] | None = None
        self._paths: PathFinder | None = None
        self._reach: Reachability | None = None
        self._tree: dict[str, dict[str, list[str]]] | None = None

    # -- tiles ----------------------------------------------------------------------------------
    def _i(self, tile: Tile) -> int:
        x, y = int(tile[0]), int(tile[1])
        if 0 <= x < self.width and 0 <= y < self.height:
            return y * self.width + x
        return -1

    def in_bounds(self, tile: Tile) -> bool:
        """True if ``tile`` lies on the map."""
        return self._i(tile) >= 0

    def is_walkable(self, tile: Tile) -> bool:
        """True if ``tile`` is on the map and can be walked on."""
        i = self._i(tile)
        return i >= 0 and self._walk[i]

    def ground(self, tile: Tile) -> str:
        """The ground character of ``tile`` (see :data:`aga.world.model.GROUND_CHARS`); ``""`` off the map."""
        i = self._i(tile)
        return chr(int(self._data.ground.reshape(-1)[i])) if i >= 0 else ""

    def address(self, tile: Tile, level: str = "object") -> str:
        """The address of ``tile`` cut at ``level``; ``""`` if it has nothing at that level.

        Args:
            tile: ``(x, y)``.
            level: one of ``"world"``, ``"sector"``, ``"arena"``, ``"object"``.
        """
        depth = _LEVEL_DEPTH.get(level)
        if depth is None:
            raise ValueError(f"unknown address level {level!r}; expected one of {', '.join(LEVELS)}")
        i = self._i(tile)
        if i < 0:
            return ""
        if depth == 0:
            return self.world
        if depth == 1:
            return self._sector_addr[self._sec[i]]
        a = self._are[i]
        if depth == 2 or not a:
            return self._arena_addr[a] if depth == 2 else ""
        o = self._obj[i]
        return f"{self._arena_addr[a]}:{self._object_names[o]}" if o else ""

    def place_key(self, tile: Tile) -> int:
        """A small int naming the tile's place: its arena, else its sector, else 0 (street).

        Two tiles have the same key iff their arena-level addresses are equal and, when they have
        no arena, their sector-level addresses are equal. Off the map: -1.
        """
        i = self._i(tile)
        return self._place[i] if i >= 0 else -1

    def nearby(self, tile: Tile, radius: int) -> list[Tile]:
        """Tiles of the axis-aligned square of ``radius`` around ``tile``, clipped to the map, sorted."""
        x, y, r = int(tile[0]), int(tile[1]), max(0, int(radius))
        xs = range(max(0, x - r), min(self.width, x + r + 1))
        ys = range(max(0, y - r), min(self.height, y + r + 1))
        return [(i, j) for i in xs for j in ys]

    # -- addresses ------------------------------------------------------------------------------
    def _build_index(self) -> dict[str, frozenset[Tile]]:
        groups: dict[str, list[Tile]] = {}
        w = self.width
        for i, (s, a, o) in enumerate(zip(self._sec, self._are, self._obj, strict=True)):
            if not s:
                continue
            t = (i % w, i // w)
            groups.setdefault(self._sector_addr[s], []).append(t)
            if a:
                groups.setdefault(self._arena_addr[a], []).append(t)
                if o:
                    groups.setdefault(f"{self._arena_addr[a]}:{self._object_names[o]}", []).append(t)
        index = {k: frozenset(v) for k, v in groups.items()}
        index[self.world] = frozenset((i % w, i // w) for i in range(w * self.height))
        return index

    def _idx(self) -> dict[str, frozenset[Tile]]:
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def tiles(self, address: str) -> frozenset[Tile]:
        """All tiles at ``address`` (any level); an empty set if the address is unknown."""
        return self._idx().get(address, frozenset())

    def has_address(self, address: str) -> bool:
        """True if some tile has ``address`` (at any level)."""
        return address in self._idx()

    def tree(self) -> dict[str, dict[str, list[str]]]:
        """``sector -> arena -> sorted object names`` for the whole town (a fresh copy)."""
        if self._tree is None:
            self._tree = self._build_tree()
        return {s: {a: list(objs) for a, objs in arenas.items()} for s, arenas in self._tree.items()}

    def _build_tree(self) -> dict[str, dict[str, list[str]]]:
        d = self._data
        out: dict[str, dict[str, list[str]]] = {s: {} for s in sorted(d.sectors)}
        pairs = np.unique(np.stack([d.arena_grid.reshape(-1), d.object_grid.reshape(-1)]), axis=1)
        objects: dict[int, set[str]] = {}
        for a, o in pairs.T.tolist():
            if a and o:
                objects.setdefault(a, set()).add(d.objects[o - 1])
        for a_id, (s_id, arena) in sorted(enumerate(d.arenas, 1), key=lambda p: p[1][1]):
            out[d.sectors[s_id - 1]][arena] = sorted(objects.get(a_id, ()))
        return {s: dict(sorted(arenas.items())) for s, arenas in out.items()}

    def sectors(self) -> list[str]:
        """Sector addresses, sorted."""
        return sorted(self._sector_addr[1:])

    def arenas(self) -> list[str]:
        """Arena addresses, sorted."""
        return sorted(self._arena_addr[1:])

    def object_types(self) -> list[str]:
        """Game-object type names, sorted."""
        return sorted(self._data.objects)

    # -- spawn points ---------------------------------------------------------------------------
    def spawn_points(self) -> list[tuple[str, Tile]]:
        """``(name, tile)`` of every spawn point, sorted by tile."""
        return sorted(self._data.spawns, key=lambda p: (p[1], p[0]))

    def spawn_tiles(self, arena_address: str) -> list[Tile]:
        """Sorted spawn tiles inside the place ``arena_address`` (any level); ``[]`` if none."""
        if self._spawn_index is None:
            index: dict[str, list[Tile]] = {}
            for _, tile in self._data.spawns:
                for level in LEVELS:
                    addr = self.address(tile, level)
                    if addr:
                        index.setdefault(addr, []).append(tile)
            self._spawn_index = {k: sorted(set(v)) for k, v in index.items()}
        return list(self._spawn_index.get(arena_address, ()))

    # -- paths ----------------------------------------------------------------------------------
    @property
    def pathfinder(self) -> PathFinder:
        """The shared path finder (built on first use)."""
        if self._paths is None:
            self._paths = PathFinder(self._walk_grid)
        return self._paths

    def path(self, start: Tile, goal: Tile) -> list[Tile]:
        """Shortest 4-connected walking path, both ends included; ``[start]`` if equal; ``[]`` if
        unreachable. No distance cap; deterministic; cached per goal (see :mod:`aga.world.paths`)."""
        return self.pathfinder.path(start, goal)

    def path_to_any(self, start: Tile, goals: Iterable[Tile]) -> list[Tile]:
        """Shortest path to the nearest walkable tile of ``goals``; ``[]`` if none is reachable."""
        return self.pathfinder.path_to_any(start, goals)

    # -- reachability ---------------------------------------------------------------------------
    def components(self) -> tuple[np.ndarray, int]:
        """Label the walkable tiles by 4-connected area: ``(labels[y, x] (0 = blocked), count)``."""
        w, h = self.width, self.height
        walk = self._walk
        labels = [0] * (w * h)
        count = 0
        for seed in range(w * h):
            if not walk[seed] or labels[seed]:
                continue
            count += 1
            labels[seed] = count
            stack = [seed]
            while stack:
                i = stack.pop()
                x = i % w
                for j in (i - w, i + w, i - 1 if x else -1, i + 1 if x + 1 < w else -1):
                    if 0 <= j < w * h and walk[j] and not labels[j]:
                        labels[j] = count
                        stack.append(j)
        return np.asarray(labels, dtype=np.int32).reshape(h, w), count

    def reachability(self) -> Reachability:
        """What lies outside the main walkable area (the one touching the most arenas)."""
        if self._reach is not None:
            return self._reach
        d = self._data
        labels, count = self.components()
        arena_of = d.arena_grid
        touching: dict[int, set[int]] = {}
        if count:
            mask = (labels > 0) & (arena_of > 0)
            pairs = np.unique(np.stack([labels[mask], arena_of[mask]]), axis=1)
            for comp, arena in pairs.T.tolist():
                touching.setdefault(comp, set()).add(arena)
        sizes = np.bincount(labels.reshape(-1), minlength=count + 1)
        main = max(range(1, count + 1), key=lambda c: (len(touching.get(c, ())), sizes[c], -c), default=0)
        reached = touching.get(main, set())
        arenas = tuple(sorted(self._arena_addr[a] for a in range(1, len(d.arenas) + 1) if a not in reached))
        objects = []
        for addr, tiles in sorted(self._idx().items()):
            if addr.count(":") != 3:
                continue
            for inst in _instances(tiles):
                if not any(labels[y, x] == main for x, y in inst):
                    objects.append((addr, min(inst)))
        spawns = tuple(sorted((n, t) for n, t in d.spawns if labels[t[1], t[0]] != main))
        stray = int(sizes[1:].sum() - (sizes[main] if main else 0))
        self._reach = Reachability(arenas, tuple(objects), spawns, stray)
        return self._reach

    def object_instances(self) -> dict[str, list[frozenset[Tile]]]:
        """Object address -> its instances (4-connected groups of tiles of that object)."""
        return {
            addr: _instances(tiles) for addr, tiles in sorted(self._idx().items()) if addr.count(":") == 3
        }

    @property
    def data(self) -> TownData:
        """The underlying arrays (do not modify)."""
        return self._data

    def __repr__(self) -> str:
        return f"Town({self.name!r}, {self.width}x{self.height}, {len(self._data.arenas)} arenas)"


def _instances(tiles: Iterable[Tile]) -> list[frozenset[Tile]]:
    """Split a set of tiles into 4-connected groups, sorted by their smallest tile."""
    left = set(tiles)
    groups: list[frozenset[Tile]] = []
    while left:
        seed = min(left)
        stack, group = [seed], {seed}
        left.discard(seed)
        while stack:
            x, y = stack.pop()
            for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if n in left:
                    left.discard(n)
                    group.add(n)
                    stack.append(n)
        groups.append(frozenset(group))
    return sorted(groups, key=min)


__all__ = ["GROUND_WALKABLE", "Reachability", "Tile", "Town"]
