"""Embedding vectors by (model, text): an in-memory cache with coalescing of concurrent requests.

Vectors computed in this process are also queued for the runner (``drain_new``), which stores
them; a resumed run hands them back with ``preload``, so nothing is embedded twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence

import numpy as np

BLANK = "(blank)"
"""What is embedded in place of an empty or blank text (its key stays the original text)."""


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32 rows scaled to length 1 (zero rows stay zero)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (arr / norms).astype(np.float32, copy=False)


class EmbeddingCache:
    """Vectors of one process, keyed by (model, text).

    Args:
        batch_size: most texts sent to the embedder in one call.
    """

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._vectors: dict[tuple[str, str], np.ndarray] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[np.ndarray]] = {}
        self._new: list[tuple[str, str, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self._vectors)

    def preload(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> int:
        """Restore stored vectors (not queued as new); returns how many were loaded."""
        n = 0
        for text, vector in items:
            self._vectors[(model, text)] = unit_rows(vector)[0]
            n += 1
        return n

    def drain_new(self) -> list[tuple[str, str, np.ndarray]]:
        """``(model, text, vector)`` computed since the last drain, in order."""
        out, self._new = self._new, []
        return out

    async def get(
        self,
        model: str,
        dim: int,
        texts: Sequence[str],
        compute: Callable[[list[str]], Awaitable[np.ndarray]],
    ) -> np.ndarray:
        """Vectors of ``texts`` (``(n, dim)`` float32, unit rows), computing only what is missing.

        Texts already being computed by another caller are awaited, not computed again.
        ``compute`` receives the missing texts (blank ones replaced by a placeholder) in batches.
        """
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        mine: list[str] = []
        for text in dict.fromkeys(texts):
            key = (model, text)
            if key not in self._vectors and key not in self._pending:
                self._pending[key] = asyncio.get_running_loop().create_future()
                mine.append(text)
        if mine:
            await self._compute(model, mine, compute)
        waits = [self._pending[(model, t)] for t in dict.fromkeys(texts) if (model, t) not in self._vectors]
        if waits:
            await asyncio.gather(*waits)
        return np.stack([self._vectors[(model, t)] for t in texts])

    async def _compute(
        self, model: str, texts: list[str], compute: Callable[[list[str]], Awaitable[np.ndarray]]
    ) -> None:
        try:
            for i in range(0, len(texts), self.batch_size):
                chunk = texts[i : i + self.batch_size]
                sent = [t.replace("\n", " ").strip() or BLANK for t in chunk]
                rows = unit_rows(await compute(sent))
                if rows.shape[0] != len(chunk):
                    raise ValueError(f"embedder returned {rows.shape[0]} vectors for {len(chunk)} texts")
                for text, row in zip(chunk, rows):
                    self._vectors[(model, text)] = row
                    self._new.append((model, text, row))
                    self._pending.pop((model, text)).set_result(row)
        except BaseException as err:
            for text in texts:
                fut = self._pending.pop((model, text), None)
                if fut is None or fut.done():
                    continue
                if isinstance(err, asyncio.CancelledError):
                    fut.cancel()
                else:
                    fut.set_exception(err)
                    fut.exception()  # marks it retrieved; waiting callers still receive it
            raise
