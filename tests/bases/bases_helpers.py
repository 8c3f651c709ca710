"""Helpers for the base tests: the original reference data, copies of it, and a CSV town double.

Imported by the test modules as ``bases_helpers`` (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from reference_data import needs

_SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "generative_agents"
FRONTEND = _SHARED / "environment" / "frontend_server"
ORIGINAL_N3 = FRONTEND / "storage" / "base_the_ville_isabella_maria_klaus"
HISTORY_N3 = FRONTEND / "static_dirs" / "assets" / "the_ville" / "agent_history_init_n3.csv"
MATRIX = FRONTEND / "static_dirs" / "assets" / "the_ville" / "matrix"

needs_reference = needs(ORIGINAL_N3, "reference data of the original project")  # fails under CI when absent


class CsvReferenceTown:
    """Test double of ``aga.world.Town``: addresses and walkability read straight from the
    original map's CSVs (only what ``validate_against_town`` needs)."""

    def __init__(self, matrix: Path) -> None:
        def blocks(name: str) -> dict[str, str]:
            with open(matrix / "special_blocks" / name, encoding="utf-8") as handle:
                return {row[0].strip(): row[-1].strip() for row in csv.reader(handle) if row}

        def grid(name: str) -> list[str]:
            return [v.strip() for v in (matrix / "maze" / name).read_text().split(",")]

        self.name = "the_ville"
        self.world = next(iter(blocks("world_blocks.csv").values()))
        sectors, arenas, objects = (
            blocks("sector_blocks.csv"),
            blocks("arena_blocks.csv"),
            blocks("game_object_blocks.csv"),
        )
        sector_ids, arena_ids, object_ids = (
            grid("sector_maze.csv"),
            grid("arena_maze.csv"),
            grid("game_object_maze.csv"),
        )
        self.blocked = {i for i, v in enumerate(grid("collision_maze.csv")) if v != "0"}
        self.addresses: set[str] = {self.world}
        for i, sector_id in enumerate(sector_ids):
            if sector_id == "0":
                continue
            address = f"{self.world}:{sectors[sector_id]}"
            self.addresses.add(address)
            if arena_ids[i] == "0":
                continue
            address += f":{arenas[arena_ids[i]]}"
            self.addresses.add(address)
            if object_ids[i] != "0":
                self.addresses.add(f"{address}:{objects[object_ids[i]]}")

    def has_address(self, address: str) -> bool:
        return address in self.addresses

    def is_walkable(self, tile: tuple[int, int]) -> bool:
        x, y = tile
        return 0 <= x < 140 and 0 <= y < 100 and y * 140 + x not in self.blocked


def copy_original(tmp_path: Path, name: str = "my_copy") -> Path:
    """A writable copy of the original 3-agent storage folder."""
    target = tmp_path / name
    shutil.copytree(ORIGINAL_N3, target)
    return target


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
