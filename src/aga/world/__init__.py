"""The town: tile grid, addresses, spawn points, walking paths, and the events on tiles.

Public API (see docs/architecture.md and docs/towns.md)::

    from aga.world import Town, load_town, TileEvents, Event

    town = load_town("the_ville")          # a bundled town, or a path to a town file
    town.address((72, 14), "arena")        # "the Ville:Isabella Rodriguez's apartment:main room"
    town.path((10, 10), (50, 60))          # shortest 4-connected walk, both ends included
"""

from __future__ import annotations

from aga.world.events import Event, TileEvents
from aga.world.loading import bundled_towns, load_town
from aga.world.model import Tile, TownData
from aga.world.town import Town

__all__ = ["Event", "Tile", "TileEvents", "Town", "TownData", "bundled_towns", "load_town"]
