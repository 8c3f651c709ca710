"""Deterministic randomness: one ``random.Random`` per (seed, step, agent, purpose).

Whatever order concurrent work finishes in, the same inputs give the same draws, and a resumed
run draws exactly what an uninterrupted one would. Nothing in aga uses the module-level
``random`` functions or ``random.seed``.
"""

from __future__ import annotations

import hashlib
import random


def rng_for(seed: int, step: int, agent: str, purpose: str) -> random.Random:
    """A fresh generator seeded by sha256 of the four parts."""
    digest = hashlib.sha256(f"{seed}\x1f{step}\x1f{agent}\x1f{purpose}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))
