"""`--llm-cache` and `--share_policy` from the command line: stored with the simulation, acted on,
and switched back off when a continued run says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from aga.runner.lifecycle import fork, open_simulation
from aga.store.sim_store import SimStore

from .conftest import BASE3, scripted_settings

AGA = [sys.executable, "-m", "aga.cli.main"]


def _aga(storage: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    proc = subprocess.run([*AGA, *args, "--quiet"], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def _llm_rows(folder: Path) -> list[dict]:
    store = SimStore.open(folder)
    try:
        return [r for r in store.ledger_rows() if r.get("kind", "llm") == "llm"]
    finally:
        store.close()


def _movements(folder: Path) -> list:
    store = SimStore.open(folder)
    try:
        return list(store.movements())
    finally:
        store.close()


def test_llm_cache_from_the_cli_answers_identical_requests_from_the_cache(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"  # cold policy stores: the same requests
    _aga(first, "run", "-o", BASE3, "-t", "a", "-s", "700", "--llm", "scripted", "--llm-cache")
    folder = first / "a"
    assert (folder / "llm_cache.db").is_file()
    rows = _llm_rows(folder)
    assert rows and not any(r["cached"] for r in rows)  # a cold cache: every answer came from the model

    fork(BASE3, second, "c", settings=scripted_settings())  # the cache off when forked...
    shutil.copy(folder / "llm_cache.db", second / "c" / "llm_cache.db")
    _aga(second, "run", "-t", "c", "-s", "700", "--llm-cache")  # ...and switched on from the CLI
    again = _llm_rows(second / "c")
    assert [r["task"] for r in again] == [r["task"] for r in rows]
    assert all(r["cached"] for r in again)  # every identical request answered from the cache
    assert _movements(second / "c") == _movements(folder)
    sim = open_simulation(second / "c")
    try:
        assert sim.store.meta()["settings"]["llm_cache"] is True
    finally:
        sim.close()
    _aga(second, "run", "-t", "c", "-s", "10", "--no-llm-cache")
    sim = open_simulation(second / "c")
    try:
        assert sim.store.meta()["settings"]["llm_cache"] is False
    finally:
        sim.close()


def test_share_policy_from_the_cli_is_stored_and_reaches_the_policy(tmp_path):
    storage = tmp_path / "storage"
    _aga(storage, "run", "-o", BASE3, "-t", "s", "-s", "30", "--llm", "scripted", "--share_policy")
    sim = open_simulation(storage / "s")
    try:
        assert sim.store.meta()["settings"]["share_policy"] is True
        assert sim.policy.share_across_agents is True  # type: ignore[attr-defined]
    finally:
        sim.close()
    _aga(storage, "run", "-t", "s", "-s", "30", "--no-share_policy")
    sim = open_simulation(storage / "s")
    try:
        assert sim.store.meta()["settings"]["share_policy"] is False
        assert sim.policy.share_across_agents is False  # type: ignore[attr-defined]
    finally:
        sim.close()
