"""PNG charts of a report, drawn with Pillow: the knowers of each fact over time, and each
day's timeline per resident (asleep, at the workplace, chatting, elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from aga.eval.records import SimRecords, days_of

_W, _H, _M = 720, 300, 48
_COLOURS = [(200, 60, 60), (40, 110, 200), (60, 160, 80), (200, 140, 30), (130, 70, 170)]
_STATE = {"asleep": (60, 70, 130), "work": (70, 160, 90), "chat": (235, 150, 40), "other": (200, 200, 200)}


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default()


def diffusion_chart(diffusion: Sequence[Mapping[str, Any]], residents: int, path: Path) -> None:
    """Knowers over game time, one line per fact."""
    img = Image.new("RGB", (_W, _H), "white")
    d = ImageDraw.Draw(img)
    font = _font()
    curves = [(f["fact"], [(datetime.fromisoformat(t), n) for t, n in f["curve"]]) for f in diffusion]
    times = [t for _, c in curves for t, _ in c]
    if not times:
        d.text((_M, _H // 2), "no seeded facts declared by the base", fill="black", font=font)
        img.save(path)
        return
    t0, t1 = min(times), max(times)
    span = max((t1 - t0).total_seconds(), 1.0)
    top = max(residents, 1)
    x0, y0, x1, y1 = _M, _M // 2, _W - _M // 2, _H - _M

    def xy(t: datetime, n: int) -> tuple[float, float]:
        return (x0 + (x1 - x0) * (t - t0).total_seconds() / span, y1 - (y1 - y0) * n / top)

    d.rectangle([x0, y0, x1, y1], outline=(150, 150, 150))
    for n in range(top + 1):
        y = xy(t0, n)[1]
        d.line([x0 - 4, y, x0, y], fill="black")
        d.text((8, y - 6), str(n), fill="black", font=font)
    d.text((x0, y1 + 8), t0.strftime("%b %d %H:%M"), fill="black", font=font)
    d.text((x1 - 70, y1 + 8), t1.strftime("%b %d %H:%M"), fill="black", font=font)
    d.text((x0, 6), "residents who know each fact (from memories / chats)", fill="black", font=font)
    for i, (name, pts) in enumerate(curves):
        colour = _COLOURS[i % len(_COLOURS)]
        line: list[tuple[float, float]] = []
        for (ta, na), (tb, _) in zip(pts, [*pts[1:], pts[-1]]):
            line += [xy(ta, na), xy(tb, na)]
        if len(line) >= 2:
            d.line(line, fill=colour, width=2)
        d.text((x1 - 120, y0 + 6 + 14 * i), f"- {name}", fill=colour, font=font)
    img.save(path)


def day_chart(rec: SimRecords, day: datetime, path: Path) -> None:
    """One row per resident over the day: asleep, at the workplace, chatting, elsewhere."""
    rows = rec.residents
    h = _M + 28 * len(rows) + 30
    img = Image.new("RGB", (_W, h), "white")
    d = ImageDraw.Draw(img)
    font = _font()
    x0, x1 = 130, _W - 16
    d.text((x0, 6), f"{day:%b %d}: asleep / at workplace / chatting / elsewhere", fill="black", font=font)
    for hour in range(0, 25, 3):
        x = x0 + (x1 - x0) * hour / 24
        d.line([x, 24, x, h - 24], fill=(230, 230, 230))
        d.text((x - 8, h - 20), f"{hour:02d}", fill="black", font=font)
    for i, who in enumerate(rows):
        y = 30 + 28 * i
        d.text((8, y + 4), who[:20], fill="black", font=font)
        work = rec.workplaces.get(who)
        for mv in rec.moves.get(who, []):
            if mv.time.date() != day.date():
                continue
            state = (
                "chat" if mv.chat else "asleep" if mv.asleep else "work" if work and mv.at(work) else "other"
            )
            sec = (mv.time - day).total_seconds()
            xa = x0 + (x1 - x0) * sec / 86400
            xb = x0 + (x1 - x0) * (sec + rec.sec_per_step) / 86400
            d.rectangle([xa, y, max(xb, xa + 0.5), y + 18], fill=_STATE[state])
    img.save(path)


def draw_all(rec: SimRecords, report: Mapping[str, Any], folder: Path) -> list[str]:
    """Write every chart into ``folder``; returns the file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = ["diffusion.png"]
    diffusion_chart(report["diffusion"], len(rec.residents), folder / names[0])
    for day in days_of(rec):
        name = f"day_{day:%Y-%m-%d}.png"
        day_chart(rec, day, folder / name)
        names.append(name)
    return names
