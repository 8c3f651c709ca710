"""One SQLite database per simulation: everything needed to resume, written one step at a time.

Layout of ``<storage>/<sim>/``::

    sim.db        the store (WAL mode); the only source of truth
    metrics/      AGA-compatible metrics files, rewritten from the ledger (see aga.gateway.metrics)

Tables:
    meta        key -> JSON value (sim name, fork source, base, town, start, sec_per_step, seed,
                next step to run, current game time, run settings)
    residents   name -> JSON state (``Resident.to_state()``), rewritten only when it changed
    memories    (agent, id) -> JSON record (``MemoryStream.drain_changes()``), upserted
    embeddings  (model, text) -> float32 vector
    movements   (step, agent) -> tile, emoji, description, chat (the original's movement/<step>.json),
                written only when one of them changed since the resident's last row: a resident's
                entry at step s is its newest row at or before s (``movements()`` fills them in)
    ledger      one row per model call (``aga.gateway`` ledger rows)
    actions     (agent, seq) -> action-log record (the metrics' ``<Full Name>.json``)

A step is committed by ``commit_step`` in one transaction; a process killed at any moment leaves
the store at the end of the last committed step.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Union

import numpy as np

from aga.errors import StoreError

DB_NAME = "sim.db"
SCHEMA_VERSION = 2
"""2 added ``state_parts``; a version-1 store (no such table) is read as it is and becomes version
2 when opened for writing (nothing in it is rewritten)."""
READS_VERSIONS = (1, 2)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS residents (name TEXT PRIMARY KEY, state TEXT NOT NULL, step INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state_parts (
    name TEXT NOT NULL, part TEXT NOT NULL, text TEXT NOT NULL, step INTEGER NOT NULL,
    PRIMARY KEY (name, part));
CREATE TABLE IF NOT EXISTS memories (
    agent TEXT NOT NULL, id INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (agent, id));
CREATE TABLE IF NOT EXISTS embeddings (
    model TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, text));
CREATE TABLE IF NOT EXISTS movements (
    step INTEGER NOT NULL, agent TEXT NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
    emoji TEXT NOT NULL, description TEXT NOT NULL, chat TEXT, PRIMARY KEY (step, agent));
CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, step INTEGER NOT NULL, row TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    agent TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (agent, seq));
"""


class Record(Protocol):
    """A typed step record the store keeps as JSON: a ``Movement``, an ``ActionLogEntry``, a
    gateway ``LedgerRow`` (plain dicts of the same shape are accepted too)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form stored."""
        ...


RecordLike = Union[Record, Mapping[str, Any]]


def as_record(item: RecordLike) -> dict[str, Any]:
    """The stored dict of a typed record (a mapping is taken as it is)."""
    return dict(item) if isinstance(item, Mapping) else item.to_dict()


@dataclass
class StepRecord:
    """Everything one step changed, committed together by :meth:`SimStore.commit_step`.

    Attributes:
        step: the step committed (``meta.step`` becomes ``step + 1``).
        next_time: game time after the step (the original's ``curr_time`` text).
        states: resident -> JSON form of its ``ResidentState`` (or that form's text, as
            ``Resident.to_state_json`` writes it), only for those that changed.
        state_parts: resident -> {top-level key of its state -> that value's JSON text}, only the
            keys whose value changed (the runner's form: a walking resident writes its tile and
            path, not its whole state). A part overrides the key of the full state row.
        memories: resident -> memory records added or modified.
        memory_texts: resident -> (id, record text) of memories added or modified, the records
            already encoded (``MemoryStream.drain_change_texts``; the runner's form).
        embeddings: ``(model, text, vector)`` computed this step.
        movements: resident -> its ``Movement`` (the original's movement-file entry).
        ledger: the step's ``LedgerRow`` s.
        actions: resident -> ``ActionLogEntry`` s of the actions it started.
    """

    step: int
    next_time: str
    states: Mapping[str, Mapping[str, Any] | str] = field(default_factory=dict)
    memories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    embeddings: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    movements: Mapping[str, RecordLike] = field(default_factory=dict)
    ledger: Sequence[RecordLike] = field(default_factory=list)
    actions: Mapping[str, Sequence[RecordLike]] = field(default_factory=dict)
    state_parts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    memory_texts: Mapping[str, Sequence[tuple[int, str]]] = field(default_factory=dict)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def merged_states(conn: sqlite3.Connection, name: str | None = None) -> dict[str, tuple[dict[str, Any], int]]:
    """Resident -> (its current state, the step it was last written at): the full row of
    ``residents`` with the ``state_parts`` written since laid over it (all residents, or the one
    named). Reads stores without ``state_parts`` (schema version 1) too."""
    where, args = (" WHERE name = ?", (name,)) if name is not None else ("", ())
    out: dict[str, tuple[dict[str, Any], int]] = {}
    for n, text, step in conn.execute(f"SELECT name, state, step FROM residents{where} ORDER BY name", args):
        out[str(n)] = (json.loads(text), int(step))
    has_parts = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state_parts'"
    ).fetchone()
    if has_parts:
        for n, part, text, step in conn.execute(
            f"SELECT name, part, text, step FROM state_parts{where}", args
        ):
            if n in out:
                state, at = out[n]
                state[str(part)] = json.loads(text)
                out[n] = (state, max(at, int(step)))
    return out


