"""Importing the original map format: every tile identical; broken folders give one clear error."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from aga.errors import TownError
from aga.world import load_town
from aga.world.ga_import import import_ga_matrix

from .conftest import ORIGINAL_MATRIX, needs_original, run_aga

pytestmark = needs_original()


def read_original(folder: Path):
    """Independent reading of the original files: per-tile (address, blocked)."""
    meta = json.loads((folder / "maze_meta_info.json").read_text())
    w, h = meta["maze_width"], meta["maze_height"]

    def names(kind):
        with open(folder / "special_blocks" / f"{kind}_blocks.csv", newline="") as f:
            return {row[0].strip(): row[-1].strip() for row in csv.reader(f) if row}

    def maze(kind):
        return [v.strip() for v in (folder / "maze" / f"{kind}_maze.csv").read_text().strip().split(",")]

    world = next(iter(names("world").values()))
    sec, are, obj = names("sector"), names("arena"), names("game_object")
    s, a, o, c = maze("sector"), maze("arena"), maze("game_object"), maze("collision")
    tiles = {}
    for i in range(w * h):
        parts = [world]
        for ids, table in ((s, sec), (a, are), (o, obj)):
            if ids[i] == "0":
                break
            parts.append(table[ids[i]])
        tiles[(i % w, i // w)] = (parts, c[i] != "0")
    return w, h, tiles


def test_every_tile_has_the_same_address_and_collision(tmp_path):
    out = tmp_path / "ville.yaml"
    run = run_aga("town", "import-ga", str(ORIGINAL_MATRIX), str(out))
    assert run.returncode == 0, run.stderr
    town = load_town(out)
    w, h, tiles = read_original(ORIGINAL_MATRIX)
    assert (town.width, town.height) == (w, h) == (140, 100)
    levels = ("world", "sector", "arena", "object")
    mismatches = []
    for tile, (parts, blocked) in tiles.items():
        for depth, level in enumerate(levels):
            want = ":".join(parts[: depth + 1]) if depth < len(parts) else ""
            if town.address(tile, level) != want:
                mismatches.append((tile, level, town.address(tile, level), want))
        if town.is_walkable(tile) == blocked:
            mismatches.append((tile, "collision"))
    assert mismatches == [] and len(tiles) == 14000
    assert town.address((72, 14)) == "the Ville:Isabella Rodriguez's apartment:main room:bed"
    assert (72, 14) in town.spawn_tiles("the Ville:Isabella Rodriguez's apartment:main room")


def test_import_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "keep.yaml"
    out.write_text("mine")
    run = run_aga("town", "import-ga", str(ORIGINAL_MATRIX), str(out))
    assert run.returncode == 1 and "already exists" in run.stderr and out.read_text() == "mine"
    run = run_aga("town", "import-ga", str(ORIGINAL_MATRIX), str(out), "--force")
    assert run.returncode == 0 and out.read_text().startswith("# Imported")


@pytest.fixture
def copy_of_matrix(tmp_path) -> Path:
    folder = tmp_path / "matrix"
    shutil.copytree(ORIGINAL_MATRIX, folder)
    for p in folder.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return folder


def test_missing_file(copy_of_matrix):
    (copy_of_matrix / "maze" / "arena_maze.csv").unlink()
    with pytest.raises(TownError, match=r"matrix/maze/arena_maze.csv: missing maze file"):
        import_ga_matrix(copy_of_matrix)


def test_csv_of_the_wrong_length(copy_of_matrix):
    path = copy_of_matrix / "maze" / "sector_maze.csv"
    path.write_text(path.read_text().strip().rsplit(",", 1)[0])
    with pytest.raises(TownError, match=r"sector_maze.csv: has 13999 values, expected 140 x 100 = 14000"):
        import_ga_matrix(copy_of_matrix)


def test_unknown_block_id(copy_of_matrix):
    path = copy_of_matrix / "maze" / "game_object_maze.csv"
    values = path.read_text().strip().split(",")
    values[14 * 140 + 72] = "99999"
    path.write_text(",".join(values))
    with pytest.raises(
        TownError,
        match=r"game_object_maze.csv: tile \(72, 14\) \(value 2033\) has block id 99999, "
        r"which .*game_object_blocks.csv does not list",
    ):
        import_ga_matrix(copy_of_matrix)


def test_nothing_assumes_the_ville(copy_of_matrix, tmp_path):
    """A different size, world name, collision id and block ids are read from the data."""
    w, h = 140, 100
    meta = copy_of_matrix / "maze_meta_info.json"
    meta.write_text(json.dumps({"world_name": "x", "maze_width": 70, "maze_height": 200}))
    (copy_of_matrix / "special_blocks" / "world_blocks.csv").write_text("5, Elsewhere\n")
    for kind in ("collision", "sector", "arena", "game_object", "spawning_location"):
        path = copy_of_matrix / "maze" / f"{kind}_maze.csv"
        text = path.read_text().replace("32125", "7")  # another collision id
        values = text.strip().split(",")
        assert len(values) == w * h
        rows = [",".join(values[i : i + 70]) for i in range(0, w * h, 70)]  # one line per row
        path.write_text("\n".join(rows) + "\n")
    town_data = import_ga_matrix(copy_of_matrix, name="tall")
    assert (town_data.width, town_data.height, town_data.world, town_data.name) == (
        70,
        200,
        "Elsewhere",
        "tall",
    )
    assert int((town_data.ground == ord("#")).sum()) == 2064


def cli(*args: str) -> subprocess.CompletedProcess:
    return run_aga(*args)


def test_cli_errors_are_one_line_and_exit_1(copy_of_matrix, tmp_path):
    path = copy_of_matrix / "maze" / "sector_maze.csv"
    path.write_text(path.read_text().strip() + ",0")
    out = tmp_path / "never.yaml"
    run = cli("town", "import-ga", str(copy_of_matrix), str(out))
    assert run.returncode == 1 and not out.exists()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "sector_maze.csv: has 14001 values" in lines[0], run.stderr

    run = cli("town", "import-ga", str(tmp_path / "nowhere"), str(out))
    assert run.returncode == 1 and "nowhere: not a folder" in run.stderr and not out.exists()
