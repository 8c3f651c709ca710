"""Where a replay's steps come from: a simulation's store (live runs too) or a replay folder.

:class:`Library` is the viewer's view of one storage folder. It lists the simulations, and for
one simulation gives its :class:`SimInfo` and :class:`Chunk` s of steps::

    lib = Library(Path("storage"))
    lib.names()                        # ["my_run", "July1_the_ville_isabella_maria_klaus-step-3-20"]
    chunk = lib.source("my_run").chunk(720, 360)
    chunk.state                        # everyone's entry at step 720
    chunk.changes[0]                   # who changed at step 721, and how

A simulation with a store (``sim.db``) is read from the store, so steps appear as a running
simulation commits them; one without a store is read from its ``replay/`` folder (compressed by
``aga replay compress`` or imported by ``aga replay import-ga``). The store is opened per request:
SQLite connections stay in their thread, and a reader never blocks the run (WAL).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aga.errors import InputError, StoreError
from aga.store.sim_store import DB_NAME, SimStore
from aga.viewer.replay import (
    MASTER_FILE,
    REPLAY_DIR,
    Frame,
    apply_changes,
    check_entry,
    read_master,
    read_meta,
    town_ref,
)

CHUNK = 360  # steps per chunk: one game hour at 10 s per step
MAX_CHUNK = 2000
_KEYFRAME = 360  # a replay file keeps everyone's full state every this many steps


class NotFound(InputError):
    """Something the user asked for by name or number does not exist (HTTP 404)."""


class BadQuery(InputError):
    """A request's parameter is malformed (HTTP 400)."""


class UnknownSimulation(NotFound):
    """No simulation of that name in the storage folder."""


class UnknownStep(NotFound):
    """The simulation has no such step (yet)."""


@dataclass(frozen=True)
class SimInfo:
    """What the page needs before it can play: who, when, how many steps, which town."""

    name: str
    source: str  # "store" (a simulation, maybe still running) or "replay" (a replay folder)
    names: list[str]
    start: datetime
    sec_per_step: int
    total: int  # steps recorded so far: 0..total-1
    town: str  # town reference for aga.world.load_town

    def to_json(self) -> dict[str, Any]:
        """JSON-able form for the API."""
        return {
            "name": self.name,
            "source": self.source,
            "live": self.source == "store",
            "names": self.names,
            "start": self.start.isoformat(),
            "sec_per_step": self.sec_per_step,
            "total": self.total,
        }


@dataclass(frozen=True)
class Chunk:
    """Steps ``start..stop-1``: the full state at ``start``, then each later step's changes."""

    start: int
    stop: int
    total: int
    state: Frame
    changes: list[Frame] = field(default_factory=list)  # changes[i] belongs to step start + 1 + i

    def to_json(self) -> dict[str, Any]:
        """JSON-able form for the API."""
        return {
            "start": self.start,
            "stop": self.stop,
            "total": self.total,
            "state": self.state,
            "changes": self.changes,
        }


class Source(Protocol):
    """The steps of one simulation."""

    def info(self) -> SimInfo:
        """Current info (a live store's total grows)."""
        ...

    def chunk(self, start: int, count: int) -> Chunk:
        """Steps ``start`` .. ``start + count - 1`` (fewer at the end)."""
        ...


def _check_range(name: str, start: int, count: int, total: int) -> int:
    if count < 1 or count > MAX_CHUNK:
        raise BadQuery(f"count must be from 1 to {MAX_CHUNK}, got {count}")
    if not 0 <= start < total:
        have = f"steps 0..{total - 1}" if total else "no steps yet"
        raise UnknownStep(f"simulation {name!r} has no step {start} ({have})")
    return min(start + count, total)


class StoreSource:
    """Steps read from a simulation's SQLite store, opened per call."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder

    @contextmanager
    def _store(self) -> Iterator[SimStore]:
        store = SimStore.open(self.folder)
        try:
            yield store
        finally:
            store.close()

    @staticmethod
    def _info(name: str, meta: dict[str, Any]) -> SimInfo:
        try:
            return SimInfo(
                name=name,
                source="store",
                names=list(meta.get("persona_names") or []),
                start=datetime.fromisoformat(str(meta["start"])),
                sec_per_step=int(meta["sec_per_step"]),
                total=int(meta.get("step", 0)),
                town=str(meta.get("town") or "the_ville"),
            )
        except (KeyError, ValueError) as err:
            raise StoreError(f"simulation {name!r}: its store's meta is incomplete ({err})") from None

    def info(self) -> SimInfo:
        """The store's meta as :class:`SimInfo`."""
        with self._store() as store:
            return self._info(self.name, store.meta())

    def chunk(self, start: int, count: int) -> Chunk:
        """Read ``count`` steps from ``start``; residents missing at ``start`` are looked up earlier."""
        with self._store() as store:
            info = self._info(self.name, store.meta())
            stop = _check_range(self.name, start, count, info.total)
            frames = {step: frame for step, frame in store.movements(start, stop)}
            state: Frame = {
                n: check_entry(e, f"{self.folder} step {start} {n!r}")
                for n, e in frames.get(start, {}).items()
            }
            missing = set(info.names) - set(state)
            lo = start
            while missing and lo > 0:  # a resident without a row at `start`: its latest earlier row
                hi, lo = lo, max(0, lo - CHUNK)
                for _, frame in store.movements(lo, hi):
                    for who in missing & set(frame):
                        state[who] = check_entry(frame[who], f"{self.folder} {who!r}")
                missing -= set(state)
        changes: list[Frame] = []
        last = dict(state)
        for step in range(start + 1, stop):
            delta: Frame = {}
            for who, raw in frames.get(step, {}).items():
                entry = check_entry(raw, f"{self.folder} step {step} {who!r}")
                if last.get(who) != entry:
                    delta[who] = last[who] = entry
            changes.append(delta)
        return Chunk(start, stop, info.total, state, changes)


