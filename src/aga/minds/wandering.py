"""Mind Wandering: a few memories drawn at random, rare topics favoured, to seed something new.

Residents in a fixed town run out of new things to do after a few runs (AGA, Fig. 7). On a new
day, Mind Wandering draws 3 of the resident's memories and asks for "something new to do today"
around them. A plain random draw would mostly return the topics that fill the memory already (a
party talked about 78 times), so memories are first grouped by density clustering of their
embeddings and each is weighted by 1 / (size of its cluster): every cluster, including each
lone memory, gets the same chance.

Numpy only, deterministic: the same vectors give the same clusters, and the same ``rng`` state
gives the same sample.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from aga.minds.calls import ask
from aga.minds.text import day_text
from aga.prompts.tasks import MIND_WANDERING

if TYPE_CHECKING:
    from aga.minds.context import StepContext
    from aga.minds.state import Mind

__all__ = [
    "DEFAULT_EPS",
    "EPS_BY_MODEL",
    "cluster_memories",
    "eps_for",
    "sample_wandering",
    "wandering_weights",
]

DEFAULT_EPS = 0.045
"""Cosine distance of AGA's setting: DBSCAN eps 0.3 (Euclidean) on unit vectors is
1 - cos <= 0.3**2 / 2 = 0.045, i.e. cosine >= 0.955, with ada-002."""

EPS_BY_MODEL: dict[str, float] = {
    "text-embedding-ada-002": DEFAULT_EPS,
    # 1 - the median similarity of same-activity paraphrases in bench/calibrate_policy.py
    "all-MiniLM-L6-v2-int8": 0.13,
    "all-MiniLM-L6-v2": 0.13,
    "hash-embedder-v1": 0.25,
}
"""Clustering radius (cosine distance) per embedding model: memories closer than this are
treated as saying the same thing."""

_BLOCK = 1024  # rows per similarity block: bounds memory to _BLOCK x n floats


def eps_for(model: str) -> float:
    """The clustering radius for embedding model ``model`` (:data:`DEFAULT_EPS` if unknown)."""
    return EPS_BY_MODEL.get(model, DEFAULT_EPS)


def cluster_memories(vectors: np.ndarray, eps: float, min_samples: int = 2) -> np.ndarray:
    """Density clustering (DBSCAN) of ``vectors`` on cosine distance.

    A point is a core point when at least ``min_samples`` points (itself included) lie within
    cosine distance ``eps``; clusters grow from core points through their neighbourhoods; points
    reached by no core point are noise, and each noise point is a cluster of its own.

    Args:
        vectors: ``(n, dim)`` embeddings (need not be unit length; zero rows are noise).
        eps: largest cosine distance (1 - cos) between neighbours, in [0, 2].
        min_samples: neighbourhood size (self included) that makes a core point, >= 1.

    Returns:
        ``(n,)`` int64 labels ``0..k-1``, numbered in the order of each cluster's first member.

    Raises:
        ValueError: ``vectors`` is not 2-D or not finite, or ``eps``/``min_samples`` out of range.
    """
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise ValueError(f"cluster_memories needs an (n, dim) array, got shape {v.shape}")
    if not 0.0 <= eps <= 2.0:
        raise ValueError(f"cluster_memories: eps is a cosine distance in [0, 2], got {eps}")
    if min_samples < 1:
        raise ValueError(f"cluster_memories: min_samples must be >= 1, got {min_samples}")
    n = v.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.all(np.isfinite(v)):
        raise ValueError("cluster_memories: vectors contain NaN or infinity")
    norms = np.linalg.norm(v, axis=1)
    unit = v / np.where(norms > 0, norms, 1.0)[:, None]
    live = norms > 0
    floor = 1.0 - eps - 1e-6  # neighbours: cos >= 1 - eps (tolerance for float32 rounding)
    neighbours: list[np.ndarray] = []
    for start in range(0, n, _BLOCK):
        sims = unit[start : start + _BLOCK] @ unit.T
        for row, i in zip(sims, range(start, min(start + _BLOCK, n))):
            neighbours.append(
                np.flatnonzero((row >= floor) & live) if live[i] else np.array([i], dtype=np.intp)
            )
    core = np.array([len(nb) >= min_samples and live[i] for i, nb in enumerate(neighbours)], dtype=bool)

    labels = np.full(n, -1, dtype=np.int64)
    cluster = 0
    for i in range(n):
        if labels[i] != -1 or not core[i]:
            continue
        labels[i] = cluster
        frontier = [i]
        while frontier:
            j = frontier.pop()
            if not core[j]:
                continue  # border point: belongs, but does not spread
            for m in neighbours[j]:
                if labels[m] == -1:
                    labels[m] = cluster
                    frontier.append(int(m))
        cluster += 1
    for i in range(n):  # noise: one cluster each
        if labels[i] == -1:
            labels[i] = cluster
            cluster += 1
    # number clusters by their first member so labels do not depend on the scan above
    order: dict[int, int] = {}
    for lab in labels.tolist():
        order.setdefault(lab, len(order))
    return np.array([order[lab] for lab in labels.tolist()], dtype=np.int64)


def wandering_weights(labels: np.ndarray) -> np.ndarray:
    """Sampling probabilities 1 / |cluster|, normalised: each cluster gets the same total."""
    labels = np.asarray(labels)
    if labels.size == 0:
        return np.zeros(0, dtype=np.float64)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse].astype(np.float64)
    return weights / weights.sum()


def sample_wandering(
    keys: Sequence[str],
    vectors: np.ndarray,
    rng: random.Random,
    k: int = 3,
    *,
    eps: float = DEFAULT_EPS,
    min_samples: int = 2,
) -> list[str]:
    """Draw ``k`` distinct memories, each weighted by 1 / (size of its cluster).

    Args:
        keys: memory texts, aligned with ``vectors``' rows. Repeated texts count once (the
            first occurrence is kept).
        vectors: ``(len(keys), dim)`` embeddings of ``keys``.
        rng: the generator to draw with (e.g. ``ctx.rng(name, "mind wandering")``).
        k: how many to draw; with ``k >= `` the number of distinct keys, all of them are
            returned in their original order.
        eps: clustering radius as cosine distance (see :func:`eps_for`).
        min_samples: see :func:`cluster_memories`.

    Returns:
        The drawn texts, in draw order; [] when ``keys`` is empty or ``k <= 0``.

    Raises:
        ValueError: ``keys`` and ``vectors`` differ in length, or the vectors are unusable.
    """
    v = np.asarray(vectors, dtype=np.float32)
    if len(keys) == 0 or k <= 0:
        return []
    if v.ndim != 2 or v.shape[0] != len(keys):
        raise ValueError(f"sample_wandering: {len(keys)} keys but vectors of shape {v.shape}")
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    unique = list(first)
    if k >= len(unique):
        return unique
    rows = v[list(first.values())]
    weights = wandering_weights(cluster_memories(rows, eps, min_samples)).tolist()
    pool = list(range(len(unique)))
    drawn: list[str] = []
    for _ in range(k):
        total = sum(weights[i] for i in pool)
        point = rng.random() * total
        chosen = pool[-1]
        acc = 0.0
        for i in pool:
            acc += weights[i]
            if point < acc:
                chosen = i
                break
        pool.remove(chosen)
        drawn.append(unique[chosen])
    return drawn


# ---------------------------------------------------------------------- the call
async def wander(r: Mind, ctx: StepContext) -> str | None:
    """Something new to do today, from 3 memories drawn with weights inverse to the size of
    their cluster (rare topics favoured); one ``mind_wandering`` call. None without memories
    or when the model's answers are unusable."""
    rows, vectors, _importance, _access = r.memory.arrays()
    if rows.size == 0:
        return None
    keys = [r.memory.node_at_row(int(i)).embedding_key for i in rows]
    rng = ctx.rng(r.name, "mind wandering")
    picked = sample_wandering(keys, vectors, rng, k=3, eps=eps_for(ctx.gateway.embed_model))
    if not picked:
        return None
    vars = {
        "persona": r.identity.block(),
        "memories": "\n".join(f"- {m}" for m in picked),
        "date": day_text(ctx.now),
        "first_name": r.identity.first_name,
    }
    ans = await ask(ctx, r.name, MIND_WANDERING, vars)
    return None if ans is None else ans.idea
