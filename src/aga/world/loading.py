"""``load_town``: find a bundled town or a town file, check it, and cache the result."""

from __future__ import annotations

import threading
from pathlib import Path

from aga.errors import InputError, TownError
from aga.world.model import TownData
from aga.world.town import Town
from aga.world.townfile import read_town_file

TOWNS_DIR = Path(__file__).parent / "towns"
_SUFFIX = ".yaml"
_cache: dict[tuple[str, int, int], Town] = {}
_lock = threading.Lock()


def bundled_towns() -> list[str]:
    """Names of the towns shipped with aga (``"the_ville"``, ...)."""
    return sorted(p.name.removesuffix(_SUFFIX) for p in TOWNS_DIR.glob(f"*{_SUFFIX}"))


def resolve_town(name_or_path: str | Path) -> Path:
    """The file of a bundled town name or a path.

    Raises:
        InputError: neither a bundled town nor an existing file.
    """
    text = str(name_or_path)
    candidate = Path(text).expanduser()
    if candidate.is_file():
        return candidate.resolve()
    if "/" not in text and "\\" not in text:
        bundled = TOWNS_DIR / f"{text.removesuffix(_SUFFIX)}{_SUFFIX}"
        if bundled.is_file():
            return bundled.resolve()
    if candidate.exists():
        raise InputError(f"{text}: is not a town file (it is a folder)")
    known = ", ".join(bundled_towns()) or "none"
    raise InputError(
        f"town {text!r} not found: no such file and no bundled town of that name (bundled: {known})"
    )


def check_town(town: Town) -> None:
    """Refuse a town in which some arena cannot be walked to.

    Raises:
        TownError: names the file, the arena and its line.
    """
    unreachable = town.reachability().arenas
    if unreachable:
        data = town.data
        first = unreachable[0]
        _, sector, arena = first.split(":", 2)
        more = f" (and {len(unreachable) - 1} more)" if len(unreachable) > 1 else ""
        raise TownError(
            f"{data.where('arena', (sector, arena))}: arena {arena!r} of sector {sector!r} cannot be "
            f"walked to from the rest of the town{more}; open a door ('+') in its walls"
        )


def build_town(data: TownData) -> Town:
    """A checked :class:`Town` from loaded data (see :func:`check_town`)."""
    town = Town(data)
    check_town(town)
    return town


def load_town(name_or_path: str | Path) -> Town:
    """Load a bundled town (``"the_ville"``) or a town file; cached per file and modification time.

    Raises:
        InputError: no such town.
        TownError: the file is malformed (the message names the file and the line).
    """
    path = resolve_town(name_or_path)
    try:
        stat = path.stat()
    except OSError as err:
        raise TownError(f"{path}: cannot read town file: {err}") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        town = _cache.get(key)
    if town is None:
        town = build_town(read_town_file(path))
        with _lock:
            _cache[key] = town
    return town