class FileSource:
    """Steps read from a replay folder, loaded once, with a full state every 360 steps."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        meta = read_meta(folder)
        self.master = read_master(folder, meta.names)
        self._info = SimInfo(
            name,
            "replay",
            meta.names,
            meta.start,
            meta.sec_per_step,
            len(self.master),
            town_ref(folder, meta),
        )
        self._keyframes: list[Frame] = []
        state: Frame = {}
        for step, changes in enumerate(self.master):
            apply_changes(state, changes)
            if step % _KEYFRAME == 0:
                self._keyframes.append(dict(state))

    def info(self) -> SimInfo:
        """The replay's meta as :class:`SimInfo`."""
        return self._info

    def state_at(self, step: int) -> Frame:
        """Everyone's entry at ``step`` (from the nearest earlier keyframe)."""
        key = step // _KEYFRAME
        state = dict(self._keyframes[key])
        for changes in self.master[key * _KEYFRAME + 1 : step + 1]:
            apply_changes(state, changes)
        return state

    def chunk(self, start: int, count: int) -> Chunk:
        """Slice of the replay; the changes are the file's own."""
        stop = _check_range(self.name, start, count, len(self.master))
        return Chunk(start, stop, len(self.master), self.state_at(start), list(self.master[start + 1 : stop]))


class Library:
    """The simulations of one storage folder, with replay files cached while unchanged."""

    def __init__(self, storage: Path) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._files: dict[str, tuple[tuple[int, ...], FileSource]] = {}

    def names(self) -> list[str]:
        """Simulation names (folders with a store or a replay), sorted."""
        if not self.storage.is_dir():
            return []
        return sorted(
            p.name
            for p in self.storage.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and ((p / DB_NAME).is_file() or (p / REPLAY_DIR / MASTER_FILE).is_file())
        )

    def folder(self, sim: str) -> Path:
        """The folder of ``sim``.

        Raises:
            UnknownSimulation: names the simulation and the storage folder.
        """
        if sim in self.names():
            return self.storage / sim
        known = self.names()
        listed = (
            f"; it has: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
            if known
            else "; it has no simulations yet"
        )
        raise UnknownSimulation(f"no simulation named {sim!r} in {self.storage}{listed}")

    def store_folder(self, sim: str) -> Path:
        """The folder of ``sim`` when it has a store (the inspector, timeline and cost need one).

        Raises:
            UnknownSimulation: no such simulation, or it is a replay folder without a store.
        """
        folder = self.folder(sim)
        if not (folder / DB_NAME).is_file():
            raise UnknownSimulation(
                f"simulation {sim!r} is a replay without a store ({DB_NAME}): it has movements only, "
                "no residents' minds, calls or costs to show"
            )
        return folder

    def source(self, sim: str) -> Source:
        """The source of ``sim``: its store if it has one, else its replay folder."""
        folder = self.folder(sim)
        if (folder / DB_NAME).is_file():
            return StoreSource(sim, folder)
        replay = folder / REPLAY_DIR
        stats = [(replay / f).stat() for f in (MASTER_FILE, "meta.json")]
        stamp = tuple(v for st in stats for v in (st.st_mtime_ns, st.st_size))
        with self._lock:
            cached = self._files.get(sim)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        source = FileSource(sim, replay)
        with self._lock:
            self._files[sim] = (stamp, source)
        return source

    def summary(self, sim: str) -> dict[str, Any]:
        """Info for the index page; a broken simulation gives ``{"name", "error"}`` instead."""
        try:
            folder = self.folder(sim)
            if not (folder / DB_NAME).is_file():
                with self._lock:
                    cached = self._files.get(sim)
                if cached is None:  # the index needs only meta.json, not the whole replay
                    meta = read_meta(folder / REPLAY_DIR)
                    return SimInfo(
                        sim, "replay", meta.names, meta.start, meta.sec_per_step, meta.steps, meta.town
                    ).to_json()
            return self.source(sim).info().to_json()
        except (InputError, StoreError) as err:
            return {"name": sim, "error": str(err)}
