"""Shared fixtures for the interview tests: short runs of the 3-resident base on the scripted test
model (a test double that answers from the rendered prompt) and the hash embedder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aga.runner.lifecycle import RunSettings, fork, open_simulation

BASE3 = "base_the_ville_isabella_maria_klaus"
AGA = [sys.executable, "-m", "aga.cli.main"]
ROOT = Path(__file__).resolve().parents[2]
PARTY = "Isabella is hosting a Valentine's Day party at Hobbs Cafe on February 14 from 5 to 7 pm"


def run_steps(folder: Path, steps: int) -> None:
    """Continue the simulation in ``folder`` for ``steps`` steps in-process."""
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.close()


def fork_scripted(storage: Path, name: str, steps: int) -> Path:
    """Fork the 3-resident base on the scripted test model and run ``steps`` steps."""
    folder = fork(BASE3, storage, name, settings=RunSettings(llm="scripted"))
    if steps:
        run_steps(folder, steps)
    return folder


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of the simulation's store (sim.db and any WAL/SHM next to it)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("sim.db*"))
        if p.is_file()
    }


def aga(
    storage: Path, *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the ``aga`` command (a subprocess) with ``AGA_STORAGE=storage``."""
    env = {**os.environ, "AGA_STORAGE": str(storage), "COLUMNS": "200"}
    return subprocess.run(
        [*AGA, *args], env=env, capture_output=True, text=True, timeout=300, input=stdin, cwd=cwd
    )


@pytest.fixture(scope="module")
def told_sim(tmp_path_factory) -> tuple[Path, int]:
    """A sim run 6 steps, Klaus whispered the party at step 5, then run 6 more steps.

    Returns the folder and the step the whisper was stored at.
    """
    from aga.interview.whisper import Whisper, whisper_sync

    storage = tmp_path_factory.mktemp("storage")
    folder = fork_scripted(storage, "told", 6)
    told = whisper_sync(folder, [Whisper("Klaus Mueller", PARTY)])
    run_steps(folder, 6)
    return folder, told[0].step


@pytest.fixture
def sim_copy(told_sim, tmp_path) -> Path:
    """A private copy of the told simulation (tests that write may use it)."""
    folder, _ = told_sim
    target = tmp_path / "storage" / folder.name
    shutil.copytree(folder, target)
    return target
