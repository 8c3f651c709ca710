"""The response cache: the same request gets the same stored answer, free of charge.

The key is a sha256 of everything that shapes the answer: backend, model, system and user text,
schema or options, max_tokens and temperature. Two storages: ``MemoryCache`` (a dict, for one
process) and ``SqliteCache`` (a file, safe for two processes at once: WAL + busy timeout), so a
rerun of a simulation with ``--llm-cache`` is free and reproducible.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

from aga.errors import InputError
from aga.gateway.types import LLMRequest, LLMResponse


class ResponseCache(Protocol):
    """Storage of answers by request key."""

    def get(self, key: str) -> LLMResponse | None:
        """The stored answer, or None."""
        ...

    def put(self, key: str, response: LLMResponse) -> None:
        """Store an answer."""
        ...


def request_key(backend: str, model: str, request: LLMRequest) -> str:
    """A stable sha256 key of what shapes the answer to ``request``."""
    parts = {
        "backend": backend,
        "model": model,
        "system": request.system,
        "user": request.user,
        "schema": request.json_schema,
        "choices": list(request.choices) if request.choices is not None else None,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class MemoryCache:
    """An in-process cache holding up to ``max_entries`` answers (least recently used go first)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._data: OrderedDict[str, LLMResponse] = OrderedDict()
        self.max_entries = max_entries

    def get(self, key: str) -> LLMResponse | None:
        """The stored answer, or None."""
        hit = self._data.get(key)
        if hit is not None:
            self._data.move_to_end(key)
        return hit

    def put(self, key: str, response: LLMResponse) -> None:
        """Store an answer, evicting the oldest when full."""
        self._data[key] = response
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    model TEXT NOT NULL
)
"""


class SqliteCache:
    """A cache in one SQLite file, shared safely by several processes (WAL, 30 s busy timeout).

    Args:
        path: the cache file; its folder is created if needed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, check_same_thread=False, isolation_level=None
            )
            self._conn.execute("PRAGMA busy_timeout = 30000")
            self._setup_shared()
        except sqlite3.DatabaseError as err:
            raise InputError(f"LLM cache file {self.path} cannot be used: {err}") from None
        self._lock = threading.Lock()

    def _setup_shared(self) -> None:
        """Switch to WAL and create the table, waiting out another process doing the same.

        SQLite does not call its busy handler while a journal-mode change races another
        connection's, so "database is locked" can come back at once; retry it for 30 s.
        """
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
                self._conn.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def get(self, key: str) -> LLMResponse | None:
        """The stored answer, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT text, prompt_tokens, completion_tokens, model FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return LLMResponse(row[0], int(row[1]), int(row[2]), row[3]) if row else None

    def put(self, key: str, response: LLMResponse) -> None:
        """Store an answer (the first one stored for a key wins)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO responses (key, text, prompt_tokens, completion_tokens, model)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, response.text, response.prompt_tokens, response.completion_tokens, response.model),
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
