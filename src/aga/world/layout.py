"""Compact plans of towns of any size: ``homes`` houses and a proportionate set of public places.

:func:`town_plan` writes the same kind of plan as ``plans/the_ville.yaml`` (buildings, rooms,
objects, doors), which :func:`aga.world.generator.generate_plan` lays out. The town is a grid of
streets: each street is a row of buildings with their entrance on the street side, a two-tile
road below them, and two avenues down the sides joining every street. Public buildings are
spread evenly among the houses, so every neighbourhood has a cafe, a shop and work nearby.

Every house has two bedrooms with two beds each (four residents at most), a living room with a
kitchen corner, and a bathroom. Per house there are, rounded up: a cafe per 15, a market per 20,
a pub per 30, an office per 15, a workshop per 25, a clinic per 40, a park per 25, and one
college with a classroom per 40 houses (and a library).
"""

from __future__ import annotations

import math
import re
from typing import Any

from aga.errors import TownError

MAX_HOMES = 2000
"""Most houses a generated town may have."""
HOME_BEDROOMS = ("bedroom", "second bedroom")
"""The arenas of a house residents live in (two beds each)."""
BEDS_PER_ROOM = 2

_STREETS = (
    "Linden",
    "Alder",
    "Birch",
    "Cedar",
    "Elm",
    "Hazel",
    "Juniper",
    "Larch",
    "Maple",
    "Poplar",
    "Rowan",
    "Spruce",
    "Willow",
    "Aspen",
    "Holly",
    "Laurel",
    "Myrtle",
    "Chestnut",
    "Walnut",
    "Ash",
    "Beech",
    "Cypress",
    "Hawthorn",
    "Magnolia",
    "Sycamore",
    "Quince",
    "Olive",
    "Fir",
    "Pine",
    "Yew",
)
_SUFFIXES = ("Lane", "Row", "Way", "Court", "Street", "Road")
_PLACE_WORDS = (
    "Copper",
    "Lantern",
    "Harbor",
    "Meadow",
    "Juniper",
    "Sparrow",
    "Orchard",
    "Riverside",
    "Tidewater",
    "Hilltop",
    "Bramble",
    "Thistle",
    "Marigold",
    "Kettle",
    "Foxglove",
    "Heron",
    "Clover",
    "Saffron",
    "Bluebell",
    "Ember",
    "Lark",
    "Ridge",
    "Millstone",
    "Wren",
    "Briar",
    "Amber",
    "Fern",
    "Cobble",
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# -- building templates (building-local coordinates; size includes the outer wall) ----------------
_HOME: dict[str, Any] = {
    "size": [12, 11],
    "entrances": [[3, 10]],
    "doors": [[3, 5], [7, 5], [8, 7]],
    "rooms": {
        "bedroom": {"at": [1, 1, 5, 4], "objects": ["bed 1x2 x2", "closet", "desk 2x1"], "spawns": 2},
        "second bedroom": {"at": [7, 1, 4, 4], "objects": ["bed 1x2 x2", "closet"], "spawns": 2},
        "living room": {
            "at": [1, 6, 7, 4],
            "objects": [
                "refrigerator @0/0",
                "cooking area 2x1 @1/0",
                "kitchen sink @3/0",
                "dining table 2x1",
                "sofa 2x1",
            ],
            "spawns": 1,
        },
        "bathroom": {"at": [9, 6, 2, 4], "objects": ["shower", "toilet", "bathroom sink"]},
    },
}


def _hall(room: str, objects: list[str], size: tuple[int, int] = (16, 12)) -> dict[str, Any]:
    w, h = size
    return {
        "size": [w, h],
        "entrances": [[w // 2, h - 1]],
        "rooms": {room: {"at": [1, 1, w - 2, h - 2], "objects": objects, "spawns": 2}},
    }


_PUBLIC: dict[str, tuple[str, dict[str, Any]]] = {
    "cafe": (
        "{} Cafe",
        _hall(
            "cafe",
            [
                "behind the cafe counter 4x1 @1/1",
                "refrigerator @0/0",
                "cooking area 2x1 @2/0",
                "kitchen sink @5/0",
                "cafe customer seating 1x1 x8",
            ],
        ),
    ),
    "market": (
        "{} Market",
        _hall(
            "store",
            [
                "behind the grocery counter 3x1 @0/1",
                "grocery store counter 3x1 @0/2",
                "grocery store shelf 1x3 x4",
            ],
        ),
    ),
    "pub": (
        "The {} Pub",
        _hall(
            "pub",
            [
                "behind the bar counter 5x1 @1/1",
                "shelf 2x1 @0/0",
                "refrigerator @7/0",
                "cooking area 2x1 @9/0",
                "bar customer seating 1x1 x6",
            ],
        ),
    ),
    "office": (
        "{} Offices",
        _hall("office", ["office desk 2x1 x6", "meeting table 3x2", "printer"]),
    ),
    "workshop": (
        "{} Workshop",
        _hall("workshop", ["workbench 3x1 x3", "tool shelf 2x1 x2", "sales counter 3x1 @0/8"]),
    ),
    "clinic": (
        "{} Clinic",
        _hall("clinic", ["reception desk 3x1 @0/1", "examination bed 1x2 x2", "waiting room seating 2x1 x3"]),
    ),
    "park": (
        "{} Park",
        {
            "size": [20, 14],
            "wall": "T",
            "entrances": [[9, 13], [10, 13]],
            "rooms": {
                "park": {
                    "at": [1, 1, 18, 12],
                    "ground": ",",
                    "objects": ["park garden 3x2 x2", "park bench 2x1 x4"],
                    "spawns": 2,
                }
            },
        },
    ),
}
PER_HOMES = {"cafe": 15, "market": 20, "pub": 30, "office": 15, "workshop": 25, "clinic": 40, "park": 25}
"""One public building of each kind per this many houses (rounded up)."""
KINDS = {
    "cafe": "cafe",
    "market": "store",
    "pub": "pub",
    "office": "office",
    "workshop": "workshop",
    "clinic": "clinic",
    "park": "park",
    "college": "classroom",
}
"""Kind of public building -> the arena where its staff work."""


def _college(classrooms: int) -> dict[str, Any]:
    rooms: dict[str, Any] = {
        "library": {
            "at": [1, 1, 11, 13],
            "objects": ["bookshelf 1x3 x4", "library table 2x2 x2", "library sofa 2x1"],
            "spawns": 1,
        }
    }
    doors = [[6, 14]]
    for k in range(classrooms):
        x = 1 + 12 * (k + 1)
        name = "classroom" if classrooms == 1 else f"classroom {k + 1}"
        rooms[name] = {
            "at": [x, 1, 11, 13],
            "objects": [
                "blackboard 4x1 @3/0",
                "classroom podium 2x1 @4/2",
                "classroom student seating 2x1 x6",
            ],
            "spawns": 1,
        }
        doors.append([x + 5, 14])
    width = 1 + 12 * (classrooms + 1)
    rooms["hallway"] = {"at": [1, 15, width - 2, 4], "spawns": 1}
    return {"size": [width, 20], "entrances": [[width // 2, 19]], "doors": doors, "rooms": rooms}


def public_counts(homes: int) -> dict[str, int]:
    """How many public buildings of each kind a town of ``homes`` houses gets."""
    counts = {kind: math.ceil(homes / per) for kind, per in PER_HOMES.items()}
    counts["college"] = 1
    return counts


def classrooms_for(homes: int) -> int:
    """Classrooms of the college of a town of ``homes`` houses."""
    return max(1, math.ceil(homes / 40))


def check_size(homes: int, name: str) -> None:
    """Reject a size or name a generated town cannot have (one line).

    Raises:
        TownError: ``homes`` out of range or ``name`` not a short lowercase name.
    """
    if not 1 <= homes <= MAX_HOMES:
        raise TownError(f"--homes must be between 1 and {MAX_HOMES}, got {homes}")
    if not _NAME.match(name):
        raise TownError(
            f"town name {name!r} must start with a lowercase letter and hold only a-z, 0-9 and '_'"
        )


def town_plan(homes: int, *, name: str, world: str | None = None) -> dict[str, Any]:
    """The plan of a town of ``homes`` houses (see the module docstring).

    Args:
        homes: number of houses (1..:data:`MAX_HOMES`).
        name: short name of the town ("oakfield_100").
        world: world-level name used in addresses (default: the name in words, "Oakfield 100").

    Raises:
        TownError: a bad size or name.
    """
    check_size(homes, name)
    world = world or " ".join(w.capitalize() for w in name.split("_") if w) or name
    if ":" in world:
        raise TownError(f"world name {world!r} must not contain ':'")
    public: list[tuple[str, str, dict[str, Any]]] = []
    used: set[str] = set()
    for kind, count in public_counts(homes).items():
        for k in range(count):
            if kind == "college":
                public.append((kind, f"{world} College", _college(classrooms_for(homes))))
                continue
            pattern, spec = _PUBLIC[kind]
            word = _PLACE_WORDS[(k * 7 + len(kind)) % len(_PLACE_WORDS)]
            label = pattern.format(word)
            n = 2
            while label in used:
                label = pattern.format(f"{word} {_roman(n)}") if "{}" in pattern else f"{label} {n}"
                n += 1
            used.add(label)
            public.append((kind, label, spec))
    public.sort(key=lambda p: (list(KINDS).index(p[0]), p[1]))
    # interleave: public building j goes before house floor((j + 0.5) * homes / len(public))
    slots: dict[int, list[tuple[str, str | None, dict[str, Any]]]] = {}
    for j, item in enumerate(_spread(public)):
        slots.setdefault(int((j + 0.5) * homes / len(public)), []).append(item)
    order: list[tuple[str, str | None, dict[str, Any]]] = []
    for h in range(homes):
        order.extend(slots.get(h, []))
        order.append(("home", None, _HOME))
    return _place(order, name, world)


def _spread(public: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
    """Public buildings in round-robin over kinds, so neighbours differ."""
    by_kind: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for p in public:
        by_kind.setdefault(p[0], []).append(p)
    out = []
    while any(by_kind.values()):
        for kind in list(by_kind):
            if by_kind[kind]:
                out.append(by_kind[kind].pop(0))
    return out


def _roman(n: int) -> str:
    return ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"][n] if n <= 10 else str(n)


def _place(order: list[tuple[str, str | None, dict[str, Any]]], name: str, world: str) -> dict[str, Any]:
    gap, road, margin = 2, 2, 2  # between buildings; road height; border + avenue + grass
    area = sum((spec["size"][0] + gap) * (spec["size"][1] + road + 2) for _k, _n, spec in order)
    widest = max(spec["size"][0] for _k, _n, spec in order)
    row_width = max(widest, 40, int(math.sqrt(area) * 1.1))
    rows: list[list[tuple[str, str | None, dict[str, Any]]]] = [[]]
    used = 0
    for item in order:
        w = item[2]["size"][0]
        if rows[-1] and used + w > row_width:
            rows.append([])
            used = 0
        rows[-1].append(item)
        used += w + gap
    left = margin + road + 1  # border (2), avenue (2), one tile of grass
    width = left + row_width + 1 + road + margin
    sectors: dict[str, Any] = {}
    roads: list[list[int]] = []
    y = margin + 1
    house_no: dict[str, int] = {}
    for r, row in enumerate(rows):
        street = f"{_STREETS[r % len(_STREETS)]} {_SUFFIXES[(r // len(_STREETS)) % len(_SUFFIXES)]}"
        if r >= len(_STREETS) * len(_SUFFIXES):
            street += f" {r // (len(_STREETS) * len(_SUFFIXES)) + 1}"
        height = max(spec["size"][1] for _k, _n, spec in row)
        x = left
        for kind, label, spec in row:
            if kind == "home":
                house_no[street] = house_no.get(street, 0) + 2
                label = f"{house_no[street]} {street}"
            sectors[str(label)] = {**spec, "at": [x, y]}
            x += spec["size"][0] + gap
        road_y = y + height + 1
        roads.append([margin, road_y, width - 2 * margin, road])
        y = road_y + road + 1
    height_total = y + margin
    roads.append([margin, margin, road, height_total - 2 * margin])
    roads.append([width - margin - road, margin, road, height_total - 2 * margin])
    return {
        "name": name,
        "world": world,
        "size": [width, height_total],
        "fill": ",",
        "border": "T",
        "roads": roads,
        "sectors": sectors,
    }


def house_sectors(town: Any) -> list[str]:
    """Sector names of a town's houses (those with every arena of a generated house), in map order."""
    tree = town.tree()
    return [
        s for s, arenas in tree.items() if all(b in arenas for b in HOME_BEDROOMS) and "living room" in arenas
    ]
