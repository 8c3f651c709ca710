"""`aga town show/render/build` through the real entry point (subprocess)."""

from __future__ import annotations

import subprocess

from PIL import Image

from aga.world import load_town
from aga.world.render import render_town

from .conftest import SMALL_TOWN, run_aga


def cli(*args: str) -> subprocess.CompletedProcess:
    return run_aga(*args)


def test_show_the_ville():
    run = cli("town", "show", "the_ville")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "size: 140 x 100 tiles" in out and "sectors: 19" in out and "arenas: 63" in out
    assert "game objects: 46 types" in out and "unreachable: nothing" in out


def test_bad_town_files_fail_with_one_line(tmp_path):
    overlap = tmp_path / "overlap.yaml"
    overlap.write_text(SMALL_TOWN.replace("        tiles: [5, 1, 2, 3]", "        tiles: [3, 1, 2, 3]"))
    unreachable = tmp_path / "closed.yaml"
    unreachable.write_text(SMALL_TOWN.replace("  #...+..#....\n", "  #...#..#....\n"))
    for path, words in (
        (overlap, "overlaps arena 'room'"),
        (unreachable, "arena 'room' of sector 'House' cannot be walked to"),
    ):
        run = cli("town", "show", str(path))
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 1 and len(lines) == 1, run.stderr
        assert str(path) in lines[0] and " line " in lines[0] and words in lines[0]
    run = cli("town", "show", str(tmp_path / "missing.yaml"))
    assert run.returncode == 1 and "not found" in run.stderr


def test_render_writes_a_png(tmp_path, small_town_file):
    out = tmp_path / "pics" / "small.png"
    run = cli("town", "render", str(small_town_file), str(out), "--tile", "10")
    assert run.returncode == 0, run.stderr
    img = Image.open(out)
    assert img.size == (120, 70)
    wall, floor = img.getpixel((5, 5)), img.getpixel((25, 25))
    assert wall != floor


def test_render_function_scales_with_tile_size():
    town = load_town("the_ville")
    assert render_town(town, 4, labels=False).size == (560, 400)


def test_build_regenerates_the_bundled_town(tmp_path):
    from pathlib import Path

    import aga.world

    root = Path(aga.world.__file__).parent
    out = tmp_path / "ville.yaml"
    run = cli("town", "build", str(root / "plans" / "the_ville.yaml"), str(out))
    assert run.returncode == 0, run.stderr
    body = [ln for ln in out.read_text().splitlines() if not ln.startswith("#")]
    bundled = [
        ln for ln in (root / "towns" / "the_ville.yaml").read_text().splitlines() if not ln.startswith("#")
    ]
    assert body == bundled
