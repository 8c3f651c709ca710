"""Shared helpers for runner tests: fork a bundled base onto the scripted test model."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from aga.bases import BaseSim
from aga.runner.lifecycle import RunSettings, fork, open_simulation

BASE3 = "base_the_ville_isabella_maria_klaus"

# the runs these tests start check after every step that every change of state was marked
os.environ.setdefault("AGA_CHECK_STATE", "1")


def scripted_settings(**kw) -> RunSettings:
    """Settings for the scripted test model (a test double) and the hash embedder."""
    return RunSettings(llm="scripted", **kw)


def fork_and_run(storage: Path, name: str, steps: int, base: str | BaseSim = BASE3, **kw):
    """Fork ``base`` as ``name`` under ``storage`` and run ``steps`` steps in-process; returns the closed sim's folder."""
    folder = fork(base, storage, name, settings=scripted_settings(**kw))
    sim = open_simulation(folder)
    try:
        asyncio.run(sim.run(steps))
    finally:
        sim.store.close()
    return folder


@pytest.fixture
def storage(tmp_path) -> Path:
    return tmp_path / "storage"
