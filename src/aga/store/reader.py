"""Read-only queries of a simulation's store for the viewer (inspector, timeline, cost, story).

The viewer never writes a byte of a store: :func:`open_reader` connects with ``mode=ro`` and
``query_only``, so it also reads a run that is going on (WAL: readers never block the writer and
see the last committed step). Keeping the SQL here keeps SQLite inside ``store/``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aga.errors import StoreError
from aga.store.sim_store import DB_NAME, merged_states


class StoreReader:
    """One read-only connection to ``<folder>/sim.db``; close it (or use :func:`open_reader`)."""

    def __init__(self, folder: Path) -> None:
        db = folder / DB_NAME
        if not db.is_file():
            raise StoreError(f"no simulation at {folder} (missing {DB_NAME})")
        try:
            self.conn = sqlite3.connect(f"file:{quote(str(db.resolve()))}?mode=ro", uri=True, timeout=30.0)
            self.conn.execute("PRAGMA query_only=1")
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{db}: cannot read the simulation store: {err}") from err
        self.folder = folder

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # ------------------------------------------------------------------ meta and state
    def meta(self) -> dict[str, Any]:
        """All meta keys, decoded."""
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def latest_state(self, name: str) -> tuple[dict[str, Any], int] | None:
        """``(state, step it was written at)`` of a resident, or None."""
        return merged_states(self.conn, name).get(name)

    # ------------------------------------------------------------------ movements
    def movement_at(self, agent: str, step: int) -> dict[str, Any] | None:
        """The newest movement row of ``agent`` at or before ``step`` (rows are written only when
        the resident's entry changed, so this is its entry at ``step``)."""
        row = self.conn.execute(
            "SELECT step, x, y, emoji, description, chat FROM movements WHERE agent = ? AND step <= ?"
            " ORDER BY step DESC LIMIT 1",
            (agent, step),
        ).fetchone()
        if row is None:
            return None
        return {
            "step": row[0],
            "tile": [row[1], row[2]],
            "emoji": row[3],
            "description": row[4],
            "chat": json.loads(row[5]) if row[5] else None,
        }

    def movements_between(self, agent: str, after: int, until: int) -> Iterator[tuple[int, int, str]]:
        """``(x, y, description)`` of ``agent``'s rows for steps ``after < step <= until``, in order
        (one per change of its entry, not one per step)."""
        yield from self.conn.execute(
            "SELECT x, y, description FROM movements WHERE agent = ? AND step > ? AND step <= ? ORDER BY step",
            (agent, after, until),
        )

    def descriptions(self, agent: str) -> Iterator[tuple[int, str]]:
        """``(step, description)`` of every movement row of ``agent`` (one per change of its
        entry), in step order."""
        yield from self.conn.execute(
            "SELECT step, description FROM movements WHERE agent = ? ORDER BY step", (agent,)
        )

    # ------------------------------------------------------------------ action log
    def actions(self, agent: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """``(agent, record)`` of the action log (one resident's, or everyone's), in order."""
        if agent is None:
            rows = self.conn.execute("SELECT agent, record FROM actions ORDER BY agent, seq")
        else:
            rows = self.conn.execute(
                "SELECT agent, record FROM actions WHERE agent = ? ORDER BY seq", (agent,)
            )
        return [(a, json.loads(r)) for a, r in rows]

    # ------------------------------------------------------------------ memories
    def memories(self, agent: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(agent, record)`` of every memory (one resident's, or everyone's), by agent and id."""
        if agent is None:
            rows = self.conn.execute("SELECT agent, record FROM memories ORDER BY agent, id")
        else:
            rows = self.conn.execute(
                "SELECT agent, record FROM memories WHERE agent = ? ORDER BY id", (agent,)
            )
        for a, r in rows:
            yield a, json.loads(r)

    def newest_memories(
        self, agent: str, until: str, limit: int, *, reflections: bool = False
    ) -> list[dict[str, Any]]:
        """The ``limit`` newest memories created at or before ``until`` (``%Y-%m-%d %H:%M:%S``).

        With ``reflections``, only thoughts with evidence that are not the daily plan.
        """
        extra = (
            " AND json_extract(record, '$.type') = 'thought' AND json_extract(record, '$.predicate') != 'plan'"
            " AND json_array_length(json_extract(record, '$.filling')) > 0"
            if reflections
            else ""
        )
        rows = self.conn.execute(
            "SELECT record FROM memories WHERE agent = ? AND json_extract(record, '$.created') <= ?"
            + extra
            + " ORDER BY json_extract(record, '$.created') DESC, id DESC LIMIT ?",
            (agent, until, limit),
        )
        return [json.loads(r[0]) for r in rows]

    def latest_plan(self, agent: str, until: str) -> dict[str, Any] | None:
        """The newest daily-plan thought created at or before ``until``."""
        row = self.conn.execute(
            "SELECT record FROM memories WHERE agent = ? AND json_extract(record, '$.predicate') = 'plan'"
            " AND json_extract(record, '$.created') <= ? ORDER BY json_extract(record, '$.created') DESC LIMIT 1",
            (agent, until),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def memories_by_id(self, agent: str, ids: list[int]) -> list[dict[str, Any]]:
        """The memories of ``agent`` with these ids."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT record FROM memories WHERE agent = ? AND id IN ({marks})", (agent, *ids)
        )
        return [json.loads(r[0]) for r in rows]

    def memories_between(self, agent: str, since: str, until: str) -> list[dict[str, Any]]:
        """Memories of ``agent`` created from ``since`` to ``until``, in time order."""
        rows = self.conn.execute(
            "SELECT record FROM memories WHERE agent = ? AND json_extract(record, '$.created') >= ?"
            " AND json_extract(record, '$.created') <= ? ORDER BY json_extract(record, '$.created'), id",
            (agent, since, until),
        )
        return [json.loads(r[0]) for r in rows]

    # ------------------------------------------------------------------ ledger
    def ledger(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """``(seq, step, row)`` of every ledger row, in call order."""
        for seq, step, row in self.conn.execute("SELECT seq, step, row FROM ledger ORDER BY seq"):
            yield seq, step, json.loads(row)

    def ledger_near(self, agent: str, step: int, limit: int) -> list[tuple[int, int, dict[str, Any]]]:
        """The ``limit`` calls of ``agent`` nearest to ``step``."""
        rows = self.conn.execute(
            "SELECT seq, step, row FROM ledger WHERE json_extract(row, '$.agent') = ? ORDER BY abs(step - ?), seq"
            " LIMIT ?",
            (agent, step, limit),
        )
        return [(seq, s, json.loads(r)) for seq, s, r in rows]

    def ledger_row(self, seq: int) -> tuple[int, int, dict[str, Any]] | None:
        """The ledger row numbered ``seq``."""
        row = self.conn.execute("SELECT seq, step, row FROM ledger WHERE seq = ?", (seq,)).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def ledger_count(self) -> int:
        """Number of ledger rows."""
        return int(self.conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])


@contextmanager
def open_reader(folder: Path) -> Iterator[StoreReader]:
    """A :class:`StoreReader` of ``folder``, closed afterwards."""
    reader = StoreReader(folder)
    try:
        yield reader
    finally:
        reader.close()
