"""Reading a simulation's store without changing a byte of it (interviews, question sets).

``open_read_only`` connects with ``immutable=1`` when no write-ahead log is pending (SQLite then
creates no ``-wal``/``-shm`` file and takes no lock), else with ``mode=ro`` so that steps a live
run has not checkpointed yet are read too. Neither kind of connection checkpoints, so ``sim.db``
stays as it was. The returned :class:`SimStore` reads as usual; any write fails.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aga.errors import StoreError
from aga.store.sim_store import DB_NAME, SimStore, merged_states


def _connect(db: Path) -> sqlite3.Connection:
    wal = db.with_name(db.name + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    mode = "mode=ro" if pending else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(db.resolve()))}?{mode}", uri=True, isolation_level=None, timeout=30.0
        )
        conn.execute("PRAGMA query_only=1")
        conn.execute("SELECT COUNT(*) FROM meta").fetchone()
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{db}: cannot read the simulation store: {err}") from err
    return conn


def open_read_only(folder: Path) -> SimStore:
    """The store of ``folder``, read-only.

    Raises:
        StoreError: no simulation there, or the file cannot be read.
    """
    db = folder / DB_NAME
    if not db.is_file():
        raise StoreError(f"no simulation at {folder} (missing {DB_NAME})")
    return SimStore(folder, _connect(db))


def state_steps(store: SimStore) -> dict[str, int]:
    """Resident -> the step at which its stored state was written (-1: the fork's)."""
    return {n: step for n, (_state, step) in merged_states(store._conn).items()}


def movement_at(store: SimStore, agent: str, step: int) -> tuple[str, list[Any] | None] | None:
    """The newest movement record of ``agent`` at or before ``step``: (description, chat lines)."""
    row = store._conn.execute(
        "SELECT description, chat FROM movements WHERE agent = ? AND step <= ? ORDER BY step DESC LIMIT 1",
        (agent, step),
    ).fetchone()
    if row is None:
        return None
    return str(row[0]), (json.loads(row[1]) if row[1] else None)
