"""Shared fixtures of the world tests: the original map folder and small hand-made town files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from reference_data import ORIGINAL_MATRIX, needs

AGA = Path(sys.executable).parent / "aga"

# A 12 x 7 town: a house (sector) with a room and a kitchen, a door to the street.
SMALL_TOWN = """\
format: aga-town/1
name: small
world: Smallworld
size: [12, 7]
sectors:
  House:
    tiles: [0, 0, 8, 5]
    arenas:
      room:
        tiles: [1, 1, 3, 3]
        objects:
          bed: [1, 1, 1, 2]
        spawns:
          sp-A: [1, 1]
      kitchen:
        tiles: [5, 1, 2, 3]
        objects:
          stove: [6, 1]
spawns:
  street: [10, 5]
ground: |
  ########....
  #...#..#....
  #...+..#....
  #...#..+....
  ########....
  ............
  ............
"""


@pytest.fixture
def small_town_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_TOWN, encoding="utf-8")
    return path


def needs_original() -> pytest.MarkDecorator:
    """Skip where the original's map is absent (``../shared`` next to the repo); fail under CI."""
    return needs(ORIGINAL_MATRIX, "the original's map folder")


def run_aga(*args: str) -> subprocess.CompletedProcess:
    """Run the real `aga` entry point. COLUMNS is set wide because the CLI root prints errors with
    rich, which wraps long lines at the terminal width (80 without a terminal)."""
    env = {**os.environ, "COLUMNS": "1000"}
    return subprocess.run([str(AGA), *args], capture_output=True, text=True, timeout=60, env=env)
