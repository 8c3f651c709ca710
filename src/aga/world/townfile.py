"""Read and write town files (YAML, format ``aga-town/1``; described in docs/towns.md).

Reading walks the YAML node tree rather than plain loaded data, so every complaint names the
file and the line: duplicate or unknown names, rectangles off the map, overlapping rooms, an
object outside its arena, a bad character in the ground grid.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import yaml

from aga.errors import TownError
from aga.world.model import GROUND_CHARS, TownData

FORMAT = "aga-town/1"
_TOP_KEYS = {"format", "name", "world", "size", "sectors", "spawns", "ground"}
_SECTOR_KEYS = {"tiles", "arenas", "spawns"}
_ARENA_KEYS = {"tiles", "objects", "spawns"}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Reader:
    """Turns the composed YAML of one town file into :class:`TownData`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.src = str(path)

    # -- helpers --------------------------------------------------------------------------------
    def fail(self, node: yaml.Node | None, message: str) -> TownError:
        where = f"{self.src} line {node.start_mark.line + 1}" if node is not None else self.src
        return TownError(f"{where}: {message}")

    def mapping(
        self, node: yaml.Node, what: str, allowed: set[str] | None = None
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of names")
        seen: dict[str, yaml.Node] = {}
        out = []
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"{what}: names must be plain text")
            name = key.value.strip()
            if not name:
                raise self.fail(key, f"{what}: empty name")
            if ":" in name:
                raise self.fail(key, f"{what}: name {name!r} contains ':' (the address separator)")
            if name in seen:
                first = seen[name].start_mark.line + 1
                raise self.fail(key, f"duplicate name {name!r} in {what} (first at line {first})")
            if allowed is not None and name not in allowed:
                raise self.fail(
                    key, f"unknown key {name!r} in {what}; expected one of {', '.join(sorted(allowed))}"
                )
            seen[name] = key
            out.append((name, key, value))
        return out

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
            raise self.fail(node, f"{what} must be non-empty text")
        return node.value.strip()

    def integer(self, node: yaml.Node, what: str) -> int:
        if isinstance(node, yaml.ScalarNode) and re.fullmatch(r"[+-]?\d+", node.value.strip()):
            return int(node.value)
        raise self.fail(node, f"{what} must be a whole number, got {getattr(node, 'value', '?')!r}")

    def region(self, node: yaml.Node, what: str, width: int, height: int) -> np.ndarray:
        """A region: ``[x, y]``, ``[x, y, w, h]`` or a list of those -> boolean mask."""
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be [x, y], [x, y, w, h] or a list of those")
        items = [node] if isinstance(node.value[0], yaml.ScalarNode) else node.value
        mask = np.zeros((height, width), dtype=bool)
        for item in items:
            if not isinstance(item, yaml.SequenceNode) or len(item.value) not in (2, 4):
                raise self.fail(item, f"{what}: expected [x, y] or [x, y, w, h]")
            nums = [self.integer(v, what) for v in item.value]
            x, y, w, h = (*nums, 1, 1) if len(nums) == 2 else nums
            if w < 1 or h < 1:
                raise self.fail(item, f"{what}: width and height must be at least 1, got {w}x{h}")
            if x < 0 or y < 0 or x + w > width or y + h > height:
                raise self.fail(
                    item, f"{what}: rectangle [{x}, {y}, {w}, {h}] leaves the {width}x{height} map"
                )
            mask[y : y + h, x : x + w] = True
        return mask

    # -- the file -------------------------------------------------------------------------------
    def read(self, text: str, default_name: str) -> TownData:
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = f" line {mark.line + 1}" if mark else ""
            raise TownError(f"{self.src}{line}: not valid YAML: {err.problem or err}") from None
        except yaml.YAMLError as err:
            raise TownError(f"{self.src}: not valid YAML: {err}") from None
        if root is None:
            raise TownError(f"{self.src}: the file is empty")
        top = {name: (key, value) for name, key, value in self.mapping(root, "the town file", _TOP_KEYS)}
        for required in ("format", "world", "size", "ground"):
            if required not in top:
                raise self.fail(root, f"missing key {required!r}")
        fmt = self.text(top["format"][1], "format")
        if fmt != FORMAT:
            raise self.fail(top["format"][1], f"unsupported format {fmt!r}; this version reads {FORMAT!r}")
        name = self.text(top["name"][1], "name") if "name" in top else default_name
        world = self.text(top["world"][1], "world")
        if ":" in world:
            raise self.fail(top["world"][1], f"world name {world!r} contains ':' (the address separator)")
        size = top["size"][1]
        if not isinstance(size, yaml.SequenceNode) or len(size.value) != 2:
            raise self.fail(size, "size must be [width, height]")
        width, height = (self.integer(v, "size") for v in size.value)
        if not (1 <= width <= 4096 and 1 <= height <= 4096):
            raise self.fail(size, f"size {width}x{height} is out of range (1..4096 each way)")
        data = TownData.empty(name, world, width, height)
        data.source = self.src
        data.ground = self.ground(top["ground"][1], width, height)
        if "sectors" in top:
            for sector, key, value in self.mapping(top["sectors"][1], "sectors"):
                self.sector(data, sector, key, value)
        if "spawns" in top:
            self.spawns(data, top["spawns"][1], "top-level spawns", None)
        return data

    def ground(self, node: yaml.Node, width: int, height: int) -> np.ndarray:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, "ground must be a block of text lines (use 'ground: |')")
        rows = node.value.split("\n")
        while rows and rows[-1] == "":
            rows.pop()
        first = node.start_mark.line + 2 if node.style == "|" else node.start_mark.line + 1
        if len(rows) != height:
            raise self.fail(node, f"ground has {len(rows)} rows, expected {height} (the size's height)")
        grid = np.empty((height, width), dtype=np.uint8)
        for y, row in enumerate(rows):
            if len(row) != width:
                raise TownError(
                    f"{self.src} line {first + y}: ground row {y} has {len(row)} characters, expected {width}"
                )
            bad = next((c for c in row if c not in GROUND_CHARS), None)
            if bad is not None:
                known = "".join(GROUND_CHARS)
                raise TownError(
                    f"{self.src} line {first + y}: ground row {y} column {row.index(bad)}: unknown character "
                    f"{bad!r} (known: {known!r})"
                )
            grid[y] = np.frombuffer(row.encode("ascii"), dtype=np.uint8)
        return grid

    def sector(self, data: TownData, sector: str, key: yaml.Node, node: yaml.Node) -> None:
        fields = {n: v for n, _, v in self.mapping(node, f"sector {sector!r}", _SECTOR_KEYS)}
        data.sectors.append(sector)
        s_id = len(data.sectors)
        data.lines[("sector", sector)] = key.start_mark.line + 1
        w, h = data.width, data.height
        footprint = (
            self.region(fields["tiles"], f"sector {sector!r} tiles", w, h) if "tiles" in fields else None
        )
        mine = np.zeros((h, w), dtype=bool)
        for arena, akey, anode in self.mapping(
            fields.get("arenas", yaml.ScalarNode("tag:yaml.org,2002:null", "")),
            f"arenas of sector {sector!r}",
        ):
            mine |= self.arena(data, s_id, arena, akey, anode, footprint)
        if footprint is not None:
            mine |= footprint
        if not mine.any():
            raise self.fail(key, f"sector {sector!r} has no tiles (give it 'tiles' or arenas)")
        clash = mine & (data.sector_grid != 0) & (data.sector_grid != s_id)
        if clash.any():
            y, x = _first(clash)
            other = data.sectors[data.sector_grid[y, x] - 1]
            raise self.fail(
                key,
                f"sector {sector!r} overlaps sector {other!r} (line {data.lines[('sector', other)]}) at tile ({x}, {y})",
            )
        data.sector_grid[mine] = s_id
        if "spawns" in fields:
            self.spawns(data, fields["spawns"], f"spawns of sector {sector!r}", mine)

    def arena(
        self,
        data: TownData,
        s_id: int,
        arena: str,
        key: yaml.Node,
        node: yaml.Node,
        footprint: np.ndarray | None,
    ) -> np.ndarray:
        sector = data.sectors[s_id - 1]
        label = f"arena {arena!r} of sector {sector!r}"
        fields = {n: v for n, _, v in self.mapping(node, label, _ARENA_KEYS)}
        if "tiles" not in fields:
            raise self.fail(key, f"{label} has no 'tiles'")
        mask = self.region(fields["tiles"], f"{label} tiles", data.width, data.height)
        if footprint is not None and (mask & ~footprint).any():
            y, x = _first(mask & ~footprint)
            raise self.fail(key, f"{label} reaches outside its sector at tile ({x}, {y})")
        clash = mask & (data.arena_grid != 0)
        if clash.any():
            y, x = _first(clash)
            o_sector_id, other = data.arenas[data.arena_grid[y, x] - 1]
            o_sector = data.sectors[o_sector_id - 1]
            raise self.fail(
                key,
                f"{label} overlaps arena {other!r} of sector {o_sector!r} "
                f"(line {data.lines[('arena', o_sector, other)]}) at tile ({x}, {y})",
            )
        data.arenas.append((s_id, arena))
        a_id = len(data.arenas)
        data.lines[("arena", sector, arena)] = key.start_mark.line + 1
        data.arena_grid[mask] = a_id
        for obj, okey, onode in self.mapping(
            fields.get("objects", yaml.ScalarNode("tag:yaml.org,2002:null", "")), f"objects of {label}"
        ):
            omask = self.region(onode, f"object {obj!r} in {label}", data.width, data.height)
            if (omask & ~mask).any():
                y, x = _first(omask & ~mask)
                raise self.fail(okey, f"object {obj!r} at tile ({x}, {y}) is outside its {label}")
            taken = omask & (data.object_grid != 0)
            if taken.any():
                y, x = _first(taken)
                other = data.objects[data.object_grid[y, x] - 1]
                raise self.fail(
                    okey, f"object {obj!r} overlaps object {other!r} at tile ({x}, {y}) in {label}"
                )
            if obj not in data.objects:
                data.objects.append(obj)
            data.object_grid[omask] = data.objects.index(obj) + 1
        if "spawns" in fields:
            self.spawns(data, fields["spawns"], f"spawns of {label}", mask)
        return mask

    def spawns(self, data: TownData, node: yaml.Node, what: str, inside: np.ndarray | None) -> None:
        walkable = data.walkable()
        for name, key, value in self.mapping(node, what):
            mask = self.region(value, f"spawn {name!r} in {what}", data.width, data.height)
            if inside is not None and (mask & ~inside).any():
                y, x = _first(mask & ~inside)
                raise self.fail(key, f"spawn {name!r} at tile ({x}, {y}) lies outside its place ({what})")
            if (mask & ~walkable).any():
                y, x = _first(mask & ~walkable)
                raise self.fail(
                    key,
                    f"spawn {name!r} at tile ({x}, {y}) is not walkable (ground {chr(data.ground[y, x])!r})",
                )
            ys, xs = np.nonzero(mask)
            data.spawns.extend(
                (name, (int(x), int(y))) for y, x in zip(ys.tolist(), xs.tolist(), strict=True)
            )


