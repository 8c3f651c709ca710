"""The public policy store: one SQLite file shared by every simulation of a storage folder.

``<storage>/public/policy.db`` holds what the Lifestyle Policy learned, for all runs and all
residents. Several simulations may run at once on the same storage folder, so the file is in WAL
mode with a busy timeout, every write is its own short ``BEGIN IMMEDIATE`` transaction, and rows
are only ever inserted or have counters bumped: nothing is rewritten at exit, nothing is lost
when a run is killed.

Tables:
    meta         key -> value; ``format`` = "aga-policy", ``schema_version``
    keys         activity texts: ``kind`` "plan" (with duration and subtasks JSON) or "activity"
                 (a short activity registered for canonicalisation); unique per (kind, agent, norm)
    key_vectors  (key, embedding model) -> float32 vector; ``seq`` grows with every insert so a
                 reader can fetch only what is new
    groundings   (agent, action text, place) -> grounding JSON; one text may have several places
    ratings      (agent, kind, text) -> the importance the model gave that resident for that text
                 (saving ``stored_ratings``: their own activities and seed memories); the first stays
                 (the table joined schema 1 later: an older store gains it when opened)
Every key and grounding row carries provenance (``sim``, ``step``, ``created``) and ``hits``.

Note: the architecture names ``store/`` as the only importer of sqlite3; this file is the second,
kept inside the policy package on purpose (its own file, its own tables, shared by all sims).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import numpy as np

from aga.errors import StoreError

__all__ = ["DB_NAME", "PUBLIC_DIR", "KeyRow", "PublicStore", "VectorRows"]

PUBLIC_DIR = "public"
DB_NAME = "policy.db"
SCHEMA_VERSION = 1
_FORMAT = "aga-policy"
_BUSY_MS = 30_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('plan', 'activity')),
    agent TEXT NOT NULL, text TEXT NOT NULL, norm TEXT NOT NULL,
    duration INTEGER, subtasks TEXT,
    sim TEXT NOT NULL, step INTEGER NOT NULL, created TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0, last_hit TEXT,
    UNIQUE (kind, agent, norm));
CREATE INDEX IF NOT EXISTS keys_by_norm ON keys (kind, norm);
CREATE TABLE IF NOT EXISTS key_vectors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id INTEGER NOT NULL REFERENCES keys (id), model TEXT NOT NULL, vector BLOB NOT NULL,
    UNIQUE (key_id, model));
CREATE TABLE IF NOT EXISTS groundings (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL, text TEXT NOT NULL, norm TEXT NOT NULL,
    sector TEXT NOT NULL, arena TEXT NOT NULL, object TEXT NOT NULL, data TEXT NOT NULL,
    sim TEXT NOT NULL, step INTEGER NOT NULL, created TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0, last_hit TEXT,
    UNIQUE (agent, norm, sector, arena, object));
CREATE INDEX IF NOT EXISTS groundings_by_norm ON groundings (norm);
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('event', 'thought')), text TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
    sim TEXT NOT NULL, step INTEGER NOT NULL, created TEXT NOT NULL,
    UNIQUE (agent, kind, text));
"""