def _frame(rows: Mapping[str, tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Fresh movement entries of ``agent -> (x, y, emoji, description, chat text)``."""
    return {
        agent: {
            "movement": [x, y],
            "pronunciatio": emoji,
            "description": desc,
            "chat": None if chat is None else json.loads(chat),
        }
        for agent, (x, y, emoji, desc, chat) in rows.items()
    }


class SimStore:
    """The SQLite store of one simulation folder."""

    def __init__(self, folder: Path, conn: sqlite3.Connection) -> None:
        self.folder = folder
        self._conn = conn
        self._state_cache: dict[str, str] = {}
        self._action_seq: dict[str, int] = {}
        # agent -> (x, y, emoji, description, chat) of its newest movement row; None: not read yet
        self._last_moves: dict[str, tuple[Any, ...]] | None = None
        self._last_move_step = -1  # the newest step with a movement row (valid with _last_moves)

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, folder: Path, meta: Mapping[str, Any]) -> SimStore:
        """Create a new store in ``folder`` (which must not hold one yet) with the given meta."""
        db = folder / DB_NAME
        if db.exists():
            raise StoreError(f"{db}: a simulation store already exists here")
        folder.mkdir(parents=True, exist_ok=True)
        store = cls(folder, cls._connect(db))
        with store.transaction() as cur:
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in {**meta, "schema_version": SCHEMA_VERSION}.items()],
            )
        return store

    @classmethod
    def open(cls, folder: Path) -> SimStore:
        """Open the store of an existing simulation folder."""
        db = folder / DB_NAME
        if not db.is_file():
            raise StoreError(f"{folder}: no simulation here (missing {DB_NAME})")
        store = cls(folder, cls._connect(db))
        version = store.meta().get("schema_version")
        if version not in READS_VERSIONS:
            raise StoreError(
                f"{db}: store schema version {version!r}, this aga reads "
                + " and ".join(str(v) for v in READS_VERSIONS)
            )
        if version != SCHEMA_VERSION:  # the new table exists now (_SCHEMA); older aga must refuse
            store.set_meta({"schema_version": SCHEMA_VERSION})
        return store

    @staticmethod
    def _connect(db: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(db, isolation_level=None, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{db}: cannot open the simulation store: {err}") from err
        return conn

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One atomic transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("COMMIT")

    # ------------------------------------------------------------------ meta
    def meta(self) -> dict[str, Any]:
        """All meta keys with their decoded values."""
        rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def set_meta(self, values: Mapping[str, Any]) -> None:
        """Update meta keys in one transaction."""
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, _dumps(v)) for k, v in values.items()],
            )

    # ------------------------------------------------------------------ step commit
    def commit_step(self, rec: StepRecord) -> None:
        """Persist one step in one transaction; afterwards ``meta.step == rec.step + 1``."""
        states = {n: s if isinstance(s, str) else _dumps(s) for n, s in rec.states.items()}
        changed = {n: s for n, s in states.items() if self._state_cache.get(n) != s}
        with self.transaction() as cur:
            if changed:
                cur.executemany(
                    "INSERT OR REPLACE INTO residents (name, state, step) VALUES (?, ?, ?)",
                    [(n, s, rec.step) for n, s in changed.items()],
                )
                cur.executemany("DELETE FROM state_parts WHERE name = ?", [(n,) for n in changed])
            part_rows = [
                (n, p, t, rec.step) for n, parts in rec.state_parts.items() for p, t in parts.items()
            ]
            if part_rows:
                cur.executemany(
                    "INSERT OR REPLACE INTO state_parts (name, part, text, step) VALUES (?, ?, ?, ?)",
                    part_rows,
                )
            mem_rows = [(a, int(r["id"]), _dumps(r)) for a, recs in rec.memories.items() for r in recs]
            mem_rows += [(a, i, t) for a, texts in rec.memory_texts.items() for i, t in texts]
            if mem_rows:
                cur.executemany(
                    "INSERT OR REPLACE INTO memories (agent, id, record) VALUES (?, ?, ?)", mem_rows
                )
            if rec.embeddings:
                cur.executemany(
                    "INSERT OR IGNORE INTO embeddings (model, text, vector) VALUES (?, ?, ?)",
                    [(m, t, np.asarray(v, dtype=np.float32).tobytes()) for m, t, v in rec.embeddings],
                )
            new_moves = self._changed_moves(cur, rec) if rec.movements else {}
            if new_moves:
                cur.executemany(
                    "INSERT OR REPLACE INTO movements (step, agent, x, y, emoji, description, chat)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(rec.step, a, *row) for a, row in new_moves.items()],
                )
            if rec.ledger:
                cur.executemany(
                    "INSERT INTO ledger (step, row) VALUES (?, ?)",
                    [(rec.step, _dumps(as_record(r))) for r in rec.ledger],
                )
            action_rows = []
            for agent, records in rec.actions.items():
                seq = self._next_action_seq(cur, agent)
                for r in records:
                    action_rows.append((agent, seq, _dumps(as_record(r))))
                    seq += 1
                self._action_seq[agent] = seq
            if action_rows:
                cur.executemany("INSERT INTO actions (agent, seq, record) VALUES (?, ?, ?)", action_rows)
            cur.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("step", _dumps(rec.step + 1)), ("curr_time", _dumps(rec.next_time))],
            )
        self._state_cache.update(changed)
        for n in rec.state_parts:  # the full row no longer says it all
            self._state_cache.pop(n, None)
        if new_moves and self._last_moves is not None:
            self._last_moves.update(new_moves)
            self._last_move_step = max(self._last_move_step, rec.step)

    def _changed_moves(self, cur: sqlite3.Cursor, rec: StepRecord) -> dict[str, tuple[Any, ...]]:
        """The movement rows of ``rec`` to write: those of residents whose entry (tile, emoji,
        description, chat) differs from their newest row (read from the table once per store
        object, so a resumed run writes the same rows as an unbroken one). A step at or before
        the newest written one (history rewritten) writes every row and reads the table again."""
        rows = {
            a: (
                int(m["movement"][0]),
                int(m["movement"][1]),
                m["pronunciatio"],
                m["description"],
                None if m.get("chat") is None else _dumps(m["chat"]),
            )
            for a, m in ((a, as_record(m)) for a, m in rec.movements.items())
        }
        if self._last_moves is None:
            self._last_moves, self._last_move_step = {}, -1
            sql = "SELECT agent, MAX(step), x, y, emoji, description, chat FROM movements GROUP BY agent"
            for agent, step, *row in cur.execute(sql):
                self._last_moves[agent] = tuple(row)
                self._last_move_step = max(self._last_move_step, int(step))
        if rec.step <= self._last_move_step:
            self._last_moves = None
            return rows
        last = self._last_moves
        return {a: row for a, row in rows.items() if last.get(a) != row}

    def _next_action_seq(self, cur: sqlite3.Cursor, agent: str) -> int:
        if agent not in self._action_seq:
            row = cur.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM actions WHERE agent = ?", (agent,)
            ).fetchone()
            self._action_seq[agent] = int(row[0])
        return self._action_seq[agent]

    def add_ledger_rows(self, step: int, rows: Sequence[dict[str, Any]]) -> None:
        """Store ledger rows of a step that failed and was not committed (its attempts were real
        calls: they belong in the metrics), without advancing the step."""
        if rows:
            with self.transaction() as cur:
                cur.executemany(
                    "INSERT INTO ledger (step, row) VALUES (?, ?)", [(step, _dumps(r)) for r in rows]
                )

    def add_memories(
        self,
        step: int,
        memories: Mapping[str, list[dict[str, Any]]],
        embeddings: Sequence[tuple[str, str, np.ndarray]] = (),
        ledger: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Add memory records told from outside a step (whispers, remembered interviews) with their
        vectors and the ledger rows of the calls that made them, in one transaction; the step
        counter does not move. Raises StoreError if a record's id is already taken."""
        with self.transaction() as cur:
            for agent, recs in memories.items():
                for r in recs:
                    taken = cur.execute(
                        "SELECT 1 FROM memories WHERE agent = ? AND id = ?", (agent, int(r["id"]))
                    ).fetchone()
                    if taken:
                        raise StoreError(f"memory {r['id']} of {agent!r} already exists in {self.folder}")
            cur.executemany(
                "INSERT INTO memories (agent, id, record) VALUES (?, ?, ?)",
                [(a, int(r["id"]), _dumps(r)) for a, recs in memories.items() for r in recs],
            )
            cur.executemany(
                "INSERT OR IGNORE INTO embeddings (model, text, vector) VALUES (?, ?, ?)",
                [(m, t, np.asarray(v, dtype=np.float32).tobytes()) for m, t, v in embeddings],
            )
            if ledger:
                cur.executemany(
                    "INSERT INTO ledger (step, row) VALUES (?, ?)", [(step, _dumps(r)) for r in ledger]
                )

    def write_initial(
        self,
        states: Mapping[str, dict[str, Any]],
        memories: Mapping[str, list[dict[str, Any]]],
        embeddings: Sequence[tuple[str, str, np.ndarray]] = (),
    ) -> None:
        """Write the residents' starting state (before step 0)."""
        with self.transaction() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO residents (name, state, step) VALUES (?, ?, ?)",
                [(n, _dumps(s), -1) for n, s in states.items()],
            )
            cur.executemany("DELETE FROM state_parts WHERE name = ?", [(n,) for n in states])
            cur.executemany(
                "INSERT OR REPLACE INTO memories (agent, id, record) VALUES (?, ?, ?)",
                [(a, int(r["id"]), _dumps(r)) for a, recs in memories.items() for r in recs],
            )
            cur.executemany(
                "INSERT OR IGNORE INTO embeddings (model, text, vector) VALUES (?, ?, ?)",
                [(m, t, np.asarray(v, dtype=np.float32).tobytes()) for m, t, v in embeddings],
            )
        self._state_cache.update({n: _dumps(s) for n, s in states.items()})

    # ------------------------------------------------------------------ reading
    def resident_states(self) -> dict[str, dict[str, Any]]:
        """Every resident's latest committed state, by name (the full row with its parts over it)."""
        return {n: state for n, (state, _step) in merged_states(self._conn).items()}

    def memory_records(self, agent: str) -> list[dict[str, Any]]:
        """One resident's memory records in id order."""
        rows = self._conn.execute(
            "SELECT record FROM memories WHERE agent = ? ORDER BY id", (agent,)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def embeddings(self, model: str, texts: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Stored vectors of ``model`` (all, or only the given texts)."""
        if texts is None:
            rows = self._conn.execute(
                "SELECT text, vector FROM embeddings WHERE model = ?", (model,)
            ).fetchall()
        else:
            wanted = list(dict.fromkeys(texts))
            rows = []
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                rows += self._conn.execute(
                    f"SELECT text, vector FROM embeddings WHERE model = ? AND text IN ({marks})",
                    (model, *chunk),
                ).fetchall()
        return {t: np.frombuffer(v, dtype=np.float32) for t, v in rows}

    def embedding_models(self) -> list[str]:
        """The embedding models that have stored vectors."""
        return [r[0] for r in self._conn.execute("SELECT DISTINCT model FROM embeddings ORDER BY model")]

    def movements(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, dict[str, dict[str, Any]]]]:
        """Yield ``(step, {agent: movement})`` for every committed step in ``[start, stop)``, in step
        order, in the original's movement format: every resident that has a row at or before the
        step, with its newest such row (rows are written only when an entry changed), agents in
        name order; steps before the first row are left out."""
        (committed,) = self._conn.execute("SELECT value FROM meta WHERE key = 'step'").fetchone() or ("0",)
        (newest,) = self._conn.execute("SELECT MAX(step) FROM movements").fetchone()
        end = max(int(json.loads(committed)), -1 if newest is None else int(newest) + 1)
        if stop is not None:
            end = min(end, stop)
        if start >= end:
            return
        current: dict[str, tuple[Any, ...]] = {}
        if start > 0:
            sql = "SELECT agent, MAX(step), x, y, emoji, description, chat FROM movements WHERE step < ?"
            for agent, _, *row in self._conn.execute(sql + " GROUP BY agent ORDER BY agent", (start,)):
                current[agent] = tuple(row)
        sql = "SELECT step, agent, x, y, emoji, description, chat FROM movements WHERE step >= ? AND step < ?"
        rows = self._conn.execute(sql + " ORDER BY step, agent", (start, end))
        step = start
        for row_step, agent, *row in rows:
            for s in range(step, row_step):
                if current:
                    yield s, _frame(current)
            step = row_step
            if agent not in current:
                current[agent] = tuple(row)
                current = dict(sorted(current.items()))
            else:
                current[agent] = tuple(row)
        for s in range(step, end):
            if current:
                yield s, _frame(current)

    def ledger_rows(self) -> list[dict[str, Any]]:
        """Every ledger row, in call order."""
        return [json.loads(r[0]) for r in self._conn.execute("SELECT row FROM ledger ORDER BY seq")]

    def action_logs(self) -> dict[str, list[dict[str, Any]]]:
        """Action-log records per resident, in order."""
        out: dict[str, list[dict[str, Any]]] = {}
        for agent, rec in self._conn.execute("SELECT agent, record FROM actions ORDER BY agent, seq"):
            out.setdefault(agent, []).append(json.loads(rec))
        return out

    def count(self, table: str) -> int:
        """Row count of one of the store's tables (for summaries and tests)."""
        if table not in {"residents", "memories", "embeddings", "movements", "ledger", "actions"}:
            raise StoreError(f"unknown table {table!r}")
        return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
