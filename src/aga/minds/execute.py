"""Phase 4: where the resident steps next. No model calls.

The path is planned once when an action starts and then followed one tile per step:
to the chosen object's tiles (avoiding tiles other residents stand on, when there is a free
one), halfway to the person being talked to, or nowhere while waiting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aga.minds.action import DEFAULT_EMOJI, PERSONA_PREFIX, WAITING_PREFIX, is_object_address
from aga.minds.context import Movement, StepContext, Tile

if TYPE_CHECKING:
    from aga.minds.state import Mind


def target_tiles(r: Mind, ctx: StepContext, address: str) -> list[Tile]:
    """Tiles that would do for ``address``: walkable ones if any, free of others if any."""
    town = ctx.town
    tiles = town.tiles(address)
    if not tiles and address.count(":") == 3:
        tiles = town.tiles(address.rsplit(":", 1)[0])
    if not tiles:
        tiles = town.tiles(r.identity.living_area)
    walkable = [t for t in tiles if town.is_walkable(t)] or list(tiles)
    standing = _standing(ctx)
    own = ctx.views[r.name].tile if r.name in ctx.views else None
    free = [t for t in walkable if standing.get(t, 0) - (t == own) <= 0]
    return sorted(free or walkable)


_STANDING: list[Any] = [None, None]


def _standing(ctx: StepContext) -> dict[Tile, int]:
    """How many residents stand on each tile at the start of the step (built once per step)."""
    if _STANDING[0] is not ctx.views:
        counts: dict[Tile, int] = {}
        for v in ctx.views.values():
            counts[v.tile] = counts.get(v.tile, 0) + 1
        _STANDING[0], _STANDING[1] = ctx.views, counts
    return _STANDING[1]


def plan_path(r: Mind, ctx: StepContext) -> list[Tile]:
    """The tiles to walk for the current action, excluding the current tile."""
    a = r.action
    if a is None:
        return []
    address = a.address
    town = ctx.town
    if address.startswith(WAITING_PREFIX):
        return []
    if address.startswith(PERSONA_PREFIX):
        other = ctx.views.get(address[len(PERSONA_PREFIX) :])
        if other is None:
            return []
        path = town.path(r.tile, other.tile)
        if len(path) <= 2:
            return []
        middle = (len(path) - 1) // 2
        return path[1 : middle + 1]
    goals = target_tiles(r, ctx, address)
    if not is_object_address(address) and goals:
        # an arena without known objects: some tile of it, chosen reproducibly
        goals = [ctx.rng(r.name, "arena tile").choice(goals)]
    if r.tile in goals:
        return []
    path = town.path_to_any(r.tile, goals)
    return path[1:]


def object_tiles(r: Mind, ctx: StepContext) -> list[Tile]:
    """Tiles of the object the current action uses (empty when it uses none)."""
    a = r.action
    if a is None or not is_object_address(a.address):
        return []
    return sorted(ctx.town.tiles(a.address))


def execute(r: Mind, ctx: StepContext) -> Movement:
    """Advance one tile and report the movement in the original's shape."""
    a = r.action
    if a is not None and not r.path_set:
        r.set_path(plan_path(r, ctx), object_tiles(r, ctx))
    r.step_along()
    if a is None:
        return Movement(r.tile, DEFAULT_EMOJI, f"idle @ {r.identity.living_area}", None)
    chat = list(r.chat) if r.chatting_with is not None and r.chat else None
    return Movement(r.tile, a.grounding.emoji, f"{a.description} @ {a.address}", chat)
