"""A plain-text summary of a town: size, places, objects, spawn points, and what is unreachable."""

from __future__ import annotations

from dataclasses import dataclass

from aga.world.town import Town


@dataclass(frozen=True)
class TownSummary:
    """Counts that describe a town (see :func:`summarize`)."""

    name: str
    world: str
    source: str
    width: int
    height: int
    sectors: int
    arenas: int
    object_types: int
    object_instances: int
    walkable_tiles: int
    spawn_points: int
    unreachable_arenas: tuple[str, ...]
    unreachable_objects: tuple[str, ...]
    unreachable_spawns: tuple[str, ...]
    stray_walkable_tiles: int

    def lines(self) -> list[str]:
        """Human-readable lines, one fact per line."""
        out = [
            f"town {self.name} ({self.world}) from {self.source}",
            f"size: {self.width} x {self.height} tiles ({self.walkable_tiles} walkable)",
            f"sectors: {self.sectors}",
            f"arenas: {self.arenas}",
            f"game objects: {self.object_types} types, {self.object_instances} instances",
            f"spawn points: {self.spawn_points}",
        ]
        problems = [
            *(f"  arena {a}" for a in self.unreachable_arenas),
            *(f"  object {o}" for o in self.unreachable_objects),
            *(f"  spawn point {s}" for s in self.unreachable_spawns),
        ]
        if problems:
            out.append("unreachable from the main walkable area:")
            out += problems
        else:
            out.append("unreachable: nothing (every arena, object and spawn point can be walked to)")
        if self.stray_walkable_tiles:
            out.append(f"walkable tiles cut off from the town (outside any use): {self.stray_walkable_tiles}")
        return out


def summarize(town: Town) -> TownSummary:
    """Count the places, objects and spawn points of ``town`` and list what cannot be reached."""
    reach = town.reachability()
    instances = sum(len(v) for v in town.object_instances().values())
    return TownSummary(
        name=town.name,
        world=town.world,
        source=town.source,
        width=town.width,
        height=town.height,
        sectors=len(town.sectors()),
        arenas=len(town.arenas()),
        object_types=len(town.object_types()),
        object_instances=instances,
        walkable_tiles=int(town.data.walkable().sum()),
        spawn_points=len(town.spawn_points()),
        unreachable_arenas=reach.arenas,
        unreachable_objects=tuple(f"{addr} at {tile}" for addr, tile in reach.objects),
        unreachable_spawns=tuple(f"{name} at {tile}" for name, tile in reach.spawns),
        stray_walkable_tiles=reach.stray_tiles,
    )
