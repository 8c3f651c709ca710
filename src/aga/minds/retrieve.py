"""Weighted retrieval from a memory stream: recency, importance and relevance.

Each component is min-max normalised over the candidates (all equal -> 0.5), then combined as
``0.5 * w_rec * recency + 3 * w_rel * relevance + 2 * w_imp * importance`` (the original's
global weights times the resident's own weights). Unlike the original, recency decays with the
game time since the node was last accessed: ``decay ** hours``, so a node looked at a minute ago
outranks one untouched for a day. Retrieved nodes get ``last_accessed = now``.

Ties are broken by the order the nodes were added (older first), as a stable sort of all the
scores would; only the few best are sorted (:func:`best_first`), so a query over a stream of
thousands of memories is one product with its compact vector matrix and a partial sort.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from aga.minds.memory import MemoryNode, MemoryStream, game_seconds

GLOBAL_WEIGHTS = (0.5, 3.0, 2.0)
"""(recency, relevance, importance) weights applied on top of the resident's own."""


@dataclass(frozen=True)
class RetrievalWeights:
    """A resident's retrieval parameters (from its persona)."""

    recency: float = 1.0
    relevance: float = 1.0
    importance: float = 1.0
    decay: float = 0.995


def normalise(values: np.ndarray) -> np.ndarray:
    """Min-max normalise to [0, 1]; a constant vector becomes all 0.5."""
    if values.size == 0:
        return values.astype(np.float64)
    lo = float(values.min())
    hi = float(values.max())
    if hi - lo <= 1e-12:
        return np.full(values.shape, 0.5)
    return (values - lo) / (hi - lo)


def score_nodes(
    vectors: np.ndarray,
    importance: np.ndarray,
    accessed: np.ndarray,
    query: np.ndarray,
    now: datetime,
    weights: RetrievalWeights,
) -> np.ndarray:
    """Scores of candidate nodes for one query vector (unit rows, unit query)."""
    hours = np.maximum(game_seconds(now) - accessed, 0.0) / 3600.0
    recency = np.power(weights.decay, hours)
    relevance = vectors @ query.astype(np.float32)
    g_rec, g_rel, g_imp = GLOBAL_WEIGHTS
    return (
        g_rec * weights.recency * normalise(recency)
        + g_rel * weights.relevance * normalise(relevance.astype(np.float64))
        + g_imp * weights.importance * normalise(importance)
    )


def best_first(scores: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` highest scores, best first, ties in index order.

    The same as ``np.argsort(-scores, kind="stable")[:count]``, but sorts only the candidates
    that can be among the first ``count`` (every score tied with the ``count``-th included).
    """
    n = scores.size
    if count <= 0 or n == 0:
        return np.zeros(0, dtype=np.intp)
    neg = -scores
    if count >= n or np.isnan(neg).any():
        return np.argsort(neg, kind="stable")[:count]
    cut = neg[np.argpartition(neg, count - 1)[:count]].max()
    cand = np.flatnonzero(neg <= cut)  # ascending, so the stable sort keeps index order on ties
    return cand[np.argsort(neg[cand], kind="stable")][:count]


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def retrieve(
    memory: MemoryStream,
    queries: np.ndarray,
    now: datetime,
    count: int,
    weights: RetrievalWeights,
    unique: bool = True,
) -> list[list[MemoryNode]]:
    """For each query vector (rows of ``queries``), the ``count`` best nodes, best first.

    Queries are answered in order; nodes retrieved for one query are marked accessed before
    the next query is scored, as in the original. With ``unique`` (the default, as in the
    affordable paper) a text already retrieved for this query is skipped, so an event perceived
    again and again fills one place, not the whole list; ``unique=False`` is the original.
    """
    out: list[list[MemoryNode]] = []
    for q in np.atleast_2d(queries):
        rows, vecs, imp, acc = memory.arrays()
        if rows.size == 0 or count <= 0:
            out.append([])
            continue
        if vecs.shape[1] != q.shape[0]:
            raise ValueError(f"query has {q.shape[0]} dimensions, memory vectors have {vecs.shape[1]}")
        scores = score_nodes(vecs, imp, acc, _unit(q), now, weights)
        if unique:
            nodes = _unique_best(memory, rows, scores, count)
        else:
            nodes = [memory.node_at_row(int(rows[i])) for i in best_first(scores, count)]
        memory.touch([n.id for n in nodes], now)
        out.append(nodes)
    return out


def _unique_best(memory: MemoryStream, rows: np.ndarray, scores: np.ndarray, count: int) -> list[MemoryNode]:
    """The ``count`` best nodes with distinct texts (the first of each text in score order).

    Looks at the best ``2 * count`` scores first and at four times as many each time repeated
    texts use them up, so a stream full of one event seen again and again still costs a partial sort.
    """
    want = 2 * count
    while True:
        order = best_first(scores, want)
        nodes: list[MemoryNode] = []
        seen: set[str] = set()
        for row in rows[order].tolist():
            node = memory.node_at_row(row)
            if node.description in seen:
                continue
            seen.add(node.description)
            nodes.append(node)
            if len(nodes) >= count:
                return nodes
        if order.size < want or want >= scores.size:
            return nodes  # every node looked at
        want *= 4


_BLAS_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)


def one_blas_thread() -> int:
    """Have the OpenBLAS libraries loaded in this process use one thread; how many were set.

    A query is one product of a memory matrix (a few thousand rows) with a vector: too small to
    share out. OpenBLAS shares products of that size among its threads all the same, and on a
    busy machine the threads spin waiting for each other: measured on this 2-core machine under
    load, the product of a 3,000 x 256 matrix with a vector took 5.9 ms of CPU with the default
    threads and 0.1 ms with one. With one thread a row's product
    no longer depends on how the rows were shared out (which varies with the matrix's size and
    the machine's cores): identical rows score identically either way, but for some sizes the
    last bit of other rows' products differs from a threaded run's. Does nothing when
    ``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` is set (the user chose) or no OpenBLAS
    library is found (another BLAS, another platform).
    """
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        return 0
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            fields = [line.split() for line in maps]
    except OSError:
        return 0
    paths = sorted(
        {f[-1] for f in fields if len(f) >= 6 and "openblas" in Path(f[-1]).name and ".so" in f[-1]}
    )
    done = 0
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                done += 1
                break
    return done


def merge_unique(groups: Sequence[Sequence[MemoryNode]]) -> list[MemoryNode]:
    """Concatenate retrieved groups, keeping the first occurrence of each node."""
    seen: set[int] = set()
    out: list[MemoryNode] = []
    for group in groups:
        for node in group:
            if node.id not in seen:
                seen.add(node.id)
                out.append(node)
    return out
