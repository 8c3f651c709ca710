"""Import a map of the original Generative Agents format ("matrix" folder) into :class:`TownData`.

The folder holds ``maze_meta_info.json`` (width, height, world name), five maze CSVs under
``maze/`` (collision, sector, arena, game object, spawning location: ``width * height`` block ids,
row-major, ``0`` = nothing) and the block registries under ``special_blocks/`` (rows
``id, world[, sector[, arena]], name``: the last column names the block at its level).

Nothing here assumes the Ville: the size comes from the meta file, every non-zero id of the
collision maze blocks the tile, names come from the block files. An arena is identified by its
tile's sector plus the arena block's name, as in the original.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from aga.errors import TownError
from aga.world.model import TownData

MAZES = ("collision", "sector", "arena", "game_object", "spawning_location")
_BLOCKS = {
    "sector": "sector_blocks.csv",
    "arena": "arena_blocks.csv",
    "game_object": "game_object_blocks.csv",
    "spawning_location": "spawning_location_blocks.csv",
}


def _read_meta(folder: Path) -> tuple[int, int, str]:
    path = folder / "maze_meta_info.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TownError(
            f"{path}: missing (an original-format map folder needs maze_meta_info.json)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise TownError(f"{path}: cannot read: {err}") from None
    except json.JSONDecodeError as err:
        raise TownError(f"{path} line {err.lineno}: not valid JSON: {err.msg}") from None
    if not isinstance(meta, dict):
        raise TownError(f"{path}: expected a JSON object")
    dims = []
    for key in ("maze_width", "maze_height"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4096:
            raise TownError(f"{path}: field {key!r} must be a whole number from 1 to 4096, got {value!r}")
        dims.append(value)
    world = meta.get("world_name", "")
    return dims[0], dims[1], world.strip() if isinstance(world, str) else ""


def _read_blocks(path: Path, min_cols: int) -> dict[int, tuple[str, int]]:
    """Block id -> (name = last column, line number)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TownError(f"{path}: missing block file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise TownError(f"{path}: cannot read: {err}") from None
    blocks: dict[int, tuple[str, int]] = {}
    for line_no, row in enumerate(csv.reader(text.splitlines()), 1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) < min_cols:
            raise TownError(
                f"{path} line {line_no}: expected at least {min_cols} columns (id, world, ..., name), got {len(cells)}"
            )
        if not cells[0].lstrip("-").isdigit():
            raise TownError(f"{path} line {line_no}: block id {cells[0]!r} is not a number")
        if not cells[-1]:
            raise TownError(f"{path} line {line_no}: empty name in the last column")
        if ":" in cells[-1]:
            raise TownError(f"{path} line {line_no}: name {cells[-1]!r} contains ':' (the address separator)")
        block = int(cells[0])
        if block in blocks and blocks[block][0] != cells[-1]:
            raise TownError(
                f"{path} line {line_no}: block id {block} already names {blocks[block][0]!r} (line {blocks[block][1]})"
            )
        blocks[block] = (cells[-1], line_no)
    return blocks


def _read_maze(path: Path, width: int, height: int) -> np.ndarray:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TownError(f"{path}: missing maze file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise TownError(f"{path}: cannot read: {err}") from None
    values: list[int] = []
    for line_no, row in enumerate(csv.reader(text.splitlines()), 1):
        for col, cell in enumerate(row, 1):
            cell = cell.strip()
            if not cell:
                if col == len(row):  # a trailing comma
                    continue
                raise TownError(f"{path} line {line_no} value {col}: empty value")
            try:
                values.append(int(cell))
            except ValueError:
                raise TownError(f"{path} line {line_no} value {col}: {cell!r} is not a block id") from None
    expected = width * height
    if len(values) != expected:
        raise TownError(
            f"{path}: has {len(values)} values, expected {width} x {height} = {expected} "
            "(maze_width x maze_height of maze_meta_info.json)"
        )
    return np.asarray(values, dtype=np.int64).reshape(height, width)


def import_ga_matrix(folder: str | Path, *, name: str | None = None) -> TownData:
    """Read an original-format matrix folder into :class:`TownData` (same addresses, same walls).

    Args:
        folder: the ``matrix`` folder (holding ``maze_meta_info.json``, ``maze/``, ``special_blocks/``).
        name: the town's short name; default: the parent folder's name (``the_ville``).

    Raises:
        TownError: a file is missing or malformed, a maze has the wrong length, or a tile uses a
            block id that its block file does not list; the message names the file and the place.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TownError(f"{folder}: not a folder (expected an original-format 'matrix' folder)")
    width, height, meta_world = _read_meta(folder)
    blocks_dir = folder / "special_blocks"
    world_file = blocks_dir / "world_blocks.csv"
    worlds = sorted({n for n, _ in _read_blocks(world_file, 2).values()}) if world_file.exists() else []
    if len(worlds) > 1:
        raise TownError(
            f"{world_file}: names {len(worlds)} different worlds ({', '.join(worlds)}); expected one"
        )
    world = worlds[0] if worlds else meta_world
    if not world:
        raise TownError(
            f"{folder}: no world name (world_blocks.csv and maze_meta_info.json 'world_name' are empty)"
        )
    if ":" in world:
        raise TownError(f"{world_file}: world name {world!r} contains ':' (the address separator)")
    min_cols = {"sector": 3, "arena": 4, "game_object": 3, "spawning_location": 3}
    names = {k: _read_blocks(blocks_dir / f, min_cols[k]) for k, f in _BLOCKS.items()}
    mazes = {k: _read_maze(folder / "maze" / f"{k}_maze.csv", width, height) for k in MAZES}

    def unknown(kind: str) -> None:
        ids = mazes[kind]
        bad = (ids != 0) & ~np.isin(ids, list(names[kind]))
        if bad.any():
            y, x = (int(v[0]) for v in np.nonzero(bad))
            raise TownError(
                f"{folder / 'maze' / f'{kind}_maze.csv'}: tile ({x}, {y}) (value {y * width + x + 1}) has block id "
                f"{int(ids[y, x])}, which {blocks_dir / _BLOCKS[kind]} does not list"
            )

    for kind in _BLOCKS:
        unknown(kind)
    sec, are, obj = mazes["sector"], mazes["arena"], mazes["game_object"]
    for kind, ids, need, level in (("arena", are, sec, "sector"), ("game_object", obj, are, "arena")):
        orphan = (ids != 0) & (need == 0)
        if orphan.any():
            y, x = (int(v[0]) for v in np.nonzero(orphan))
            raise TownError(
                f"{folder / 'maze' / f'{kind}_maze.csv'}: tile ({x}, {y}) has {kind.replace('_', ' ')} "
                f"{names[kind][int(ids[y, x])][0]!r} but no {level}; this format needs one"
            )

    name = name or (folder.parent.name if folder.name == "matrix" else folder.name)
    data = TownData.empty(name, world, width, height)
    data.source = str(folder)
    data.ground[mazes["collision"] != 0] = ord("#")
    # Sectors and arenas by name, numbered in order of first appearance (row-major).
    sector_ids: dict[str, int] = {}
    arena_ids: dict[tuple[int, str], int] = {}
    object_ids: dict[str, int] = {}
    flat_s, flat_a, flat_o = sec.reshape(-1), are.reshape(-1), obj.reshape(-1)
    for i in np.flatnonzero(flat_s).tolist():
        s_name = names["sector"][int(flat_s[i])][0]
        s_id = sector_ids.setdefault(s_name, len(sector_ids) + 1)
        data.sector_grid.flat[i] = s_id
        if flat_a[i]:
            a_id = arena_ids.setdefault((s_id, names["arena"][int(flat_a[i])][0]), len(arena_ids) + 1)
            data.arena_grid.flat[i] = a_id
            if flat_o[i]:
                o_name = names["game_object"][int(flat_o[i])][0]
                data.object_grid.flat[i] = object_ids.setdefault(o_name, len(object_ids) + 1)
    data.sectors = list(sector_ids)
    data.arenas = list(arena_ids)
    data.objects = list(object_ids)
    spawn = mazes["spawning_location"]
    for y, x in zip(*np.nonzero(spawn), strict=True):
        data.spawns.append((names["spawning_location"][int(spawn[y, x])][0], (int(x), int(y))))
    return data
