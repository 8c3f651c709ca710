"""Weighted retrieval from a memory stream: recency, importance and relevance.

Each component is min-max normalised over the candidates (all equal -> 0.5), then combined as
``0.5 * w_rec * recency + 3 * w_rel * relevance + 2 * w_imp * importance`` (the original's
global weights times the resident's own weights). Unlike the original, recency decays with the
game time since the node was last accessed: ``decay ** hours``, so a node looked at a minute ago
outranks one untouched for a day. Retrieved nodes get ``last_accessed = now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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
        order = np.argsort(-scores, kind="stable")
        if unique:
            nodes = []
            seen: set[str] = set()
            for i in order:
                node = memory.node_at_row(int(rows[i]))
                if node.description in seen:
                    continue
                seen.add(node.description)
                nodes.append(node)
                if len(nodes) >= count:
                    break
        else:
            nodes = [memory.node_at_row(int(rows[i])) for i in order[:count]]
        memory.touch([n.id for n in nodes], now)
        out.append(nodes)
    return out


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