def _first(mask: np.ndarray) -> tuple[int, int]:
    """``(y, x)`` of the first True cell in row-major order."""
    ys, xs = np.nonzero(mask)
    return int(ys[0]), int(xs[0])


def read_town_file(path: Path) -> TownData:
    """Parse and check one town file (structure, names, overlaps, containment).

    Raises:
        TownError: the file cannot be read or is malformed; the message names file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TownError(f"{path}: town file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise TownError(f"{path}: cannot read town file: {err}") from None
    return _Reader(path).read(text, default_name=path.stem.removesuffix(".town"))


# -- writing ------------------------------------------------------------------------------------
def rectangles(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cover a boolean mask exactly with ``(x, y, w, h)`` rectangles (row runs merged downwards).

    Only the mask's bounding box is scanned (a region is small next to a big town's map)."""
    done: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], list[int]] = {}  # (x0, x1) -> [y0, height]
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.flatnonzero(mask.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    box = mask[top : int(rows[-1]) + 1, left : int(cols[-1]) + 1]
    height = box.shape[0]
    for y in range(height + 1):
        runs: set[tuple[int, int]] = set()
        if y < height:
            row = np.concatenate([[False], box[y], [False]])
            edges = np.flatnonzero(row[1:] != row[:-1]) + left
            runs = {(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)}
        for run in list(open_runs):
            if run not in runs:
                y0, h = open_runs.pop(run)
                done.append((run[0], y0 + top, run[1] - run[0], h))
        for run in runs:
            if run in open_runs:
                open_runs[run][1] += 1
            else:
                open_runs[run] = [y, 1]
    return sorted(done, key=lambda r: (r[1], r[0]))


def _region_text(mask: np.ndarray) -> str:
    parts = [f"[{x}, {y}]" if w == h == 1 else f"[{x}, {y}, {w}, {h}]" for x, y, w, h in rectangles(mask)]
    return parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"


def _key(name: str) -> str:
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9 '&.,()_/-]*", name) and not name.endswith(" ")
    if plain and yaml.safe_load(name) == name:
        return name
    return json.dumps(name, ensure_ascii=False)


def dump_town(data: TownData, header: str = "") -> str:
    """The town file text of ``data`` (objects and places as rectangles, ground as text rows)."""
    out: list[str] = []
    if header:
        out += [f"# {line}".rstrip() for line in header.strip().splitlines()]
    out += [
        f"format: {FORMAT}",
        f"name: {_key(data.name)}",
        f"world: {_key(data.world)}",
        f"size: [{data.width}, {data.height}]",
        "sectors:",
    ]
    spawn_at = {tile: name for name, tile in data.spawns}
    spawn_order = sorted(spawn_at.items(), key=lambda p: (p[0][1], p[0][0]))
    used_spawns: set[tuple[int, int]] = set()

    def spawn_lines(mask: np.ndarray, indent: str) -> list[str]:
        mine: dict[str, list[tuple[int, int]]] = {}
        for tile, name in spawn_order:
            if tile not in used_spawns and mask[tile[1], tile[0]]:
                mine.setdefault(name, []).append(tile)
                used_spawns.add(tile)
        if not mine:
            return []
        lines = [f"{indent}spawns:"]
        for name, tiles in mine.items():
            m = np.zeros_like(mask)
            for x, y in tiles:
                m[y, x] = True
            lines.append(f"{indent}  {_key(name)}: {_region_text(m)}")
        return lines

    for s_id, sector in enumerate(data.sectors, 1):
        smask = data.sector_grid == s_id
        arena_ids = [a for a, (s, _) in enumerate(data.arenas, 1) if s == s_id]
        union = np.isin(data.arena_grid, arena_ids) if arena_ids else np.zeros_like(smask)
        out.append(f"  {_key(sector)}:")
        if not np.array_equal(union & smask, smask) or not arena_ids:
            out.append(f"    tiles: {_region_text(smask)}")
        if arena_ids:
            out.append("    arenas:")
        for a_id in arena_ids:
            amask = data.arena_grid == a_id
            out.append(f"      {_key(data.arenas[a_id - 1][1])}:")
            out.append(f"        tiles: {_region_text(amask)}")
            present = sorted(
                set(np.unique(data.object_grid[amask]).tolist()) - {0}, key=lambda o: data.objects[o - 1]
            )
            if present:
                out.append("        objects:")
                for o_id in present:
                    out.append(
                        f"          {_key(data.objects[o_id - 1])}: {_region_text(amask & (data.object_grid == o_id))}"
                    )
            out += spawn_lines(amask, "        ")
        out += spawn_lines(smask, "    ")
    rest = spawn_lines(np.ones((data.height, data.width), dtype=bool), "")
    out += rest
    out.append("ground: |")
    out += ["  " + row.tobytes().decode("ascii") for row in data.ground]
    return "\n".join(out) + "\n"


def write_town_file(data: TownData, path: Path, *, header: str = "", force: bool = False) -> None:
    """Write ``data`` to ``path``; refuses to replace an existing file unless ``force``.

    Raises:
        TownError: the file exists (without ``force``) or cannot be written.
    """
    if path.exists() and not force:
        raise TownError(f"{path}: already exists; not overwriting it (use --force to replace it)")
    text = dump_town(data, header)
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise TownError(f"{path}: cannot write town file: {err}") from None
