"""Lay a town out from a compact plan (buildings, rooms, object lists) into :class:`TownData`.

The plan (see ``plans/the_ville.yaml``) names each building's position and size, its rooms as
interior rectangles, the doors in its walls and what stands in each room ("bed 1x2", "closet x2",
"piano 2x1 @12/12"). The generator draws the walls, digs the doors, places the objects (pinned
ones first; then along the walls; then, for groups of three or more, in spaced rows across the
room), puts spawn points on beds, and paints roads, water and trees. Its output is an ordinary
town file that can be edited by hand afterwards.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from aga.errors import TownError
from aga.world.model import TownData

_OBJECT = re.compile(
    r"^(?P<name>.+?)(?: (?P<w>\d+)x(?P<h>\d+))?(?: x(?P<n>\d+))?(?: @(?P<x>\d+)/(?P<y>\d+))?$"
)
_SPAWN_NAMES = [f"sp-{chr(ord('A') + i)}" for i in range(26)]


class _Plan:
    def __init__(self, path: Path, plan: dict[str, Any]) -> None:
        self.path = path
        self.plan = plan
        width, height = self.pair(plan.get("size"), "size")
        self.data = TownData.empty(
            str(plan.get("name") or path.stem),
            str(plan.get("world") or "world"),
            width,
            height,
            fill=str(plan.get("fill", ",")),
        )
        self.data.source = str(path)

    def fail(self, where: str, message: str) -> TownError:
        return TownError(f"{self.path}: {where}: {message}")

    def pair(self, value: Any, where: str) -> tuple[int, int]:
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
            raise self.fail(where, f"expected [a, b] of whole numbers, got {value!r}")
        return value[0], value[1]

    def rects(self, value: Any, where: str) -> list[tuple[int, int, int, int]]:
        if not value:
            return []
        items = value if value and isinstance(value[0], list) else [value]
        out = []
        for item in items:
            if not (isinstance(item, list) and len(item) in (2, 4) and all(isinstance(v, int) for v in item)):
                raise self.fail(where, f"expected [x, y] or [x, y, w, h], got {item!r}")
            out.append((item[0], item[1], 1, 1) if len(item) == 2 else tuple(item))
        return out

    def paint(self, rects: list[tuple[int, int, int, int]], char: str, ox: int = 0, oy: int = 0) -> None:
        for x, y, w, h in rects:
            self.data.ground[oy + y : oy + y + h, ox + x : ox + x + w] = ord(char)

    # -- the whole town ---------------------------------------------------------------------------
    def build(self) -> TownData:
        d, plan = self.data, self.plan
        border = plan.get("border")
        if border:
            d.ground[:2, :] = d.ground[-2:, :] = ord(border)
            d.ground[:, :2] = d.ground[:, -2:] = ord(border)
        for road in plan.get("roads") or []:
            self.paint(self.rects(road, "roads"), ":")
        decor = plan.get("decor") or {}
        self.paint(self.rects(decor.get("water"), "decor water"), "~")
        self.paint(self.rects(decor.get("trees"), "decor trees"), "T")
        sectors = plan.get("sectors")
        if not isinstance(sectors, dict) or not sectors:
            raise self.fail("sectors", "the plan needs a mapping of sectors")
        for name, spec in sectors.items():
            self.building(str(name), spec)
        return d

    def building(self, sector: str, spec: dict[str, Any]) -> None:
        d = self.data
        bx, by = self.pair(spec.get("at"), f"sector {sector!r} at")
        bw, bh = self.pair(spec.get("size"), f"sector {sector!r} size")
        if bx < 0 or by < 0 or bx + bw > d.width or by + bh > d.height:
            raise self.fail(f"sector {sector!r}", "the building leaves the map")
        if (d.sector_grid[by : by + bh, bx : bx + bw] != 0).any():
            raise self.fail(f"sector {sector!r}", "the building overlaps another building")
        d.sectors.append(sector)
        s_id = len(d.sectors)
        d.sector_grid[by : by + bh, bx : bx + bw] = s_id
        wall = str(spec.get("wall", "#"))
        d.ground[by : by + bh, bx : bx + bw] = ord(wall)
        rooms = spec.get("rooms") or {}
        interiors: dict[str, np.ndarray] = {}
        for room, rspec in rooms.items():
            mask = np.zeros((d.height, d.width), dtype=bool)
            for x, y, w, h in self.rects(rspec.get("at"), f"room {room!r} of {sector!r}"):
                if x < 1 or y < 1 or x + w > bw - 1 or y + h > bh - 1:
                    raise self.fail(f"room {room!r} of {sector!r}", "must stay inside the outer wall")
                mask[by + y : by + y + h, bx + x : bx + x + w] = True
            if (d.arena_grid[mask] != 0).any():
                raise self.fail(f"room {room!r} of {sector!r}", "overlaps another room")
            d.arenas.append((s_id, str(room)))
            d.arena_grid[mask] = len(d.arenas)
            d.ground[mask] = ord(str(rspec.get("ground", ".")))
            interiors[str(room)] = mask
        for room, rspec in rooms.items():  # fences around outdoor rooms
            if rspec.get("fence"):
                ring = _dilate(interiors[str(room)]) & ~interiors[str(room)] & (d.sector_grid == s_id)
                indoor = np.zeros_like(ring)
                for other, m in interiors.items():
                    if other != str(room) and not rooms[other].get("fence"):
                        indoor |= _dilate(m)
                d.ground[ring & ~indoor & (d.ground == ord(wall))] = ord("=")
        door_cells: list[tuple[int, int]] = []
        for kind in ("entrances", "doors"):
            for x, y, w, h in self.rects(spec.get(kind) or [], f"{kind} of {sector!r}"):
                for tx in range(bx + x, bx + x + w):
                    for ty in range(by + y, by + y + h):
                        if d.arena_grid[ty, tx] or d.sector_grid[ty, tx] != s_id:
                            raise self.fail(
                                f"{kind} of {sector!r}",
                                f"({tx - bx}, {ty - by}) is not a wall tile of the building",
                            )
                        d.ground[ty, tx] = ord("+")
                        door_cells.append((tx, ty))
                        if kind == "entrances":
                            self.walkway(tx, ty, s_id)
        for room, rspec in rooms.items():
            self.furnish(sector, str(room), rspec, interiors[str(room)], door_cells, (bx, by))

    def walkway(self, x: int, y: int, s_id: int) -> None:
        """A path from an entrance straight out to the nearest road (stops at anything built)."""
        d = self.data
        sec = d.sector_grid
        for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            nx, ny = x + dx, y + dy
            if 0 <= nx < d.width and 0 <= ny < d.height and sec[ny, nx] == 0:
                cells = []
                while 0 <= nx < d.width and 0 <= ny < d.height and sec[ny, nx] == 0:
                    if d.ground[ny, nx] == ord(":"):
                        break
                    cells.append((nx, ny))
                    nx, ny = nx + dx, ny + dy
                else:
                    return
                for cx, cy in cells:
                    if d.ground[cy, cx] in (ord(","), ord("T")):
                        d.ground[cy, cx] = ord(":")
                return

    def furnish(
        self,
        sector: str,
        room: str,
        spec: dict[str, Any],
        mask: np.ndarray,
        doors: list[tuple[int, int]],
        origin: tuple[int, int],
    ) -> None:
        d = self.data
        ys, xs = np.nonzero(mask)
        rx, ry = int(xs.min()), int(ys.min())
        where = f"room {room!r} of {sector!r}"
        self.paint(self.rects(spec.get("water"), where + " water"), "~", rx, ry)
        self.paint(self.rects(spec.get("trees"), where + " trees"), "T", rx, ry)
        free = mask & np.isin(d.ground, [ord(c) for c in ".,:+"])
        reserved = np.zeros_like(mask)
        for x, y in doors:
            reserved[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2] = True
        objects = spec.get("objects") or []
        parsed = []
        for entry in objects:
            m = _OBJECT.match(str(entry))
            if not m:
                raise self.fail(where, f"cannot read object {entry!r}")
            w, h = int(m["w"] or 1), int(m["h"] or 1)
            pin = (int(m["x"]), int(m["y"])) if m["x"] is not None else None
            parsed.append((m["name"], w, h, int(m["n"] or 1), pin))
        parsed.sort(key=lambda p: p[4] is None)  # pinned first
        for name, w, h, count, pin in parsed:
            if name not in d.objects:
                d.objects.append(name)
            o_id = d.objects.index(name) + 1
            for k in range(count):
                spot = None
                if pin is not None and k == 0:
                    spot = (rx + pin[0], ry + pin[1], w, h)
                    if not self.fits(spot, free, reserved, spaced=False, allow_reserved=True):
                        raise self.fail(where, f"object {name!r} pinned at {pin} does not fit")
                else:
                    spot = self.find(free, reserved, w, h, interior=count >= 3)
                if spot is None:
                    raise self.fail(where, f"no room left for object {name!r} ({w}x{h}, instance {k + 1})")
                x, y, sw, sh = spot
                d.object_grid[y : y + sh, x : x + sw] = o_id
                free[y : y + sh, x : x + sw] = False
        n_spawns = int(spec.get("spawns", 0))
        if n_spawns:
            bed = d.objects.index("bed") + 1 if "bed" in d.objects else -1
            beds = sorted(
                zip(*np.nonzero(mask & (d.object_grid == bed)), strict=True), key=lambda t: (t[0], t[1])
            )
            floor = sorted(
                zip(*np.nonzero(free & ~reserved), strict=True),
                key=lambda t: (abs(t[0] - ys.mean()) + abs(t[1] - xs.mean()), t[0], t[1]),
            )
            cells = [(int(x), int(y)) for y, x in [*beds, *floor]][:n_spawns]
            if len(cells) < n_spawns:
                raise self.fail(where, f"no room for {n_spawns} spawn points")
            d.spawns.extend((_SPAWN_NAMES[i], t) for i, t in enumerate(cells))

    def fits(
        self,
        spot: tuple[int, int, int, int],
        free: np.ndarray,
        reserved: np.ndarray,
        *,
        spaced: bool,
        allow_reserved: bool = False,
    ) -> bool:
        x, y, w, h = spot
        if x < 0 or y < 0 or x + w > free.shape[1] or y + h > free.shape[0]:
            return False
        if not free[y : y + h, x : x + w].all():
            return False
        if not allow_reserved and reserved[y : y + h, x : x + w].any():
            return False
        if spaced:
            around = self.data.object_grid[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1]
            return not around.any()
        return True

    def find(
        self, free: np.ndarray, reserved: np.ndarray, w: int, h: int, *, interior: bool
    ) -> tuple[int, int, int, int] | None:
        # Only the window around the free tiles matters: nothing outside it can fit, and the
        # room's border (walls) separates it from every other room's objects.
        fy, fx = np.nonzero(free)
        if fy.size == 0:
            return None
        y0, x0 = max(0, int(fy.min()) - 2), max(0, int(fx.min()) - 2)
        y1, x1 = int(fy.max()) + 3, int(fx.max()) + 3
        room = free[y0:y1, x0:x1] | (self.data.object_grid[y0:y1, x0:x1] != 0)
        in1, in2 = _eroded(room, 1, (y0, x0), free.shape), _eroded(room, 2, (y0, x0), free.shape)
        ys, xs = np.nonzero(room)
        cells = [(int(y) + y0, int(x) + x0) for y, x in zip(ys, xs, strict=True)]  # row-major = sorted
        edge = [c for c, i in zip(cells, in1[ys, xs].tolist(), strict=True) if not i]
        inner = [
            c for c, i, j in zip(cells, in1[ys, xs].tolist(), in2[ys, xs].tolist(), strict=True) if i and j
        ]
        passes = (
            [(inner, True), (edge, True), (cells, False)]
            if interior
            else [(edge, True), (edge, False), (cells, False)]
        )
        for candidates, spaced in passes:
            for y, x in candidates:
                for sw, sh in ((w, h), (h, w)):
                    if self.fits((x, y, sw, sh), free, reserved, spaced=spaced):
                        return (x, y, sw, sh)
        return None


def _eroded(room: np.ndarray, r: int, origin: tuple[int, int], shape: tuple[int, ...]) -> np.ndarray:
    """For each tile of the window ``room`` (placed at ``origin`` in a map of ``shape``): whether
    every tile within ``r`` belongs to the room and lies on the map (as :func:`_inside`)."""
    h, w = room.shape
    padded = np.zeros((h + 2 * r, w + 2 * r), dtype=bool)
    padded[r : r + h, r : r + w] = room
    out = np.ones_like(room)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out &= padded[dy : dy + h, dx : dx + w]
    y0, x0 = origin
    ys = np.arange(h)[:, None] + y0
    xs = np.arange(w)[None, :] + x0
    out &= (ys - r >= 0) & (xs - r >= 0) & (ys + r < shape[0]) & (xs + r < shape[1])
    return out


def _inside(room: np.ndarray, x: int, y: int, r: int = 1) -> bool:
    """True if every tile within ``r`` of (x, y) belongs to the room."""
    if y - r < 0 or x - r < 0 or y + r >= room.shape[0] or x + r >= room.shape[1]:
        return False
    return bool(room[y - r : y + r + 1, x - r : x + r + 1].all())


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    out[:, 1:] |= out[:, :-1].copy()
    out[:, :-1] |= out[:, 1:].copy()
    return out


def generate_town(plan_path: str | Path) -> TownData:
    """Lay out the town described by a plan file.

    Raises:
        TownError: the plan is malformed or something does not fit (names the building/room).
    """
    path = Path(plan_path)
    try:
        plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TownError(f"{path}: plan file not found") from None
    except yaml.YAMLError as err:
        raise TownError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(plan, dict):
        raise TownError(f"{path}: a plan must be a mapping")
    return _Plan(path, plan).build()


def generate_plan(plan: dict[str, Any], source: str = "<plan>") -> TownData:
    """Lay out a plan given as a mapping (e.g. from :func:`aga.world.layout.town_plan`).

    Raises:
        TownError: something does not fit (names the building/room).
    """
    return _Plan(Path(source), plan).build()
