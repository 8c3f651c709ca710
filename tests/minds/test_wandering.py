"""Mind Wandering: density clustering of memory vectors and inverse-cluster-size sampling."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest

from aga.minds.wandering import (
    DEFAULT_EPS,
    cluster_memories,
    eps_for,
    sample_wandering,
    wandering_weights,
)


def planted(
    sizes: list[int], dim: int = 32, seed: int = 3, spread: float = 0.02
) -> tuple[np.ndarray, list[int]]:
    """Test data: tight groups around random directions (group i has sizes[i] points), shuffled."""
    gen = np.random.default_rng(seed)
    centres = gen.normal(size=(len(sizes), dim))
    rows, groups = [], []
    for g, size in enumerate(sizes):
        for _ in range(size):
            rows.append(
                centres[g] / np.linalg.norm(centres[g]) + gen.normal(scale=spread / math.sqrt(dim), size=dim)
            )
            groups.append(g)
    order = gen.permutation(len(rows))
    return np.array(rows, dtype=np.float32)[order], [groups[i] for i in order]


def same_partition(labels: np.ndarray, groups: list[int]) -> bool:
    pairs = itertools.combinations(range(len(groups)), 2)
    return all((labels[i] == labels[j]) == (groups[i] == groups[j]) for i, j in pairs)


def test_planted_clusters_are_found_and_lone_points_are_their_own_cluster() -> None:
    vectors, groups = planted([12, 6, 3, 1, 1, 1])
    labels = cluster_memories(vectors, eps=0.05)
    assert same_partition(labels, groups)
    assert sorted(Counter(labels.tolist()).values()) == [1, 1, 1, 3, 6, 12]
    # labels are numbered in order of each cluster's first member
    firsts = [labels.tolist().index(lab) for lab in range(labels.max() + 1)]
    assert firsts == sorted(firsts)


def test_clusters_do_not_depend_on_input_order() -> None:
    vectors, groups = planted([8, 5, 2, 1])
    perm = np.random.default_rng(11).permutation(len(groups))
    a = cluster_memories(vectors, eps=0.05)
    b = cluster_memories(vectors[perm], eps=0.05)
    assert same_partition(b, [groups[i] for i in perm]) and same_partition(a, groups)


def test_density_connects_a_chain_but_not_a_gap() -> None:
    angles = [0.0, 0.2, 0.4, 0.6, 2.0, 2.2]  # neighbours 0.2 rad apart (cos 0.98); a gap of 1.4 rad
    vectors = np.array([[math.cos(t), math.sin(t), 0.0] for t in angles], dtype=np.float32)
    labels = cluster_memories(vectors, eps=1 - math.cos(0.25))
    assert labels.tolist() == [0, 0, 0, 0, 1, 1]
    labels = cluster_memories(vectors, eps=1 - math.cos(0.25), min_samples=3)  # ends are border points
    assert labels.tolist()[:4] == [0, 0, 0, 0] and labels[4] != labels[5]


def test_zero_vectors_and_empty_input() -> None:
    assert cluster_memories(np.zeros((0, 5)), eps=0.1).shape == (0,)
    labels = cluster_memories(np.array([[0, 0], [1, 0], [1, 0.001], [0, 0]], dtype=np.float32), eps=0.01)
    assert labels.tolist() == [0, 1, 1, 2]
    with pytest.raises(ValueError, match="eps"):
        cluster_memories(np.ones((2, 2)), eps=3.0)
    with pytest.raises(ValueError, match="shape"):
        cluster_memories(np.ones(4), eps=0.1)


def test_weights_give_every_cluster_the_same_mass() -> None:
    weights = wandering_weights(np.array([0, 0, 0, 1, 2, 2]))
    assert weights.sum() == pytest.approx(1.0)
    assert weights.tolist() == pytest.approx([1 / 9, 1 / 9, 1 / 9, 1 / 3, 1 / 6, 1 / 6])


def _pool() -> tuple[list[str], np.ndarray, list[int]]:
    vectors, groups = planted([6, 3, 1, 1], seed=5)
    keys = [f"memory {i} (topic {g})" for i, g in enumerate(groups)]
    return keys, vectors, groups


def test_single_draws_follow_inverse_cluster_size_weights() -> None:
    keys, vectors, groups = _pool()
    rng = random.Random(2024)
    draws = 4000
    counts = Counter(sample_wandering(keys, vectors, rng, k=1, eps=0.05)[0] for _ in range(draws))
    expected = dict(zip(keys, wandering_weights(np.array(groups)) * draws))
    chi2 = sum((counts[k] - expected[k]) ** 2 / expected[k] for k in keys)
    assert chi2 < 29.6  # chi-square, 10 degrees of freedom, p = 0.001
    by_cluster = Counter(groups[keys.index(k)] for k in counts.elements())
    chi2_cluster = sum((by_cluster[g] - draws / 4) ** 2 / (draws / 4) for g in range(4))
    assert chi2_cluster < 16.3  # 3 degrees of freedom, p = 0.001: each cluster a quarter of the draws


def _inclusion(weights: list[float], k: int) -> list[float]:
    """Exact inclusion probabilities of sequential weighted draws without replacement."""
    n = len(weights)
    out = [0.0] * n
    for seq in itertools.permutations(range(n), k):
        p, left = 1.0, sum(weights)
        for i in seq:
            p *= weights[i] / left
            left -= weights[i]
        for i in seq:
            out[i] += p
    return out


def test_three_draws_are_distinct_and_match_exact_inclusion_probabilities() -> None:
    keys, vectors, groups = _pool()
    rng = random.Random(99)
    draws = 3000
    hits: Counter[str] = Counter()
    for _ in range(draws):
        got = sample_wandering(keys, vectors, rng, k=3, eps=0.05)
        assert len(got) == 3 and len(set(got)) == 3
        hits.update(got)
    exact = _inclusion(wandering_weights(np.array(groups)).tolist(), 3)
    for key, p in zip(keys, exact):
        sigma = math.sqrt(p * (1 - p) / draws)
        assert abs(hits[key] / draws - p) < 4.5 * sigma, (key, hits[key] / draws, p)


def test_same_rng_state_gives_the_same_sample() -> None:
    keys, vectors, _ = _pool()
    assert sample_wandering(keys, vectors, random.Random(5), eps=0.05) == sample_wandering(
        keys, vectors, random.Random(5), eps=0.05
    )


def test_small_pools_empty_input_and_repeated_texts() -> None:
    vectors = np.eye(3, dtype=np.float32)
    assert sample_wandering(["a", "b", "c"], vectors, random.Random(1), k=5) == ["a", "b", "c"]
    assert sample_wandering([], np.zeros((0, 3)), random.Random(1)) == []
    assert sample_wandering(["a"], vectors[:1], random.Random(1), k=0) == []
    repeated = ["bed is idle", "bed is idle", "desk is idle", "bed is idle"]
    assert sample_wandering(repeated, np.eye(4, dtype=np.float32), random.Random(1), k=3) == [
        "bed is idle",
        "desk is idle",
    ]
    with pytest.raises(ValueError, match="2 keys"):
        sample_wandering(["a", "b"], vectors, random.Random(1))


def test_eps_table() -> None:
    assert eps_for("text-embedding-ada-002") == pytest.approx(0.3**2 / 2)  # AGA's Euclidean 0.3
    assert eps_for("unknown-model") == DEFAULT_EPS
