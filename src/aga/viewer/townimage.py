"""The town picture behind the replay: rendered once per town file, kept as PNG on disk.

The file name is a sha256 of the town file's bytes, the tile size and the renderer tag, so an
edited town gets a new picture and an unchanged one is never drawn twice, across server restarts.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aga.world import Town

RENDER_TAG = "aga-viewer-town/1"
MAX_TILE = 24  # pixels per tile in the picture
MAX_SIDE = 6000  # pixels: a big town gets smaller tiles


@dataclass(frozen=True)
class TownPicture:
    """A rendered town: PNG bytes plus the geometry the page needs to place residents."""

    name: str
    width: int  # tiles
    height: int  # tiles
    tile: int  # pixels per tile in the PNG
    etag: str
    png: bytes

    def to_json(self) -> dict[str, object]:
        """Geometry for the API (the PNG itself is served separately)."""
        return {
            "name": self.name,
            "width": self.width,
            "height": self.height,
            "tile": self.tile,
            "etag": self.etag,
        }


def tile_size(width: int, height: int) -> int:
    """Pixels per tile for a town of ``width`` x ``height`` tiles (4..24)."""
    return max(4, min(MAX_TILE, MAX_SIDE // max(width, height, 1)))


class TownImages:
    """Town pictures by town reference, cached in memory and in ``cache_dir``."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._memory: dict[tuple[str, int, int], TownPicture] = {}

    def get(self, ref: str) -> TownPicture:
        """The picture of town ``ref`` (a bundled name or a town file).

        Raises:
            InputError: no such town.
            TownError: the town file is malformed.
        """
        from aga.world import load_town
        from aga.world.loading import resolve_town

        path = resolve_town(ref)
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:  # one drawing at a time; later callers find it done
            found = self._memory.get(key)
            if found is not None:
                return found
            town = load_town(path)
            tile = tile_size(town.width, town.height)
            digest = hashlib.sha256()
            for part in (RENDER_TAG.encode(), str(tile).encode(), path.read_bytes()):
                digest.update(part)
                digest.update(b"\0")
            etag = digest.hexdigest()[:20]
            png = self._load_or_draw(town, tile, etag)
            picture = TownPicture(town.name, town.width, town.height, tile, etag, png)
            self._memory[key] = picture
            return picture

    def _load_or_draw(self, town: Town, tile: int, etag: str) -> bytes:
        from aga.world.render import render_town

        cached = self.cache_dir / f"town-{etag}.png"
        try:
            return cached.read_bytes()
        except OSError:
            pass
        buf = io.BytesIO()
        render_town(town, tile).save(buf, format="PNG")
        png = buf.getvalue()
        tmp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex[:8]}")
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(png)
            os.replace(tmp, cached)
        except OSError:  # a read-only storage folder: keep the picture in memory only
            tmp.unlink(missing_ok=True)
        return png
