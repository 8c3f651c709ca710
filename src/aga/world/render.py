"""Draw a town with Pillow: ground, walls, doors, rooms tinted by sector, objects, labels.

:func:`render_town` returns a PIL image, so the same drawing serves ``aga town render`` and,
later, the web viewer's background. Colours are derived from names with sha256, so a place keeps
its colour from run to run and from machine to machine.
"""

from __future__ import annotations

import colorsys
import hashlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aga.errors import InputError
from aga.world.town import Town

_GROUND_RGB = {
    ",": (140, 190, 105),  # grass
    ":": (222, 205, 160),  # path
    ".": (236, 232, 222),  # floor (tinted per sector below)
    "+": (190, 140, 80),  # door
    "#": (70, 72, 86),  # wall
    "=": (150, 105, 60),  # fence
    "~": (90, 150, 210),  # water
    "T": (140, 190, 105),  # tree: drawn on grass
}


def _hue(name: str) -> float:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") / 2**32


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _font(size: int, bold: bool = False) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def _label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    fill: tuple[int, int, int],
    halo: tuple[int, int, int],
    max_width: float,
    *,
    bottom: bool = False,
) -> None:
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > max_width:
            lines.append(line)
            line = word
        else:
            line = trial
    lines.append(line)
    size = getattr(font, "size", 10)
    block = len(lines) * size * 1.15
    top = xy[1] - block if bottom else xy[1] - block / 2
    for i, text_line in enumerate(lines):
        draw.text(
            (xy[0], top + i * size * 1.15),
            text_line,
            font=font,
            fill=fill,
            anchor="mt",
            stroke_width=max(1, size // 7),
            stroke_fill=halo,
        )


def render_town(town: Town, tile: int = 12, *, labels: bool = True) -> Image.Image:
    """Draw ``town`` at ``tile`` pixels per tile.

    Args:
        town: the town.
        tile: tile size in pixels (4..64).
        labels: write sector names (and room names where they fit).

    Returns:
        An RGB image of ``width * tile`` by ``height * tile`` pixels.
    """
    if not 2 <= tile <= 64:
        raise InputError(f"tile size must be from 2 to 64 pixels, got {tile}")
    d = town.data
    h, w = d.height, d.width
    rgb = np.zeros((h, w, 3), dtype=np.uint8)
    for ch, color in _GROUND_RGB.items():
        rgb[d.ground == ord(ch)] = color
    # Rooms: floor tinted by sector hue, each room a little lighter or darker.
    floor = d.ground == ord(".")
    for a_id, (s_id, arena) in enumerate(d.arenas, 1):
        hue = _hue(d.sectors[s_id - 1])
        shade = 0.93 + 0.05 * ((_hue(arena) * 7) % 1.0)
        rgb[(d.arena_grid == a_id) & floor] = _rgb(hue, 0.16, shade)
    sector_only = floor & (d.arena_grid == 0) & (d.sector_grid != 0)
    rgb[sector_only] = (205, 200, 190)
    # Grass: a faint checker so the ground reads as tiles.
    yy, xx = np.mgrid[0:h, 0:w]
    grass = (d.ground == ord(",")) | (d.ground == ord("T"))
    rgb[grass & ((xx + yy) % 2 == 0)] = (132, 182, 98)
    img = Image.fromarray(rgb, "RGB").resize((w * tile, h * tile), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)
    # Trees and water ripples.
    for y, x in zip(*np.nonzero(d.ground == ord("T")), strict=True):
        m = max(1, tile // 8)
        draw.ellipse(
            [x * tile + m, y * tile + m, (x + 1) * tile - m, (y + 1) * tile - m],
            fill=(46, 110, 60),
            outline=(30, 80, 40),
        )
    # Objects: one colour per type, outlined per instance.
    for addr, instances in town.object_instances().items():
        name = addr.rsplit(":", 1)[1]
        fill = _rgb(_hue(name), 0.55, 0.78)
        edge = _rgb(_hue(name), 0.7, 0.45)
        for inst in instances:
            for x, y in inst:
                draw.rectangle([x * tile, y * tile, (x + 1) * tile - 1, (y + 1) * tile - 1], fill=fill)
            for x, y in inst:  # outline only on the instance's outer edges
                x0, y0, x1, y1 = x * tile, y * tile, (x + 1) * tile - 1, (y + 1) * tile - 1
                if (x, y - 1) not in inst:
                    draw.line([x0, y0, x1, y0], fill=edge)
                if (x, y + 1) not in inst:
                    draw.line([x0, y1, x1, y1], fill=edge)
                if (x - 1, y) not in inst:
                    draw.line([x0, y0, x0, y1], fill=edge)
                if (x + 1, y) not in inst:
                    draw.line([x1, y0, x1, y1], fill=edge)
    # Spawn points: a small ring.
    for _, (x, y) in town.spawn_points():
        c = tile // 2
        r = max(2, tile // 4)
        draw.ellipse(
            [x * tile + c - r, y * tile + c - r, x * tile + c + r, y * tile + c + r],
            outline=(200, 30, 60),
            width=max(1, tile // 10),
        )
    if labels and tile >= 6:
        _draw_labels(town, draw, tile)
    return img


def _draw_labels(town: Town, draw: ImageDraw.ImageDraw, tile: int) -> None:
    d = town.data
    room_font = _font(max(7, int(tile * 0.75)))
    sector_font = _font(max(8, int(tile * 1.0)), bold=True)
    for a_id, (_, arena) in enumerate(d.arenas, 1):
        ys, xs = np.nonzero(d.arena_grid == a_id)
        if len(xs) < 12:
            continue
        cx, cy = (xs.min() + xs.max() + 1) / 2 * tile, (ys.min() + ys.max() + 1) / 2 * tile
        _label(
            draw, (cx, cy), arena, room_font, (60, 60, 70), (250, 250, 245), (xs.max() - xs.min() + 1) * tile
        )
    for s_id, sector in enumerate(d.sectors, 1):
        ys, xs = np.nonzero(d.sector_grid == s_id)
        cx = (xs.min() + xs.max() + 1) / 2 * tile
        top = ys.min() * tile
        _label(
            draw,
            (cx, max(top - 2, getattr(sector_font, "size", 10) * 2.4)),
            sector,
            sector_font,
            (255, 255, 255),
            (35, 35, 45),
            max(6 * tile, (xs.max() - xs.min() + 1) * tile),
            bottom=True,
        )


def save_town_png(town: Town, path: str | Path, tile: int = 12) -> Path:
    """Render ``town`` and save it as PNG at ``path`` (parent folders are created)."""
    out = Path(path)
    if out.exists() and out.is_dir():
        raise InputError(f"{out}: is a folder; give a .png file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    render_town(town, tile).save(out, format="PNG", optimize=True)
    return out
