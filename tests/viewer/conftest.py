"""Shared helpers of the viewer tests: stores with known movements, the original fixture, a server."""

from __future__ import annotations

import asyncio
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from reference_data import ORIGINAL_MATRIX, ORIGINAL_RUN, require

from aga.store.sim_store import SimStore, StepRecord
from aga.viewer.replay import Frame
from aga.viewer.server import ReplayServer, make_server

NAMES = ("Ann Lee", "Bo Chan", "Cy Diaz")
START = datetime(2023, 2, 13, 7, 0)


@pytest.fixture
def original_run() -> Path:
    """The original's recorded 2-day compressed run (skipped where absent; a failure under CI)."""
    require(ORIGINAL_RUN / "master_movement.json", "the original's compressed run")
    return ORIGINAL_RUN


@pytest.fixture
def original_matrix() -> Path:
    """The original's map folder (skipped where absent; a failure under CI)."""
    require(ORIGINAL_MATRIX / "maze_meta_info.json", "the original's map folder")
    return ORIGINAL_MATRIX


def walk_frames(
    steps: int, seed: int, start_step: int = 0, state: dict[str, dict[str, Any]] | None = None
) -> list[Frame]:
    """Full per-step frames of residents wandering on a 40 x 30 area: each step a resident may
    move one tile, change its action or emoji, start or end a chat (a local seeded RNG)."""
    rng = random.Random(seed)
    state = (
        state
        if state is not None
        else {
            n: {
                "movement": [5 + 10 * i, 5],
                "pronunciatio": "😴",
                "description": f"sleeping @ w:{n}'s house:room:bed",
                "chat": None,
            }
            for i, n in enumerate(NAMES)
        }
    )
    frames = []
    for step in range(start_step, start_step + steps):
        for n in NAMES:
            e = dict(state[n])
            roll = rng.random()
            if roll < 0.5:
                x, y = e["movement"]
                dx, dy = rng.choice([(1, 0), (-1, 0), (0, 1), (0, -1)])
                e["movement"] = [min(39, max(0, x + dx)), min(29, max(0, y + dy))]
            elif roll < 0.6:
                e["description"] = f"task {step} @ w:Cafe:cafe:counter"
                e["pronunciatio"] = rng.choice(["☕", "📚", "🚶"])
            elif roll < 0.65:
                e["chat"] = [[n, f"hello at step {step}"], [NAMES[0], "hi there"]]
            elif roll < 0.7:
                e["chat"] = None
            state[n] = e
        frames.append({n: dict(state[n]) for n in NAMES})
    return frames


def make_store(folder: Path, steps: int, *, seed: int = 1, town: str = "the_ville") -> SimStore:
    """A store holding ``steps`` committed steps of :func:`walk_frames` (open: close it)."""
    store = SimStore.create(
        folder,
        {
            "name": folder.name,
            "town": town,
            "start": START.isoformat(),
            "sec_per_step": 10,
            "step": 0,
            "persona_names": list(NAMES),
            "fork_sim_code": "test_base",
        },
    )
    commit(store, walk_frames(steps, seed), 0)
    return store


def commit(store: SimStore, frames: list[Frame], first: int) -> None:
    """Commit ``frames`` as steps ``first``, ``first + 1``, ..."""
    for i, frame in enumerate(frames):
        store.commit_step(StepRecord(step=first + i, next_time=f"t{first + i + 1}", movements=frame))


def store_states(store: SimStore) -> list[Frame]:
    """Everyone's entry at every step, folded straight from the store's rows."""
    out, state = [], {}
    for step, frame in store.movements():
        assert step == len(out)
        state = {**state, **frame}
        out.append(state)
    return out


def scripted_day(storage: Path, name: str, steps: int) -> Path:
    """Fork the 3-resident base at 07:50 (people moving) and run it on the scripted test model."""
    from aga.bases import load_base
    from aga.runner.lifecycle import RunSettings, fork, open_simulation

    base = load_base("base_the_ville_isabella_maria_klaus")
    base = base.model_copy(update={"start": datetime(2023, 2, 13, 7, 50)})
    folder = fork(base, storage, name, settings=RunSettings(llm="scripted"))
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.store.close()
    return folder


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a :class:`ReplayServer` on a free loopback port: ``serve(storage) -> server``."""
    servers: list[ReplayServer] = []

    def start(storage: Path) -> ReplayServer:
        server = make_server(storage, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """GET ``url`` (loopback): status, headers, body; error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as res:
            return res.status, res.headers, res.read()  # header names are case-insensitive
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the folder of the browser tests' screenshots at the end of the run."""
    from .browser import SHOTS

    if SHOTS:
        folders = sorted({str(p.parent) for p in SHOTS})
        terminalreporter.write_line(f"viewer screenshots ({len(SHOTS)}): {', '.join(folders)}")
