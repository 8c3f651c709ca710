"""Kill the runner with SIGKILL at random moments; continuing gives exactly the uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aga.runner.lifecycle import fork
from aga.store.sim_store import SimStore

from .conftest import BASE3, scripted_settings

STEPS = 4320  # from midnight to noon: sleep, waking, planning, walking, the first meetings
AGA = [sys.executable, "-m", "aga.cli.main"]


def _run(storage: Path, sim: str, steps: int) -> subprocess.Popen:
    env = {**os.environ, "AGA_STORAGE": str(storage)}
    return subprocess.Popen(
        [*AGA, "run", "-t", sim, "-s", str(steps), "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _committed_step(folder: Path) -> int:
    conn = sqlite3.connect(folder / "sim.db", timeout=30)
    try:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'step'").fetchone()[0])
    finally:
        conn.close()


def _snapshot(folder: Path) -> dict:
    store = SimStore.open(folder)
    try:
        meta = store.meta()
        states = store.resident_states()
        return {
            "step": meta["step"],
            "curr_time": meta["curr_time"],
            "states": states,
            "memories": {n: store.memory_records(n) for n in states},
            "movements": list(store.movements()),
            "actions": store.action_logs(),
            "ledger": [
                (r["task"], r.get("agent"), r.get("prompt_tokens"), r.get("completion_tokens"))
                for r in store.ledger_rows()
            ],
        }
    finally:
        store.close()


def test_sigkill_at_random_steps_then_resume_equals_uninterrupted(tmp_path):
    # two storage folders: each run starts from its own cold public policy store (a shared one
    # would hand the second run everything the first one learned)
    whole_storage, storage = tmp_path / "whole_storage", tmp_path / "storage"
    fork(BASE3, whole_storage, "whole", settings=scripted_settings())
    fork(BASE3, storage, "killed", settings=scripted_settings())

    proc = _run(whole_storage, "whole", STEPS)
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()

    rng = random.Random(20230213)
    targets = sorted(rng.sample(range(100, STEPS - 100), 5))
    steps_seen = []
    for target in targets:
        done = _committed_step(storage / "killed")
        proc = _run(storage, "killed", STEPS - done)
        deadline = time.monotonic() + 300
        while (
            _committed_step(storage / "killed") < target
            and proc.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)
        assert proc.poll() is None, (
            f"run ended before the kill at step {target}: {proc.stderr.read().decode()}"
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        steps_seen.append(_committed_step(storage / "killed"))
    done = _committed_step(storage / "killed")
    proc = _run(storage, "killed", STEPS - done)
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    assert len(set(steps_seen)) == 5 and all(0 < s < STEPS for s in steps_seen), steps_seen

    whole, killed = _snapshot(whole_storage / "whole"), _snapshot(storage / "killed")
    assert killed["step"] == whole["step"] == STEPS
    for key in ("states", "memories", "movements", "actions", "ledger"):
        assert killed[key] == whole[key], f"{key} differ after resume"
