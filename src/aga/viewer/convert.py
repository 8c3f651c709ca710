"""Make replays: compress a simulation's store, or bring in an original compressed run.

    compress_simulation(<storage>/<sim>)          -> <storage>/<sim>/replay/{master_movement,meta}.json
    import_ga_replay(<compressed folder>, storage) -> <storage>/<name>/replay/... (+ town.yaml with a map)

Both write atomically and never touch the source.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aga.errors import InputError, StoreError, TownError
from aga.store.sim_store import DB_NAME, SimStore
from aga.viewer.replay import (
    MASTER_FILE,
    META_FILE,
    REPLAY_DIR,
    Frame,
    compress_frames,
    make_meta,
    read_master,
    read_meta,
    write_replay,
)

TOWN_FILE = "town.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ReplaySummary:
    """What was written: the replay folder, its step count and residents."""

    folder: Path
    steps: int
    names: list[str]
    changes: int  # resident entries stored (step 0 included)


def _bundled(ref: str) -> str | None:
    """The bundled town name of ``ref`` if it is one, else None."""
    from aga.world.loading import TOWNS_DIR, resolve_town

    try:
        path = resolve_town(ref)
    except InputError:
        return None
    return path.stem if path.parent == TOWNS_DIR.resolve() else None


def compress_simulation(folder: Path) -> ReplaySummary:
    """Compress the movements of the simulation in ``folder`` into ``folder/replay/``.

    The store is read at its last committed step (a run still going on is fine: later steps are
    left for the next compression). A town given as a file, not a bundled name, is copied into the
    replay folder so the replay stays watchable where the file is gone.

    Raises:
        StoreError: no simulation store in ``folder``.
        InputError: the simulation has no step yet.
    """
    if not (folder / DB_NAME).is_file():
        if (folder / REPLAY_DIR / MASTER_FILE).is_file():
            raise StoreError(
                f"{folder}: has a replay but no simulation store ({DB_NAME}); it is already compressed"
            )
        raise StoreError(f"{folder}: no simulation here (missing {DB_NAME})")
    store = SimStore.open(folder)
    try:
        meta = store.meta()
        total = int(meta.get("step", 0))
        if total <= 0:
            raise InputError(
                f"simulation {folder.name!r} has no steps yet; run it first (`aga run -t {folder.name} -s N`)"
            )
        master = compress_frames(store.movements(0, total))
    finally:
        store.close()
    master.extend({} for _ in range(total - len(master)))
    town = str(meta.get("town") or "the_ville")
    extra: dict[str, bytes] = {}
    bundled = _bundled(town)
    if bundled is None and Path(town).is_file():
        extra[TOWN_FILE] = Path(town).read_bytes()
        maze, town = Path(town).stem, TOWN_FILE
    else:
        maze = bundled or Path(town).stem
    names = list(meta.get("persona_names") or sorted(master[0] if master else []))
    replay_meta = make_meta(
        names=names,
        start=datetime.fromisoformat(str(meta["start"])),
        sec_per_step=int(meta["sec_per_step"]),
        steps=total,
        maze_name=maze,
        town=town,
        fork_sim_code=meta.get("fork_sim_code"),
    )
    out = write_replay(folder / REPLAY_DIR, master, replay_meta, extra)
    return ReplaySummary(out, total, names, sum(len(f) for f in master))


def check_name(name: str) -> str:
    """A simulation name is one folder name: letters, digits, '_', '-', '.' (no leading dot)."""
    if not _NAME_RE.match(name):
        raise InputError(
            f"invalid simulation name {name!r}: use letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return name


def _check_positions(master: list[Frame], width: int, height: int, source: Path, town: str) -> None:
    for step, frame in enumerate(master):
        for who, entry in frame.items():
            x, y = entry["movement"]
            if x >= width or y >= height:
                raise InputError(
                    f"{source / MASTER_FILE} step {step} resident {who!r}: tile ({x}, {y}) is outside town "
                    f"{town!r} ({width} x {height}); give the run's own map with --matrix"
                )


def import_ga_replay(
    source: Path, storage: Path, *, name: str | None = None, matrix: Path | None = None
) -> ReplaySummary:
    """Bring an original compressed run (``master_movement.json`` + ``meta.json``) into ``storage``.

    Args:
        source: the original's ``compressed_storage/<sim>`` folder.
        storage: the storage folder; the run lands in ``storage/<name>/replay/``.
        name: the simulation name (default: the source folder's name).
        matrix: the original's ``matrix`` map folder; when given it is converted like
            ``aga town import-ga`` and saved as the replay's own town, so residents are drawn on
            the map they walked. Without it the run is drawn on the bundled town named by
            ``maze_name`` (the Ville), whose layout is ours: positions are the original's tiles.

    Raises:
        InputError: the source is missing or malformed (file, line / step, resident, field), a
            position lies outside the town, the name is invalid or already taken.
        TownError: the map folder is malformed.
    """
    if not source.is_dir():
        raise InputError(
            f"{source}: not a folder (expected an original compressed run with {MASTER_FILE} and {META_FILE})"
        )
    name = check_name(name or source.name)
    target = storage / name
    if target.exists():
        raise InputError(f"{target} already exists; pick another --name (nothing was changed)")
    meta = read_meta(source)
    master = read_master(source, meta.names)
    extra: dict[str, bytes] = {}
    town_ref = meta.town
    if matrix is not None:
        from aga.world.ga_import import import_ga_matrix
        from aga.world.loading import build_town
        from aga.world.townfile import dump_town

        data = import_ga_matrix(matrix)
        town = build_town(data)
        header = f"Imported by `aga replay import-ga --matrix {matrix}` (format: docs/towns.md)."
        extra[TOWN_FILE] = dump_town(data, header).encode("utf-8")
        town_ref = TOWN_FILE
    else:
        from aga.world import load_town

        try:
            town = load_town(meta.town)
        except (InputError, TownError) as err:
            raise InputError(
                f"{source / META_FILE}: maze_name {meta.town!r} is not a town aga has ({err}); "
                "give the run's map folder with --matrix"
            ) from None
    _check_positions(master, town.width, town.height, source, town_ref)
    replay_meta = make_meta(
        names=meta.names,
        start=meta.start,
        sec_per_step=meta.sec_per_step,
        steps=len(master),
        maze_name=town.name,
        town=town_ref,
        fork_sim_code=meta.fork_sim_code,
    )
    storage.mkdir(parents=True, exist_ok=True)
    tmp = storage / f".{name}.import-{uuid.uuid4().hex[:8]}"
    try:
        write_replay(tmp / REPLAY_DIR, master, replay_meta, extra)
        try:
            tmp.rename(target)
        except OSError as err:
            raise StoreError(f"{target}: cannot create it: {err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ReplaySummary(target / REPLAY_DIR, len(master), meta.names, sum(len(f) for f in master))
