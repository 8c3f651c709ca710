"""Checks shared by both base formats, and the check of a base against a loaded town.

``check_persona`` and ``check_unique_names`` raise :class:`aga.errors.BaseSimError`;
``validate_against_town`` only returns warnings, because a base may be meant for another town.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from aga.bases.model import BaseSim, Persona
from aga.errors import BaseSimError


class TownLike(Protocol):
    """The part of :class:`aga.world.Town` that the checks use."""

    name: str
    world: str

    def has_address(self, address: str) -> bool:
        """Whether ``world[:sector[:arena[:object]]]`` exists in the town."""
        ...

    def is_walkable(self, tile: tuple[int, int]) -> bool:
        """Whether a resident may stand on ``tile``."""
        ...


def check_persona(persona: Persona, path: Path, line_of_field: dict[str, int] | None = None) -> None:
    """Reject values that have the right type but cannot work (empty names, bad addresses).

    Args:
        persona: the validated persona.
        path: the file it came from (named in the message).
        line_of_field: top-level field -> line, for YAML files.
    """
    lines = line_of_field or {}

    def fail(field: str, problem: str) -> None:
        line = lines.get(field)
        place = f"{path}: line {line}:" if line is not None else f"{path}:"
        raise BaseSimError(f"{place} field '{field}': {problem}")

    for field in ("name", "first_name", "last_name", "innate", "learned", "currently", "lifestyle"):
        if not getattr(persona, field).strip():
            fail(field, "must not be empty")
    parts = persona.living_area.split(":")
    if len(parts) != 3 or not all(part.strip() for part in parts):
        fail("living_area", f"expected 'world:sector:arena', got {persona.living_area!r}")
    if persona.start_tile is not None and min(persona.start_tile) < 0:
        fail("start_tile", f"coordinates must not be negative, got {list(persona.start_tile)}")
    for sector, arenas in persona.known_places.items():
        if not sector.strip() or ":" in sector:
            fail("known_places", f"bad sector name {sector!r} (empty or containing ':')")
        for arena, objects in arenas.items():
            if not arena.strip() or ":" in arena:
                fail("known_places", f"bad arena name {arena!r} in sector {sector!r}")
            for obj in objects:
                if not obj.strip() or ":" in obj:
                    fail("known_places", f"bad object name {obj!r} in {sector}:{arena}")
    for index, memory in enumerate(persona.seed_memories):
        if not memory.strip():
            fail("seed_memories", f"item {index + 1} is empty")
    for field in ("vision_r", "att_bandwidth", "retention", "importance_trigger_max"):
        if getattr(persona, field) < 1:
            fail(field, f"must be at least 1, got {getattr(persona, field)}")
    if not 0.0 < persona.recency_decay <= 1.0:
        fail("recency_decay", f"must be in (0, 1], got {persona.recency_decay}")


def check_unique_names(residents: Sequence[Persona], sources: Sequence[Path]) -> None:
    """Two residents with the same full name would share one memory; reject that.

    Args:
        residents: the personas in base order.
        sources: the file each persona came from, same order.
    """
    first_seen: dict[str, Path] = {}
    for persona, source in zip(residents, sources, strict=True):
        key = persona.name.strip().casefold()
        if key in first_seen:
            raise BaseSimError(
                f"{source}: field 'name': resident {persona.name!r} is already defined in "
                f"{first_seen[key]}; resident names must be unique"
            )
        first_seen[key] = source


def validate_against_town(base: BaseSim, town: TownLike) -> list[str]:
    """Warnings for places of a base that the town lacks (empty list: everything fits).

    Checks, per resident: the living area's world is the town's world and the living area
    exists; every known sector, arena and object exists; a fixed start tile is walkable.
    Also warns when the base names a different town.

    Args:
        base: a loaded base simulation.
        town: a loaded town (``aga.world.load_town(...)``).

    Returns:
        Human-readable warnings, one per problem, in resident order.
    """
    warnings: list[str] = []
    if base.town != town.name:
        warnings.append(f"base {base.name!r} is made for town {base.town!r}, not {town.name!r}")
    world = town.world
    for persona in base.residents:
        who = persona.name
        area_world = persona.living_area.split(":", 1)[0]
        if area_world != world:
            warnings.append(
                f"{who}: living area {persona.living_area!r} is in world {area_world!r}, "
                f"but town {town.name!r} is world {world!r}"
            )
        elif not town.has_address(persona.living_area):
            warnings.append(f"{who}: living area {persona.living_area!r} is not in town {town.name!r}")
        for sector, arenas in persona.known_places.items():
            if not town.has_address(f"{world}:{sector}"):
                warnings.append(f"{who}: known sector {sector!r} is not in town {town.name!r}")
                continue
            for arena, objects in arenas.items():
                if not town.has_address(f"{world}:{sector}:{arena}"):
                    warnings.append(f"{who}: known arena '{sector}:{arena}' is not in town {town.name!r}")
                    continue
                for obj in objects:
                    if not town.has_address(f"{world}:{sector}:{arena}:{obj}"):
                        warnings.append(
                            f"{who}: known object '{sector}:{arena}:{obj}' is not in town {town.name!r}"
                        )
        if persona.start_tile is not None and not town.is_walkable(
            (persona.start_tile[0], persona.start_tile[1])
        ):
            warnings.append(f"{who}: start tile {list(persona.start_tile)} is not walkable in {town.name!r}")
    return warnings
