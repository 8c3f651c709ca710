"""Town files: round trip, and one clear message naming file and line for each kind of mistake."""

from __future__ import annotations

import numpy as np
import pytest

from aga.errors import TownError
from aga.world import load_town
from aga.world.townfile import dump_town, read_town_file, rectangles, write_town_file

from .conftest import SMALL_TOWN


def write(tmp_path, text, name="t.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_small_town_reads_as_written(small_town_file):
    town = load_town(small_town_file)
    assert (town.name, town.world, town.width, town.height) == ("small", "Smallworld", 12, 7)
    assert town.address((1, 2)) == "Smallworld:House:room:bed"
    assert town.address((2, 2), "object") == ""
    assert town.address((0, 0), "sector") == "Smallworld:House" and town.address((0, 0), "arena") == ""
    assert town.tree() == {"House": {"kitchen": ["stove"], "room": ["bed"]}}
    assert town.spawn_tiles("Smallworld:House:room") == [(1, 1)]
    assert town.spawn_tiles("Smallworld") == [(1, 1), (10, 5)]
    assert not town.is_walkable((0, 0)) and town.is_walkable((4, 2))


def test_dump_and_read_round_trip(tmp_path, small_town_file):
    data = read_town_file(small_town_file)
    out = tmp_path / "again.yaml"
    write_town_file(data, out)
    again = read_town_file(out)
    for field in ("ground", "sector_grid", "arena_grid", "object_grid"):
        assert np.array_equal(getattr(data, field), getattr(again, field))
    assert sorted(data.spawns) == sorted(again.spawns)
    assert dump_town(again) == dump_town(data)


def test_writer_refuses_to_overwrite(tmp_path, small_town_file):
    data = read_town_file(small_town_file)
    with pytest.raises(TownError, match="already exists.*--force"):
        write_town_file(data, small_town_file)
    assert small_town_file.read_text() == SMALL_TOWN


def test_rectangles_cover_a_mask_exactly():
    rng = np.random.default_rng(5)
    mask = rng.random((9, 13)) < 0.5
    back = np.zeros_like(mask)
    for x, y, w, h in rectangles(mask):
        assert not back[y : y + h, x : x + w].any()
        back[y : y + h, x : x + w] = True
    assert np.array_equal(back, mask)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


CASES = [
    # (replacement in SMALL_TOWN, expected message fragment, line marker or None)
    (
        ("      kitchen:\n        tiles: [5, 1, 2, 3]", "      kitchen:\n        tiles: [3, 1, 2, 3]"),
        "arena 'kitchen' of sector 'House' overlaps arena 'room'",
        "      kitchen:",
    ),
    (
        ("          stove: [6, 1]", "          stove: [2, 1]"),
        "object 'stove' at tile (2, 1) is outside",
        "stove:",
    ),
    (("      kitchen:\n", "      room:\n"), "duplicate name 'room'", "      room:\n        tiles: [5"),
    (("  #...+..#....\n", "  #...?..#....\n"), "row 2 column 4: unknown character '?'", "#...?"),
    (
        ("          sp-A: [1, 1]", "          sp-A: [0, 1]"),
        "spawn 'sp-A' at tile (0, 1) lies outside",
        "sp-A",
    ),
    (
        ("        tiles: [1, 1, 3, 3]", "        tiles: [1, 1, 30, 3]"),
        "leaves the 12x7 map",
        "tiles: [1, 1, 30, 3]",
    ),
    (("    arenas:", "    rooms:"), "unknown key 'rooms'", "rooms:"),
    (("  ............\n  ............\n", "  ............\n"), "ground has 6 rows, expected 7", "ground: |"),
    (("size: [12, 7]", "size: [12, x]"), "size must be a whole number", "size:"),
]


@pytest.mark.parametrize("change, message, marker", CASES)
def test_mistakes_name_the_file_and_line(tmp_path, change, message, marker):
    text = SMALL_TOWN.replace(*change)
    assert text != SMALL_TOWN
    path = write(tmp_path, text)
    with pytest.raises(TownError) as err:
        load_town(path)
    line = text[: text.rindex(marker)].count("\n") + 1
    assert str(err.value).startswith(f"{path} line {line}: "), str(err.value)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_sectors_overlapping(tmp_path):
    text = SMALL_TOWN.replace("spawns:\n  street", "  Shed:\n    tiles: [6, 4, 3, 2]\nspawns:\n  street")
    path = write(tmp_path, text)
    with pytest.raises(
        TownError, match=r"line \d+: sector 'Shed' overlaps sector 'House' .* at tile \(6, 4\)"
    ):
        load_town(path)


def test_unreachable_arena_is_named_with_its_line(tmp_path):
    text = SMALL_TOWN.replace("  #...+..#....\n", "  #...#..#....\n")  # brick up the inner door
    path = write(tmp_path, text)
    with pytest.raises(TownError) as err:
        load_town(path)
    line = line_of(text, "      room:")
    assert str(err.value).startswith(
        f"{path} line {line}: arena 'room' of sector 'House' cannot be walked to"
    )
    assert "(and" not in str(err.value)


def test_spawn_on_a_wall_and_bad_yaml(tmp_path):
    path = write(tmp_path, SMALL_TOWN.replace("  street: [10, 5]", "  street: [0, 0]"))
    with pytest.raises(TownError, match="spawn 'street' at tile \\(0, 0\\) is not walkable"):
        load_town(path)
    path = write(tmp_path, "format: aga-town/1\nworld: [unclosed\n", "bad.yaml")
    with pytest.raises(TownError, match=f"{path} line \\d+: not valid YAML"):
        load_town(path)
    path = write(tmp_path, SMALL_TOWN.replace("aga-town/1", "aga-town/9"), "v9.yaml")
    with pytest.raises(TownError, match="unsupported format 'aga-town/9'"):
        load_town(path)
