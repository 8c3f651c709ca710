"""The plain data of a town, as read from a file, built by a generator or imported.

:class:`TownData` is what the loaders produce and the writer saves; :class:`aga.world.town.Town`
is built from it. Grids are numpy arrays indexed ``[y, x]``; id 0 means "nothing".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Tile = tuple[int, int]

# The ground grid: one character per tile. Walkable characters first.
GROUND_WALKABLE = {".": "floor", "+": "door", ",": "grass", ":": "path"}
GROUND_BLOCKED = {"#": "wall", "T": "tree", "~": "water", "=": "fence"}
GROUND_CHARS = {**GROUND_WALKABLE, **GROUND_BLOCKED}
LEVELS = ("world", "sector", "arena", "object")


@dataclass
class TownData:
    """Everything a town file says, in arrays.

    Attributes:
        name: short name of the town ("the_ville").
        world: world-level name used in addresses ("the Ville").
        width: columns. height: rows.
        ground: ``(height, width)`` array of ground characters (``uint8`` codes of
            :data:`GROUND_CHARS`); walkable iff the character is in :data:`GROUND_WALKABLE`.
        sectors: sector names; sector id ``k`` is ``sectors[k - 1]``.
        arenas: ``(sector id, arena name)``; arena id ``k`` is ``arenas[k - 1]``.
        objects: game-object type names; object id ``k`` is ``objects[k - 1]``.
        sector_grid, arena_grid, object_grid: ``(height, width)`` int32 arrays of ids.
        spawns: ``(spawn name, tile)`` pairs.
        source: where the data came from (a file path), for messages.
        lines: line numbers in ``source``: keys ``("sector", s)``, ``("arena", s, a)``.
    """

    name: str
    world: str
    width: int
    height: int
    ground: np.ndarray
    sectors: list[str]
    arenas: list[tuple[int, str]]
    objects: list[str]
    sector_grid: np.ndarray
    arena_grid: np.ndarray
    object_grid: np.ndarray
    spawns: list[tuple[str, Tile]] = field(default_factory=list)
    source: str = "<memory>"
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    @classmethod
    def empty(cls, name: str, world: str, width: int, height: int, fill: str = ".") -> TownData:
        """A town of one ground character and no places."""
        shape = (height, width)
        return cls(
            name=name,
            world=world,
            width=width,
            height=height,
            ground=np.full(shape, ord(fill), dtype=np.uint8),
            sectors=[],
            arenas=[],
            objects=[],
            sector_grid=np.zeros(shape, dtype=np.int32),
            arena_grid=np.zeros(shape, dtype=np.int32),
            object_grid=np.zeros(shape, dtype=np.int32),
        )

    def walkable(self) -> np.ndarray:
        """Boolean ``(height, width)`` array: True where the ground can be walked on."""
        codes = np.array([ord(c) for c in GROUND_WALKABLE], dtype=np.uint8)
        return np.isin(self.ground, codes)

    def where(self, kind: str, key: tuple[str, ...]) -> str:
        """``"<source> line N"`` for a sector/arena when the line is known, else the source."""
        line = self.lines.get((kind, *key))
        return f"{self.source} line {line}" if line else self.source
