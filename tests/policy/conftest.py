"""Shared pieces of the policy tests: a store in a temporary storage folder and hand-made vectors."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from aga.policy import LifestylePolicy, PublicStore

MODEL = "test-vectors"
"""Embedding-model name of the hand-made vectors below (a test double: no real model)."""


def angled(cos: float, dim: int = 8, axis: int = 1) -> np.ndarray:
    """A unit vector whose cosine with ``unit(0)`` is exactly ``cos`` (it leans towards ``axis``)."""
    v = np.zeros(dim, dtype=np.float32)
    v[0] = cos
    v[axis] = math.sqrt(max(0.0, 1.0 - cos * cos))
    return v


def unit(i: int, dim: int = 8) -> np.ndarray:
    """The i-th basis vector."""
    v = np.zeros(dim, dtype=np.float32)
    v[i] = 1.0
    return v


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PublicStore]:
    """The public store of a fresh storage folder."""
    s = PublicStore.in_storage(tmp_path)
    yield s
    s.close()


def make_policy(store: PublicStore, sim: str = "sim-a", **kw: object) -> LifestylePolicy:
    """A policy over the hand-made vectors with threshold 0.9 unless given."""
    kw.setdefault("threshold", 0.9)
    return LifestylePolicy(store, sim=sim, embed_model=MODEL, **kw)  # type: ignore[arg-type]