_VISIBLE = "NOT (sim = ? AND step >= ?)"
"""Provenance rule: rows this simulation wrote at the current step or later are not seen yet."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class KeyRow:
    """One stored activity text (a plan or a registered short activity) with its provenance."""

    id: int
    kind: str
    agent: str
    text: str
    duration: int | None
    subtasks: tuple[tuple[str, int], ...] | None
    sim: str
    step: int
    hits: int


@dataclass(frozen=True)
class VectorRows:
    """New key vectors of one (kind, model), fetched after sequence number ``after``.

    Attributes:
        last_seq: the highest sequence number included (pass it back to fetch only newer rows).
        key_ids, agents, sims, steps: one entry per vector, aligned with ``vectors``' rows.
        vectors: ``(n, dim)`` float32.
    """

    last_seq: int
    key_ids: list[int]
    agents: list[str]
    sims: list[str]
    steps: list[int]
    vectors: np.ndarray


class PublicStore:
    """The shared policy database of a storage folder.

    Args:
        path: the database file (``<storage>/public/policy.db``; see :meth:`in_storage`).
            Missing folders are created; an existing file must be a policy store.

    Raises:
        StoreError: the file cannot be opened or created, is not SQLite, or belongs to
            something else (the file is then left untouched).

    One connection, usable from several threads (calls are serialised by a lock). Every write is
    committed before the method returns.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = self._open_patiently(self.path)

    @classmethod
    def in_storage(cls, storage: str | Path) -> PublicStore:
        """The store of a storage folder: ``<storage>/public/policy.db``."""
        return cls(Path(storage) / PUBLIC_DIR / DB_NAME)

    # ------------------------------------------------------------------ opening
    @classmethod
    def _open_patiently(cls, path: Path) -> sqlite3.Connection:
        """:meth:`_open`, tried again while another process holds the file in the middle of its
        own opening: SQLite answers the switch to WAL with "database is locked" at once, without
        waiting out the busy timeout (two runs started together on a new store, on a busy
        machine, failed so). Any other error, or a lock lasting past the busy timeout, is raised."""
        deadline = time.monotonic() + _BUSY_MS / 1000
        pause = 0.05
        while True:
            try:
                return cls._open(path)
            except StoreError as err:
                busy = isinstance(err.__cause__, sqlite3.OperationalError) and (
                    "locked" in str(err.__cause__) or "busy" in str(err.__cause__)
                )
                if not busy or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        if path.exists() and not path.is_file():
            raise StoreError(f"{path}: the policy store path is a folder, not a file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"{path.parent}: cannot create the policy store folder: {err.strerror}") from err
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=_BUSY_MS / 1000, check_same_thread=False
            )
        except sqlite3.Error as err:
            raise StoreError(f"{path}: cannot open the policy store: {err}") from err
        try:
            conn.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "meta" not in tables:
                raise StoreError(
                    f"{path}: this SQLite file is not an aga policy store (no meta table); "
                    "it was left untouched"
                )
            if "meta" in tables:
                _check_meta(conn, path)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?)", (_FORMAT,))
                conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            _check_meta(conn, path)
        except sqlite3.Error as err:
            conn.close()
            raise StoreError(f"{path}: cannot open the policy store: {err}") from err
        except StoreError:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        """Close the connection (every write is already committed)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _cursor(self, write: bool = False) -> Iterator[sqlite3.Cursor]:
        """A cursor under the lock; for writes, inside one BEGIN IMMEDIATE ... COMMIT."""
        with self._lock:
            cur = self._conn.cursor()
            try:
                if write:
                    cur.execute("BEGIN IMMEDIATE")
                yield cur
                if write:
                    cur.execute("COMMIT")
            except sqlite3.Error as err:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(
                    f"{self.path}: policy store {'write' if write else 'read'} failed: {err}"
                ) from err
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ keys (plans and activities)
    def add_key(
        self,
        kind: str,
        agent: str,
        text: str,
        norm: str,
        *,
        sim: str,
        step: int,
        duration: int | None = None,
        subtasks: Sequence[tuple[str, int]] | None = None,
        model: str | None = None,
        vector: np.ndarray | None = None,
    ) -> bool:
        """Insert a key (and its vector for ``model``); False when (kind, agent, norm) already exists.

        The first registration of a text wins; a later one with the same text changes nothing.
        """
        packed = (
            None if subtasks is None else json.dumps([[n, int(m)] for n, m in subtasks], ensure_ascii=False)
        )
        with self._cursor(write=True) as cur:
            cur.execute(
                "INSERT OR IGNORE INTO keys (kind, agent, text, norm, duration, subtasks, sim, step, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (kind, agent, text, norm, duration, packed, sim, int(step), _now()),
            )
            if cur.rowcount == 0:
                return False
            key_id = cur.lastrowid
            if model is not None and vector is not None:
                cur.execute(
                    "INSERT OR IGNORE INTO key_vectors (key_id, model, vector) VALUES (?, ?, ?)",
                    (key_id, model, _blob(vector)),
                )
            return True

    def add_vector(self, key_id: int, model: str, vector: np.ndarray) -> None:
        """Store ``vector`` as the ``model`` embedding of key ``key_id`` unless it has one."""
        with self._cursor(write=True) as cur:
            cur.execute(
                "INSERT OR IGNORE INTO key_vectors (key_id, model, vector) VALUES (?, ?, ?)",
                (key_id, model, _blob(vector)),
            )

    def exact_keys(
        self, kind: str, norm: str, agents: Sequence[str] | None, *, sim: str, step: int
    ) -> list[KeyRow]:
        """Visible keys of ``kind`` whose normalised text is ``norm`` (of ``agents``, or all), by id."""
        sql = (
            f"SELECT id, kind, agent, text, duration, subtasks, sim, step, hits FROM keys"
            f" WHERE kind = ? AND norm = ? AND {_VISIBLE}"
        )
        args: list[Any] = [kind, norm, sim, int(step)]
        sql, args = _agent_filter(sql, args, agents)
        with self._cursor() as cur:
            rows = cur.execute(sql + " ORDER BY id", args).fetchall()
        return [_key_row(r) for r in rows]

    def key(self, key_id: int) -> KeyRow:
        """One key by id.

        Raises:
            StoreError: no such key.
        """
        with self._cursor() as cur:
            row = cur.execute(
                "SELECT id, kind, agent, text, duration, subtasks, sim, step, hits FROM keys WHERE id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: policy key {key_id} does not exist")
        return _key_row(row)

    def has_vector(self, key_id: int, model: str) -> bool:
        """Whether key ``key_id`` has a vector for ``model``."""
        with self._cursor() as cur:
            return (
                cur.execute(
                    "SELECT 1 FROM key_vectors WHERE key_id = ? AND model = ?", (key_id, model)
                ).fetchone()
                is not None
            )

    def vectors_after(self, kind: str, model: str, after: int) -> VectorRows:
        """Key vectors of (``kind``, ``model``) with sequence number above ``after``, in order.

        Provenance filtering is left to the caller (rows are cached across steps).

        Raises:
            StoreError: stored vectors of one model have different lengths.
        """
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT v.seq, v.key_id, k.agent, k.sim, k.step, v.vector FROM key_vectors v"
                " CROSS JOIN keys k ON k.id = v.key_id"  # CROSS: new vectors first (by seq), then their keys
                " WHERE k.kind = ? AND v.model = ? AND v.seq > ? ORDER BY v.seq",
                (kind, model, after),
            ).fetchall()
        if not rows:
            return VectorRows(after, [], [], [], [], np.zeros((0, 0), dtype=np.float32))
        arrays = [np.frombuffer(r[5], dtype=np.float32) for r in rows]
        dims = {a.shape[0] for a in arrays}
        if len(dims) != 1:
            raise StoreError(f"{self.path}: stored '{model}' vectors have different lengths {sorted(dims)}")
        return VectorRows(
            rows[-1][0],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            [r[4] for r in rows],
            np.vstack(arrays),
        )

    def hit_key(self, key_id: int) -> None:
        """Count one reuse of key ``key_id`` (committed at once)."""
        with self._cursor(write=True) as cur:
            cur.execute("UPDATE keys SET hits = hits + 1, last_hit = ? WHERE id = ?", (_now(), key_id))

    # ------------------------------------------------------------------ groundings
    def add_grounding(
        self,
        agent: str,
        text: str,
        norm: str,
        place: tuple[str, str, str],
        data: dict[str, Any],
        *,
        sim: str,
        step: int,
    ) -> bool:
        """Insert a grounding; False when this agent already has this text at this place."""
        with self._cursor(write=True) as cur:
            cur.execute(
                "INSERT OR IGNORE INTO groundings (agent, text, norm, sector, arena, object, data, sim, step, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    agent,
                    text,
                    norm,
                    *place,
                    json.dumps(data, ensure_ascii=False, sort_keys=True),
                    sim,
                    int(step),
                    _now(),
                ),
            )
            return cur.rowcount > 0

    def groundings(
        self, norm: str, agents: Sequence[str] | None, *, sim: str, step: int
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """Visible groundings of ``norm`` as (id, agent, data), by id."""
        sql = f"SELECT id, agent, data FROM groundings WHERE norm = ? AND {_VISIBLE}"
        args: list[Any] = [norm, sim, int(step)]
        sql, args = _agent_filter(sql, args, agents)
        with self._cursor() as cur:
            rows = cur.execute(sql + " ORDER BY id", args).fetchall()
        out: list[tuple[int, str, dict[str, Any]]] = []
        for gid, agent, data in rows:
            try:
                out.append((gid, agent, json.loads(data)))
            except json.JSONDecodeError as err:
                raise StoreError(f"{self.path}: grounding {gid} holds invalid JSON: {err}") from err
        return out

    def hit_grounding(self, grounding_id: int) -> None:
        """Count one reuse of grounding ``grounding_id`` (committed at once)."""
        with self._cursor(write=True) as cur:
            cur.execute(
                "UPDATE groundings SET hits = hits + 1, last_hit = ? WHERE id = ?", (_now(), grounding_id)
            )

    def grounding_hits(self, grounding_id: int) -> int:
        """The hit count of one grounding (0 if unknown)."""
        with self._cursor() as cur:
            row = cur.execute("SELECT hits FROM groundings WHERE id = ?", (grounding_id,)).fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------------ ratings
    def add_ratings(self, agent: str, kind: str, ratings: Mapping[str, int], *, sim: str, step: int) -> int:
        """Insert ratings of texts for ``agent`` in one transaction; returns how many were new
        (a text already rated for this agent keeps its first rating)."""
        rows = [(agent, kind, text, int(v), sim, int(step), _now()) for text, v in ratings.items() if text]
        if not rows:
            return 0
        with self._cursor(write=True) as cur:
            before = self._conn.total_changes
            cur.executemany(
                "INSERT OR IGNORE INTO ratings (agent, kind, text, rating, sim, step, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return self._conn.total_changes - before

    def ratings_of(self, agent: str, *, other_than: str) -> dict[tuple[str, str], int]:
        """Every rating stored for ``agent`` by simulations other than ``other_than``, as
        (kind, text) -> rating."""
        with self._cursor() as cur:
            rows = cur.execute(
                "SELECT kind, text, rating FROM ratings WHERE agent = ? AND sim != ?", (agent, other_than)
            ).fetchall()
        return {(kind, text): int(rating) for kind, text, rating in rows}

    # ------------------------------------------------------------------ overview
    def stats(self) -> dict[str, int]:
        """Counts for reports: plans, activities, groundings, key vectors and total hits."""
        with self._cursor() as cur:
            plans, activities, key_hits = cur.execute(
                "SELECT COALESCE(SUM(kind = 'plan'), 0), COALESCE(SUM(kind = 'activity'), 0),"
                " COALESCE(SUM(hits), 0) FROM keys"
            ).fetchone()
            groundings, g_hits = cur.execute(
                "SELECT COUNT(*), COALESCE(SUM(hits), 0) FROM groundings"
            ).fetchone()
            vectors = cur.execute("SELECT COUNT(*) FROM key_vectors").fetchone()[0]
            ratings = cur.execute("SELECT COUNT(*) FROM ratings").fetchone()[0]
        return {
            "plans": int(plans),
            "activities": int(activities),
            "groundings": int(groundings),
            "key_vectors": int(vectors),
            "plan_and_activity_hits": int(key_hits),
            "grounding_hits": int(g_hits),
            "ratings": int(ratings),
        }


def _check_meta(conn: sqlite3.Connection, path: Path) -> None:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format", _FORMAT) != _FORMAT:
        raise StoreError(
            f"{path}: this SQLite file is not an aga policy store (format {meta['format']!r}); "
            "it was left untouched"
        )
    version = meta.get("schema_version")
    if version is not None and version != str(SCHEMA_VERSION):
        raise StoreError(f"{path}: policy store schema version {version}, this aga reads {SCHEMA_VERSION}")


def _agent_filter(sql: str, args: list[Any], agents: Sequence[str] | None) -> tuple[str, list[Any]]:
    if agents is None:
        return sql, args
    marks = ", ".join("?" for _ in agents)
    return f"{sql} AND agent IN ({marks})", [*args, *agents]


def _blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).reshape(-1).tobytes()


def _key_row(r: Sequence[Any]) -> KeyRow:
    try:
        subtasks = None if r[5] is None else tuple((str(n), int(m)) for n, m in json.loads(r[5]))
    except (ValueError, TypeError) as err:
        raise StoreError(f"policy key {r[0]} ({r[3]!r}) holds unreadable subtasks: {err}") from err
    return KeyRow(
        id=r[0],
        kind=r[1],
        agent=r[2],
        text=r[3],
        duration=r[4],
        subtasks=subtasks,
        sim=r[6],
        step=r[7],
        hits=r[8],
    )
